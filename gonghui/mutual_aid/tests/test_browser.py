"""In chromium, the issue's "done when": the city's 管理员 sets up period 7 with the ¥100 plan;
union A's 经办人 uploads the unit's list (checked and written by the background worker, the page
following its progress), records the payment, registers a member's stay and
reviews it (the computation shown step by step); a second person approves, the 经办人 pays; the
管理员 reads the fund report with its chart."""

import datetime as dt

import pyotp
import pytest
from django.core.management import call_command
from django.utils import timezone

from gonghui.accounts.services import totp_secret
from gonghui.core.permissions import Role
from gonghui.mutual_aid.models import Claim, ClaimStatus, Enrolment, Period
from gonghui.mutual_aid.tests.factories import enrol, list_csv, make_period
from gonghui.site.testing import build_world, grant, make_member, make_user

PASSWORD = "Gonghui-test-2026"


def sign_in(browser, base: str, username: str, *, totp_user=None):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    if totp_user is not None:
        page.wait_for_selector("[data-testid=totp-secret]")
        totp_user.refresh_from_db()
        page.fill("input[name=code]", pyotp.TOTP(totp_secret(totp_user) or "").now())
        page.click("button:has-text('验证')")
    page.wait_for_url(f"{base}/console/")
    return page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_period_7_enrolment_claim_and_fund_report(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    admin = grant(make_user("aid_admin"), world.city, Role.ADMIN)
    handler = grant(make_user("aid_handler"), world.union_a, Role.HANDLER, Role.FINANCE)
    reviewer = grant(make_user("aid_reviewer"), world.union_a, Role.REVIEWER)
    members = [world.member_a] + [make_member(world.union_a, name="职工%s" % i) for i in range(11)]
    today = timezone.localdate()
    start = today - dt.timedelta(days=60)
    end = start + dt.timedelta(days=364)
    last = start - dt.timedelta(days=365)
    p6 = make_period(
        admin,
        world.city,
        number=6,
        name="第6期",
        starts_on=last,
        ends_on=start - dt.timedelta(days=1),
        enrol_opens_on=last,
        enrol_closes_on=start - dt.timedelta(days=2),
    )
    enrol(handler, p6, world.union_a, members, paid_on=last)
    base = live_server.url

    page = sign_in(browser, base, admin.username, totp_user=admin)
    page.goto(f"{base}/console/mutual-aid/")
    form = page.locator("[data-testid=period-form]")
    form.locator("select[name=organization]").select_option(str(world.city.pk))
    form.locator("select[name=plan]").select_option("standard")
    form.locator("input[name=number]").fill("7")
    form.locator("input[name=name]").fill("第7期职工医疗互助")
    form.locator("input[name=premium]").fill("abc")
    for name, day in (
        ("starts_on", start),
        ("ends_on", end),
        ("enrol_opens_on", start - dt.timedelta(days=30)),
        ("enrol_closes_on", end - dt.timedelta(days=30)),
    ):
        form.locator(f"input[name={name}]").fill(day.isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=form-error]")
    assert "每人互助金" in page.inner_text("[data-testid=form-error]")
    page.locator("[data-testid=period-form] input[name=premium]").fill("100")
    page.locator("[data-testid=period-form] button[type=submit]").click()
    page.wait_for_selector("[data-testid=period-summary]")
    period = Period.objects.get(number=7)
    assert period.premium_fen == 10_000 and "¥100.00" in page.inner_text("[data-testid=period-summary]")

    clerk = sign_in(browser, base, handler.username)
    clerk.goto(f"{base}/console/mutual-aid/periods/{period.pk}/")
    clerk.locator("[data-testid=enrol-form] input[name=file]").set_input_files(
        files=[{"name": "名单.csv", "mimeType": "text/csv", "buffer": list_csv(members)}]
    )
    clerk.click("button[value=commit]")
    clerk.wait_for_selector("[data-testid=batches][data-pending='1']")
    assert "排队中" in clerk.inner_text("[data-testid=batches]")
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)  # the background worker
    clerk.wait_for_selector("[data-testid=bills] >> text=待缴费", timeout=20_000)
    assert "12 人，应缴 ¥1200.00" in clerk.inner_text("[data-testid=batches]")
    assert "¥1200.00" in clerk.inner_text("[data-testid=bills]")
    clerk.fill("[data-testid=bills] input[name=payment_ref]", "回单 2026-007")
    clerk.click("[data-testid=bills] button:has-text('登记缴费')")
    clerk.wait_for_selector("[data-testid=bills] >> text=已缴费")
    enrolment = Enrolment.objects.get(period=period, member=world.member_a)
    assert enrolment.status == "active" and enrolment.first_enrolment is False

    clerk.goto(f"{base}/console/mutual-aid/enrolments/{enrolment.pk}/claim/")
    values = {
        "hospital": "苏州市立医院",
        "diagnosis": "肺炎",
        "admitted_on": today.isoformat(),
        "discharged_on": today.isoformat(),
        "days": "9",
        "total": "20000",
        "basic_insurance": "4000",
        "serious_illness_insurance": "500",
        "self_inside_catalogue": "15000",
        "self_outside_catalogue": "500",
    }
    for name, value in values.items():
        clerk.fill(f"[data-testid=claim-form] input[name={name}]", value)
    clerk.click("[data-testid=claim-form] button[type=submit]")
    clerk.wait_for_selector("[data-testid=act-review]")
    clerk.click("[data-testid=act-review]")
    clerk.wait_for_selector("[data-testid=benefit]")
    assert clerk.inner_text("[data-testid=benefit]") == "¥7400.00"
    clerk.click("[data-testid=reveal]")
    clerk.wait_for_selector("[data-testid=steps]")
    steps = clerk.inner_text("[data-testid=steps]")
    assert "起付线" in steps and "按 50%" in steps and "按 60%" in steps and "¥2400.00" in steps
    claim = Claim.objects.get()

    approver = sign_in(browser, base, reviewer.username)
    approver.goto(f"{base}/console/mutual-aid/claims/{claim.pk}/")
    approver.click("[data-testid=act-approve]")
    approver.wait_for_selector("[data-testid=claim-summary] >> text=待支付")
    assert Claim.objects.get().status == ClaimStatus.APPROVED

    clerk.goto(f"{base}/console/mutual-aid/claims/{claim.pk}/")
    clerk.fill("input[name=payout_ref]", "ZF-0001")
    clerk.click("[data-testid=act-pay]")
    clerk.wait_for_selector("text=ZF-0001")
    assert Claim.objects.get().status == ClaimStatus.PAID

    page.goto(f"{base}/console/mutual-aid/periods/{period.pk}/")
    page.click("[data-testid=report-link]")
    page.wait_for_selector("[data-testid=chart-units][data-rendered='1'] canvas")
    assert page.inner_text("[data-testid=usage]") == "616.67%"
    assert page.inner_text("[data-testid=paid]") == "¥7400.00"
    assert page.inner_text("[data-testid=collected]") == "¥1200.00"
