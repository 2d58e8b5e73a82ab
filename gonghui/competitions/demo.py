"""Demo 劳动竞赛 and 隐患排查题库 for 苏州市总工会's sub-tree:

- a 技能竞赛 (焊工、数控车工) of the factory union of the named member 刘芳: 报名 and 初赛 published
  with awards, the 决赛 in scoring with some judges' scores still missing, and 刘芳's
  技术等级提升 (中级工 → 高级工);
- a 烟台-style 安全竞赛 of a county union, running, its hazard quiz open to the whole city;
- a finished 创新竞赛 with results, and a 劳动竞赛 application waiting for review;
- a static bank of 36 expert questions (nine per place type, including "find the hazard"
  pictures drawn here), a few reports already accepted into the bank and five pending review,
  and members' quiz attempts for the leaderboards.
Made through the services by the demo's 经办人 and 审核人 and three judge accounts; scores and
attempts are bulk-created."""

import datetime as dt
import decimal
import io
import random
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageDraw

from gonghui.accounts.models import User
from gonghui.competitions import bank, services
from gonghui.competitions.models import (
    Attempt,
    AttemptStatus,
    Competition,
    CompetitionKind,
    HazardReport,
    PlaceType,
    Question,
    QuestionKind,
    QuestionSource,
    Score,
    ScoringRule,
    SkillGrade,
    Stage,
)
from gonghui.core.permissions import Role
from gonghui.members.models import Member
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import role_grant

D = decimal.Decimal
JUDGE_PASSWORD = "Gonghui@2026"  # noqa: S105 - the demo's shared password, printed on purpose

CHOICE_BANK = {
    PlaceType.WORKSHOP: [
        ("砂轮机防护罩缺失时，正确的做法是？", ["继续使用，注意角度", "立即停机并报修", "戴手套后使用"], [1]),
        ("车床作业时，以下哪项是禁止的？", ["穿紧袖工作服", "戴手套操作旋转部件", "佩戴护目镜"], [1]),
        ("设备检修前必须做到哪些？", ["断电并挂牌上锁", "验电", "口头告知即可"], [0, 1]),
        ("车间安全通道宽度一般不小于？", ["0.5 米", "1 米", "0.3 米"], [1]),
        ("冲压设备的双手按钮作用是？", ["提高效率", "防止手进入危险区", "节约电能"], [1]),
        ("发现电线绝缘层破损应当？", ["用胶布自行缠好", "停止使用并报电工处理", "继续使用"], [1]),
        ("焊接作业现场应配备哪些？", ["灭火器", "防护面罩", "易燃物堆放区"], [0, 1]),
    ],
    PlaceType.WAREHOUSE: [
        ("货架堆放物品应遵循？", ["上重下轻", "上轻下重", "随意摆放"], [1]),
        ("仓库内消防通道被货物占用时应？", ["先不管", "立即清理保持畅通", "贴警示标识即可"], [1]),
        ("叉车作业时以下正确的是？", ["货叉载人", "限速行驶并鸣笛", "超载作业"], [1]),
        ("危险化学品储存要求包括？", ["分类分区存放", "专人管理", "与普通货物混放"], [0, 1]),
        ("仓库照明灯具应选用？", ["碘钨灯贴近货物", "防爆或冷光源灯具", "蜡烛"], [1]),
        ("高位货架取货应使用？", ["攀爬货架", "合格的登高车或梯子", "站在纸箱上"], [1]),
        ("仓库吸烟的正确规定是？", ["可以在角落吸烟", "严禁吸烟", "下班后可以吸烟"], [1]),
    ],
    PlaceType.SITE: [
        ("进入施工现场必须？", ["佩戴安全帽", "穿拖鞋", "携带打火机"], [0]),
        ("高处作业（2 米以上）应当？", ["系挂安全带", "设置防护栏杆", "徒手攀爬"], [0, 1]),
        ("脚手架验收合格后应？", ["挂验收合格牌", "随意拆除连墙件", "堆放大量材料"], [0]),
        ("基坑周边应设置？", ["防护栏杆和警示标志", "材料堆放区", "休息区"], [0]),
        ("施工用电应采用？", ["三级配电两级保护", "一闸多机", "裸线拖地"], [0]),
        ("塔吊作业时，吊物下方？", ["可以通行", "严禁站人", "可以短暂停留"], [1]),
        ("洞口防护的正确做法有？", ["加盖板固定", "设置防护栏", "放置纸板遮挡"], [0, 1]),
    ],
    PlaceType.LOGISTICS: [
        ("货车装载货物应当？", ["超高超宽", "捆扎牢固不超载", "人货混装"], [1]),
        ("驾驶员连续驾驶超过几小时应休息？", ["4 小时", "8 小时", "12 小时"], [0]),
        ("危险货物运输车辆必须？", ["悬挂标志", "配备押运员", "随意停放"], [0, 1]),
        ("装卸货物时车辆应？", ["熄火并拉手刹", "保持怠速", "不必固定"], [0]),
        ("分拣中心传送带卡件时应？", ["伸手直接取出", "先停机再处理", "用脚踢"], [1]),
        ("电动三轮车充电的正确做法是？", ["室内楼道充电", "在指定充电区充电", "充电过夜无人看管"], [1]),
        ("冷链车厢作业防护有？", ["穿防寒服", "车厢门内可开启", "独自长时间作业"], [0, 1]),
    ],
}

SPOT_BANK = {
    PlaceType.WORKSHOP: "找出图中的隐患：配电箱",
    PlaceType.WAREHOUSE: "找出图中的隐患：货架顶层",
    PlaceType.SITE: "找出图中的隐患：临边洞口",
    PlaceType.LOGISTICS: "找出图中的隐患：货物捆扎",
}

REPORTS = (
    (PlaceType.WORKSHOP, "车间灭火器压力表指针在红区，过期未换", "灭火器每月检查，压力不足及时更换"),
    (PlaceType.WAREHOUSE, "仓库消防通道堆放了纸箱", "消防通道保持畅通，严禁堆物"),
    (PlaceType.SITE, "工地二层楼板洞口没有盖板", "洞口加设固定盖板并设防护栏"),
    (PlaceType.LOGISTICS, "快递分拣线急停按钮被纸箱挡住", "急停按钮周围不得遮挡"),
    (PlaceType.WORKSHOP, "焊接作业旁边放着油漆桶", "动火作业 10 米内清除易燃物"),
    (PlaceType.SITE, "脚手架连墙件被拆除", "连墙件不得随意拆除，拆除须审批"),
    (PlaceType.LOGISTICS, "货车篷布绳索松脱", "出车前检查货物捆扎"),
)


def _picture(place: str, rng: random.Random) -> tuple[bytes, list[float]]:
    """A simple scene for a "find the hazard" question, with the hazard as a red block
    somewhere; returns the PNG and its region [x, y, w, h] as fractions."""
    w, h = 480, 320
    image = Image.new("RGB", (w, h), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 220, w, h], fill=(148, 163, 184))
    for i in range(4):
        x = 20 + i * 115
        draw.rectangle([x, 80 + (i % 2) * 30, x + 80, 220], fill=(100, 116, 139))
    rx, ry = rng.randint(40, 330), rng.randint(60, 180)
    draw.rectangle([rx, ry, rx + 90, ry + 70], fill=(220, 38, 38), outline=(127, 29, 29), width=4)
    draw.line([rx, ry, rx + 90, ry + 70], fill=(254, 240, 138), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue(), [round(rx / w, 4), round(ry / h, 4), round(90 / w, 4), round(70 / h, 4)]


def _store(data: bytes) -> str:
    return default_storage.save("competitions/hazards/demo.png", ContentFile(data))


def _judges(union: Organization) -> list[User]:
    """Three judge accounts sharing the demo password (hashed once: hashing is the slow part)."""
    judges: list[User] = []
    for n, name in enumerate(("评委一号", "评委二号", "评委三号"), start=1):
        password = JUDGE_PASSWORD if not judges else None
        user = User.objects.create_staff_user(username="demo_judge%d" % n, password=password, display_name=name)
        if judges:
            user.password = judges[0].password
            user.save(update_fields=["password"])
        role_grant(actor=None, user=user, organization=union, role=Role.REDEEMER)
        judges.append(user)
    return judges


def _scores(stage: Stage, judges: list[User], rng: random.Random, *, missing: int = 0) -> None:
    criteria = list(stage.competition.criteria.all())
    now = timezone.now()
    rows = []
    entries = list(stage.entries.order_by("id"))
    for i, entry in enumerate(entries):
        skill = rng.uniform(0.6, 0.95)
        for j, judge in enumerate(judges):
            if i < missing and j == len(judges) - 1:
                continue  # the last judge has not scored the first entries yet
            points = {
                str(c.pk): str(D(round(float(c.max_points) * min(1, skill + rng.uniform(-0.08, 0.08)), 1)))
                for c in criteria
            }
            rows.append(
                Score(
                    entry=entry,
                    judge=judge,
                    points=points,
                    total=sum((D(v) for v in points.values()), D(0)),
                    submitted_at=now,
                )
            )
    Score.objects.bulk_create(rows)


def _apply(
    handler: User,
    org: Organization,
    kind: str,
    title: str,
    organiser: str,
    trades: str,
    today: dt.date,
    *,
    budget: str,
    days: int = 60,
) -> Competition:
    return services.competition_apply(
        actor=handler,
        organization=org,
        kind=kind,
        title=title,
        organiser=organiser,
        plan="围绕“%s”组织职工岗位练兵、技术比武，按报名、初赛、决赛三个阶段进行，成绩优异者按规定晋升技能等级。"
        % title,
        targets="参赛职工 300 人\n技能提升 40 人\n合理化建议 100 条",
        trades=trades,
        budget_yuan=budget,
        starts_on=(today - dt.timedelta(days=20)).isoformat(),
        ends_on=(today + dt.timedelta(days=days)).isoformat(),
    )


def _run_skill_competition(
    handler: User, reviewer: User, union: Organization, judges: list[User], rng: random.Random, today: dt.date
) -> Competition:
    c = _apply(
        handler,
        union,
        CompetitionKind.SKILL,
        "焊工、数控车工职业技能竞赛",
        "%s、苏州市总工会" % union.name,
        "焊工、数控车工",
        today,
        budget="180000",
    )
    c = services.competition_decide(actor=reviewer, competition=c, approve=True, reason="方案可行，同意立项")
    for name, top in (("焊缝外观", "30"), ("内部质量", "40"), ("安全文明操作", "15"), ("用时", "15")):
        services.criterion_add(actor=handler, competition=c, name=name, max_points=top)
    services.stage_add(actor=handler, competition=c, name="报名", scored=False)
    prelim = services.stage_add(
        actor=handler, competition=c, name="初赛", scored=True, rule=ScoringRule.TRIMMED, min_scores=3, advance=8
    )
    final = services.stage_add(
        actor=handler,
        competition=c,
        name="决赛",
        scored=True,
        rule=ScoringRule.TRIMMED,
        min_scores=3,
        first_prizes=1,
        second_prizes=2,
        third_prizes=3,
    )
    teams = [services.team_add(actor=handler, competition=c, name=t) for t in ("焊接一班", "焊接二班", "数控班")]
    pool = Member.objects.filter(organization__path__startswith=union.path, status="active")
    members = list(pool.filter(user__isnull=False).order_by("pk")[:3])
    members += list(pool.filter(user__isnull=True).order_by("pk")[:11])
    for i, m in enumerate(members):
        services.entrant_add(
            actor=handler,
            competition=c,
            member_no=m.member_no,
            team=teams[i % 3],
            trade="数控车工" if i % 3 == 2 else "焊工",
        )
    for judge in judges:
        services.judge_assign(actor=handler, competition=c, username=judge.username)
    c = services.competition_start(actor=handler, competition=c)
    services.stage_open(actor=handler, stage=c.stages.get(order=1))
    services.stage_open(actor=handler, stage=prelim)
    _scores(prelim, judges, rng)
    services.stage_publish(actor=handler, stage=prelim)
    services.stage_open(actor=handler, stage=final)
    _scores(final, judges, rng, missing=2)
    upgraded = [e.entrant for e in prelim.entries.filter(rank__lte=2).select_related("entrant__member")]
    upgraded += [e for e in c.entrants.select_related("member") if e.member.name == "刘芳" and e not in upgraded]
    for entrant in upgraded:
        services.skill_upgrade(
            actor=handler,
            entrant=entrant,
            from_grade=SkillGrade.INTERMEDIATE,
            to_grade=SkillGrade.SENIOR,
            basis="职业技能竞赛成绩优异，按竞赛方案晋升一级",
            recorded_on=today.isoformat(),
        )
    return c


def _finished_competition(
    handler: User, reviewer: User, org: Organization, judges: list[User], rng: random.Random, today: dt.date
) -> None:
    c = _apply(
        handler,
        org,
        CompetitionKind.INNOVATION,
        "职工技术创新成果竞赛",
        org.name,
        "机修钳工、电工",
        today,
        budget="50000",
        days=5,
    )
    c = services.competition_decide(actor=reviewer, competition=c, approve=True)
    services.criterion_add(actor=handler, competition=c, name="创新性", max_points="50")
    services.criterion_add(actor=handler, competition=c, name="经济效益", max_points="50")
    stage = services.stage_add(
        actor=handler,
        competition=c,
        name="成果评审",
        scored=True,
        rule=ScoringRule.MEAN,
        min_scores=2,
        first_prizes=1,
        second_prizes=1,
        third_prizes=2,
    )
    for m in Member.objects.filter(organization__path__startswith=org.path, status="active").order_by("pk")[:6]:
        services.entrant_add(actor=handler, competition=c, member_no=m.member_no)
    for judge in judges[:2]:
        services.judge_assign(actor=handler, competition=c, username=judge.username)
    c = services.competition_start(actor=handler, competition=c)
    services.stage_open(actor=handler, stage=stage)
    _scores(stage, judges[:2], rng)
    services.stage_publish(actor=handler, stage=stage)
    services.competition_finish(actor=handler, competition=c)


def _bank(admin: User, city: Organization, rng: random.Random) -> None:
    questions = []
    for place, rows in CHOICE_BANK.items():
        for stem, options, correct in rows:
            questions.append(
                Question(
                    organization=city,
                    source=QuestionSource.EXPERT,
                    kind=QuestionKind.MULTIPLE if len(correct) > 1 else QuestionKind.SINGLE,
                    place_type=place,
                    stem=stem,
                    options=options,
                    correct=correct,
                    explanation="依据《安全生产法》及行业安全规程",
                    points=5,
                    created_by=admin,
                )
            )
        for k in range(2):
            data, region = _picture(place, rng)
            questions.append(
                Question(
                    organization=city,
                    source=QuestionSource.EXPERT,
                    kind=QuestionKind.SPOT,
                    place_type=place,
                    stem="%s（图 %d）" % (SPOT_BANK[place], k + 1),
                    regions=[region],
                    image=_store(data),
                    explanation="红色区域为隐患所在",
                    points=10,
                    created_by=admin,
                )
            )
    Question.objects.bulk_create(questions)


def _reports(reviewer: User, unions: list[Organization], rng: random.Random) -> None:
    members = []
    for union in unions:
        members += list(Member.objects.filter(organization=union, status="active").order_by("pk")[:2])
    if not members:
        return
    for i, (place, hazard, answer) in enumerate(REPORTS):
        data, region = _picture(place, rng)
        member = members[i % len(members)]
        report = bank.report_submit(
            member=member,
            place_type=place,
            hazard=hazard,
            right_answer=answer,
            photo=bank.Upload("hazard.png", "image/png", data),
        )
        if i >= 5:
            bank.report_accept(
                actor=reviewer,
                report=report,
                kind=QuestionKind.SPOT,
                stem="找出图中的隐患：%s" % hazard[:20],
                regions=[region],
            )


def _quiz(handler: User, org: Organization, rng: random.Random, today: dt.date) -> None:
    quiz = bank.quiz_create(
        actor=handler,
        organization=org,
        title="安全生产月隐患排查知识竞答",
        mix={PlaceType.WORKSHOP: "3", PlaceType.WAREHOUSE: "3", PlaceType.SITE: "2", PlaceType.LOGISTICS: "2"},
        minutes="10",
        opens_on=(today - dt.timedelta(days=7)).isoformat(),
        closes_on=(today + dt.timedelta(days=21)).isoformat(),
    )
    pool = bank.bank_for(org)
    ids = {p: list(pool.filter(place_type=p).values_list("pk", flat=True)) for p in quiz.mix}
    points = dict(pool.values_list("pk", "points"))
    now = timezone.now()
    attempts = []
    for member in Member.objects.filter(
        organization__path__startswith=org.path, status="active", user__isnull=True
    ).order_by("pk")[:60]:
        drawn = [q for p, n in quiz.mix.items() for q in rng.sample(ids[p], min(n, len(ids[p])))]
        right = [q for q in drawn if rng.random() < 0.7]
        seconds = rng.randint(120, 580)
        started = now - dt.timedelta(days=rng.randint(0, 6), seconds=seconds)
        attempts.append(
            Attempt(
                quiz=quiz,
                member=member,
                organization_id=member.organization_id,
                questions=drawn,
                answers={},
                started_at=started,
                deadline=started + dt.timedelta(seconds=quiz.time_limit_s),
                submitted_at=started + dt.timedelta(seconds=seconds),
                status=AttemptStatus.SUBMITTED,
                score=sum(points[q] for q in right),
                max_score=sum(points[q] for q in drawn),
                seconds=seconds,
            )
        )
    Attempt.objects.bulk_create(attempts)


def seed(*, rng: random.Random, stdout: Any, today: dt.date) -> None:
    handler = User.objects.filter(username="demo_handler").first()
    reviewer = User.objects.filter(username="demo_reviewer").first()
    admin = User.objects.filter(username="demo_admin").first()
    city = Organization.objects.filter(name="苏州市总工会").first()
    if handler is None or reviewer is None or admin is None or city is None:
        return
    named = (
        Member.objects.filter(name="刘芳", organization__path__startswith=city.path)
        .select_related("organization")
        .first()
    )
    grassroots = list(Organization.objects.filter(path__startswith=city.path, level=Level.GRASSROOTS).order_by("path"))
    county = Organization.objects.filter(path__startswith=city.path, level=Level.COUNTY).order_by("path").first()
    if not grassroots or county is None:
        return
    factory = named.organization if named is not None else grassroots[0]
    lineage = [factory.path[:i] for i in range(1, len(factory.path))]
    district = Organization.objects.filter(level=Level.COUNTY, path__in=lineage).first()
    judges = _judges(city)
    _run_skill_competition(handler, reviewer, district or factory, judges, rng, today)
    others = [g for g in grassroots if g.pk != factory.pk]
    _finished_competition(handler, reviewer, others[0] if others else factory, judges, rng, today)
    safety = _apply(
        handler,
        county,
        CompetitionKind.SAFETY,
        "“安全生产月”隐患排查安全竞赛",
        "%s、市应急管理局" % county.name,
        "安全员、电工、叉车司机",
        today,
        budget="80000",
    )
    services.competition_decide(actor=reviewer, competition=safety, approve=True, reason="结合安全生产月开展")
    _apply(
        handler,
        (others[1:2] or [factory])[0],
        CompetitionKind.LABOUR,
        "重点工程劳动竞赛",
        "市重点办、市总工会",
        "钢筋工、混凝土工",
        today,
        budget="120000",
    )
    _bank(admin, city, rng)
    _reports(reviewer, grassroots[:4], rng)
    _quiz(handler, city, rng, today)
    stdout.write(
        "劳动竞赛：%d 项；题库 %d 题，待审核隐患 %d 条；评委账号 demo_judge1–3（密码 %s）"
        % (
            Competition.objects.count(),
            Question.objects.count(),
            HazardReport.objects.filter(status="submitted").count(),
            JUDGE_PASSWORD,
        )
    )
