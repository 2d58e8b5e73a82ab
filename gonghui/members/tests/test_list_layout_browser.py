"""At 1366 px the member list's buttons keep their labels on one line (issue 10 item 9)."""

import pytest

from gonghui.core.permissions import Role
from gonghui.members.tests.test_console_browser import PASSWORD
from gonghui.site.testing import build_world, grant, make_member, make_user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_member_list_toolbar_buttons_are_one_line_high_at_1366_px(live_server, desktop_page) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    handler = grant(make_user("handler_layout"), world.union_a, Role.HANDLER)
    for _ in range(25):
        make_member(world.union_a, name="王五")
    page = desktop_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#username", handler.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/members/")
    toolbar = page.locator("[data-testid=member-toolbar]")
    labels = ["查询", "登记", "导出", "制卡数据"]
    assert [t.strip() for t in toolbar.locator(".btn").all_inner_texts()] == labels
    line = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.btn')).lineHeight)")
    for label in labels:
        box = toolbar.locator(".btn", has_text=label).bounding_box()
        assert box is not None
        # One line of text plus the button's padding and border: well under two lines.
        assert box["height"] < 1.5 * line + 16, (label, box, line)
    # The pagination shows page numbers and a jump form.
    pagination = page.locator("[data-testid=pagination]")
    assert pagination.locator(".page-item.active").inner_text() == "1"
    assert pagination.locator("a.page-link", has_text="2").count() == 1
    page.fill("[data-testid=page-jump] input[name=page]", "2")
    page.click("[data-testid=page-jump] button")
    page.wait_for_url("**/console/members/?page=2")
    assert page.locator("[data-testid=pagination] .page-item.active").inner_text() == "2"
