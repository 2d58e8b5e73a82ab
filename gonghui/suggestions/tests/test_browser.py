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
from gonghui.suggestions import services
from gonghui.suggestions.models import Channel, Item, ItemStatus, SubmitterKind
from gonghui.suggestions.tests.factories import EVIDENCE, contact_of, make_department

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


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_categories_milestones_messages_and_the_submitter_s_own_steps(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    """An administrator sets up the categories (adds, reorders, retires one) and hands a
    department to a new contact; the member files
    under one, staff record and correct a milestone and close it; the member sees the unread
    message, opens it and re-opens the item; staff read their messages; the holder of an
    anonymous item's code rates it on the tracking page."""
    world = build_world()
    base = live_server.url
    staff = grant(make_user("sugg_admin", password=PASSWORD), world.union_a, Role.ADMIN, Role.HANDLER)
    department = make_department(world.union_a, "信息中心", contact_of(world.union_a, "xinxi_old"))
    contact_of(world.union_a, "xinxi_new")
    desk_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    # 管理员 sign in with a second factor: the session is one that has passed it.
    desk_ctx.add_cookies(
        [{"name": "sessionid", "value": world.client_for(staff).cookies["sessionid"].value, "url": base}]
    )
    desk = desk_ctx.new_page()
    desk.set_default_timeout(15_000)
    desk.goto(f"{base}/console/suggestions/departments/")
    for name in ("后勤保障", "信息化"):
        desk.select_option("[data-testid=config-form] select[name=kind]", "category")
        desk.fill("[data-testid=config-form] input[name=name]", name)
        desk.click("[data-testid=config-submit]")
        desk.wait_for_selector(f"[data-testid=category-row][data-name='{name}']")
    desk.click("[data-testid=category-row][data-name='信息化'] [data-testid=category-up]")
    desk.wait_for_selector("text=已调整分类顺序")
    names = desk.locator("[data-testid=category-row]").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert names == ["信息化", "后勤保障"]
    desk.click("[data-testid=category-row][data-name='后勤保障'] [data-testid=category-retire]")
    desk.wait_for_selector("[data-testid=category-row][data-name='后勤保障'] [data-testid=category-restore]")
    # The 信息中心's contact changes hands.
    row = "[data-testid=department-row][data-name='信息中心']"
    desk.fill(f"{row} input[name=contacts]", "xinxi_new")
    desk.click(f"{row} [data-testid=department-save]")
    desk.wait_for_selector("text=已修改责任部门")
    assert list(department.contacts.values_list("username", flat=True)) == ["xinxi_new"]

    # The member files under 信息化 (the retired 后勤保障 is not offered).
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    phone_ctx.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    phone = phone_ctx.new_page()
    phone.set_default_timeout(15_000)
    phone.goto(f"{base}/h5/suggestions/new/")
    offered = phone.locator("select[name=category] option").all_inner_texts()
    assert "信息化" in offered and "后勤保障" not in offered
    phone.select_option("select[name=category]", label="信息化")
    phone.fill("input[name=title]", "工资条希望能在手机上查看")
    phone.fill("textarea[name=content]", "每月纸质工资条容易丢失")
    phone.click("[data-testid=h5-submit]")
    item = Item.objects.get(title="工资条希望能在手机上查看")
    phone.wait_for_url(f"{base}/h5/suggestions/{item.pk}/")
    assert item.category is not None and item.category.name == "信息化"

    # Staff see the new message's count, accept, record a milestone and correct it, then close.
    desk.goto(f"{base}/console/suggestions/{item.pk}/")
    assert desk.inner_text("[data-testid=nav-unread]") == "1"
    assert "信息化" in desk.inner_text("[data-testid=item-category]")
    desk.click("[data-testid=accept]")
    desk.wait_for_selector("[data-testid=notice-form]")
    milestone_form = desk.locator("form:has(input[name=op][value=milestone])")
    milestone_form.locator("input[name=title]").fill("需求调研")
    milestone_form.locator("input[name=reached_on]").fill(timezone.localdate().isoformat())
    milestone_form.locator("button").click()
    desk.wait_for_selector("[data-testid=milestone-row]")
    desk.click("[data-testid=milestone-edit]")
    edit = desk.locator("[data-testid=milestone-edit-form]")
    edit.locator("input[name=title]").fill("工资条上线小程序")
    edit.locator("[data-testid=milestone-save]").click()
    desk.wait_for_selector("text=已修改办理节点")
    assert "工资条上线小程序" in desk.inner_text("[data-testid=milestone-text]")
    desk.fill("[data-testid=close-form] textarea[name=text]", "工资条已可在小程序查看")
    desk.set_input_files(
        "[data-testid=close-form] input[name=files]",
        files=[{"name": "上线截图.png", "mimeType": "image/png", "buffer": b"\x89PNG shot"}],
    )
    desk.click("[data-testid=close-submit]")
    desk.wait_for_selector("text=已销账")

    # The member sees one unread message, opens it, and re-opens the item.
    phone.goto(f"{base}/h5/suggestions/")
    assert phone.inner_text("[data-testid=h5-unread]") == "1"
    phone.click("[data-testid=h5-message]")
    phone.wait_for_url(f"{base}/h5/suggestions/{item.pk}/")
    assert "节点：工资条上线小程序" in phone.content()
    phone.fill("[data-testid=reopen-form] input[name=reason]", "小程序里看不到去年的工资条")
    phone.click("[data-testid=reopen-submit]")
    phone.wait_for_selector("text=已申请重新办理")
    assert Item.objects.get(pk=item.pk).status == ItemStatus.IN_PROGRESS
    phone.goto(f"{base}/h5/suggestions/")
    assert phone.locator("[data-testid=h5-unread]").count() == 0
    phone_ctx.close()

    # Staff read all their messages (the new item and the re-opening).
    desk.click("[data-testid=nav-messages]")
    desk.wait_for_selector("[data-testid=read-all]")
    assert desk.locator("[data-testid=message][data-unread='1']").count() == 2
    desk.click("[data-testid=read-all]")
    desk.wait_for_selector("text=没有未读消息")
    assert desk.locator("[data-testid=nav-unread]").count() == 0
    desk_ctx.close()

    # The holder of an anonymous item's code rates it, signed in nowhere.
    anonymous, code = services.item_submit(
        actor=None,
        organization=world.union_a,
        channel=Channel.ONLINE,
        title="更衣室热水不稳定",
        content="二号楼更衣室热水时有时无",
        kind=SubmitterKind.ANONYMOUS,
    )
    services.item_accept(actor=staff, item=anonymous)
    services.item_close(actor=staff, item=anonymous, text="已更换热水器", uploads=[EVIDENCE])
    anon_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    anon = anon_ctx.new_page()
    anon.set_default_timeout(15_000)
    anon.goto(f"{base}/suggestions/track/")
    anon.fill("input[name=code]", code)
    anon.click("[data-testid=track-submit]")
    anon.wait_for_selector("[data-testid=rate-form]")
    anon.select_option("[data-testid=rate-form] select[name=score]", "4")
    anon.click("[data-testid=rate-submit]")
    anon.wait_for_selector("[data-testid=rated]")
    assert "4 分" in anon.inner_text("[data-testid=rated]")
    anon_ctx.close()
    assert anonymous.ratings.get().score == 4
