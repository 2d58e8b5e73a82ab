"""Done when, in chromium: a member files a suggestion on the H5, staff accept it and issue a
notice to two departments, a department contact posts progress with evidence, staff close it
(the evidence is there) and publish it, the member rates it, and staff see the department
metrics with their chart and the public 院务公开 page without the member's name."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.core.permissions import Role
from gonghui.site.testing import build_world, grant, make_user
from gonghui.suggestions.models import Item, ItemStatus
from gonghui.suggestions.tests.factories import contact_of, make_department

PASSWORD = "Gonghui-test-2026"


def _login(page, base: str, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_file_notify_two_departments_progress_close_rate_metrics_and_public_page(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    base = live_server.url
    staff = grant(make_user("sugg_staff", password=PASSWORD), world.union_a, Role.HANDLER, Role.REVIEWER)
    contact = contact_of(world.union_a, "tijian_contact")
    make_department(world.union_a, "体检中心", contact)
    make_department(world.union_a, "信息中心", contact_of(world.union_a, "xinxi_contact"))

    # The member files a suggestion on the phone.
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    phone_ctx.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    phone = phone_ctx.new_page()
    phone.set_default_timeout(15_000)
    phone.goto(f"{base}/h5/suggestions/")
    phone.click("[data-testid=h5-new]")
    phone.fill("input[name=title]", "体检报告希望能在手机上查看")
    phone.fill("textarea[name=content]", "每年体检报告都是纸质的，希望能在手机上查看，联系电话 13912345678")
    phone.click("[data-testid=h5-submit]")
    item = Item.objects.get(title="体检报告希望能在手机上查看")
    phone.wait_for_url(f"{base}/h5/suggestions/{item.pk}/")
    assert "待受理" in phone.content()

    # Staff accept it and send a notice to two departments.
    desk_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    desk = desk_ctx.new_page()
    desk.set_default_timeout(15_000)
    _login(desk, base, staff.username, "/console/suggestions/")
    desk.click(f"text={item.number}")
    desk.click("[data-testid=accept]")
    desk.wait_for_selector("[data-testid=notice-form]")
    form = desk.locator("[data-testid=notice-form]")
    form.get_by_label("体检中心").check()
    form.get_by_label("信息中心").check()
    form.locator("textarea[name=requirement]").fill("请在小程序上线体检报告查看功能")
    form.locator("input[name=deadline]").fill((timezone.localdate() + dt.timedelta(days=30)).isoformat())
    desk.click("[data-testid=notice-submit]")
    desk.wait_for_selector("[data-testid=notice-row]")
    notice = item.notices.get()
    assert "体检中心、信息中心" in desk.inner_text("[data-testid=notice-row]")
    desk.click(f"[data-testid=notice-row] >> text={notice.number}")
    assert notice.number in desk.inner_text("[data-testid=notice-number]")

    # The 体检中心 contact posts progress with evidence.
    contact_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    cpage = contact_ctx.new_page()
    cpage.set_default_timeout(15_000)
    _login(cpage, base, contact.username, "/console/suggestions/contact/")
    cpage.click(f"text={notice.number}")
    cpage.fill("textarea[name=text]", "体检报告查看功能已上线")
    cpage.set_input_files(
        "input[name=files]", files=[{"name": "上线截图.png", "mimeType": "image/png", "buffer": b"\x89PNG shot"}]
    )
    cpage.click("[data-testid=progress-submit]")
    cpage.wait_for_selector("[data-testid=progress-row]")
    assert "上线截图.png" in cpage.inner_text("[data-testid=progress-row]")
    contact_ctx.close()

    # Staff close it (the department's evidence is there) and publish it.
    desk.goto(f"{base}/console/suggestions/{item.pk}/")
    desk.fill("[data-testid=close-form] textarea[name=text]", "已于小程序上线体检报告查看")
    desk.click("[data-testid=close-submit]")
    desk.wait_for_selector("[data-testid=publish-form]")
    assert desk.inner_text("[data-testid=item-status]") == "已销账"
    desk.check("#pub")
    desk.fill("[data-testid=publish-form] textarea[name=outcome]", "体检报告已可在小程序查看")
    desk.click("[data-testid=publish-submit]")
    desk.wait_for_selector("text=已更新院务公开设置")

    # The member rates it.
    phone.goto(f"{base}/h5/suggestions/{item.pk}/")
    phone.select_option("select[name=score]", "5")
    phone.fill("input[name=comment]", "很方便")
    phone.click("[data-testid=rate-submit]")
    phone.wait_for_selector("[data-testid=rated]")
    assert "5 分" in phone.inner_text("[data-testid=rated]")
    phone_ctx.close()
    assert Item.objects.get(pk=item.pk).status == ItemStatus.CLOSED

    # Staff see the department metrics and the public page.
    desk.goto(f"{base}/console/suggestions/")
    desk.click("[data-testid=nav-metrics]")
    desk.wait_for_selector("#chart-departments[data-rendered='1']")
    rows = desk.inner_text("[data-testid=metrics-table]")
    assert "体检中心" in rows and "100%" in rows and "5.0" in rows
    desk.goto(f"{base}/gongkai/{world.union_a.code}/")
    public = desk.inner_text("[data-testid=public-items]")
    assert "体检报告希望能在手机上查看" in public and "体检报告已可在小程序查看" in public
    assert "13912345678" not in desk.content() and world.member_a.name not in desk.content()
    desk_ctx.close()
