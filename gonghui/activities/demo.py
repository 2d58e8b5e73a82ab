"""Demo 职工夜校 and activities, around whatever day the seed runs: under 苏州市总工会 a
current evening-school plan (焊接, 铸造, 数控, 制药; weekly sessions 18:00–19:30, one weekend
class), the past sessions attended, one course of last term finished with certificates; a
summer camp for members' children, over-subscribed and waiting for its lottery; a
half-marathon filling first come, first served; a 疗休养 with a waiting list. Written in bulk
(rosters' counters set from the rows), with the children's details sealed like the service."""

import datetime as dt
import random
import secrets
from typing import Any

from django.db.models import F
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.activities.models import (
    CHILD_BIRTH_PURPOSE,
    CHILD_NAME_PURPOSE,
    Activity,
    ActivityKind,
    Attendance,
    Certificate,
    CheckinMethod,
    ChildDetail,
    Course,
    Place,
    PlaceStatus,
    Roster,
    Session,
    TrainingPlan,
)
from gonghui.core import crypto
from gonghui.members.identity import mask_name
from gonghui.members.models import Member, ModelWorkerLevel
from gonghui.organizations.models import Level, Organization

COURSES = (
    ("焊接技能提升班", "焊接", "市职工服务中心实训车间"),
    ("铸造工艺班", "铸造", "工业园区职工学校"),
    ("数控车床操作班", "数控", "职业技术学院数控实训室"),
    ("制药GMP实务班", "制药", "生物医药产业园培训室"),
)
CHILD_NAMES = ("子涵", "梓萱", "一诺", "浩然", "欣怡", "宇轩", "思彤", "俊熙", "雨桐", "子墨", "诗涵", "嘉懿")


def _roster(capacity: int, *, lottery: bool = False) -> Roster:
    return Roster.objects.create(capacity=capacity, awaiting_draw=lottery)


def _fill(roster: Roster, members: list[Member], *, at: dt.datetime, entered: bool = False) -> list[Place]:
    """Sign `members` up in order, as `places.place_take` would have."""
    rows = []
    for seq, member in enumerate(members, start=1):
        if entered:
            status = PlaceStatus.ENTERED
        else:
            status = PlaceStatus.CONFIRMED if seq <= roster.capacity else PlaceStatus.WAITLISTED
        when = at + dt.timedelta(minutes=seq * 7)
        rows.append(
            Place(
                roster=roster,
                member=member,
                status=status,
                seq=seq,
                rank=seq,
                created_at=when,
                confirmed_at=when if status == PlaceStatus.CONFIRMED else None,
            )
        )
    created = Place.objects.bulk_create(rows)
    roster.last_seq = len(rows)
    roster.confirmed = sum(1 for p in rows if p.status == PlaceStatus.CONFIRMED)
    roster.save(update_fields=["last_seq", "confirmed"])
    return created


def _instructors(city: Organization, rng: random.Random) -> list[Member]:
    """劳模/工匠 of the registry under the city, promoting a few skilled members if it has fewer
    than one per course."""
    found = list(
        Member.objects.filter(organization__path__startswith=city.path)
        .exclude(model_worker_level=ModelWorkerLevel.NONE)
        .order_by("pk")[: len(COURSES)]
    )
    if len(found) < len(COURSES):
        # Members without a sign-in first, so the demo's named members stay plain members.
        extra = list(
            Member.objects.filter(
                organization__path__startswith=city.path, model_worker_level=ModelWorkerLevel.NONE
            ).order_by(F("user_id").desc(nulls_first=True), "-pk")[: len(COURSES) - len(found)]
        )
        for member in extra:
            member.model_worker_level = rng.choice((ModelWorkerLevel.CITY, ModelWorkerLevel.PROVINCIAL))
            member.skill_level = "高级技师"
        Member.objects.bulk_update(extra, ["model_worker_level", "skill_level"])
        found += extra
    return found


def _sessions(course: Course, first: dt.date, count: int, start: dt.time, end: dt.time) -> list[Session]:
    zone = timezone.get_current_timezone()
    rows = [
        Session(
            course=course,
            topic="%s（第%d讲）" % (course.trade, n),
            starts_at=dt.datetime.combine(first + dt.timedelta(weeks=n - 1), start, tzinfo=zone),
            ends_at=dt.datetime.combine(first + dt.timedelta(weeks=n - 1), end, tzinfo=zone),
            checkin_token=secrets.token_urlsafe(18),
        )
        for n in range(1, count + 1)
    ]
    return Session.objects.bulk_create(rows)


def _attend(sessions: list[Session], places: list[Place], rng: random.Random, now: dt.datetime) -> int:
    rows = [
        Attendance(
            session=s,
            member_id=p.member_id,
            checked_in_at=s.starts_at + dt.timedelta(minutes=rng.randint(-20, 10)),
            method=CheckinMethod.QR if rng.random() < 0.95 else CheckinMethod.STAFF,
        )
        for s in sessions
        if s.ends_at < now
        for p in places
        if p.status == PlaceStatus.CONFIRMED and rng.random() < 0.85
    ]
    Attendance.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def seed(*, rng: random.Random, stdout: Any, today: dt.date) -> None:
    city = Organization.objects.filter(name="苏州市总工会").first()
    admin = User.objects.filter(username="demo_admin").first()
    if city is None:
        return
    pool = list(
        Member.objects.filter(organization__path__startswith=city.path, model_worker_level=ModelWorkerLevel.NONE)
        .order_by("user_id", "pk")  # the members who can sign in first
        .select_related("organization")[:240]
    )
    pool.sort(key=lambda m: (m.user_id is None, m.pk))
    if len(pool) < 40:
        return
    instructors = _instructors(city, rng)
    zone = timezone.get_current_timezone()
    now = dt.datetime.combine(today, timezone.localtime().time(), tzinfo=zone)

    # This term: six weekly sessions, three behind and three ahead (the fourth is today).
    plan = TrainingPlan.objects.create(
        organization=city,
        name="%d年职工夜校（本期）" % today.year,
        description="劳模工匠授课，晚间 18:00–19:30 及周末开班，免费面向全市会员",
        starts_on=today - dt.timedelta(days=28),
        ends_on=today + dt.timedelta(days=35),
        created_by=admin,
    )
    sessions = attendance = 0
    for n, (name, trade, location) in enumerate(COURSES):
        course = Course.objects.create(
            plan=plan,
            organization=city,
            name=name,
            trade=trade,
            instructor=instructors[n % len(instructors)],
            location=location,
            description="理论与实操结合，结业颁发证书",
            roster=_roster(20),
            certificate_sessions=4,
        )
        signed = pool[n * 12 : n * 12 + 24]
        places = _fill(course.roster, signed, at=now - dt.timedelta(days=40))
        weekend = trade == "数控"
        first = today - dt.timedelta(days=21)
        start, end = (dt.time(9), dt.time(11, 30)) if weekend else (dt.time(18), dt.time(19, 30))
        rows = _sessions(course, first, 6, start, end)
        sessions += len(rows)
        attendance += _attend(rows, places, rng, now)

    # Last term: finished, certificates issued.
    past = TrainingPlan.objects.create(
        organization=city,
        name="%d年职工夜校（上期）" % today.year,
        starts_on=today - dt.timedelta(days=120),
        ends_on=today - dt.timedelta(days=60),
        created_by=admin,
    )
    done = Course.objects.create(
        plan=past,
        organization=city,
        name="电工安全操作班",
        trade="电工",
        instructor=instructors[0],
        location="市职工服务中心",
        roster=_roster(15),
        certificate_sessions=3,
    )
    places = _fill(done.roster, pool[-16:], at=now - dt.timedelta(days=130))
    rows = _sessions(done, past.starts_on + dt.timedelta(days=7), 4, dt.time(18), dt.time(19, 30))
    attendance += _attend(rows, places, rng, now)
    counts: dict[int, int] = {}
    for member_id in Attendance.objects.filter(session__course=done).values_list("member_id", flat=True):
        counts[member_id] = counts.get(member_id, 0) + 1
    issued_at = dt.datetime.combine(past.ends_on, dt.time(10), tzinfo=zone)
    certificates = Certificate.objects.bulk_create(
        Certificate(
            course=done,
            member_id=member_id,
            number="JY%d%s" % (past.starts_on.year, secrets.token_hex(5).upper()),
            sessions_attended=n,
            issued_at=issued_at,
            issued_by=admin,
        )
        for member_id, n in sorted(counts.items())
        if n >= done.certificate_sessions
    )

    # Activities.
    counties = list(Organization.objects.filter(path__startswith=city.path, level=Level.COUNTY).order_by("path")[:1])
    grassroots = pool[0].organization
    camp = Activity.objects.create(
        organization=city,
        kind=ActivityKind.SUMMER_CAMP,
        title="职工子女暑期夏令营（第一营）",
        description="面向会员子女（6–14 岁），科技馆研学、非遗体验、游泳课，五天四晚",
        location="苏州青少年活动中心",
        starts_on=today + dt.timedelta(days=20),
        ends_on=today + dt.timedelta(days=24),
        signup_closes_at=now - dt.timedelta(hours=2),
        lottery=True,
        roster=_roster(30, lottery=True),
        created_by=admin,
    )
    entrants = _fill(camp.roster, pool[40:100], at=now - dt.timedelta(days=6), entered=True)
    ChildDetail.objects.bulk_create(
        ChildDetail(
            place=place,
            name_encrypted=crypto.encrypt(name, purpose=CHILD_NAME_PURPOSE),
            name_masked=mask_name(name),
            birth_encrypted=crypto.encrypt(birth.isoformat(), purpose=CHILD_BIRTH_PURPOSE),
            birth_year=birth.year,
        )
        for place in entrants
        for name, birth in [
            (
                place.member.name[0] + rng.choice(CHILD_NAMES),
                dt.date(today.year - rng.randint(6, 14), rng.randint(1, 12), rng.randint(1, 28)),
            )
        ]
    )
    run = Activity.objects.create(
        organization=counties[0] if counties else city,
        kind=ActivityKind.RUN,
        title="“劳动者杯”职工半程马拉松",
        description="21.0975 公里，限在会职工报名，名额满后进入候补",
        location="金鸡湖景区",
        starts_on=today + dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=30),
        signup_closes_at=now + dt.timedelta(days=14),
        roster=_roster(200),
        created_by=admin,
    )
    runners = [m for m in pool[:150] if counties and m.organization.path.startswith(counties[0].path)]
    _fill(run.roster, runners or pool[:80], at=now - dt.timedelta(days=3))
    retreat = Activity.objects.create(
        organization=grassroots,
        kind=ActivityKind.RETREAT,
        title="一线职工疗休养（太湖）",
        description="三天两晚，优先一线和劳模职工",
        location="太湖职工疗休养基地",
        starts_on=today + dt.timedelta(days=45),
        ends_on=today + dt.timedelta(days=47),
        signup_closes_at=now + dt.timedelta(days=20),
        roster=_roster(10),
        created_by=admin,
    )
    colleagues = [m for m in pool if m.organization_id == grassroots.pk][:14]
    _fill(retreat.roster, colleagues, at=now - dt.timedelta(days=1))
    stdout.write(
        "  职工夜校：%(c)s 个班次、%(s)s 个课次、%(a)s 条签到、%(z)s 份结业证书；活动 3 个（夏令营 %(e)s 人待抽签）"
        % {
            "c": len(COURSES) + 1,
            "s": sessions + len(rows),
            "a": attendance,
            "z": len(certificates),
            "e": len(entrants),
        }
    )
