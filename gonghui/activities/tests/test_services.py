import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from gonghui.activities import services
from gonghui.activities.models import (
    Activity,
    ActivityKind,
    Attendance,
    Certificate,
    ChildDetail,
    Place,
    PlaceStatus,
    Session,
)
from gonghui.activities.tests.factories import handler_of, make_activity, make_course, make_plan, members
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.members.models import MembershipStatus
from gonghui.site.testing import make_member


def _session(course, start: dt.datetime, minutes: int = 90) -> Session:  # type: ignore[no-untyped-def]
    return Session.objects.create(
        course=course,
        topic="第1讲",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        checkin_token="t%d" % Session.objects.count(),
    )


@pytest.mark.django_db
def test_sessions_are_scheduled_weekly_within_the_plan(world) -> None:  # type: ignore[no-untyped-def]
    course = make_course(world.union_a)
    day = timezone.localdate()
    created = services.sessions_create(
        actor=handler_of(world.union_a),
        course=course,
        data=services.SessionsInput(topic="焊接基础", first_day=day, start=dt.time(18), end=dt.time(19, 30), weeks=3),
    )
    assert [timezone.localtime(s.starts_at).date() for s in created] == [day + dt.timedelta(weeks=w) for w in range(3)]
    assert {timezone.localtime(s.starts_at).time() for s in created} == {dt.time(18)}
    assert len({s.checkin_token for s in created}) == 3
    with pytest.raises(ValidationFailed) as exc:
        services.sessions_create(
            actor=handler_of(world.union_a),
            course=course,
            data=services.SessionsInput(topic="x", first_day=day, start=dt.time(18), end=dt.time(19), weeks=20),
        )
    assert "first_day" in exc.value.fields
    assert course.sessions.count() == 3


@pytest.mark.django_db
def test_instructor_must_be_a_model_worker_and_staff_of_b_cannot_run_a(world) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(world.union_a)
    data = services.CourseInput(
        name="铸造班",
        trade="铸造",
        instructor=world.member_a,
        location="车间",
        description="",
        capacity=5,
        certificate_sessions=1,
    )
    with pytest.raises(ValidationFailed):
        services.course_create(actor=handler_of(world.union_a), plan=plan, data=data)
    with pytest.raises(PermissionDenied):
        services.plan_create(
            actor=world.staff_b,
            organization=world.union_a,
            data=services.PlanInput(
                name="x", description="", starts_on=timezone.localdate(), ends_on=timezone.localdate()
            ),
        )
    assert plan.courses.count() == 0


@pytest.mark.django_db
def test_qr_checkin_needs_a_seat_and_the_time_window_and_counts_once(world) -> None:  # type: ignore[no-untyped-def]
    course = make_course(world.union_a, capacity=1)
    seat, waiting = members(world.union_a, 2)
    services.course_signup(user=seat.user, member=seat, course=course)
    services.course_signup(user=waiting.user, member=waiting, course=course)
    start = timezone.now() + dt.timedelta(hours=2)
    session = _session(course, start)
    with pytest.raises(PermissionDenied):
        services.checkin(user=waiting.user, member=waiting, token=session.checkin_token, now=start)
    with pytest.raises(Conflict):
        services.checkin(user=seat.user, member=seat, token=session.checkin_token, now=start - dt.timedelta(minutes=31))
    with pytest.raises(Conflict):
        services.checkin(user=seat.user, member=seat, token=session.checkin_token, now=start + dt.timedelta(minutes=91))
    with pytest.raises(NotFound):
        services.checkin(user=world.member_b.user, member=world.member_b, token=session.checkin_token, now=start)
    assert Attendance.objects.count() == 0
    services.checkin(user=seat.user, member=seat, token=session.checkin_token, now=start - dt.timedelta(minutes=10))
    services.checkin(user=seat.user, member=seat, token=session.checkin_token, now=start + dt.timedelta(minutes=5))
    assert Attendance.objects.filter(session=session, member=seat).count() == 1
    assert AuditEvent.objects.filter(action="activities.checkin").count() == 1


@pytest.mark.django_db
def test_certificates_go_to_those_who_attended_enough_once(world) -> None:  # type: ignore[no-untyped-def]
    course = make_course(world.union_a, capacity=3, threshold=2)
    a, b, c = members(world.union_a, 3)
    for m in (a, b, c):
        services.course_signup(user=m.user, member=m, course=course)
    base = timezone.now() - dt.timedelta(days=10)
    s1, s2 = _session(course, base), _session(course, base + dt.timedelta(days=7))
    for s, who in ((s1, a), (s2, a), (s1, b)):
        Attendance.objects.create(session=s, member=who, checked_in_at=s.starts_at)
    Attendance.objects.create(session=s2, member=c, checked_in_at=s2.starts_at)
    Attendance.objects.create(session=s1, member=c, checked_in_at=s1.starts_at)
    services.place_cancel(user=c.user, place=Place.objects.get(member=c), by_member=c)  # left the course
    issued = services.certificates_issue(actor=handler_of(world.union_a), course=course)
    assert [cert.member_id for cert in issued] == [a.pk]
    assert issued[0].sessions_attended == 2 and issued[0].number.startswith("JY")
    assert services.certificates_issue(actor=handler_of(world.union_a), course=course) == []
    Attendance.objects.create(session=s2, member=b, checked_in_at=s2.starts_at)
    assert [cert.member_id for cert in services.certificates_issue(actor=handler_of(world.union_a), course=course)] == [
        b.pk
    ]
    assert Certificate.objects.filter(course=course).count() == 2


@pytest.mark.django_db
def test_camp_child_details_are_sealed_and_checked(world) -> None:  # type: ignore[no-untyped-def]
    camp = make_activity(world.union_a, kind=ActivityKind.SUMMER_CAMP)
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as exc:
        services.activity_signup(
            user=world.member_a.user,
            member=world.member_a,
            activity=camp,
            child=services.ChildInput(name="张小明", birth_date=today.replace(year=today.year - 30)),
        )
    assert "child_birth" in exc.value.fields
    assert not Place.objects.filter(roster_id=camp.roster_id).exists()
    place = services.activity_signup(
        user=world.member_a.user,
        member=world.member_a,
        activity=camp,
        child=services.ChildInput(name="张小明", birth_date=today.replace(year=today.year - 8, day=1)),
    )
    child = ChildDetail.objects.get(place=place)
    assert child.name_masked == "张**"
    with connection.cursor() as cursor:
        cursor.execute("SELECT name_encrypted, birth_encrypted FROM activities_childdetail WHERE id = %s", [child.pk])
        raw_name, raw_birth = cursor.fetchone()
    assert raw_name.startswith("v1:") and "张小明" not in raw_name and raw_birth.startswith("v1:")
    read = services.children_read(actor=handler_of(world.union_a), activity=camp, places_=[place], purpose="核对")
    assert read[place.pk][0] == "张小明"
    assert AuditEvent.objects.filter(action="activities.child_read", detail__children=1).count() == 1
    with pytest.raises(PermissionDenied):
        services.children_read(actor=world.staff_b, activity=camp, places_=[place], purpose="核对")


@pytest.mark.django_db
def test_members_sign_up_only_for_what_their_union_tree_offers_and_before_closing(world) -> None:  # type: ignore[no-untyped-def]
    of_a = make_activity(world.union_a)
    of_city = make_activity(world.city, title="全市疗休养", kind=ActivityKind.RETREAT)
    with pytest.raises(NotFound):
        services.activity_signup(user=world.member_b.user, member=world.member_b, activity=of_a)
    assert (
        services.activity_signup(user=world.member_b.user, member=world.member_b, activity=of_city).status
        == PlaceStatus.CONFIRMED
    )
    Activity.objects.filter(pk=of_a.pk).update(signup_closes_at=timezone.now() - dt.timedelta(seconds=1))
    of_a.refresh_from_db()
    with pytest.raises(Conflict):
        services.activity_signup(user=world.member_a.user, member=world.member_a, activity=of_a)
    gone = make_member(world.union_a, name="赵六", status=MembershipStatus.WITHDRAWN)
    with pytest.raises(Conflict):
        services.activity_signup(user=None, member=gone, activity=of_city)
    assert not Place.objects.filter(member=gone).exists()
