import datetime as dt

import pyotp
import pytest

from gonghui.accounts.services import totp_secret
from gonghui.core.identifiers import make_resident_id
from gonghui.core.permissions import Role
from gonghui.members.models import Member, MembershipStatus
from gonghui.site.testing import build_world, grant, make_user

PASSWORD = "Gonghui-test-2026"


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_registers_edits_reveals_and_transfers_a_member(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    admin = grant(make_user("admin_browser"), world.union_a, Role.ADMIN)
    reviewer_a = grant(make_user("reviewer_browser"), world.union_a, Role.REVIEWER)
    base = live_server.url
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)

    # 管理员 needs the second factor: enrol on first login, then the console opens.
    sign_in(page, base, admin.username)
    page.wait_for_selector("[data-testid=totp-secret]")
    admin.refresh_from_db()
    page.fill("input[name=code]", pyotp.TOTP(totp_secret(admin) or "").now())
    page.click("button:has-text('验证')")
    page.wait_for_url(f"{base}/console/")

    # Register a member; a wrong check digit is explained first, then corrected.
    number = make_resident_id("320508", dt.date(1992, 8, 8), 21, "F")
    page.goto(f"{base}/console/members/new/")
    page.select_option("select[name=organization]", world.union_a.code)
    page.fill("input[name=id_number]", number[:17] + ("0" if number[17] != "0" else "1"))
    page.fill("input[name=name]", "周晓梅")
    page.fill("input[name=phone]", "13612345678")
    page.fill("input[name=joined_on]", "2025-06-01")
    page.check("input[name=tags][value='8']")
    page.click("button:has-text('保存')")
    assert page.inner_text(".invalid-feedback") == "身份证号码校验位错误"
    page.fill("input[name=id_number]", number)
    page.click("button:has-text('保存')")
    page.wait_for_selector("[data-testid=id-number]")
    assert page.inner_text("[data-testid=id-number]").startswith(number[:4] + "**********")
    member = Member.objects.get(name="周晓梅")
    assert member.birth_date == dt.date(1992, 8, 8) and member.sex == "F"

    # Reveal the full number with a reason.
    page.fill("input[name=reason]", "核对入会材料")
    page.click("button:has-text('查看完整号码')")
    page.wait_for_selector("[data-testid=revealed-id]")
    assert page.inner_text("[data-testid=revealed-id]") == number

    # Edit keeps history.
    page.click("a:has-text('编辑')")
    page.fill("input[name=phone]", "13612345679")
    page.fill("input[name=reason]", "本人更换手机号")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=本人更换手机号")
    assert "13612345678 → 13612345679" in page.inner_text("body")

    # Search by pinyin initials finds her.
    page.goto(f"{base}/console/members/?q=zxm")
    assert "周晓梅" in page.inner_text("[data-testid=member-table]")

    # Transfer to union B: A's reviewer approves out, B's staff approves in.
    page.goto(f"{base}/console/members/{member.pk}/transfer/")
    # The target is picked by part of its name (or pinyin initials), never typed as a code.
    page.fill("[data-testid=transfer-to-search]", "乙公司")
    page.click("[data-testid=org-option]:has-text('%s')" % world.union_b.name)
    assert page.input_value("[data-testid=transfer-to-code]") == world.union_b.code
    page.fill("input[name=reason]", "工作调动")
    page.click("button:has-text('提交转会申请')")
    page.wait_for_selector("[data-testid=member-status]")
    assert page.inner_text("[data-testid=member-status]") == "转出中"

    for approver in (reviewer_a, world.staff_b):
        other = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        other.set_default_timeout(15_000)
        sign_in(other, base, approver.username)
        if "/accounts/otp/" in other.url:  # staff_b is an admin too
            approver.refresh_from_db()
            if not approver.totp_confirmed:
                other.wait_for_selector("[data-testid=totp-secret]")
                approver.refresh_from_db()
            other.fill("input[name=code]", pyotp.TOTP(totp_secret(approver) or "").now())
            other.click("button:has-text('验证')")
        other.goto(f"{base}/console/transfers/")
        other.click("button:has-text('批准')")
        other.wait_for_selector("text=已审批")
        other.context.close()

    member.refresh_from_db()
    assert (member.organization_id, member.status) == (world.union_b.pk, MembershipStatus.ACTIVE)
