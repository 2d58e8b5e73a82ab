import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.activities import services
from gonghui.activities.models import Activity, ActivityKind, Attendance, Course, Place, PlaceStatus, TrainingPlan
from gonghui.activities.tests.factories import handler_of, make_activity, make_course, make_instructor, members
from gonghui.core.models import AuditEvent
from gonghui.site.testing import World


def _member_client(world: World, member):  # type: ignore[no-untyped-def]
    return world.client_for(member.user)


@pytest.mark.django_db
def test_staff_create_a_plan_a_course_and_sessions_with_chinese_errors(world: World) -> None:
    client = world.client_for(world.staff_a)
    response = client.post(
        "/console/night-school/",
        {"organization": world.union_a.code, "name": "职工夜校", "starts_on": "2026-13-01", "ends_on": "x"},
    )
    assert response.status_code == 422 and "开始日期" in response.content.decode()
    assert not TrainingPlan.objects.exists()
    today = timezone.localdate()
    response = client.post(
        "/console/night-school/",
        {
            "organization": world.union_a.code,
            "name": "职工夜校（秋季）",
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=60)).isoformat(),
        },
    )
    plan = TrainingPlan.objects.get()
    assert response.status_code == 302 and plan.organization == world.union_a
    teacher = make_instructor(world.union_a, "李劳模")
    course_form = {
        "op": "course",
        "name": "数控车床班",
        "trade": "数控",
        "instructor": str(teacher.pk),
        "location": "实训室",
        "capacity": "abc",
        "certificate_sessions": "3",
    }
    response = client.post("/console/night-school/plans/%d/" % plan.pk, course_form)
    assert response.status_code == 422 and "名额应为整数" in response.content.decode()
    response = client.post(
        "/console/night-school/plans/%d/" % plan.pk,
        {**course_form, "instructor": str(world.member_a.pk), "capacity": "20"},
    )
    assert response.status_code == 422 and "劳模或工匠" in response.content.decode()
    response = client.post("/console/night-school/plans/%d/" % plan.pk, {**course_form, "capacity": "20"})
    course = Course.objects.get()
    assert response.status_code == 302 and course.roster.capacity == 20 and course.instructor == teacher
    response = client.post(
        "/console/night-school/courses/%d/" % course.pk,
        {
            "op": "sessions",
            "topic": "数控编程",
            "first_day": today.isoformat(),
            "start": "18:00",
            "end": "17:00",
            "weeks": "2",
        },
    )
    assert response.status_code == 422 and "下课时间" in response.content.decode()
    response = client.post(
        "/console/night-school/courses/%d/" % course.pk,
        {
            "op": "sessions",
            "topic": "数控编程",
            "first_day": today.isoformat(),
            "start": "18:00",
            "end": "19:30",
            "weeks": "2",
        },
    )
    assert response.status_code == 302 and course.sessions.count() == 2
    page = client.get("/console/night-school/courses/%d/" % course.pk)
    assert page.status_code == 200 and page.content.decode().count('data-testid="session-link"') == 2
    session = course.sessions.first()
    qr_page = client.get("/console/night-school/sessions/%d/" % session.pk).content.decode()
    assert "data:image/svg+xml" in qr_page and session.checkin_token in qr_page
    for path in ("/console/night-school/", "/console/night-school/courses/", "/console/activities/"):
        assert client.get(path, {"page": "9999"}).status_code == 200


@pytest.mark.django_db
def test_staff_of_b_see_none_of_a_classes_or_activities(world: World) -> None:
    course = make_course(world.union_a, name="甲公司焊接班")
    activity = make_activity(world.union_a, title="甲公司马拉松")
    client = world.client_for(world.staff_b)
    assert "甲公司焊接班" not in client.get("/console/night-school/courses/").content.decode()
    assert "甲公司马拉松" not in client.get("/console/activities/").content.decode()
    before = AuditEvent.objects.count()
    for path in (
        "/console/night-school/courses/%d/" % course.pk,
        "/console/night-school/courses/%d/export/" % course.pk,
        "/console/activities/%d/" % activity.pk,
        "/console/activities/%d/export/" % activity.pk,
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/console/activities/%d/" % activity.pk, {"op": "draw"}).status_code == 404
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_member_signs_up_waits_and_is_promoted_when_a_seat_frees(world: World) -> None:
    course = make_course(world.union_a, capacity=1)
    first, second = members(world.union_a, 2)
    a, b = world.client_for(first.user), world.client_for(second.user)
    assert a.post("/h5/activities/courses/%d/" % course.pk, {"op": "signup"}).status_code == 302
    assert b.post("/h5/activities/courses/%d/" % course.pk, {"op": "signup"}).status_code == 302
    page = b.get("/h5/activities/courses/%d/" % course.pk).content.decode()
    assert "候补第 1 位" in page
    again = b.post("/h5/activities/courses/%d/" % course.pk, {"op": "signup"})
    assert again.status_code == 409 and "无需重复报名" in again.content.decode()
    assert a.post("/h5/activities/courses/%d/" % course.pk, {"op": "cancel"}).status_code == 302
    assert Place.objects.get(member=second).status == PlaceStatus.CONFIRMED
    home = b.get("/h5/activities/").content.decode()
    assert course.name in home and "已录取" in home
    # Member B of the sibling union cannot see the course.
    assert world.client_for(world.member_b.user).get("/h5/activities/courses/%d/" % course.pk).status_code == 404


@pytest.mark.django_db
def test_member_checks_in_by_the_session_qr_and_downloads_a_verifiable_certificate(world: World) -> None:
    course = make_course(world.union_a, capacity=5, threshold=1)
    services.course_signup(user=world.member_a.user, member=world.member_a, course=course)
    session = services.sessions_create(
        actor=handler_of(world.union_a),
        course=course,
        data=services.SessionsInput(
            topic="安全", first_day=timezone.localdate(), start=dt.time(0, 0), end=dt.time(23, 59), weeks=1
        ),
    )[0]
    client = world.client_for(world.member_a.user)
    assert "确认签到" in client.get("/h5/activities/checkin/%s/" % session.checkin_token).content.decode()
    assert client.post("/h5/activities/checkin/%s/" % session.checkin_token).status_code == 302
    assert Attendance.objects.filter(session=session, member=world.member_a).exists()
    assert "出勤 1/1" in client.get("/h5/activities/").content.decode()
    assert client.get("/h5/activities/checkin/not-a-token/").status_code == 404
    staff = world.client_for(world.staff_a)
    staff.post("/console/night-school/courses/%d/" % course.pk, {"op": "certificates"})
    certificate = world.member_a.certificates.get()
    response = client.get("/h5/activities/certificates/%d/" % certificate.pk)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert (
        world.client_for(world.member_b.user).get("/h5/activities/certificates/%d/" % certificate.pk).status_code == 404
    )
    from django.test import Client

    public = Client().get("/certificates/verify/", {"no": certificate.number.lower()}).content.decode()
    assert certificate.course.name in public and "张*" in public and "张三" not in public
    assert "未查到" in Client().get("/certificates/verify/", {"no": "JY0000NOTHING"}).content.decode()
    export = staff.get("/console/night-school/courses/%d/export/" % course.pk)
    sheets = load_workbook(io.BytesIO(export.content)).sheetnames
    assert sheets == ["报名名单", "考勤"]


@pytest.mark.django_db
def test_camp_registration_masks_the_child_and_the_export_audits_the_read(world: World) -> None:
    camp = make_activity(world.union_a, kind=ActivityKind.SUMMER_CAMP, title="职工子女夏令营", capacity=3)
    client = world.client_for(world.member_a.user)
    bad = client.post(
        "/h5/activities/events/%d/" % camp.pk, {"op": "signup", "child_name": "", "child_birth": "2018-02-30"}
    )
    assert bad.status_code == 422 and "出生日期" in bad.content.decode()
    assert not Place.objects.exists()
    birth = timezone.localdate().replace(year=timezone.localdate().year - 8, day=1)
    ok = client.post(
        "/h5/activities/events/%d/" % camp.pk,
        {"op": "signup", "child_name": "张小明", "child_birth": birth.isoformat()},
    )
    assert ok.status_code == 302
    page = world.client_for(world.staff_a).get("/console/activities/%d/" % camp.pk).content.decode()
    assert "张**" in page and "张小明" not in page
    assert "张小明" not in client.get("/h5/activities/events/%d/" % camp.pk).content.decode()
    export = world.client_for(world.staff_a).get("/console/activities/%d/export/" % camp.pk)
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][-2:] == ("子女姓名", "子女出生日期") and rows[1][-2:] == ("张小明", birth.isoformat())
    read = AuditEvent.objects.get(action="activities.child_read")
    assert read.detail["children"] == 1 and read.actor_id == world.staff_a.pk
    # 审核人 may read the roster but not the children's details.
    from gonghui.site.testing import grant, make_user

    reviewer = grant(make_user("act_reviewer"), world.union_a, "reviewer")
    assert world.client_for(reviewer).get("/console/activities/%d/export/" % camp.pk).status_code == 403


@pytest.mark.django_db
def test_staff_draw_the_lottery_in_the_console_and_the_member_sees_the_result(world: World) -> None:
    camp = make_activity(world.union_a, kind=ActivityKind.RETREAT, lottery=True, capacity=1, title="疗休养")
    entrants = members(world.union_a, 3)
    for m in entrants:
        services.activity_signup(user=m.user, member=m, activity=camp)
    staff = world.client_for(world.staff_a)
    early = staff.post("/console/activities/%d/" % camp.pk, {"op": "draw"})
    assert early.status_code == 409 and "报名截止后" in early.content.decode()
    Activity.objects.filter(pk=camp.pk).update(signup_closes_at=timezone.now() - dt.timedelta(minutes=1))
    assert staff.post("/console/activities/%d/" % camp.pk, {"op": "draw"}).status_code == 302
    camp.refresh_from_db()
    page = staff.get("/console/activities/%d/" % camp.pk).content.decode()
    assert camp.draw.seed in page
    winner = Place.objects.get(roster_id=camp.roster_id, status=PlaceStatus.CONFIRMED).member
    assert "已录取" in world.client_for(winner.user).get("/h5/activities/events/%d/" % camp.pk).content.decode()


@pytest.mark.django_db
def test_list_pages_and_rosters_run_a_fixed_number_of_queries(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client_for(world.staff_a)
    course = make_course(world.union_a, capacity=3)
    camp = make_activity(world.union_a, kind=ActivityKind.SUMMER_CAMP, capacity=2)
    birth = timezone.localdate().replace(year=timezone.localdate().year - 8, day=1)
    paths = [
        "/console/night-school/",
        "/console/night-school/courses/",
        "/console/activities/",
        "/console/night-school/courses/%d/" % course.pk,
        "/console/activities/%d/" % camp.pk,
    ]

    def counts() -> list[int]:
        out = []
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            out.append(len(queries))
        return out

    def grow(n: int) -> None:
        for i, m in enumerate(members(world.union_a, n)):
            services.course_signup(user=m.user, member=m, course=course)
            services.activity_signup(
                user=m.user, member=m, activity=camp, child=services.ChildInput(name="王小%d" % i, birth_date=birth)
            )
        make_course(world.union_a, name="加开班%d" % n)
        make_activity(world.union_a, title="加开活动%d" % n)

    grow(2)
    counts()  # the first request of a session also loads the user's roles
    before = counts()
    grow(6)
    assert counts() == before


@pytest.mark.django_db
def test_staff_move_a_session_and_check_in_a_member_without_a_phone(world: World) -> None:
    course = make_course(world.union_a, capacity=2)
    services.course_signup(user=world.member_a.user, member=world.member_a, course=course)
    session = services.sessions_create(
        actor=handler_of(world.union_a),
        course=course,
        data=services.SessionsInput(
            topic="焊接安全", first_day=timezone.localdate(), start=dt.time(18), end=dt.time(19, 30), weeks=1
        ),
    )[0]
    client = world.client_for(world.staff_a)
    path = "/console/night-school/sessions/%d/" % session.pk
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    bad = client.post(path, {"op": "edit", "topic": "焊接安全", "first_day": day, "start": "25:00", "end": "19:30"})
    assert bad.status_code == 422 and "上课时间" in bad.content.decode()
    assert (
        client.post(
            path, {"op": "edit", "topic": "周末实操", "first_day": day, "start": "09:00", "end": "11:30"}
        ).status_code
        == 302
    )
    session.refresh_from_db()
    assert session.topic == "周末实操"
    assert timezone.localtime(session.starts_at).isoformat()[:16] == day + "T09:00"
    outsider = members(world.union_a, 1)[0]
    refused = client.post(path, {"op": "checkin", "member": str(outsider.pk)})
    assert refused.status_code == 404 and not Attendance.objects.exists()
    assert client.post(path, {"op": "checkin", "member": str(world.member_a.pk)}).status_code == 302
    assert Attendance.objects.get().method == "staff"
