"""In chromium: a 财务 of union A creates a budget, records a spend against it, sees what
remains, and opens the summary with its charts drawn."""

import pytest

from gonghui.core.permissions import Role
from gonghui.funds.models import Budget, LedgerEntry
from gonghui.site.testing import build_world, grant, make_user

PASSWORD = "Gonghui-test-2026"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_staff_create_a_budget_record_a_spend_and_see_the_summary_chart(live_server, desktop_page) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    staff = grant(make_user("finance_a", password=PASSWORD), world.union_a, Role.FINANCE)
    base = live_server.url
    page = desktop_page

    page.goto(f"{base}/accounts/login/?next=/console/funds/")
    page.fill("#username", staff.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/funds/")
    assert "暂无帮扶资金预算" in page.inner_text("[data-testid=budget-empty]")

    # A hostile amount first: the form answers in Chinese and keeps what was typed.
    form = page.locator("[data-testid=budget-create]")
    form.locator("select[name=source]").select_option("fiscal")
    form.locator("input[name=line]").fill("困难职工帮扶")
    form.locator("input[name=amount]").fill("-5")
    page.click("[data-testid=budget-create-submit]")
    page.wait_for_selector("[data-testid=budget-error]")
    assert "预算金额不能为负数" in page.content()
    assert page.locator("[data-testid=budget-create] input[name=line]").input_value() == "困难职工帮扶"

    page.locator("[data-testid=budget-create] input[name=amount]").fill("200,000")
    page.click("[data-testid=budget-create-submit]")
    page.wait_for_selector("[data-testid=spend-form]")
    budget = Budget.objects.get(line="困难职工帮扶")
    assert page.url == f"{base}/console/funds/budgets/{budget.pk}/"
    assert page.inner_text("[data-testid=budget-remaining]") == "¥200000.00"
    assert "尚无支出记录" in page.inner_text("[data-testid=ledger]")

    # More than remains is refused; then a real spend.
    page.fill("#s-amount", "200000.01")
    page.fill("#s-memo", "超出预算的支出")
    page.click("[data-testid=spend-submit]")
    page.wait_for_selector("[data-testid=budget-error]")
    assert "预算余额不足" in page.inner_text("[data-testid=budget-error]")
    page.fill("#s-amount", "3000")
    page.fill("#s-memo", "春节走访慰问困难职工（凭证 0012）")
    page.click("[data-testid=spend-submit]")
    page.wait_for_selector("[data-testid=ledger-row][data-kind=spend]")
    assert page.inner_text("[data-testid=budget-remaining]") == "¥197000.00"
    assert page.inner_text("[data-testid=budget-usage]") == "1.5%"
    row = page.inner_text("[data-testid=ledger-row][data-kind=spend]")
    assert "其他帮扶支出" in row and "−¥3000.00" in row and "春节走访慰问困难职工" in row
    assert LedgerEntry.objects.get(kind="spend").amount_fen == 300_000

    # The list shows what remains; the summary draws its charts.
    page.goto(f"{base}/console/funds/")
    assert page.inner_text("[data-testid=budget-remaining]") == "¥197000.00"
    page.click("a.nav-link:has-text('资金使用汇总')")
    page.wait_for_selector("[data-testid=chart-sources][data-rendered='1'] canvas")
    page.wait_for_selector("[data-testid=chart-categories][data-rendered='1'] canvas")
    assert page.inner_text("[data-testid=summary-spent]") == "¥3000.00"
    assert page.inner_text("[data-testid=summary-remaining]") == "¥197000.00"
    assert "其他帮扶支出" in page.inner_text("[data-testid=summary-categories]")
