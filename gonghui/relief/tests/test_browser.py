"""The issue's "done when" in chromium: a district's relief handler files a household and sees
its class with the arithmetic, plans a 中秋 visit for 环卫工人 in the district and records a visit
paid from the district's budget, runs a fast-track temporary-relief case through a colleague's
approval to payment and then chases its paperwork, computes a 大病救助 amount, and the funds
report shows the spending by fund source and category."""

import datetime as dt

import pytest
from django.utils import timezone

from gonghui.core.permissions import Role
from gonghui.funds import services as funds
from gonghui.funds.models import Source
from gonghui.members.models import Tag
from gonghui.relief.models import CaseStatus, HardshipFile, ReliefCase, VisitPlan
from gonghui.relief.tests.factories import publish_dibao
from gonghui.site.testing import build_world, grant, make_member, make_user

PASSWORD = "Gonghui-test-2026"
PDF = b"%PDF-1.4 relief paperwork"


def _sign_in(browser, base: str, username: str, next_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")
    return context, page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_relief_journey_file_plan_fast_track_paperwork_and_major_illness(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    publish_dibao(world)
    district = world.street.parent
    assert district is not None
    for source, line in ((Source.UPPER, "临时救助"), (Source.DONATION, "送温暖")):
        funds.budget_create(
            actor=world.federation_admin,
            organization=district,
            year=timezone.localdate().year,
            source=source,
            line=line,
            amount_fen=2_000_000,
        )
    handler = grant(make_user("district_handler", password=PASSWORD), district, Role.HANDLER)
    reviewer = grant(make_user("district_reviewer", password=PASSWORD), district, Role.REVIEWER)
    cleaner = make_member(world.union_a, name="周国强", tags=Tag.SANITATION | Tag.OUTDOOR)
    base = live_server.url
    today = timezone.localdate()

    # 1. File the household and see its class, then its arithmetic.
    context, page = _sign_in(browser, base, handler.username, "/console/relief/")
    page.goto(f"{base}/console/relief/files/new/?member_no={cleaner.member_no}")
    form = page.locator("[data-testid=file-form]")
    form.locator("input[name=annual_income]").fill("40000")
    form.locator("input[name=rigid_spending]").fill("10000")
    form.locator("input[name=household_size]").fill("3")
    form.locator("select[name=main_cause]").select_option("illness")
    form.locator("select[name=visit_group]").select_option("frontline")
    form.locator("input[name=contact_self]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=file-class]")
    assert page.inner_text("[data-testid=file-class]") == "深度困难"
    page.click("[data-testid=reveal]")
    steps = page.inner_text("[data-testid=assessment-steps]")
    assert "¥40,000.00 − ¥10,000.00 = ¥30,000.00" in steps and "认定为深度困难" in steps
    assert HardshipFile.objects.get(member=cleaner).hardship_class == "deep"

    # 2. Plan a 中秋 visit for 环卫工人 across the district.
    page.goto(f"{base}/console/relief/plans/new/")
    plan = page.locator("[data-testid=plan-form]")
    plan.locator("input[name=title]").fill("中秋节环卫工人慰问")
    plan.locator("select[name=organization]").select_option(district.code)
    plan.locator("select[name=group]").select_option("frontline")
    plan.locator("select[name=occasion]").select_option("festival")
    plan.locator("input[name=starts_on]").fill(today.isoformat())
    plan.locator("input[name=ends_on]").fill((today + dt.timedelta(days=10)).isoformat())
    plan.locator("input[name=cash]").fill("500")
    plan.locator("input[name=goods]").fill("月饼一盒")
    plan.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=plan-targets]")
    assert "周**" in page.inner_text("[data-testid=plan-targets]")
    assert VisitPlan.objects.get().organization == district
    visit = page.locator("[data-testid=plan-visit-%d]" % cleaner.pk)
    visit.locator("select[name=budget]").select_option(label=f"{district.name} 社会募集 · 送温暖（余 ¥20,000.00）")
    visit.locator("button").click()
    page.wait_for_selector("text=已登记慰问")
    assert "已慰问" in page.inner_text("[data-testid=plan-targets]")

    # 3. A fast-track temporary-relief case, submitted by the handler …
    page.goto(f"{base}/console/relief/cases/new/?kind=temporary&member_no={cleaner.member_no}")
    case_form = page.locator("[data-testid=case-form]")
    case_form.locator("select[name=situation]").select_option("accident")
    case_form.locator("input[name=event_date]").fill(today.isoformat())
    case_form.locator("input[name=amount]").fill("1500")
    case_form.locator("input[name=payee_card]").fill("6222020200112233445")
    case_form.locator("textarea[name=description]").fill("清扫作业时被车辆撞伤，急需手术费用")
    case_form.locator("[data-testid=fast-track]").check()
    case_form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=case-status]")
    assert page.inner_text("[data-testid=case-status]") == "待审核"
    case = ReliefCase.objects.get()
    context.close()

    # … approved first by the district's reviewer (never the submitter) …
    context, page = _sign_in(browser, base, reviewer.username, "/console/relief/")
    page.goto(f"{base}/console/relief/cases/{case.pk}/")
    page.fill("[data-testid=amount-approve_urgent]", "1500")
    page.click("[data-testid=case-approve_urgent]")
    page.wait_for_selector("text=已批准")
    assert page.inner_text("[data-testid=case-approved]") == "¥1,500.00"
    assert ReliefCase.objects.get().status == CaseStatus.APPROVED
    context.close()

    # … paid by the handler out of the district's 上级工会拨付 budget …
    context, page = _sign_in(browser, base, handler.username, f"/console/relief/cases/{case.pk}/")
    page.select_option(
        "[data-testid=pay-budget]", label=f"{district.name} · {today.year}年 上级工会拨付 · 临时救助（余 ¥20,000.00）"
    )
    page.click("[data-testid=case-pay]")
    page.wait_for_selector("text=已发放，救助金实名转入本人银行卡")
    assert page.inner_text("[data-testid=case-status]") == "已发放"
    assert "¥1,500.00" in page.inner_text("[data-testid=case-payment]")

    # … and, its paperwork deadline passed, chased on the overdue list and completed.
    ReliefCase.objects.filter(pk=case.pk).update(paperwork_due=today - dt.timedelta(days=1))
    page.goto(f"{base}/console/relief/cases/paperwork/")
    assert case.case_no in page.inner_text("[data-testid=relief-paperwork]")
    page.click("text=催办")
    page.set_input_files(
        "[data-testid=case-upload]", {"name": "事故证明.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.click("[data-testid=case-upload-submit]")
    page.wait_for_selector("text=已上传材料")
    page.click("[data-testid=case-paperwork]")
    page.wait_for_selector("text=已确认手续补齐")
    page.goto(f"{base}/console/relief/cases/paperwork/")
    assert "没有逾期未补手续的先行救助案件" in page.inner_text("[data-testid=relief-paperwork]")

    # 4. Compute a 大病救助 amount: net ¥20,000.00 exactly is the ¥3,000 tier.
    page.goto(f"{base}/console/relief/calculator/")
    calc = page.locator("[data-testid=illness-form]")
    calc.locator("input[name=total]").fill("80000")
    calc.locator("input[name=medical_insurance]").fill("40000")
    calc.locator("input[name=other_insurance]").fill("15000")
    calc.locator("input[name=mutual_aid]").fill("5000")
    calc.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=illness-amount]")
    assert page.inner_text("[data-testid=illness-amount]") == "¥3,000.00"
    assert "个人自付 ¥20,000.00 属于 ¥20,000.00（含）至 ¥30,000.00（不含） 档" in page.inner_text(
        "[data-testid=illness-result]"
    )

    # 5. The funds report: spending by fund source and by category.
    page.goto(f"{base}/console/funds/summary/?organization={district.pk}")
    categories = page.inner_text("[data-testid=summary-categories]")
    assert "临时救助\t1\t¥1500.00" in categories and "常态化慰问\t1\t¥500.00" in categories
    sources = page.inner_text("[data-testid=summary-sources]")
    assert "上级工会拨付" in sources and "社会募集" in sources
    context.close()
