"""Disbursement against the funds app: a case is paid out of a budget (fund source and line) of
its union or one above, never over the budget (also when two payments race for its last
¥5,000), never by whoever approved it; 常态化慰问 cash is paid the same way; the funds summary
shows the spending by source and by the relief categories."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.permissions import Role
from gonghui.funds import services as funds
from gonghui.funds.models import Budget, EntryKind, LedgerEntry, Source
from gonghui.funds.selectors import spending_summary
from gonghui.members.models import Tag
from gonghui.relief import cases, plans
from gonghui.relief.models import CaseStatus, PlanVisit, ReliefCase
from gonghui.relief.tests.url_objects import case_data
from gonghui.site.testing import World, grant, make_member, make_user


def budget(world: World, org, amount_fen: int, *, line: str = "临时救助", source: str = Source.OWN) -> Budget:  # type: ignore[no-untyped-def]
    return funds.budget_create(
        actor=world.federation_admin,
        organization=org,
        year=timezone.localdate().year,
        source=source,
        line=line,
        amount_fen=amount_fen,
    )


def approved(world: World, approver, amount: str = "1500", **overrides: str) -> ReliefCase:  # type: ignore[no-untyped-def]
    case = cases.case_submit(actor=world.staff_a, member=world.member_a, data=case_data(amount=amount, **overrides))
    case = cases.case_approve(
        actor=approver, case=cases.case_review(actor=approver, case=case), amount_fen=case.amount_requested_fen
    )
    assert case.status == CaseStatus.APPROVED
    return case


@pytest.fixture
def colleague(world: World):  # type: ignore[no-untyped-def]
    return grant(make_user("colleague_a"), world.union_a, Role.HANDLER, Role.REVIEWER)


@pytest.mark.django_db
def test_an_approved_case_is_paid_from_a_budget_and_recorded_on_its_ledger(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    own = budget(world, world.union_a, 1_000_000)
    case = approved(world, colleague)
    assert cases.case_budgets(actor=world.staff_a, case=case) == [own]
    paid = cases.case_pay(actor=world.staff_a, case=case, budget=own)
    assert paid.status == CaseStatus.PAID and paid.paid_at is not None
    entry = LedgerEntry.objects.get(kind=EntryKind.SPEND)
    assert paid.ledger_entry == entry
    assert (entry.amount_fen, entry.category, entry.reference) == (
        150_000,
        "relief.temporary",
        "relief.case:%d" % case.pk,
    )
    assert "6222***********3445" in entry.memo and "张*" in entry.memo
    assert Budget.objects.get(pk=own.pk).spent_fen == 150_000


@pytest.mark.django_db
def test_whoever_approved_a_case_cannot_pay_it(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    own = budget(world, world.union_a, 1_000_000)
    case = approved(world, colleague)
    with pytest.raises(PermissionDenied, match="批准与发放须由不同的工作人员办理"):
        cases.case_pay(actor=colleague, case=case, budget=own)
    assert ReliefCase.objects.get(pk=case.pk).status == CaseStatus.APPROVED
    assert not LedgerEntry.objects.filter(kind=EntryKind.SPEND).exists()


@pytest.mark.django_db
def test_a_payment_over_what_is_left_of_the_budget_is_refused_and_changes_nothing(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    small = budget(world, world.union_a, 100_000)
    case = approved(world, colleague)
    with pytest.raises(Conflict, match="预算余额不足"):
        cases.case_pay(actor=world.staff_a, case=case, budget=small)
    assert ReliefCase.objects.get(pk=case.pk).status == CaseStatus.APPROVED
    assert Budget.objects.get(pk=small.pk).spent_fen == 0
    assert not LedgerEntry.objects.filter(kind=EntryKind.SPEND).exists()


@pytest.mark.django_db
def test_a_case_may_be_paid_from_the_street_unions_budget_but_not_a_siblings(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    upper = budget(world, world.street, 1_000_000, source=Source.UPPER)
    sibling = budget(world, world.union_b, 1_000_000)
    street_staff = grant(make_user("street_handler"), world.street, Role.HANDLER)
    case = approved(world, colleague)
    assert upper in cases.case_budgets(actor=street_staff, case=case)
    with pytest.raises(ValidationFailed, match="只能从本单位或上级工会的预算中列支"):
        cases.case_pay(actor=street_staff, case=case, budget=sibling)
    paid = cases.case_pay(actor=street_staff, case=case, budget=upper)
    assert paid.ledger_entry is not None and paid.ledger_entry.budget == upper


@pytest.mark.django_db
def test_a_case_is_paid_once(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    own = budget(world, world.union_a, 1_000_000)
    case = cases.case_pay(actor=world.staff_a, case=approved(world, colleague), budget=own)
    with pytest.raises(Conflict, match="已发放"):
        cases.case_pay(actor=world.staff_a, case=case, budget=own)
    assert LedgerEntry.objects.filter(kind=EntryKind.SPEND).count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_payments_racing_for_the_last_5000_of_a_budget_one_succeeds(world: World) -> None:
    colleague = grant(make_user("colleague_race"), world.union_a, Role.HANDLER, Role.REVIEWER)
    payer = grant(make_user("payer_race"), world.union_a, Role.HANDLER)
    own = budget(world, world.union_a, 2_000_000)
    funds.fund_spend(
        actor=world.federation_admin, budget=own, amount_fen=1_500_000, category="relief.temporary", reference="earlier"
    )
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    first = approved(world, colleague, amount="2000")
    second = approved(world, colleague, amount="2000", event_date=yesterday)
    third_member = make_member(world.union_a, name="赵六")
    raw = cases.case_submit(actor=world.staff_a, member=third_member, data=case_data(amount="2000"))
    third = cases.case_approve(actor=colleague, case=cases.case_review(actor=colleague, case=raw), amount_fen=200_000)
    # ¥5,000 left; three cases of ¥2,000: two pass, the third is refused.
    barrier = threading.Barrier(3)

    def pay(case: ReliefCase) -> str:
        try:
            barrier.wait()
            cases.case_pay(actor=payer, case=case, budget=Budget.objects.get(pk=own.pk))
            return "ok"
        except Conflict as exc:
            return exc.message
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(pay, [first, second, third]))
    assert sorted(outcomes)[:2] == ["ok", "ok"] and sorted(outcomes)[2].startswith("预算余额不足")
    own.refresh_from_db()
    assert own.spent_fen == 1_900_000
    assert ReliefCase.objects.filter(status=CaseStatus.PAID).count() == 2
    assert ReliefCase.objects.filter(status=CaseStatus.APPROVED).count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_payments_of_3000_racing_for_the_last_5000_one_succeeds(world: World) -> None:
    colleague = grant(make_user("colleague_race2"), world.union_a, Role.HANDLER, Role.REVIEWER)
    payer = grant(make_user("payer_race2"), world.union_a, Role.HANDLER)
    street = grant(make_user("street_race2"), world.street, Role.REVIEWER)
    own = budget(world, world.union_a, 2_000_000)
    funds.fund_spend(
        actor=world.federation_admin, budget=own, amount_fen=1_500_000, category="relief.temporary", reference="earlier"
    )
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    ready = []
    for overrides in ({}, {"event_date": yesterday}):
        case = cases.case_submit(actor=world.staff_a, member=world.member_a, data=case_data(amount="3000", **overrides))
        case = cases.case_approve(
            actor=colleague, case=cases.case_review(actor=colleague, case=case), amount_fen=300_000
        )
        ready.append(
            cases.case_approve(actor=street, case=case, amount_fen=300_000)
        )  # above ¥2,000: the street decides
    barrier = threading.Barrier(2)

    def pay(case: ReliefCase) -> str:
        try:
            barrier.wait()
            cases.case_pay(actor=payer, case=case, budget=Budget.objects.get(pk=own.pk))
            return "ok"
        except Conflict as exc:
            return exc.message
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(pay, ready))
    assert outcomes[0] == "ok" and outcomes[1].startswith("预算余额不足") and "剩余 ¥2000.00" in outcomes[1]
    assert Budget.objects.get(pk=own.pk).spent_fen == 1_800_000
    assert ReliefCase.objects.filter(status=CaseStatus.PAID).count() == 1


# ---- 常态化慰问 cash -------------------------------------------------------------------------------


def _plan(world: World):  # type: ignore[no-untyped-def]
    today = timezone.localdate().isoformat()
    data = {
        "title": "中秋慰问",
        "occasion": "festival",
        "group": "frontline",
        "starts_on": today,
        "ends_on": today,
        "cash": "500",
        "goods": "月饼一盒",
    }
    return plans.plan_create(actor=world.staff_a, organization=world.union_a, data=data)


@pytest.mark.django_db
def test_a_visit_with_cash_is_paid_from_a_budget_and_a_member_is_visited_once_per_plan(world: World) -> None:
    own = budget(world, world.union_a, 1_000_000, line="送温暖")
    cleaner = make_member(world.union_a, name="周扫", tags=Tag.SANITATION)
    plan = _plan(world)
    today = timezone.localdate().isoformat()
    with pytest.raises(ValidationFailed, match="须选择列支的预算"):
        plans.plan_visit_record(
            actor=world.staff_a, plan=plan, member=cleaner, data={"visited_on": today, "cash": "500"}, budget=None
        )
    visit = plans.plan_visit_record(
        actor=world.staff_a,
        plan=plan,
        member=cleaner,
        data={"visited_on": today, "cash": "500", "goods": "月饼"},
        budget=own,
    )
    assert visit.cash_fen == 50_000 and visit.ledger_entry is not None
    assert visit.ledger_entry.category == "relief.visit" and Budget.objects.get(pk=own.pk).spent_fen == 50_000
    with pytest.raises(Conflict, match="已在本计划中慰问过"):
        plans.plan_visit_record(
            actor=world.staff_a, plan=plan, member=cleaner, data={"visited_on": today, "goods": "米"}, budget=None
        )
    with pytest.raises(ValidationFailed, match="不在本次慰问对象范围内"):
        plans.plan_visit_record(
            actor=world.staff_a,
            plan=plan,
            member=world.member_a,
            data={"visited_on": today, "goods": "米"},
            budget=None,
        )
    assert PlanVisit.objects.count() == 1 and Budget.objects.get(pk=own.pk).spent_fen == 50_000


@pytest.mark.django_db
def test_a_goods_only_visit_needs_no_budget(world: World) -> None:
    cleaner = make_member(world.union_a, name="周扫", tags=Tag.SANITATION)
    visit = plans.plan_visit_record(
        actor=world.staff_a,
        plan=_plan(world),
        member=cleaner,
        data={"visited_on": timezone.localdate().isoformat(), "cash": "0", "goods": "防暑降温用品"},
        budget=None,
    )
    assert visit.cash_fen == 0 and visit.ledger_entry is None


@pytest.mark.django_db
def test_the_funds_summary_shows_relief_spending_by_source_and_category(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    own = budget(world, world.union_a, 1_000_000)
    donated = budget(world, world.union_a, 1_000_000, source=Source.DONATION, line="送温暖")
    cases.case_pay(actor=world.staff_a, case=approved(world, colleague), budget=own)
    cleaner = make_member(world.union_a, name="周扫", tags=Tag.SANITATION)
    plans.plan_visit_record(
        actor=world.staff_a,
        plan=_plan(world),
        member=cleaner,
        data={"visited_on": timezone.localdate().isoformat(), "cash": "500"},
        budget=donated,
    )
    summary = spending_summary(actor=world.federation_admin, organization=world.union_a, year=timezone.localdate().year)
    assert [(r.label, r.spent_fen) for r in summary.by_category] == [("临时救助", 150_000), ("常态化慰问", 50_000)]
    assert {r.label: r.spent_fen for r in summary.by_source} == {"本级工会预算": 150_000, "社会募集": 50_000}


@pytest.mark.django_db
def test_the_case_page_pays_from_the_chosen_budget(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    own = budget(world, world.union_a, 1_000_000)
    case = approved(world, colleague)
    client = world.client_for(world.staff_a)
    page = client.get("/console/relief/cases/%d/" % case.pk).content.decode()
    assert "临时救助（余 ¥10,000.00）" in page
    bad = client.post("/console/relief/cases/%d/step/" % case.pk, {"step": "pay", "budget": "abc"})
    assert bad.status_code == 422 and "请选择列支的预算" in bad.content.decode()
    done = client.post("/console/relief/cases/%d/step/" % case.pk, {"step": "pay", "budget": own.pk}, follow=True)
    body = done.content.decode()
    assert "已发放，救助金实名转入本人银行卡" in body and 'data-testid="case-payment"' in body
