"""The clerk's phone page in chromium: after 确认核销 the 本点最近核销 list shows the new line
without a reload."""

import pytest

from gonghui.benefits.models import CouponStatus
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_point
from gonghui.core.permissions import Role
from gonghui.site.testing import build_world, grant, make_user

PASSWORD = "Gonghui-test-2026"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clerk_redeems_and_the_recent_list_shows_it_without_reload(live_server, phone_page) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    point = make_point(world.union_a, name="甲公司职工驿站")
    campaign = make_campaign(world.union_a, world.staff_a, points=[point], name="夏日送清凉")
    coupon = make_coupon(campaign, world.member_a, status=CouponStatus.CLAIMED)
    clerk = grant(make_user("clerk_browser"), world.union_a, Role.REDEEMER)
    base = live_server.url
    page = phone_page
    page.goto(f"{base}/accounts/login/?next=/clerk/redeem/")
    page.fill("#username", clerk.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/clerk/redeem/")
    assert page.inner_text("[data-testid=clerk-recent]").strip() == "暂无"
    page.evaluate("window.__notReloaded = true")

    page.fill("[data-testid=clerk-code]", coupon.code)
    page.click("[data-testid=clerk-lookup]")
    page.click("[data-testid=clerk-confirm]")
    page.wait_for_selector("[data-testid=clerk-success]")
    page.wait_for_selector("[data-testid=clerk-recent-row]")
    rows = page.locator("[data-testid=clerk-recent-row]").all_inner_texts()
    assert len(rows) == 1
    assert rows[0].startswith("夏日送清凉 · 张*")
    assert page.evaluate("window.__notReloaded") is True
