"""Reads of 职工夜校 and activities. Staff reads take the actor and return only their
sub-tree; member reads take the member and return what their union and its ancestors offer."""

from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from gonghui.activities.models import (
    ACTIVE_PLACE_STATUSES,
    Activity,
    Attendance,
    Certificate,
    Course,
    Draw,
    Place,
    PlaceStatus,
    Session,
    TrainingPlan,
)
from gonghui.activities.permissions import ActivityPerm
from gonghui.core.errors import NotFound
from gonghui.members.models import Member, ModelWorkerLevel
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import ancestors, scope_q

ROSTER_ORDER = (PlaceStatus.CONFIRMED, PlaceStatus.ENTERED, PlaceStatus.WAITLISTED, PlaceStatus.CANCELLED)

# ---- staff --------------------------------------------------------------------------------


def plans_for_actor(*, actor: Any, perm: str = ActivityPerm.VIEW) -> QuerySet[TrainingPlan]:
    return (
        TrainingPlan.objects.filter(scope_q(actor, perm))
        .select_related("organization")
        .annotate(course_count=Count("courses"))
        .order_by("-starts_on", "-id")
    )


def plan_get_for_actor(*, actor: Any, pk: int, perm: str = ActivityPerm.VIEW) -> TrainingPlan:
    plan = TrainingPlan.objects.filter(scope_q(actor, perm), pk=pk).select_related("organization").first()
    if plan is None:
        raise NotFound("培训计划不存在")
    return plan


def courses_for_actor(*, actor: Any, perm: str = ActivityPerm.VIEW) -> QuerySet[Course]:
    return (
        Course.objects.filter(scope_q(actor, perm))
        .select_related("plan", "organization", "instructor", "roster")
        .annotate(session_count=Count("sessions"))
        .order_by("-plan__starts_on", "plan_id", "id")
    )


def course_get_for_actor(*, actor: Any, pk: int, perm: str = ActivityPerm.VIEW) -> Course:
    course = (
        Course.objects.filter(scope_q(actor, perm), pk=pk)
        .select_related("plan", "organization", "instructor", "roster")
        .first()
    )
    if course is None:
        raise NotFound("班次不存在")
    return course


def session_get_for_actor(*, actor: Any, pk: int, perm: str = ActivityPerm.VIEW) -> Session:
    session = (
        Session.objects.filter(scope_q(actor, perm, "course__organization__path"), pk=pk)
        .select_related("course", "course__organization", "course__plan", "course__roster")
        .first()
    )
    if session is None:
        raise NotFound("课次不存在")
    return session


def activities_for_actor(*, actor: Any, perm: str = ActivityPerm.VIEW) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(scope_q(actor, perm))
        .select_related("organization", "roster")
        .order_by("-starts_on", "-id")
    )


def activity_get_for_actor(*, actor: Any, pk: int, perm: str = ActivityPerm.VIEW) -> Activity:
    activity = Activity.objects.filter(scope_q(actor, perm), pk=pk).select_related("organization", "roster").first()
    if activity is None:
        raise NotFound("活动不存在")
    return activity


def draw_of(activity: Activity) -> Draw | None:
    return Draw.objects.filter(activity=activity).select_related("drawn_by").first()


def roster_places(roster_id: int, *, status: str = "") -> QuerySet[Place]:
    """A roster's sign-ups (for a page already scoped to its course or activity): seats by
    arrival, then the waiting list in order, then the cancelled."""
    qs = Place.objects.filter(roster_id=roster_id).select_related("member", "member__organization", "child")
    if status in PlaceStatus.values:
        qs = qs.filter(status=status)
    order = Case(*(When(status=s, then=Value(n)) for n, s in enumerate(ROSTER_ORDER)), output_field=IntegerField())
    return qs.order_by(order, "rank", "seq")


def roster_counts(roster_id: int) -> dict[str, int]:
    rows = Place.objects.filter(roster_id=roster_id).values("status").annotate(n=Count("id"))
    counts = {s: 0 for s in PlaceStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def place_get_in_roster(*, roster_id: int, pk: int) -> Place:
    place = Place.objects.filter(roster_id=roster_id, pk=pk).select_related("member").first()
    if place is None:
        raise NotFound("报名记录不存在")
    return place


def instructors_for_actor(*, actor: Any, organization: Organization, limit: int = 200) -> list[Member]:
    """劳模/工匠 of the registry in `organization`'s sub-tree that the actor may see."""
    return list(
        Member.objects.filter(
            scope_q(actor, ActivityPerm.MANAGE),
            organization__path__startswith=organization.path,
        )
        .exclude(model_worker_level=ModelWorkerLevel.NONE)
        .select_related("organization")
        .order_by("name", "pk")[:limit]
    )


def member_in_roster(*, roster_id: int, pk: int) -> Member:
    member = Member.objects.filter(
        pk=pk, activity_places__roster_id=roster_id, activity_places__status=PlaceStatus.CONFIRMED
    ).first()
    if member is None:
        raise NotFound("该会员不是正式学员")
    return member


def attendance_matrix(course: Course) -> tuple[list[Session], list[tuple[Place, list[bool], int]]]:
    """The course's sessions and, per admitted member, which of them they attended."""
    sessions = list(course.sessions.order_by("starts_at", "id"))
    seen = set(Attendance.objects.filter(session__course=course).values_list("member_id", "session_id"))
    rows = []
    for place in roster_places(course.roster_id, status=PlaceStatus.CONFIRMED):
        marks = [(place.member_id, s.pk) in seen for s in sessions]
        rows.append((place, marks, sum(marks)))
    return sessions, rows


def session_attendance(session: Session) -> QuerySet[Attendance]:
    return session.attendances.select_related("member").order_by("checked_in_at")


def course_certificates(course: Course) -> QuerySet[Certificate]:
    return course.certificates.select_related("member").order_by("number")


# ---- members -------------------------------------------------------------------------------


def _offered_to(member: Member) -> Q:
    paths = [o.path for o in ancestors(member.organization)] + [member.organization.path]
    return Q(organization__path__in=paths)


def courses_open_for(member: Member) -> QuerySet[Course]:
    today = timezone.localdate()
    return (
        Course.objects.filter(_offered_to(member), plan__ends_on__gte=today)
        .select_related("plan", "instructor", "roster")
        .order_by("plan__starts_on", "id")
    )


def course_for_member(member: Member, pk: int) -> Course:
    course = Course.objects.filter(_offered_to(member), pk=pk).select_related("plan", "instructor", "roster").first()
    if course is None:
        raise NotFound("班次不存在")
    return course


def activities_open_for(member: Member) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(_offered_to(member), ends_on__gte=timezone.localdate())
        .select_related("roster")
        .order_by("starts_on", "id")
    )


def activity_for_member(member: Member, pk: int) -> Activity:
    activity = Activity.objects.filter(_offered_to(member), pk=pk).select_related("roster").first()
    if activity is None:
        raise NotFound("活动不存在")
    return activity


def member_places(member: Member) -> QuerySet[Place]:
    """The member's active sign-ups, with the course or activity each belongs to."""
    return (
        Place.objects.filter(member=member, status__in=ACTIVE_PLACE_STATUSES)
        .select_related("roster__course", "roster__course__plan", "roster__activity", "child")
        .order_by("-created_at")
    )


def member_place_in(member: Member, roster_id: int) -> Place | None:
    return (
        Place.objects.filter(member=member, roster_id=roster_id, status__in=ACTIVE_PLACE_STATUSES)
        .select_related("child")
        .first()
    )


def waiting_position(place: Place) -> int:
    """1 for the first in line."""
    return (
        Place.objects.filter(roster_id=place.roster_id, status=PlaceStatus.WAITLISTED, rank__lt=place.rank).count() + 1
    )


def member_sessions(member: Member, course: Course) -> list[tuple[Session, bool]]:
    seen = set(Attendance.objects.filter(member=member, session__course=course).values_list("session_id", flat=True))
    return [(s, s.pk in seen) for s in course.sessions.order_by("starts_at", "id")]


def member_attendance(member: Member, course_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per course: (sessions the member attended, sessions scheduled)."""
    attended = dict(
        Attendance.objects.filter(member=member, session__course_id__in=course_ids)
        .values("session__course_id")
        .annotate(n=Count("id"))
        .values_list("session__course_id", "n")
    )
    scheduled = dict(
        Session.objects.filter(course_id__in=course_ids)
        .values("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
    return {c: (attended.get(c, 0), scheduled.get(c, 0)) for c in course_ids}


def member_certificates(member: Member) -> QuerySet[Certificate]:
    return (
        Certificate.objects.filter(member=member)
        .select_related("course", "course__plan", "course__organization")
        .order_by("-issued_at")
    )


def certificate_for_member(member: Member, pk: int) -> Certificate:
    certificate = member_certificates(member).filter(pk=pk).first()
    if certificate is None:
        raise NotFound("证书不存在")
    return certificate


def certificate_by_number(number: str) -> Certificate | None:
    return (
        Certificate.objects.filter(number=number.strip().upper()[:24])
        .select_related("course", "course__plan", "course__organization", "member")
        .first()
    )


def session_by_token(token: str) -> Session | None:
    return Session.objects.filter(checkin_token=token[:32]).select_related("course", "course__organization").first()
