"""The issue's "done when", end to end in chromium: a 送清凉 campaign for 户外劳动者 in one
district is created by a 经办人, published by a different 审核人, codes are issued by the
background worker, a member claims one on a phone, a clerk redeems it, a vending machine
redeems another through the signed device API, and the report shows both."""

import http.client
import json
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.test import Client

from gonghui.benefits import claiming
from gonghui.benefits.models import Campaign, Coupon, CouponStatus, Redemption
from gonghui.benefits.tests.factories import make_point
from gonghui.core import signing
from gonghui.core.permissions import Role
from gonghui.members.models import MembershipStatus, Tag
from gonghui.site.testing import build_world, grant, make_member, make_user

PASSWORD = "Gonghui-test-2026"


def sign_in(page, base: str, username: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def member_session(context, base: str, user) -> None:  # type: ignore[no-untyped-def]
    """Members sign in with an SMS code; the test hands the phone a signed-in session instead."""
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])


def vending_machine_redeem(base: str, key_id: str, secret: str, code: str, request_id: str) -> tuple[int, dict]:
    path = "/api/benefits/device/redeem"
    body = json.dumps({"request_id": request_id, "code": code}).encode()
    headers = signing.signed_headers(key_id=key_id, secret=secret, method="POST", path=path, body=body)
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        conn.request("POST", path, body=body, headers={**headers, "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_cooling_campaign_from_creation_to_report(live_server, browser, phone_page) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    district = world.union_a.parent.parent  # 姑苏区总工会
    assert district.name == "姑苏区总工会"
    handler = grant(make_user("handler_gusu"), district, Role.HANDLER)
    reviewer = grant(make_user("reviewer_gusu"), district, Role.REVIEWER)
    admin = grant(make_user("admin_gusu"), district, Role.ADMIN)
    clerk = grant(make_user("clerk_jia"), world.union_a, Role.REDEEMER)
    for member in (world.member_a, world.member_b):
        member.tags = Tag.OUTDOOR | Tag.MIGRANT
        member.save()
    make_member(world.union_a, name="钱七", tags=Tag.OUTDOOR, status=MembershipStatus.RETAINED)
    make_member(world.union_b, name="孙八", tags=Tag.COURIER)
    station = make_point(world.union_a, name="平江路工会驿站", kind="station")
    vending = make_point(district, name="观前街智能售货机", kind="vending")
    base = live_server.url

    # An admin registers the vending machine; its secret is shown once.
    admin_page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    admin_page.set_default_timeout(15_000)
    admin_client = world.client_for(admin)
    admin_page.context.add_cookies(
        [{"name": "sessionid", "value": admin_client.cookies["sessionid"].value, "url": base}]
    )
    admin_page.goto(f"{base}/console/benefits/points/{vending.pk}/")
    admin_page.fill("input[name=device_name]", "观前街1号机")
    admin_page.click("[data-testid=device-register]")
    key_id = admin_page.inner_text("[data-testid=device-key]")
    secret = admin_page.inner_text("[data-testid=device-secret]")

    # 经办人 creates the campaign for 户外劳动者 of the district.
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, handler.username, "/console/benefits/")
    page.click("[data-testid=campaign-new]")
    page.fill("#f-name", "2026年送清凉·户外劳动者")
    page.select_option("#f-kind", "cooling")
    page.select_option("#f-mode", "targeted")
    page.select_option("#f-org", str(district.pk))
    page.select_option("#f-target", str(district.pk))
    page.check(f"#tag-{Tag.OUTDOOR.value}")
    page.locator("input[name=item_name]").nth(0).fill("西瓜")
    page.locator("input[name=item_value_yuan]").nth(0).fill("10")
    page.locator("input[name=item_name]").nth(1).fill("绿豆汤")
    page.locator("input[name=item_value_yuan]").nth(1).fill("4.50")
    page.locator("input[name=item_quantity]").nth(1).fill("2")
    page.fill("#f-stock", "100")
    page.fill("#f-budget", "1900")
    page.check(f"#point-{station.pk}")
    page.check(f"#point-{vending.pk}")
    page.click("[data-testid=campaign-save]")
    page.wait_for_selector("[data-testid=campaign-status]")
    assert page.inner_text("[data-testid=campaign-status]") == "草稿"
    assert "户外劳动者" in page.inner_text("[data-testid=campaign-target]")
    assert page.locator("[data-testid=campaign-publish]").count() == 0  # the creator may not publish
    campaign = Campaign.objects.get(name="2026年送清凉·户外劳动者")
    assert campaign.face_value_fen == 1900

    # A different 审核人 publishes it.
    review = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    review.set_default_timeout(15_000)
    sign_in(review, base, reviewer.username, f"/console/benefits/{campaign.pk}/")
    review.click("[data-testid=campaign-publish]")
    review.wait_for_selector("[data-testid=campaign-status]:has-text('已发布')")

    # The 经办人 starts 定向发放; the worker runs it and the progress bar reaches 100%.
    page.goto(f"{base}/console/benefits/{campaign.pk}/")
    page.click("[data-testid=campaign-issue]")
    page.wait_for_selector("[data-testid=run-progress]")
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    page.wait_for_selector("[data-testid=run-progress][data-status=succeeded]")
    page.wait_for_selector("[data-testid=skip-table] td:has-text('会籍状态不是在会')")  # the page reloads itself
    assert page.inner_text("[data-testid=run-issued]") == "2"
    assert page.inner_text("[data-testid=run-skipped]") == "1"
    assert "会籍状态不是在会" in page.inner_text("[data-testid=skip-table]")
    assert Coupon.objects.filter(campaign=campaign, status=CouponStatus.ASSIGNED).count() == 2

    # The member claims the coupon on the phone and sees its code and QR.
    member_session(phone_page.context, base, world.member_a.user)
    phone_page.goto(f"{base}/h5/coupons/")
    phone_page.click("[data-testid=claim-assigned]")
    phone_page.wait_for_selector("[data-testid=coupon-code]")
    code = phone_page.inner_text("[data-testid=coupon-code]").replace(" ", "")
    assert code == Coupon.objects.get(member=world.member_a, campaign=campaign).code
    assert phone_page.get_attribute("[data-testid=coupon-qr]", "src").startswith("data:image/svg+xml")
    assert phone_page.locator("[data-testid=coupon-qr]").evaluate("img => img.complete && img.naturalWidth > 0")
    assert "平江路工会驿站" in phone_page.inner_text("[data-testid=coupon-points]")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390

    # The clerk redeems it at the station, from a phone.
    clerk_page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True).new_page()
    clerk_page.set_default_timeout(15_000)
    sign_in(clerk_page, base, clerk.username, "/clerk/redeem/")
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    clerk_page.fill("[data-testid=clerk-code]", typo)
    clerk_page.click("[data-testid=clerk-lookup]")
    clerk_page.wait_for_selector("[data-testid=clerk-error]")
    assert "校验位" in clerk_page.inner_text("[data-testid=clerk-error-message]")
    clerk_page.fill("[data-testid=clerk-code]", code)
    clerk_page.click("[data-testid=clerk-lookup]")
    clerk_page.wait_for_selector("[data-testid=clerk-preview]")
    assert clerk_page.inner_text("[data-testid=clerk-member]") == "张*"
    assert clerk_page.inner_text("[data-testid=clerk-items]") == "西瓜×1、绿豆汤×2"
    clerk_page.click("[data-testid=clerk-confirm]")
    clerk_page.wait_for_selector("[data-testid=clerk-success]")
    phone_page.reload()
    assert phone_page.inner_text("[data-testid=coupon-status]") == "已核销"

    # Another member's coupon is redeemed by the vending machine over the signed API.
    other = claiming.coupon_claim(member=world.member_b, campaign_id=campaign.pk)
    status, answer = vending_machine_redeem(base, key_id, secret, other.code, "vm-20260701-0001")
    assert (status, answer["result"], answer["point"]) == (200, "redeemed", "观前街智能售货机")
    status_again, answer_again = vending_machine_redeem(base, key_id, secret, other.code, "vm-20260701-0001")
    assert (status_again, answer_again) == (status, answer)
    assert Redemption.objects.filter(campaign=campaign).count() == 2

    # The report shows both redemptions, by point, with charts.
    page.goto(f"{base}/console/benefits/{campaign.pk}/report/")
    assert page.inner_text("[data-testid=report-issued]") == "2"
    assert page.inner_text("[data-testid=report-claimed]") == "2"
    assert page.inner_text("[data-testid=report-redeemed]") == "2"
    by_point = page.inner_text("[data-testid=report-points]")
    assert "平江路工会驿站" in by_point and "观前街智能售货机" in by_point
    page.wait_for_selector("#chart-days canvas")
    with page.expect_download() as download:
        page.click("[data-testid=report-xlsx]")
    assert download.value.suggested_filename.endswith(".xlsx")
