"""Done when, in chromium: staff run a night-school class (plan, course with a 劳模 instructor,
a session whose QR the member scans on the H5, attendance, certificates, a waiting list that
promotes), and fill a summer camp with a lottery (a member registers a child on the H5, staff
draw, both see the result and the draw reproduces from its seed)."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.activities import places, services
from gonghui.activities.models import Activity, ActivityKind, Course, Place, PlaceStatus
from gonghui.activities.tests.factories import make_instructor, members
from gonghui.core.permissions import Role
from gonghui.site.testing import build_world, grant, make_user

PASSWORD = "Gonghui-test-2026"


def _login(page, base: str, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


def _phone(browser, base: str, user):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _desk(browser):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_night_school_class_with_qr_attendance_certificates_and_waiting_list(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    base = live_server.url
    staff = grant(make_user("school_staff", password=PASSWORD), world.union_a, Role.HANDLER)
    teacher = make_instructor(world.union_a, "赵工匠")
    (second,) = members(world.union_a, 1, prefix="候补学员")
    today = timezone.localdate()

    desk = _desk(browser)
    _login(desk, base, staff.username, "/console/night-school/")
    desk.click("[data-testid=plan-new]")
    desk.fill("#p-name", "职工夜校（冬季）")
    desk.fill("#p-start", today.isoformat())
    desk.fill("#p-end", (today + dt.timedelta(days=60)).isoformat())
    desk.click("[data-testid=plan-submit]")
    desk.wait_for_selector("[data-testid=course-new]")
    desk.click("[data-testid=course-new]")
    form = desk.locator("[data-testid=course-form]")
    form.locator("input[name=name]").fill("焊接技能提升班")
    form.locator("input[name=trade]").fill("焊接")
    form.locator("select[name=instructor]").select_option(str(teacher.pk))
    form.locator("input[name=location]").fill("实训车间")
    form.locator("input[name=capacity]").fill("1")
    form.locator("input[name=certificate_sessions]").fill("1")
    desk.click("[data-testid=course-submit]")
    desk.wait_for_selector("[data-testid=sessions-form]")
    course = Course.objects.get(name="焊接技能提升班")
    sessions = desk.locator("[data-testid=sessions-form]")
    sessions.locator("input[name=topic]").fill("焊接安全")
    sessions.locator("input[name=start]").fill("00:00")
    sessions.locator("input[name=end]").fill("23:59")
    desk.click("[data-testid=sessions-submit]")
    desk.wait_for_selector("[data-testid=session-link]")

    # Two members sign up on the phone for one place: the second waits.
    phone = _phone(browser, base, world.member_a.user)
    phone.goto(f"{base}/h5/activities/")
    phone.click("[data-testid=h5-course] >> text=焊接技能提升班")
    phone.click("[data-testid=h5-signup]")
    phone.wait_for_selector("[data-testid=h5-place-status]")
    assert "已录取" in phone.inner_text("[data-testid=h5-place-status]")
    other = _phone(browser, base, second.user)
    other.goto(f"{base}/h5/activities/courses/{course.pk}/")
    other.click("[data-testid=h5-signup]")
    other.wait_for_selector("[data-testid=h5-place-status]")
    assert "候补第 1 位" in other.inner_text("[data-testid=h5-place-status]")

    # The session shows its QR in the console; the member "scans" it (opens its link) and checks in.
    desk.click("[data-testid=session-link]")
    desk.wait_for_selector("[data-testid=checkin-qr]")
    assert desk.locator("[data-testid=checkin-qr]").evaluate("img => img.naturalWidth > 0")
    checkin_url = desk.inner_text("[data-testid=checkin-url]")
    phone.goto(checkin_url)
    phone.click("[data-testid=h5-checkin]")
    phone.wait_for_selector("[data-testid=h5-attended]")
    desk.reload()
    assert desk.inner_text("[data-testid=checkin-count]") == "1"

    # Certificates for those who attended enough; the member downloads a PDF that verifies.
    desk.goto(f"{base}/console/night-school/courses/{course.pk}/")
    assert desk.inner_text("[data-testid=attended]") == "1"
    desk.click("[data-testid=certificates-issue]")
    desk.wait_for_selector("[data-testid=certificate-row]")
    certificate = world.member_a.certificates.get()
    assert certificate.number in desk.inner_text("[data-testid=certificate-table]")
    phone.goto(f"{base}/h5/activities/")
    assert certificate.number in phone.inner_text("[data-testid=h5-certificates]")
    pdf = phone.request.get(f"{base}/h5/activities/certificates/{certificate.pk}/")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    verify = browser.new_page()
    verify.goto(f"{base}/certificates/verify/?no={certificate.number}")
    assert "焊接技能提升班" in verify.inner_text("[data-testid=verify-ok]")

    # The member leaves the class; the one waiting is promoted.
    phone.goto(f"{base}/h5/activities/courses/{course.pk}/")
    phone.on("dialog", lambda dialog: dialog.accept())
    phone.click("[data-testid=h5-cancel]")
    phone.wait_for_selector("[data-testid=h5-signup]")
    other.reload()
    assert "已录取" in other.inner_text("[data-testid=h5-place-status]")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_summer_camp_filled_by_a_lottery(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    base = live_server.url
    staff = grant(make_user("camp_staff", password=PASSWORD), world.union_a, Role.HANDLER)
    today = timezone.localdate()

    desk = _desk(browser)
    _login(desk, base, staff.username, "/console/activities/")
    desk.click("[data-testid=activity-new]")
    form = desk.locator("[data-testid=activity-form]")
    form.locator("select[name=kind]").select_option(ActivityKind.SUMMER_CAMP)
    form.locator("input[name=title]").fill("职工子女夏令营")
    form.locator("input[name=location]").fill("青少年活动中心")
    form.locator("input[name=starts_on]").fill((today + dt.timedelta(days=20)).isoformat())
    form.locator("input[name=ends_on]").fill((today + dt.timedelta(days=24)).isoformat())
    closes = timezone.localtime() + dt.timedelta(days=3)
    form.locator("input[name=signup_closes_at]").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=capacity]").fill("2")
    form.locator("input[name=lottery]").check()
    desk.click("[data-testid=activity-submit]")
    desk.wait_for_selector("[data-testid=roster-counts]")
    camp = Activity.objects.get(title="职工子女夏令营")

    # A member registers their child on the phone; four colleagues enter too.
    phone = _phone(browser, base, world.member_a.user)
    phone.goto(f"{base}/h5/activities/")
    phone.click("[data-testid=h5-activity] >> text=职工子女夏令营")
    phone.fill("#child-name", "张小明")
    phone.fill("#child-birth", today.replace(year=today.year - 9, day=1).isoformat())
    phone.click("[data-testid=h5-signup]")
    phone.wait_for_selector("[data-testid=h5-place-status]")
    assert "待抽签" in phone.inner_text("[data-testid=h5-place-status]")
    birth = today.replace(year=today.year - 10, day=1)
    for i, m in enumerate(members(world.union_a, 4)):
        services.activity_signup(
            user=m.user, member=m, activity=camp, child=services.ChildInput(name="李小%d" % i, birth_date=birth)
        )

    # Sign-up closes; staff draw in the console.
    Activity.objects.filter(pk=camp.pk).update(signup_closes_at=timezone.now() - dt.timedelta(minutes=1))
    desk.reload()
    assert desk.inner_text("[data-testid=count-entered]") == "5"
    assert "张**" in desk.inner_text("[data-testid=roster-table]")
    assert "张小明" not in desk.content()
    desk.click("[data-testid=draw]")
    desk.wait_for_selector("[data-testid=draw-record]")
    camp.refresh_from_db()
    draw = camp.draw
    assert desk.inner_text("[data-testid=draw-seed]") == draw.seed
    assert places.draw_order(draw.seed, [seq for seq, _ in draw.entrants]) == draw.order
    assert desk.inner_text("[data-testid=count-confirmed]") == "2"
    assert desk.inner_text("[data-testid=count-waitlisted]") == "3"

    # The member sees the result of the draw, and the seed that decided it.
    mine = Place.objects.get(roster_id=camp.roster_id, member=world.member_a)
    phone.reload()
    expected = "已录取" if mine.status == PlaceStatus.CONFIRMED else "候补"
    assert expected in phone.inner_text("[data-testid=h5-place-status]")
    assert draw.seed in phone.inner_text("[data-testid=h5-draw]")
