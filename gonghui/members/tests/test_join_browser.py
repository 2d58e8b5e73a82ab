"""In the browser: a worker applies to join on a phone; a handler of the union checks the
application in the console and a second one approves it."""

import datetime as dt
import re

import pytest

from gonghui.accounts.sms import ConsoleSmsSender
from gonghui.core.identifiers import make_resident_id
from gonghui.core.permissions import Role
from gonghui.members.models import JoinMethod, Member
from gonghui.members.tests.test_console_browser import sign_in
from gonghui.site.testing import build_world, grant, make_user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_worker_applies_on_a_phone_and_the_handler_approves(live_server, phone_page, desktop_page, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    handler = grant(make_user("join_handler"), world.union_a, Role.HANDLER)
    approver = grant(make_user("join_approver"), world.union_a, Role.HANDLER)
    base = live_server.url
    number = make_resident_id("320508", dt.date(1998, 7, 1), 33, "F")

    page = phone_page
    page.goto(f"{base}/h5/login/")
    page.click("[data-testid=join-link]")
    page.fill("input[name=name]", "钱快递")
    page.fill("input[name=id_number]", number)
    page.fill("input[name=work_unit]", "顺丰速运姑苏营业部")
    # The applicant finds the union by part of its name: only grassroots unions are offered.
    page.fill("[data-testid=join-union-search]", "苏州")
    page.wait_for_selector("[data-testid=org-option]")
    offered = page.locator("[data-testid=org-option]").all_inner_texts()
    assert sorted(offered) == sorted(
        "%s %s · 基层工会" % (org.name, org.code) for org in (world.union_a, world.union_b)
    )
    page.click("[data-testid=org-option]:has-text('%s')" % world.union_a.name)
    page.click("text=快递员")
    page.fill("#phone", "13700000031")
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-sent]")
    message = [m for phone, m in ConsoleSmsSender.outbox if phone == "13700000031"][-1]
    page.fill("input[name=code]", re.search(r"验证码为 (\d{6})", message).group(1))  # type: ignore[union-attr]
    page.click("[data-testid=join-submit]")
    assert "请阅读并同意" in page.inner_text("body")  # consent is not ticked for the worker
    assert page.input_value("[data-testid=join-union-code]") == world.union_a.code  # kept after the refusal
    page.check("[data-testid=join-consent]")
    page.click("[data-testid=join-submit]")
    page.wait_for_selector("[data-testid=join-done]")

    console = desktop_page
    sign_in(console, base, handler.username)
    console.wait_for_url(f"{base}/console/")
    console.click("a:has-text('入会申请')")
    assert "钱快递" in console.inner_text("[data-testid=application-table]")
    console.click("[data-testid=application-check]")
    console.wait_for_selector("text=初审通过，请由另一位工作人员批准入会")
    console.goto(f"{base}/console/join-applications/?status=checked")
    console.wait_for_selector("[data-testid=application-approve-blocked]")  # the checker cannot approve

    second = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    second.set_default_timeout(15_000)
    sign_in(second, base, approver.username)
    second.wait_for_url(f"{base}/console/")
    second.goto(f"{base}/console/join-applications/?status=checked")
    assert "钱快递" in second.inner_text("[data-testid=application-table]")
    second.click("[data-testid=application-approve]")
    second.wait_for_selector("text=已批准入会")
    member = Member.objects.get(name="钱快递")
    assert (member.organization_id, member.join_method, member.phone) == (
        world.union_a.pk,
        JoinMethod.ONLINE,
        "13700000031",
    )
