"""Writes of 劳动竞赛: 立项, review, rubric, stages, teams, entrants, judges, scores, results,
技术等级提升. One function per business action; each checks the actor's permission on the
competition's organisation, writes its audit event in the same transaction and raises typed
domain errors (nothing changes on a refusal)."""

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.competitions import scoring
from gonghui.competitions.models import (
    GRADE_ORDER,
    Competition,
    CompetitionKind,
    CompetitionStatus,
    Criterion,
    Entrant,
    Entry,
    Judge,
    Score,
    ScoringRule,
    SkillGrade,
    SkillRecord,
    Stage,
    StageStatus,
    Team,
)
from gonghui.competitions.permissions import CompetitionPerm
from gonghui.competitions.workflows import COMPETITION
from gonghui.core import audit, parsing
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.workflow import workflow_start, workflow_transition
from gonghui.members.models import Member, MembershipStatus
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on, is_staff_user

D = decimal.Decimal
MAX_TARGETS = 10
MAX_TRADES = 12
BUDGET_MAX_FEN = 10_000_000_000  # 一亿元
MAX_CRITERIA = 12
MAX_STAGES = 8


def _text(raw: Any, *, field: str, label: str, maximum: int, required: bool = True) -> str:
    text = "" if raw is None else str(raw).strip()
    if required and not text:
        raise ValidationFailed("请填写%(label)s" % {"label": label}, fields={field: "必填"})
    if len(text) > maximum:
        message = "%(label)s不能超过 %(n)d 字" % {"label": label, "n": maximum}
        raise ValidationFailed(message, fields={field: message})
    return text


def _int(raw: Any, *, field: str, label: str, minimum: int = 0, maximum: int = 10_000) -> int:
    try:
        return parsing.parse_int(raw, label=label, minimum=minimum, maximum=maximum)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={field: str(exc)}) from None


def _date(raw: Any, *, field: str, label: str) -> dt.date:
    try:
        return parsing.parse_date(raw, label=label)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={field: str(exc)}) from None


def _must_manage(actor: Any, competition: Competition) -> None:
    if not has_perm_on(actor, CompetitionPerm.MANAGE, competition.organization):
        raise PermissionDenied("您无权组织该竞赛")


def parse_targets(raw: Any) -> list[dict[str, Any]]:
    """量化目标, one a line as “指标 数值 单位” (参赛职工 500 人, 技能提升 60 人): a name and a
    non-negative whole number, the unit optional."""
    targets = []
    for n, line in enumerate(str(raw or "").splitlines(), start=1):
        parts = parsing.clean(line).replace("：", " ").replace(":", " ").split()
        if not parts:
            continue
        if len(parts) < 2 or len(parts) > 3:
            message = "量化目标第 %(n)d 行应为“指标 数值 单位”，如“参赛职工 500 人”" % {"n": n}
            raise ValidationFailed(message, fields={"targets": message})
        try:
            value = parsing.parse_int(parts[1], label="目标数值", maximum=100_000_000)
        except ValueError as exc:
            message = "量化目标第 %(n)d 行：%(e)s" % {"n": n, "e": exc}
            raise ValidationFailed(message, fields={"targets": message}) from None
        if len(parts[0]) > 20 or (len(parts) == 3 and len(parts[2]) > 6):
            message = "量化目标第 %(n)d 行的指标或单位过长" % {"n": n}
            raise ValidationFailed(message, fields={"targets": message})
        targets.append({"name": parts[0], "value": value, "unit": parts[2] if len(parts) == 3 else ""})
    if not targets:
        raise ValidationFailed("请至少填写一项量化目标", fields={"targets": "必填"})
    if len(targets) > MAX_TARGETS:
        raise ValidationFailed("量化目标最多 %d 项" % MAX_TARGETS, fields={"targets": "过多"})
    return targets


def parse_trades(raw: Any) -> list[str]:
    text = parsing.clean(raw)
    for sep in ("，", "、", ";", "；", " "):
        text = text.replace(sep, ",")
    trades = list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    if not trades:
        raise ValidationFailed("请填写竞赛工种", fields={"trades": "必填"})
    if len(trades) > MAX_TRADES or any(len(t) > 20 for t in trades):
        raise ValidationFailed("工种最多 %d 个，每个不超过 20 字" % MAX_TRADES, fields={"trades": "过多或过长"})
    return trades


# ---- 立项 and review -------------------------------------------------------------------------


def competition_apply(
    *,
    actor: Any,
    organization: Organization,
    kind: str,
    title: Any,
    organiser: Any,
    plan: Any,
    targets: Any,
    trades: Any,
    budget_yuan: Any,
    starts_on: Any,
    ends_on: Any,
) -> Competition:
    """A union applies for a competition (立项); the organisation above it reviews."""
    if not has_perm_on(actor, CompetitionPerm.APPLY, organization):
        raise PermissionDenied("您无权以该组织名义申报竞赛")
    if organization.parent_id is None:
        raise ValidationFailed("最高一级工会的竞赛没有上级审核单位", fields={"organization": "无上级工会"})
    if kind not in CompetitionKind.values:
        raise ValidationFailed("请选择竞赛类别", fields={"kind": "请选择"})
    texts = {
        "title": _text(title, field="title", label="竞赛名称", maximum=60),
        "organiser": _text(organiser, field="organiser", label="主办单位", maximum=120),
        "plan": _text(plan, field="plan", label="竞赛方案", maximum=2000),
        "targets": parse_targets(targets),
        "trades": parse_trades(trades),
    }
    try:
        budget_fen = parsing.parse_yuan(budget_yuan, label="预算", maximum_fen=BUDGET_MAX_FEN)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"budget": str(exc)}) from None
    start = _date(starts_on, field="starts_on", label="开始日期")
    end = _date(ends_on, field="ends_on", label="结束日期")
    if end < start:
        raise ValidationFailed("结束日期不能早于开始日期", fields={"ends_on": "早于开始日期"})
    with transaction.atomic():
        competition = Competition.objects.create(
            organization=organization,
            review_org_id=organization.parent_id,
            kind=kind,
            **texts,
            budget_fen=budget_fen,
            starts_on=start,
            ends_on=end,
            submitted_by=actor,
        )
        workflow_start(
            actor=actor,
            obj=competition,
            workflow=COMPETITION,
            label="申报立项",
            detail={"kind": kind, "budget_fen": budget_fen},
        )
    return competition


def competition_decide(*, actor: Any, competition: Competition, approve: bool, reason: str = "") -> Competition:
    def effect(obj: Competition, step: Any) -> list[str]:
        obj.decided_by = actor
        obj.decision_reason = step.reason
        return ["decided_by", "decision_reason"]

    return workflow_transition(
        actor=actor,
        obj=competition,
        workflow=COMPETITION,
        transition="approve" if approve else "reject",
        reason=reason,
        effect=effect,
    )


def competition_start(*, actor: Any, competition: Competition) -> Competition:
    def effect(obj: Competition, step: Any) -> list[str]:
        if not obj.stages.exists() or not obj.criteria.exists():
            raise Conflict("请先设置竞赛阶段和评分细则，再开始竞赛")
        return []

    return workflow_transition(actor=actor, obj=competition, workflow=COMPETITION, transition="start", effect=effect)


def competition_finish(*, actor: Any, competition: Competition) -> Competition:
    def effect(obj: Competition, step: Any) -> list[str]:
        if obj.stages.exclude(status=StageStatus.PUBLISHED).filter(scored=True).exists():
            raise Conflict("还有评分阶段未公布成绩，不能结束竞赛")
        return []

    return workflow_transition(actor=actor, obj=competition, workflow=COMPETITION, transition="finish", effect=effect)


def _must_be_open(competition: Competition) -> None:
    if competition.status not in (CompetitionStatus.APPROVED, CompetitionStatus.RUNNING):
        raise Conflict("竞赛获批后才能组赛（当前：%s）" % competition.get_status_display())


# ---- rubric, stages, teams, entrants, judges ------------------------------------------------


def criterion_add(*, actor: Any, competition: Competition, name: Any, max_points: Any) -> Criterion:
    _must_manage(actor, competition)
    _must_be_open(competition)
    if competition.stages.exclude(status=StageStatus.PENDING).exists():
        raise Conflict("已有阶段开始评分，评分细则不能再修改")
    label = _text(name, field="name", label="评分项", maximum=40)
    try:
        top = parsing.parse_decimal(max_points, label="满分", minimum=D("0.5"), maximum=D("1000"), places=1)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"max_points": str(exc)}) from None
    if competition.criteria.count() >= MAX_CRITERIA:
        raise Conflict("评分项最多 %d 项" % MAX_CRITERIA)
    with transaction.atomic():
        order = (competition.criteria.aggregate(m=Max("order"))["m"] or 0) + 1
        try:
            with transaction.atomic():
                criterion = Criterion.objects.create(competition=competition, name=label, max_points=top, order=order)
        except IntegrityError:
            raise ValidationFailed("评分项“%s”已存在" % label, fields={"name": "重复"}) from None
        audit.record(
            actor=actor,
            action="competitions.criterion_add",
            obj=competition,
            organization=competition.organization,
            detail={"name": label, "max_points": str(top)},
        )
    return criterion


def stage_add(
    *,
    actor: Any,
    competition: Competition,
    name: Any,
    scored: bool,
    rule: str = ScoringRule.TRIMMED,
    min_scores: Any = 3,
    advance: Any = 0,
    first_prizes: Any = 0,
    second_prizes: Any = 0,
    third_prizes: Any = 0,
) -> Stage:
    _must_manage(actor, competition)
    _must_be_open(competition)
    label = _text(name, field="name", label="阶段名称", maximum=20)
    if rule not in ScoringRule.values:
        raise ValidationFailed("请选择计分规则", fields={"rule": "请选择"})
    values = {
        "min_scores": _int(min_scores, field="min_scores", label="最少有效评分数", minimum=1, maximum=50),
        "advance": _int(advance, field="advance", label="晋级人数", maximum=10_000),
        "first_prizes": _int(first_prizes, field="first_prizes", label="一等奖名额", maximum=1000),
        "second_prizes": _int(second_prizes, field="second_prizes", label="二等奖名额", maximum=1000),
        "third_prizes": _int(third_prizes, field="third_prizes", label="三等奖名额", maximum=1000),
    }
    with transaction.atomic():
        Competition.objects.select_for_update().get(pk=competition.pk)
        if competition.stages.count() >= MAX_STAGES:
            raise Conflict("竞赛阶段最多 %d 个" % MAX_STAGES)
        order = (competition.stages.aggregate(m=Max("order"))["m"] or 0) + 1
        stage = Stage.objects.create(
            competition=competition, name=label, order=order, scored=scored, rule=rule, **values
        )
        audit.record(
            actor=actor,
            action="competitions.stage_add",
            obj=competition,
            organization=competition.organization,
            detail={"name": label, "rule": rule, "scored": scored},
        )
    return stage


def team_add(*, actor: Any, competition: Competition, name: Any) -> Team:
    _must_manage(actor, competition)
    _must_be_open(competition)
    label = _text(name, field="team", label="班组名称", maximum=40)
    with transaction.atomic():
        try:
            with transaction.atomic():
                team = Team.objects.create(competition=competition, name=label)
        except IntegrityError:
            raise ValidationFailed("班组“%s”已存在" % label, fields={"team": "重复"}) from None
        audit.record(
            actor=actor,
            action="competitions.team_add",
            obj=competition,
            organization=competition.organization,
            detail={"name": label},
        )
    return team


def entrant_add(
    *, actor: Any, competition: Competition, member_no: Any, team: Team | None = None, trade: Any = ""
) -> Entrant:
    """Enter a member of the competition organisation's sub-tree (by 会员编号)."""
    _must_manage(actor, competition)
    _must_be_open(competition)
    number = parsing.clean(member_no)[:20]
    member = (
        Member.objects.filter(member_no=number, organization__path__startswith=competition.organization.path)
        .select_related("organization")
        .first()
        if number
        else None
    )
    if member is None:
        raise ValidationFailed("未找到会员编号为“%s”的本组织会员" % number, fields={"member_no": "会员不存在"})
    if member.status != MembershipStatus.ACTIVE:
        raise ValidationFailed("该会员当前不是在会状态", fields={"member_no": "会籍状态"})
    trade_text = parsing.clean(trade)
    if trade_text and trade_text not in competition.trades:
        raise ValidationFailed("工种应为竞赛的工种之一", fields={"trade": "不在工种中"})
    if team is not None and team.competition_id != competition.pk:
        raise ValidationFailed("班组不属于该竞赛", fields={"team": "班组"})
    if competition.stages.filter(scored=True).exclude(status=StageStatus.PENDING).exists():
        raise Conflict("已开始评分，不能再增加选手")
    with transaction.atomic():
        try:
            with transaction.atomic():
                entrant = Entrant.objects.create(
                    competition=competition,
                    member=member,
                    organization=member.organization,
                    team=team,
                    trade=trade_text,
                )
        except IntegrityError:
            raise ValidationFailed("该会员已报名", fields={"member_no": "已报名"}) from None
        audit.record(
            actor=actor,
            action="competitions.entrant_add",
            obj=competition,
            organization=competition.organization,
            detail={"member": member.pk, "team": team.name if team else ""},
        )
    return entrant


def judge_assign(*, actor: Any, competition: Competition, username: Any, stage: Stage | None = None) -> Judge:
    """Assign a staff user as judge of the competition (every stage) or of one stage."""
    _must_manage(actor, competition)
    _must_be_open(competition)
    name = parsing.clean(username)[:150]
    user = User.objects.filter(username=name, is_active=True).first() if name else None
    if user is None or not is_staff_user(user):
        raise ValidationFailed("未找到用户名为“%s”的工作人员" % name, fields={"username": "工作人员不存在"})
    if stage is not None and stage.competition_id != competition.pk:
        raise ValidationFailed("阶段不属于该竞赛", fields={"stage": "阶段"})
    with transaction.atomic():
        if Judge.objects.filter(Q(stage=stage) | Q(stage=None), competition=competition, user=user).exists():
            raise ValidationFailed("该评委已在评委名单中", fields={"username": "重复"})
        judge = Judge.objects.create(competition=competition, stage=stage, user=user)
        audit.record(
            actor=actor,
            action="competitions.judge_assign",
            obj=competition,
            organization=competition.organization,
            detail={"judge": user.pk, "stage": stage.name if stage else "全部阶段"},
        )
    return judge


def judges_of(stage: Stage) -> list[Any]:
    rows = Judge.objects.filter(Q(stage=stage) | Q(stage=None), competition_id=stage.competition_id)
    return [j.user for j in rows.select_related("user").order_by("id")]


def is_judge(user: Any, stage: Stage) -> bool:
    return Judge.objects.filter(Q(stage=stage) | Q(stage=None), competition_id=stage.competition_id, user=user).exists()


# ---- stages: open, score, publish -----------------------------------------------------------


def stage_open(*, actor: Any, stage: Stage) -> Stage:
    """Open a stage: its entries are every entrant (the first stage) or those who advanced
    from the previous stage; a scored stage then takes judges' scores."""
    competition = Competition.objects.select_related("organization").get(pk=stage.competition_id)
    _must_manage(actor, competition)
    with transaction.atomic():
        locked = Stage.objects.select_for_update().get(pk=stage.pk)
        if competition.status != CompetitionStatus.RUNNING:
            raise Conflict("请先开始竞赛")
        if locked.status != StageStatus.PENDING:
            raise Conflict("该阶段已经开始")
        previous = Stage.objects.filter(competition=competition, order__lt=locked.order).order_by("-order").first()
        if previous is not None and previous.status != StageStatus.PUBLISHED:
            raise Conflict("上一阶段“%s”尚未结束" % previous.name)
        if previous is None or not previous.scored:
            entrants = list(competition.entrants.values_list("pk", flat=True))
        else:
            entrants = list(previous.entries.filter(advanced=True).values_list("entrant_id", flat=True))
        if not entrants:
            raise Conflict("没有可参加该阶段的选手")
        if locked.scored and not judges_of(locked):
            raise Conflict("请先为该阶段指定评委")
        Entry.objects.bulk_create([Entry(stage=locked, entrant_id=pk) for pk in entrants])
        if locked.scored:
            locked.status = StageStatus.SCORING
        else:
            # 报名 and other unscored stages pass everyone on.
            Entry.objects.filter(stage=locked).update(advanced=True)
            locked.status = StageStatus.PUBLISHED
            locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at"])
        audit.record(
            actor=actor,
            action="competitions.stage_open",
            obj=competition,
            organization=competition.organization,
            detail={"stage": locked.name, "entries": len(entrants)},
        )
    return locked


def score_submit(*, actor: Any, entry: Entry, points: Mapping[str, Any]) -> Score:
    """A judge's score of an entry: one value per rubric line, within 0 and its maximum. Final
    once saved; a second submission is refused."""
    stage = entry.stage
    if not is_judge(actor, stage):
        raise PermissionDenied("您不是该阶段的评委")
    if stage.status != StageStatus.SCORING:
        raise Conflict("该阶段不在评分中")
    values: dict[str, str] = {}
    total = D(0)
    for criterion in stage.competition.criteria.all():
        key = str(criterion.pk)
        try:
            value = parsing.parse_decimal(
                points.get(key), label=criterion.name, minimum=D(0), maximum=criterion.max_points, places=1
            )
        except ValueError as exc:
            raise ValidationFailed(str(exc), fields={"c%s" % key: str(exc)}) from None
        values[key] = str(value)
        total += value
    if not values:
        raise Conflict("该竞赛还没有评分细则")
    with transaction.atomic():
        Stage.objects.select_for_update().get(pk=stage.pk)
        try:
            with transaction.atomic():
                score = Score.objects.create(
                    entry=entry, judge=actor, points=values, total=total, submitted_at=timezone.now()
                )
        except IntegrityError:
            raise Conflict("您已提交过该选手的评分，评分提交后不能修改") from None
        audit.record(
            actor=actor,
            action="competitions.score_submit",
            obj=stage.competition,
            organization=stage.competition.organization,
            detail={"stage": stage.name, "entry": entry.pk, "total": str(total)},
        )
    return score


def stage_results(stage: Stage) -> dict[int, tuple[D | None, D | None, int]]:
    """{entry id: (result or None while pending, lowest counted score, scores submitted)}."""
    by_entry: dict[int, list[D]] = {}
    for entry_id, total in Score.objects.filter(entry__stage=stage).values_list("entry_id", "total"):
        by_entry.setdefault(entry_id, []).append(D(total))
    out: dict[int, tuple[D | None, D | None, int]] = {}
    for entry_id in stage.entries.values_list("pk", flat=True):
        scores = by_entry.get(entry_id, [])
        result = scoring.result_of(stage.rule, scores, min_scores=stage.min_scores)
        used = scoring.counted(stage.rule, scores) if result is not None else []
        out[entry_id] = (result, min(used) if used else None, len(scores))
    return out


def stage_publish(*, actor: Any, stage: Stage) -> Stage:
    """Compute and publish a stage's results, ranks, awards and who advances (see `scoring`).
    Refused while any entry's result is pending."""
    competition = stage.competition
    _must_manage(actor, competition)
    with transaction.atomic():
        locked = Stage.objects.select_for_update().get(pk=stage.pk)
        if locked.status != StageStatus.SCORING:
            raise Conflict("该阶段不在评分中")
        results = stage_results(locked)
        pending = sum(1 for r, _, _ in results.values() if r is None)
        if pending:
            raise Conflict(
                "还有 %(n)d 名选手的有效评分不足 %(m)d 个，成绩待定，暂不能公布"
                % {"n": pending, "m": scoring.required_scores(locked.rule, locked.min_scores)}
            )
        placed = scoring.rank(
            {k: (r, low) for k, (r, low, _) in results.items() if r is not None and low is not None},
            first=locked.first_prizes,
            second=locked.second_prizes,
            third=locked.third_prizes,
            advance=locked.advance,
        )
        entries = {e.pk: e for e in locked.entries.all()}
        for p in placed:
            e = entries[p.key]
            e.result, e.rank, e.award, e.advanced = p.result, p.rank, p.award, p.advanced
            e.scores_counted = results[p.key][2]
        Entry.objects.bulk_update(entries.values(), ["result", "rank", "award", "advanced", "scores_counted"])
        locked.status = StageStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at"])
        audit.record(
            actor=actor,
            action="competitions.stage_publish",
            obj=competition,
            organization=competition.organization,
            detail={"stage": locked.name, "entries": len(placed), "rule": locked.rule},
        )
    return locked


# ---- 技术等级提升 ------------------------------------------------------------------------------


def skill_upgrade(
    *,
    actor: Any,
    entrant: Entrant,
    from_grade: str,
    to_grade: str,
    basis: Any,
    recorded_on: Any,
) -> SkillRecord:
    """Record a member's 技术等级提升 earned in the competition (only upward)."""
    competition = entrant.competition
    _must_manage(actor, competition)
    if from_grade not in SkillGrade.values or to_grade not in SkillGrade.values:
        raise ValidationFailed("请选择技能等级", fields={"to_grade": "请选择"})
    if GRADE_ORDER.index(to_grade) <= GRADE_ORDER.index(from_grade):
        raise ValidationFailed("新等级应高于原等级", fields={"to_grade": "应高于原等级"})
    if not Entry.objects.filter(entrant=entrant, stage__status=StageStatus.PUBLISHED, stage__scored=True).exists():
        raise Conflict("选手还没有公布的成绩，不能据此认定等级")
    text = _text(basis, field="basis", label="认定依据", maximum=100)
    day = _date(recorded_on, field="recorded_on", label="认定日期")
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = SkillRecord.objects.create(
                    member=entrant.member,
                    organization=entrant.organization,
                    competition=competition,
                    trade=entrant.trade or competition.trades[0],
                    from_grade=from_grade,
                    to_grade=to_grade,
                    basis=text,
                    recorded_by=actor,
                    recorded_on=day,
                )
        except IntegrityError:
            raise Conflict("该选手已登记过这一等级提升") from None
        audit.record(
            actor=actor,
            action="competitions.skill_upgrade",
            obj=record,
            organization=entrant.organization,
            detail={"member": entrant.member_id, "from": from_grade, "to": to_grade},
        )
    return record


def entry_get(*, stage: Stage, pk: int) -> Entry:
    entry = stage.entries.filter(pk=pk).select_related("entrant__member", "stage__competition").first()
    if entry is None:
        raise NotFound("选手不存在")
    return entry
