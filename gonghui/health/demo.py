"""Demo data for 职工体检: the city's free check-up programme (男 67 项 ¥450, 女 76 项 ¥600, as
in 天津's), two check-up centres with appointment slots, quotas for the grassroots unions and
some bookings; several years of check-up results for a few hundred members (a tenth of the
city's, at least 20, the named demo members included) with health consent recorded for most of them, 健康小屋 visits, and a
registered 健康小屋 device.

Results are synthetic but physiological: each member has a stable personal level per
indicator that drifts a little from year to year, so reports show trends and a realistic
share of abnormal values. They are interpreted and stored through the same path as imports."""

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core.permissions import Role
from gonghui.core.signing import device_register
from gonghui.health import devices as health_devices
from gonghui.health import services
from gonghui.health.catalogue import IndicatorSpec, current_catalogue
from gonghui.health.cleaning import age_on, unit_key
from gonghui.health.importing import PreparedCheckup, PreparedResult, critical_limits_by_org
from gonghui.health.interpret import interpret
from gonghui.health.models import CheckupKind, Programme
from gonghui.members.models import ConsentPurpose, Member, MembershipStatus
from gonghui.members.services import consent_grant
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import role_grant

COMMON_ITEMS: list[tuple[str, str]] = [
    *[("一般检查", n) for n in ("身高", "体重", "体重指数", "腰围", "收缩压", "舒张压", "心率")],
    ("内科", "内科检查"),
    ("外科", "外科检查"),
    *[("眼科", n) for n in ("视力", "眼底检查", "裂隙灯检查")],
    ("耳鼻喉科", "耳鼻喉检查"),
    ("口腔科", "口腔检查"),
    *[
        ("血常规", n)
        for n in (
            "白细胞计数",
            "红细胞计数",
            "血红蛋白",
            "红细胞压积",
            "平均红细胞体积",
            "平均红细胞血红蛋白量",
            "平均红细胞血红蛋白浓度",
            "血小板计数",
            "中性粒细胞百分比",
            "淋巴细胞百分比",
            "单核细胞百分比",
            "嗜酸性粒细胞百分比",
            "嗜碱性粒细胞百分比",
            "中性粒细胞绝对值",
            "淋巴细胞绝对值",
            "单核细胞绝对值",
            "嗜酸性粒细胞绝对值",
            "嗜碱性粒细胞绝对值",
        )
    ],
    *[("肝功能", n) for n in ("谷丙转氨酶", "谷草转氨酶", "碱性磷酸酶", "γ-谷氨酰基转移酶", "总胆红素", "直接胆红素")],
    *[("肝功能", n) for n in ("总蛋白", "白蛋白", "球蛋白", "白球比")],
    *[("肾功能", n) for n in ("尿素", "肌酐", "尿酸")],
    *[("血糖", n) for n in ("空腹血糖", "糖化血红蛋白")],
    *[("血脂", n) for n in ("总胆固醇", "甘油三酯", "高密度脂蛋白胆固醇", "低密度脂蛋白胆固醇")],
    *[("电解质", n) for n in ("钾", "钠", "氯", "钙")],
    ("甲状腺功能", "促甲状腺激素"),
    ("尿常规", "尿常规（11项）"),
    *[("影像与功能检查", n) for n in ("心电图", "胸部DR", "腹部彩超（肝胆胰脾肾）", "甲状腺彩超")],
    *[("肿瘤标志物", n) for n in ("甲胎蛋白", "癌胚抗原")],
]
MALE_ITEMS = [
    *COMMON_ITEMS,
    ("男科", "前列腺彩超"),
    ("肿瘤标志物", "总前列腺特异性抗原"),
    ("肿瘤标志物", "游离前列腺特异性抗原"),
    ("影像与功能检查", "颈动脉彩超"),
]
FEMALE_ITEMS = [
    *COMMON_ITEMS,
    *[
        ("妇科", n)
        for n in ("妇科检查", "宫颈液基细胞学检查（TCT）", "人乳头瘤病毒（HPV）检测", "阴道分泌物检查", "子宫附件彩超")
    ],
    ("乳腺", "乳腺彩超"),
    *[("肿瘤标志物", n) for n in ("癌抗原125", "癌抗原153")],
    *[("其他", n) for n in ("骨密度检测", "铁蛋白", "叶酸", "维生素B12")],
    ("影像与功能检查", "颈动脉彩超"),
]

# Typical adult values (mean for men, mean for women, spread between people), canonical units.
TYPICAL: dict[str, tuple[float, float, float]] = {
    "WBC": (6.2, 5.9, 1.4),
    "RBC": (4.9, 4.4, 0.35),
    "HGB": (150, 128, 11),
    "HCT": (45, 39, 3),
    "MCV": (90, 89, 4.5),
    "MCH": (30.5, 29.5, 1.6),
    "MCHC": (336, 332, 9),
    "PLT": (225, 245, 50),
    "NEUT_PCT": (58, 58, 8),
    "LYMPH_PCT": (32, 33, 7),
    "MONO_PCT": (6.5, 6, 1.6),
    "EO_PCT": (2.4, 2.2, 1.4),
    "BASO_PCT": (0.4, 0.4, 0.2),
    "NEUT": (3.6, 3.4, 1.0),
    "LYMPH": (2.0, 1.9, 0.5),
    "MONO": (0.4, 0.36, 0.1),
    "EO": (0.15, 0.13, 0.09),
    "BASO": (0.03, 0.025, 0.012),
    "ALT": (27, 18, 11),
    "AST": (24, 20, 6),
    "ALP": (75, 68, 18),
    "GGT": (32, 19, 16),
    "TBIL": (13, 10.5, 4.5),
    "DBIL": (3.6, 3.0, 1.2),
    "TP": (73, 72, 4),
    "ALB": (46, 44.5, 2.6),
    "GLB": (27, 27.5, 3.5),
    "AG": (1.7, 1.65, 0.2),
    "UREA": (5.3, 4.6, 1.1),
    "CREA": (78, 58, 10),
    "UA": (380, 290, 70),
    "GLU": (5.3, 5.1, 0.6),
    "HBA1C": (5.5, 5.4, 0.45),
    "TC": (4.8, 4.7, 0.8),
    "TG": (1.45, 1.1, 0.65),
    "HDL": (1.2, 1.45, 0.25),
    "LDL": (2.9, 2.8, 0.7),
    "K": (4.2, 4.1, 0.3),
    "NA": (141, 140, 2),
    "CL": (104, 104, 2),
    "CA": (2.33, 2.30, 0.09),
    "TSH": (1.9, 2.2, 0.9),
    "SBP": (126, 117, 14),
    "DBP": (80, 74, 9),
    "BMI": (24.3, 22.6, 3.0),
    "WAIST": (85, 76, 8),
    "HR": (74, 76, 9),
    "HEIGHT": (171, 159, 6),
    "WEIGHT": (71, 57, 9),
}
KIOSK_CODES = ("SBP", "DBP", "GLU", "UA", "WEIGHT", "HR")
CENTRES = (
    ("苏州市总工会职工健康体检中心", "苏州市姑苏区干将西路 1288 号", "0512-65220001"),
    ("苏州工业园区职工医院体检中心", "苏州工业园区星湖街 558 号", "0512-62880002"),
)


def _health_user(city: Organization, username: str, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_staff_user(username=username, display_name="健康演示")
        role_grant(actor=None, user=user, organization=city, role=role)
    return user


def _programme(city: Organization, actor: User, rng: random.Random, stdout: Any) -> Programme:
    """The programme opens tomorrow and runs 75 days, so it takes bookings on any date; it is
    named after the year it starts in. Bookings are drawn only into places that are left: no
    more per union than its quota, no more per slot than its capacity."""
    starts = timezone.localdate() + dt.timedelta(days=1)
    programme = services.programme_create(
        actor=actor,
        organization=city,
        data={
            "name": "%d年度职工免费健康体检" % starts.year,
            "year": starts.year,
            "starts_on": starts,
            "ends_on": starts + dt.timedelta(days=75),
            "description": "市总工会为在会职工提供免费健康体检：男职工 67 项（价值 450 元）、女职工 76 项（价值 600 元），"
            "体检结果约 3 个工作日后在“职工之家—体检报告”中查看。请空腹前往，携带身份证。",
        },
    )
    services.package_save(
        actor=actor, programme=programme, sex="M", name="男职工套餐（67项）", price_fen=45000, items=MALE_ITEMS
    )
    services.package_save(
        actor=actor, programme=programme, sex="F", name="女职工套餐（76项）", price_fen=60000, items=FEMALE_ITEMS
    )
    centres = [
        services.centre_create(actor=actor, organization=city, name=name, address=address, phone=phone)
        for name, address, phone in CENTRES
    ]
    grassroots = list(
        Organization.objects.filter(path__startswith=city.path, level=Level.GRASSROOTS).order_by("path")[:60]
    )
    places_left: dict[int, int] = {}
    for org in grassroots:
        quota = services.quota_set(
            actor=actor, programme=programme, organization=org, places=rng.choice((30, 50, 80, 120))
        )
        places_left[org.pk] = quota.places
    for centre in centres:
        services.slots_create(
            actor=actor,
            programme=programme,
            centre=centre,
            date_from=programme.starts_on,
            date_to=programme.ends_on,
            times=[(dt.time(7, 30), dt.time(9, 0)), (dt.time(9, 0), dt.time(10, 30))],
            capacity=25,
        )
    programme = services.programme_set_status(actor=actor, programme=programme, status="open")
    members = list(
        Member.objects.filter(organization__in=grassroots, status=MembershipStatus.ACTIVE)
        .exclude(phone__startswith="138000000")
        .select_related("organization")
        .order_by("id")
    )
    slots = list(programme.slots.order_by("date", "start_time", "centre_id")[:60])
    seats_left = {slot.pk: slot.capacity - slot.booked for slot in slots}
    booked = 0
    for member in rng.sample(members, len(members)):
        if booked == 80:
            break
        open_slots = [slot for slot in slots if seats_left[slot.pk] > 0]
        if places_left[member.organization_id] == 0 or not open_slots:
            continue
        slot = rng.choice(open_slots)
        services.appointment_book(member=member, programme=programme, slot=slot)
        places_left[member.organization_id] -= 1
        seats_left[slot.pk] -= 1
        booked += 1
    stdout.write("  体检项目：%s，名额分配 %d 个基层工会，预约 %d 人" % (programme.name, len(grassroots), booked))
    return programme


def _value(spec: IndicatorSpec, base: float, rng: random.Random) -> Decimal:
    spread = TYPICAL[spec.code][2]
    value = max(base + rng.gauss(0, spread * 0.25), spread * 0.05)
    return Decimal(str(round(value, spec.decimals)))


def _results(
    member: Member, day: dt.date, levels: dict[str, float], codes: list[str], rng: random.Random, limits: dict[int, Any]
) -> list[PreparedResult]:
    catalogue = current_catalogue()
    out = []
    age = age_on(member.birth_date, day)
    for code in codes:
        spec = catalogue.by_code[code]
        value = _value(spec, levels[code], rng)
        if code == "BMI" and "HEIGHT" in levels:
            height = levels["HEIGHT"] / 100
            value = Decimal(str(round(levels["WEIGHT"] / (height * height), 1)))
        result = interpret(spec, value, unit_key(spec.unit), sex=member.sex, age=age, critical=limits.get(spec.id))
        unit = spec.unit
        out.append(
            PreparedResult(
                spec=spec,
                interpretation=result,
                measured_on=day,
                payload={
                    "v": format(result.canonical_value, "f"),
                    "o": format(value, "f"),
                    "u": unit,
                    "r": "",
                    "c": "",
                },
            )
        )
    return out


def _levels(member: Member, rng: random.Random) -> dict[str, float]:
    """A member's personal level per indicator (some people run high on some things)."""
    levels = {}
    risk = rng.random()
    for code, (male, female, spread) in TYPICAL.items():
        mean = male if member.sex == "M" else female
        shift = rng.gauss(0, spread)
        if risk > 0.7 and code in ("SBP", "DBP", "GLU", "TC", "LDL", "TG", "UA", "BMI", "WAIST", "ALT", "GGT"):
            shift += spread * (risk - 0.5) * 2.2
        levels[code] = mean + shift
    return levels


def _history(city: Organization, rng: random.Random, stdout: Any) -> None:
    today = timezone.localdate()
    named = list(
        Member.objects.filter(
            phone__in=["13800000001", "13800000002", "13800000003", "13800000004", "13800000005"]
        ).select_related("organization")
    )
    others = list(
        Member.objects.filter(organization__path__startswith=city.path, status=MembershipStatus.ACTIVE)
        .exclude(pk__in=[m.pk for m in named])
        .select_related("organization")
        .order_by("id")[:3000]
    )
    # A tenth of the city's members, 20 to 300 of them: a few hundred in the full demo.
    members = named + rng.sample(others, min(len(others), max(20, min(300, len(others) // 10))))
    limits_by_path = critical_limits_by_org({m.organization.path for m in members})
    centre_names = [c[0] for c in CENTRES]
    exam_codes = list(TYPICAL)
    checkups: list[PreparedCheckup] = []
    visits: list[PreparedCheckup] = []
    for member in members:
        levels = _levels(member, rng)
        years = 6 if member in named else rng.randint(2, 6)
        for back in range(years, 0, -1):
            year = today.year - back
            day = dt.date(year, rng.randint(3, 10), rng.randint(1, 28))
            for code in ("SBP", "GLU", "TC", "UA", "WEIGHT", "BMI", "WAIST", "TG", "ALT"):
                levels[code] += TYPICAL[code][2] * rng.uniform(-0.05, 0.22)
            prepared = PreparedCheckup(
                member=member, external_id="DEMO-%d" % year, centre=rng.choice(centre_names), exam_date=day
            )
            prepared.results = _results(member, day, levels, exam_codes, rng, limits_by_path[member.organization.path])
            checkups.append(prepared)
        if member in named or rng.random() < 0.15:
            for n in range(rng.randint(1, 4)):
                day = today - dt.timedelta(days=rng.randint(5, 300))
                visit = PreparedCheckup(
                    member=member, external_id="DEMO-KIOSK-%d" % n, centre="平江街道健康小屋", exam_date=day
                )
                visit.results = _results(
                    member, day, levels, list(KIOSK_CODES), rng, limits_by_path[member.organization.path]
                )
                visits.append(visit)
    stored = services.results_store(checkups=checkups, source="demo")
    services.results_store(checkups=visits, source="kiosk", kind=CheckupKind.KIOSK, device_key="demo")
    consented = 0
    for member in members:
        if member.phone == "13800000002" or (member not in named and rng.random() < 0.3):
            continue  # 李娜 and some others have not agreed yet: the H5 shows the consent step
        consent_grant(member=member, purpose=ConsentPurpose.HEALTH, text_version=services.CONSENT_TEXT_VERSION)
        consented += 1
    stdout.write(
        "  体检结果：%d 人、%d 份报告、%d 项结果，健康小屋测量 %d 次；%d 人已同意查看"
        % (len(members), len(stored.checkup_ids), stored.results, len(visits), consented)
    )


def seed(*, rng: random.Random, stdout: Any) -> None:
    city = Organization.objects.filter(name="苏州市总工会").first() or Organization.objects.order_by("path").first()
    if city is None:
        return
    health = _health_user(city, "demo_health", Role.HEALTH)
    _programme(city, health, rng, stdout)
    _history(city, rng, stdout)
    admin = User.objects.filter(username="demo_admin").first()
    if admin is not None:
        device, secret = services.kiosk_register(actor=admin, organization=city, name="平江街道健康小屋 1 号机")
    else:
        device, secret = device_register(
            actor=None, organization=city, name="平江街道健康小屋 1 号机", kind=health_devices.HEALTH_KIOSK
        )
    stdout.write("  健康小屋设备：%s（密钥 %s，仅用于演示）" % (device.key_id, secret))
