"""Writes of 职工夜校 and activities, one function per business action. Each owns its
transaction and audit event; places go through `places` (the one capacity mechanism)."""

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from gonghui.activities import places
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
    Draw,
    Place,
    PlaceStatus,
    Roster,
    Session,
    TrainingPlan,
)
from gonghui.activities.permissions import ActivityPerm
from gonghui.core import audit, crypto
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.members.identity import mask_name
from gonghui.members.models import Member, MembershipStatus, ModelWorkerLevel
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on

CAPACITY_MAX = 100_000
SESSIONS_MAX = 200
WEEKS_MAX = 30
# A member may check in from this long before a session starts until it ends.
CHECKIN_EARLY = dt.timedelta(minutes=30)
CHILD_AGE = (3, 17)


def _require(actor: Any, organization: Organization) -> None:
    if not has_perm_on(actor, ActivityPerm.MANAGE, organization):
        raise PermissionDenied("您无权管理该组织的培训与活动")


def _text(value: str, *, name: str, label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed("请填写%(l)s" % {"l": label}, fields={name: "必填"})
    if len(value) > max_length:
        raise ValidationFailed(
            "%(l)s不能超过 %(n)s 个字" % {"l": label, "n": max_length}, fields={name: "超过 %d 个字" % max_length}
        )
    return value


def _capacity(value: int) -> int:
    if not 1 <= value <= CAPACITY_MAX:
        raise ValidationFailed("名额应在 1 到 %(n)s 之间" % {"n": CAPACITY_MAX}, fields={"capacity": "名额超出范围"})
    return value


def _serves(organization: Organization, member: Member) -> bool:
    """An organisation's classes and activities are open to the members of its sub-tree."""
    return member.organization.path.startswith(organization.path)


SIGNUP_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.RETAINED)


def _may_sign_up(member: Member) -> None:
    if member.status not in SIGNUP_STATUSES:
        raise Conflict("仅在会会员可以报名（当前会籍：%(s)s）" % {"s": member.get_status_display()})


# ---- plans, courses, sessions ----------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    name: str
    description: str
    starts_on: dt.date
    ends_on: dt.date


def _plan_fields(data: PlanInput) -> dict[str, Any]:
    if data.ends_on < data.starts_on:
        raise ValidationFailed("结束日期不能早于开始日期", fields={"ends_on": "早于开始日期"})
    return {
        "name": _text(data.name, name="name", label="计划名称", max_length=60),
        "description": _text(data.description, name="description", label="说明", max_length=1000, required=False),
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
    }


def plan_create(*, actor: Any, organization: Organization, data: PlanInput) -> TrainingPlan:
    _require(actor, organization)
    fields = _plan_fields(data)
    with transaction.atomic():
        plan = TrainingPlan.objects.create(organization=organization, created_by=actor, **fields)
        audit.record(actor=actor, action="activities.plan_create", obj=plan, organization=organization)
    return plan


def plan_update(*, actor: Any, plan: TrainingPlan, data: PlanInput) -> TrainingPlan:
    _require(actor, plan.organization)
    fields = _plan_fields(data)
    with transaction.atomic():
        TrainingPlan.objects.filter(pk=plan.pk).update(**fields)
        audit.record(actor=actor, action="activities.plan_update", obj=plan, organization=plan.organization)
    plan.refresh_from_db()
    return plan


def instructor_eligible(member: Member, organization: Organization) -> bool:
    """Instructors are 劳模/工匠 of the registry, in the plan organisation's sub-tree."""
    return member.model_worker_level != ModelWorkerLevel.NONE and _serves(organization, member)


@dataclass(frozen=True)
class CourseInput:
    name: str
    trade: str
    instructor: Member
    location: str
    description: str
    capacity: int
    certificate_sessions: int


def _course_fields(plan: TrainingPlan, data: CourseInput) -> dict[str, Any]:
    if not instructor_eligible(data.instructor, plan.organization):
        raise ValidationFailed("授课老师应为本组织范围内的劳模或工匠", fields={"instructor": "不是劳模或工匠"})
    if not 1 <= data.certificate_sessions <= SESSIONS_MAX:
        raise ValidationFailed(
            "结业所需出勤次数应在 1 到 %(n)s 之间" % {"n": SESSIONS_MAX}, fields={"certificate_sessions": "超出范围"}
        )
    return {
        "name": _text(data.name, name="name", label="班次名称", max_length=40),
        "trade": _text(data.trade, name="trade", label="工种", max_length=20),
        "instructor": data.instructor,
        "location": _text(data.location, name="location", label="上课地点", max_length=80),
        "description": _text(data.description, name="description", label="课程介绍", max_length=1000, required=False),
        "certificate_sessions": data.certificate_sessions,
    }


def course_create(*, actor: Any, plan: TrainingPlan, data: CourseInput) -> Course:
    _require(actor, plan.organization)
    fields = _course_fields(plan, data)
    with transaction.atomic():
        roster = Roster.objects.create(capacity=_capacity(data.capacity))
        course = Course.objects.create(plan=plan, organization=plan.organization, roster=roster, **fields)
        audit.record(
            actor=actor,
            action="activities.course_create",
            obj=course,
            organization=plan.organization,
            detail={"capacity": roster.capacity, "threshold": course.certificate_sessions},
        )
    return course


def _promoted_audit(actor: Any, promoted: Sequence[Place], organization: Organization) -> None:
    for place in promoted:
        audit.record(
            actor=actor,
            action="activities.promote",
            obj=place,
            organization=organization,
            detail={"seq": place.seq, "rank": place.rank},
        )


def course_update(*, actor: Any, course: Course, data: CourseInput) -> Course:
    _require(actor, course.organization)
    fields = _course_fields(course.plan, data)
    with transaction.atomic():
        promoted = places.roster_resize(roster_id=course.roster_id, capacity=_capacity(data.capacity))
        Course.objects.filter(pk=course.pk).update(**fields)
        audit.record(
            actor=actor,
            action="activities.course_update",
            obj=course,
            organization=course.organization,
            detail={"capacity": data.capacity, "threshold": data.certificate_sessions},
        )
        _promoted_audit(actor, promoted, course.organization)
    course.refresh_from_db()
    course.roster.refresh_from_db()
    return course


@dataclass(frozen=True)
class SessionsInput:
    topic: str
    first_day: dt.date
    start: dt.time
    end: dt.time
    weeks: int


def sessions_create(*, actor: Any, course: Course, data: SessionsInput) -> list[Session]:
    """Schedule a lesson on `first_day` and the same weekday of the following weeks
    (夜校 evenings 18:00–19:30, or weekends)."""
    _require(actor, course.organization)
    topic = _text(data.topic, name="topic", label="课题", max_length=60)
    if data.end <= data.start:
        raise ValidationFailed("下课时间应晚于上课时间", fields={"end": "早于上课时间"})
    if not 1 <= data.weeks <= WEEKS_MAX:
        raise ValidationFailed("连续周数应在 1 到 %(n)s 之间" % {"n": WEEKS_MAX}, fields={"weeks": "超出范围"})
    plan = course.plan
    days = [data.first_day + dt.timedelta(weeks=w) for w in range(data.weeks)]
    if days[0] < plan.starts_on or days[-1] > plan.ends_on:
        raise ValidationFailed(
            "课次应在培训计划的 %(s)s 至 %(e)s 之间" % {"s": plan.starts_on, "e": plan.ends_on},
            fields={"first_day": "超出计划日期"},
        )
    if course.sessions.count() + len(days) > SESSIONS_MAX:
        raise ValidationFailed("一个班次最多 %(n)s 个课次" % {"n": SESSIONS_MAX}, fields={"weeks": "课次过多"})
    zone = timezone.get_current_timezone()
    rows = [
        Session(
            course=course,
            topic=topic if data.weeks == 1 else "%s（第%d讲）" % (topic, n),
            starts_at=dt.datetime.combine(day, data.start, tzinfo=zone),
            ends_at=dt.datetime.combine(day, data.end, tzinfo=zone),
            checkin_token=secrets.token_urlsafe(18),
        )
        for n, day in enumerate(days, start=1)
    ]
    with transaction.atomic():
        created = Session.objects.bulk_create(rows)
        audit.record(
            actor=actor,
            action="activities.sessions_create",
            obj=course,
            organization=course.organization,
            detail={"sessions": len(created)},
        )
    return created


def session_update(*, actor: Any, session: Session, topic: str, day: dt.date, start: dt.time, end: dt.time) -> Session:
    """Move or rename one lesson (its QR code stays the same)."""
    course = session.course
    _require(actor, course.organization)
    topic = _text(topic, name="topic", label="课题", max_length=60)
    if end <= start:
        raise ValidationFailed("下课时间应晚于上课时间", fields={"end": "早于上课时间"})
    plan = course.plan
    if not plan.starts_on <= day <= plan.ends_on:
        raise ValidationFailed(
            "课次应在培训计划的 %(s)s 至 %(e)s 之间" % {"s": plan.starts_on, "e": plan.ends_on},
            fields={"first_day": "超出计划日期"},
        )
    zone = timezone.get_current_timezone()
    starts_at = dt.datetime.combine(day, start, tzinfo=zone)
    ends_at = dt.datetime.combine(day, end, tzinfo=zone)
    with transaction.atomic():
        Session.objects.filter(pk=session.pk).update(topic=topic, starts_at=starts_at, ends_at=ends_at)
        audit.record(
            actor=actor,
            action="activities.session_update",
            obj=course,
            organization=course.organization,
            detail={"session": topic},
        )
    session.refresh_from_db()
    return session


# ---- sign-ups -------------------------------------------------------------------------------


def course_signup(*, user: Any, member: Member, course: Course) -> Place:
    if not _serves(course.organization, member):
        raise NotFound("班次不存在")
    if course.plan.ends_on < timezone.localdate():
        raise Conflict("该培训计划已结束，不能报名")
    _may_sign_up(member)
    with transaction.atomic():
        place = places.place_take(roster_id=course.roster_id, member=member)
        audit.record(
            actor=user,
            action="activities.signup",
            obj=place,
            organization=course.organization,
            detail={"status": place.status, "seq": place.seq},
        )
    return place


@dataclass(frozen=True)
class ChildInput:
    name: str
    birth_date: dt.date | None


def _child(activity: Activity, child: ChildInput | None) -> tuple[str, dt.date] | None:
    if not activity.needs_child:
        return None
    name = _text(child.name if child else "", name="child_name", label="子女姓名", max_length=20)
    birth = child.birth_date if child else None
    if birth is None:
        raise ValidationFailed("请填写子女出生日期", fields={"child_birth": "必填"})
    age = (
        activity.starts_on.year
        - birth.year
        - ((activity.starts_on.month, activity.starts_on.day) < (birth.month, birth.day))
    )
    if not CHILD_AGE[0] <= age <= CHILD_AGE[1]:
        raise ValidationFailed(
            "夏令营面向 %(a)s 至 %(b)s 岁的职工子女" % {"a": CHILD_AGE[0], "b": CHILD_AGE[1]},
            fields={"child_birth": "年龄不符"},
        )
    return name, birth


def activity_signup(*, user: Any, member: Member, activity: Activity, child: ChildInput | None = None) -> Place:
    if not _serves(activity.organization, member):
        raise NotFound("活动不存在")
    if activity.signup_closes_at <= timezone.now():
        raise Conflict("报名已截止")
    _may_sign_up(member)
    details = _child(activity, child)
    with transaction.atomic():
        place = places.place_take(roster_id=activity.roster_id, member=member)
        if details is not None:
            name, birth = details
            ChildDetail.objects.create(
                place=place,
                name_encrypted=crypto.encrypt(name, purpose=CHILD_NAME_PURPOSE),
                name_masked=mask_name(name),
                birth_encrypted=crypto.encrypt(birth.isoformat(), purpose=CHILD_BIRTH_PURPOSE),
                birth_year=birth.year,
            )
        audit.record(
            actor=user,
            action="activities.signup",
            obj=place,
            organization=activity.organization,
            detail={"status": place.status, "seq": place.seq, "kind": activity.kind},
        )
    return place


def _owner_organization(place: Place) -> Organization:
    roster = place.roster
    owner = Course.objects.filter(roster=roster).first() or Activity.objects.filter(roster=roster).first()
    if owner is None:
        raise NotFound("报名记录不存在")
    return owner.organization


def place_cancel(*, user: Any, place: Place, by_member: Member | None = None) -> places.Cancelled:
    """Cancel a sign-up, by its member (`by_member`) or by staff with MANAGE; the freed seat
    goes to the first in line."""
    organization = _owner_organization(place)
    if by_member is not None:
        if place.member_id != by_member.pk:
            raise NotFound("报名记录不存在")
    else:
        _require(user, organization)
    with transaction.atomic():
        result = places.place_cancel(place_id=place.pk)
        audit.record(
            actor=user,
            action="activities.cancel",
            obj=place,
            organization=organization,
            detail={"seq": place.seq, "promoted": result.promoted.seq if result.promoted else ""},
        )
        if result.promoted is not None:
            _promoted_audit(user, [result.promoted], organization)
    return result


# ---- attendance and certificates --------------------------------------------------------------


def _confirmed(course: Course, member: Member) -> bool:
    return Place.objects.filter(roster_id=course.roster_id, member=member, status=PlaceStatus.CONFIRMED).exists()


def checkin(*, user: Any, member: Member, token: str, now: dt.datetime | None = None) -> Attendance:
    """A member's QR check-in: the session's code, an admitted member of its course, and the
    session's window (from `CHECKIN_EARLY` before the start to the end). Twice is once."""
    session = Session.objects.select_related("course", "course__organization").filter(checkin_token=token).first()
    if session is None or not _serves(session.course.organization, member):
        raise NotFound("签到码无效")
    if not _confirmed(session.course, member):
        raise PermissionDenied("您不是该班次的正式学员，不能签到")
    now = now or timezone.now()
    if now < session.starts_at - CHECKIN_EARLY:
        raise Conflict("签到尚未开始（开课前 30 分钟开放）")
    if now > session.ends_at:
        raise Conflict("本次课已结束，签到已关闭")
    with transaction.atomic():
        attendance, created = Attendance.objects.get_or_create(
            session=session, member=member, defaults={"checked_in_at": now, "method": CheckinMethod.QR}
        )
        if created:
            audit.record(
                actor=user,
                action="activities.checkin",
                obj=attendance,
                organization=session.course.organization,
                detail={"session": session.topic},
            )
    return attendance


def checkin_by_staff(*, actor: Any, session: Session, member: Member) -> Attendance:
    """补签 by staff, for a member who attended without a phone."""
    course = session.course
    _require(actor, course.organization)
    if not _confirmed(course, member):
        raise ValidationFailed("该会员不是本班次的正式学员", fields={"member": "不是正式学员"})
    with transaction.atomic():
        attendance, created = Attendance.objects.get_or_create(
            session=session, member=member, defaults={"checked_in_at": timezone.now(), "method": CheckinMethod.STAFF}
        )
        if created:
            audit.record(
                actor=actor,
                action="activities.checkin_staff",
                obj=attendance,
                organization=course.organization,
                detail={"session": session.topic},
            )
    return attendance


def _certificate_number(course: Course) -> str:
    return "JY%d%s" % (course.plan.starts_on.year, secrets.token_hex(5).upper())


def certificates_issue(*, actor: Any, course: Course) -> list[Certificate]:
    """结业证书 for every admitted member who attended at least the course's threshold of
    sessions and has none yet; returns the new ones."""
    _require(actor, course.organization)
    now = timezone.now()
    with transaction.atomic():
        places.roster_lock(roster_id=course.roster_id)  # one issuing at a time
        attended = (
            Attendance.objects.filter(session__course=course)
            .values("member_id")
            .annotate(n=Count("id"))
            .filter(n__gte=course.certificate_sessions)
        )
        counts = {row["member_id"]: row["n"] for row in attended}
        admitted = set(
            Place.objects.filter(
                roster_id=course.roster_id, status=PlaceStatus.CONFIRMED, member_id__in=list(counts)
            ).values_list("member_id", flat=True)
        )
        have = set(Certificate.objects.filter(course=course).values_list("member_id", flat=True))
        rows = [
            Certificate(
                course=course,
                member_id=member_id,
                number=_certificate_number(course),
                sessions_attended=counts[member_id],
                issued_at=now,
                issued_by=actor,
            )
            for member_id in sorted(admitted - have)
        ]
        created = Certificate.objects.bulk_create(rows)
        audit.record(
            actor=actor,
            action="activities.certificates_issue",
            obj=course,
            organization=course.organization,
            detail={"issued": len(created), "threshold": course.certificate_sessions},
        )
    return created


# ---- activities -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityInput:
    kind: str
    title: str
    description: str
    location: str
    starts_on: dt.date
    ends_on: dt.date
    signup_closes_at: dt.datetime
    capacity: int
    lottery: bool


def _activity_fields(data: ActivityInput) -> dict[str, Any]:
    if data.kind not in ActivityKind.values:
        raise ValidationFailed("请选择活动类型", fields={"kind": "无效的类型"})
    if data.ends_on < data.starts_on:
        raise ValidationFailed("活动结束日期不能早于开始日期", fields={"ends_on": "早于开始日期"})
    if data.signup_closes_at.date() > data.starts_on:
        raise ValidationFailed("报名截止应不晚于活动开始", fields={"signup_closes_at": "晚于活动开始"})
    return {
        "kind": data.kind,
        "title": _text(data.title, name="title", label="活动名称", max_length=60),
        "description": _text(data.description, name="description", label="活动介绍", max_length=2000, required=False),
        "location": _text(data.location, name="location", label="地点", max_length=80),
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "signup_closes_at": data.signup_closes_at,
        "lottery": data.lottery,
    }


def activity_create(*, actor: Any, organization: Organization, data: ActivityInput) -> Activity:
    _require(actor, organization)
    fields = _activity_fields(data)
    with transaction.atomic():
        roster = Roster.objects.create(capacity=_capacity(data.capacity), awaiting_draw=data.lottery)
        activity = Activity.objects.create(organization=organization, roster=roster, created_by=actor, **fields)
        audit.record(
            actor=actor,
            action="activities.activity_create",
            obj=activity,
            organization=organization,
            detail={"capacity": roster.capacity, "kind": activity.kind},
        )
    return activity


def activity_update(*, actor: Any, activity: Activity, data: ActivityInput) -> Activity:
    _require(actor, activity.organization)
    fields = _activity_fields(data)
    if data.lottery != activity.lottery:
        raise ValidationFailed("报名开始后不能更改是否抽签", fields={"lottery": "不能更改"})
    if data.kind != activity.kind and activity.roster.last_seq:
        raise ValidationFailed("已有报名，不能更改活动类型", fields={"kind": "不能更改"})
    with transaction.atomic():
        promoted = places.roster_resize(roster_id=activity.roster_id, capacity=_capacity(data.capacity))
        Activity.objects.filter(pk=activity.pk).update(**fields)
        audit.record(
            actor=actor,
            action="activities.activity_update",
            obj=activity,
            organization=activity.organization,
            detail={"capacity": data.capacity},
        )
        _promoted_audit(actor, promoted, activity.organization)
    activity.refresh_from_db()
    activity.roster.refresh_from_db()
    return activity


def activity_draw(*, actor: Any, activity: Activity, seed: str | None = None) -> Draw:
    """The lottery: a fresh random seed (or the given one), the entrants in order of entry, and
    the drawn order, all recorded so the draw can be reproduced (`places.draw_order`)."""
    _require(actor, activity.organization)
    if not activity.lottery:
        raise Conflict("该活动按报名先后录取，无需抽签")
    if activity.signup_closes_at > timezone.now():
        raise Conflict("报名截止后才能抽签")
    seed = seed or secrets.token_hex(16)
    with transaction.atomic():
        result = places.roster_draw(roster_id=activity.roster_id, seed=seed)
        numbers = dict(Member.objects.filter(pk__in=[m for _, m in result.entrants]).values_list("pk", "member_no"))
        draw = Draw.objects.create(
            activity=activity,
            seed=seed,
            algorithm=places.DRAW_ALGORITHM,
            entrants=[[seq, numbers[m]] for seq, m in result.entrants],
            order=result.order,
            capacity=activity.roster.capacity,
            drawn_by=actor,
            drawn_at=timezone.now(),
        )
        audit.record(
            actor=actor,
            action="activities.draw",
            obj=activity,
            organization=activity.organization,
            detail={"seed": seed, "entrants": len(result.entrants), "confirmed": len(result.confirmed)},
        )
    return draw


def children_read(
    *, actor: Any, activity: Activity, places_: Sequence[Place], purpose: str
) -> dict[int, tuple[str, str]]:
    """The children's names and birth dates of `places_` (place id → (name, birth)), decrypted
    for staff with MANAGE; the read is audited with how many were read and why."""
    _require(actor, activity.organization)
    details = list(ChildDetail.objects.filter(place__in=[p.pk for p in places_], place__roster_id=activity.roster_id))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="activities.child_read",
            obj=activity,
            organization=activity.organization,
            detail={"children": len(details), "purpose": purpose},
        )
    return {
        d.place_id: (
            crypto.decrypt(d.name_encrypted, purpose=CHILD_NAME_PURPOSE),
            crypto.decrypt(d.birth_encrypted, purpose=CHILD_BIRTH_PURPOSE),
        )
        for d in details
    }
