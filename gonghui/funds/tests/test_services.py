"""The funds services: budgets, spends, refunds and adjustments, their Chinese refusals (with
nothing changed) and their audit events."""

import pytest

from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.funds import categories, services
from gonghui.funds.models import Budget, EntryKind, LedgerEntry, Source
from gonghui.funds.selectors import budgets_for_spending
from gonghui.funds.tests.factories import make_budget
from gonghui.site.testing import World, grant, make_user

pytestmark = pytest.mark.django_db

OTHER = services.OTHER_CATEGORY


def _spent(budget: Budget) -> int:
    return Budget.objects.values_list("spent_fen", flat=True).get(pk=budget.pk)


def _ledger_spent(budget: Budget) -> int:
    return sum(e.signed_fen for e in LedgerEntry.objects.filter(budget=budget))


# ---- budgets ------------------------------------------------------------------------------------


def test_budget_create_stores_the_line_and_audits_it(world: World) -> None:
    budget = services.budget_create(
        actor=world.staff_a,
        organization=world.union_a,
        year=2026,
        source=Source.FISCAL,
        line=" 困难职工帮扶 ",
        amount_fen=30_000_000,
        note="苏工发〔2026〕3号",
    )
    assert (budget.organization, budget.year, budget.source, budget.line) == (
        world.union_a,
        2026,
        "fiscal",
        "困难职工帮扶",
    )
    assert (budget.amount_fen, budget.spent_fen, budget.remaining_fen) == (30_000_000, 0, 30_000_000)
    event = AuditEvent.objects.get(action="funds.budget_create")
    assert event.object_id == str(budget.pk)
    assert event.organization_path == world.union_a.path
    assert event.detail == {"year": 2026, "source": "fiscal", "line": "困难职工帮扶", "amount_fen": 30_000_000}


def test_a_second_budget_for_the_same_line_is_refused_in_chinese(world: World) -> None:
    make_budget(world.staff_a, world.union_a, line="临时救助")
    with pytest.raises(Conflict, match="预算已存在，请调整原预算"):
        make_budget(world.staff_a, world.union_a, line="临时救助")
    assert Budget.objects.count() == 1
    # Another source or year is another budget.
    make_budget(world.staff_a, world.union_a, line="临时救助", source=Source.DONATION)
    make_budget(world.staff_a, world.union_a, line="临时救助", year=2027)
    assert Budget.objects.count() == 3


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"year": 1999}, "year", "年度应为 2000 至 2100 之间的整数"),
        ({"year": 2101}, "year", "年度应为 2000 至 2100 之间的整数"),
        ({"year": "2026"}, "year", "年度应为 2000 至 2100 之间的整数"),
        ({"source": "lottery"}, "source", "请选择资金来源"),
        ({"line": "  "}, "line", "请填写预算科目"),
        ({"line": "帮" * 41}, "line", "预算科目不能超过 40 个字"),
        ({"amount_fen": -1}, "amount", "预算金额不能为负数"),
        ({"amount_fen": 10**20}, "amount", "预算金额不能超过 1000000000.00 元"),
        ({"amount_fen": 12.5}, "amount", "预算金额应为整数（分）"),
        ({"note": "注" * 201}, "note", "备注不能超过 200 个字"),
    ],
)
def test_budget_create_refuses_bad_fields_in_chinese(world: World, fields: dict, key: str, message: str) -> None:
    data = {"year": 2026, "source": Source.OWN, "line": "临时救助", "amount_fen": 100, **fields}
    with pytest.raises(ValidationFailed) as caught:
        services.budget_create(actor=world.staff_a, organization=world.union_a, **data)
    assert message in caught.value.fields[key]
    assert not Budget.objects.exists()
    assert not AuditEvent.objects.filter(action="funds.budget_create").exists()


def test_only_staff_who_manage_funds_there_may_create_a_budget(world: World) -> None:
    handler = grant(make_user(), world.union_a, Role.HANDLER)
    for actor, org in ((world.staff_b, world.union_a), (handler, world.union_a), (world.member_a.user, world.union_a)):
        with pytest.raises(PermissionDenied, match="无权为该组织编制帮扶资金预算"):
            make_budget(actor, org)
    assert not Budget.objects.exists()
    # The federation's admin manages the whole tree below it.
    assert make_budget(world.federation_admin, world.union_a).organization == world.union_a


def test_budget_adjust_records_before_and_after_and_never_goes_below_spent(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a, amount_fen=1_000_000)
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=400_000, category=OTHER, reference="")
    services.budget_adjust(actor=world.staff_a, budget=budget, amount_fen=1_500_000, reason="上级追加拨付")
    budget.refresh_from_db()
    assert (budget.amount_fen, budget.spent_fen) == (1_500_000, 400_000)
    adjust = LedgerEntry.objects.get(kind=EntryKind.ADJUST)
    assert (adjust.amount_fen, adjust.budget_before_fen, adjust.budget_after_fen, adjust.memo) == (
        500_000,
        1_000_000,
        1_500_000,
        "上级追加拨付",
    )
    assert AuditEvent.objects.get(action="funds.budget_adjust").detail["after_fen"] == 1_500_000

    with pytest.raises(Conflict, match=r"调整后的预算 ¥3999.99 不能低于已支出的 ¥4000.00"):
        services.budget_adjust(actor=world.staff_a, budget=budget, amount_fen=399_999, reason="调减")
    with pytest.raises(ValidationFailed, match="调整后的预算与原预算相同"):
        services.budget_adjust(actor=world.staff_a, budget=budget, amount_fen=1_500_000, reason="无变化")
    with pytest.raises(ValidationFailed) as caught:
        services.budget_adjust(actor=world.staff_a, budget=budget, amount_fen=1_000, reason=" ")
    assert caught.value.fields["reason"] == "请填写调整原因"
    with pytest.raises(PermissionDenied):
        services.budget_adjust(actor=world.staff_b, budget=budget, amount_fen=2_000_000, reason="越权")
    budget.refresh_from_db()
    assert budget.amount_fen == 1_500_000
    assert LedgerEntry.objects.filter(kind=EntryKind.ADJUST).count() == 1
    # Down to exactly what is spent is allowed.
    services.budget_adjust(actor=world.staff_a, budget=budget, amount_fen=400_000, reason="年中调减")
    assert Budget.objects.get(pk=budget.pk).remaining_fen == 0


# ---- spending -----------------------------------------------------------------------------------


def test_fund_spend_records_the_entry_raises_spent_and_audits(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a, amount_fen=500_000)
    entry = services.fund_spend(
        actor=world.staff_a,
        budget=budget,
        amount_fen=120_050,
        category=OTHER,
        reference="relief.case:123",
        memo="张三 临时救助",
    )
    assert (entry.kind, entry.amount_fen, entry.category, entry.reference, entry.actor) == (
        "spend",
        120_050,
        OTHER,
        "relief.case:123",
        world.staff_a,
    )
    assert _spent(budget) == 120_050
    assert budget.spent_fen == 120_050  # the caller's object is brought up to date
    assert budget.remaining_fen == 379_950
    event = AuditEvent.objects.get(action="funds.spend")
    assert event.detail == {"entry": entry.pk, "amount_fen": 120_050, "category": OTHER, "reference": "relief.case:123"}
    assert event.organization_path == world.union_a.path


def test_spending_the_whole_remaining_amount_works_and_one_fen_more_is_refused(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a, amount_fen=500_000)
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=200_000, category=OTHER, reference="a")
    with pytest.raises(Conflict) as caught:
        services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=300_001, category=OTHER, reference="b")
    assert caught.value.message == (
        "预算余额不足：苏州甲公司工会 2026年 本级工会预算 · 临时救助 剩余 ¥3000.00，本次 ¥3000.01"
    )
    assert _spent(budget) == 200_000
    assert LedgerEntry.objects.filter(kind=EntryKind.SPEND).count() == 1
    assert AuditEvent.objects.filter(action="funds.spend").count() == 1
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=300_000, category=OTHER, reference="c")
    assert Budget.objects.get(pk=budget.pk).remaining_fen == 0


def test_a_stale_budget_object_cannot_overspend(world: World) -> None:
    """The check reads the locked row, not the caller's copy."""
    budget = make_budget(world.staff_a, world.union_a, amount_fen=500_000)
    stale = Budget.objects.get(pk=budget.pk)
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=400_000, category=OTHER, reference="")
    with pytest.raises(Conflict, match=r"剩余 ¥1000\.00，本次 ¥2000\.00"):
        services.fund_spend(actor=world.staff_a, budget=stale, amount_fen=200_000, category=OTHER, reference="")
    assert _spent(budget) == 400_000


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"amount_fen": 0}, "amount", "支出金额应大于 0"),
        ({"amount_fen": -500}, "amount", "支出金额不能为负数"),
        ({"amount_fen": True}, "amount", "支出金额应为整数（分）"),
        ({"amount_fen": "100"}, "amount", "支出金额应为整数（分）"),
        ({"category": "relief.unknown"}, "category", "未登记的支出类别：relief.unknown"),
        ({"reference": "r" * 81}, "reference", "业务单据不能超过 80 个字"),
        ({"memo": "说" * 201}, "memo", "说明不能超过 200 个字"),
    ],
)
def test_fund_spend_refuses_bad_input_in_chinese(world: World, fields: dict, key: str, message: str) -> None:
    budget = make_budget(world.staff_a, world.union_a)
    data = {"amount_fen": 100, "category": OTHER, "reference": "x", **fields}
    with pytest.raises(ValidationFailed) as caught:
        services.fund_spend(actor=world.staff_a, budget=budget, **data)
    assert caught.value.fields[key] == message
    assert _spent(budget) == 0
    assert not LedgerEntry.objects.exists()


def test_fund_spend_refuses_a_budget_the_actor_may_not_spend_from(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a)
    health_only = grant(make_user(), world.union_a, Role.HEALTH)
    for actor in (world.staff_b, health_only, world.member_a.user, None):
        with pytest.raises(PermissionDenied, match="无权动用该组织的帮扶资金"):
            services.fund_spend(actor=actor, budget=budget, amount_fen=100, category=OTHER, reference="")
    assert _spent(budget) == 0
    assert not LedgerEntry.objects.exists()
    # A 经办人 of the union may pay out (a relief payment) but not create budgets.
    handler = grant(make_user(), world.union_a, Role.HANDLER)
    services.fund_spend(actor=handler, budget=budget, amount_fen=100, category=OTHER, reference="")
    assert _spent(budget) == 100


def test_a_category_restricted_to_lines_pays_only_from_those_lines(world: World) -> None:
    categories.register_category("tests.illness", "大病救助（测试）", lines=("大病救助",))
    illness = make_budget(world.staff_a, world.union_a, line="大病救助")
    other = make_budget(world.staff_a, world.union_a, line="送温暖慰问")
    with pytest.raises(Conflict, match="“大病救助（测试）”不能从预算科目“送温暖慰问”列支"):
        services.fund_spend(actor=world.staff_a, budget=other, amount_fen=100, category="tests.illness", reference="")
    services.fund_spend(actor=world.staff_a, budget=illness, amount_fen=100, category="tests.illness", reference="")
    assert list(
        budgets_for_spending(user=world.staff_a, organization=world.union_a, year=2026, category="tests.illness")
    ) == [illness]


def test_fund_spend_other_needs_a_memo(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a)
    with pytest.raises(ValidationFailed, match="请填写支出说明"):
        services.fund_spend_other(actor=world.staff_a, budget=budget, amount_fen=100, memo=" \u200b ")
    entry = services.fund_spend_other(actor=world.staff_a, budget=budget, amount_fen=100, memo="慰问品采购")
    assert (entry.category, entry.memo) == ("funds.other", "慰问品采购")


def test_spending_inside_a_callers_transaction_rolls_back_with_it(world: World) -> None:
    from django.db import transaction

    budget = make_budget(world.staff_a, world.union_a, amount_fen=500_000)

    class CaseRefused(Exception):
        pass

    with pytest.raises(CaseRefused), transaction.atomic():
        services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=100_000, category=OTHER, reference="r:1")
        raise CaseRefused
    assert _spent(budget) == 0
    assert not LedgerEntry.objects.exists()
    assert not AuditEvent.objects.filter(action="funds.spend").exists()


# ---- refunds ------------------------------------------------------------------------------------


def test_fund_refund_reverses_a_spend_exactly_once(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a, amount_fen=500_000)
    spend = services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=300_000, category=OTHER, reference="r:7")
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=50_000, category=OTHER, reference="r:8")
    refund = services.fund_refund(actor=world.staff_a, entry=spend, reason="重复发放，已退回")
    assert (refund.kind, refund.amount_fen, refund.reverses, refund.category, refund.reference) == (
        "refund",
        300_000,
        spend,
        OTHER,
        "r:7",
    )
    assert _spent(budget) == 50_000 == _ledger_spent(budget)
    assert AuditEvent.objects.get(action="funds.refund").detail["amount_fen"] == 300_000
    with pytest.raises(Conflict, match="该笔支出已冲回，不能重复冲回"):
        services.fund_refund(actor=world.staff_a, entry=spend, reason="再次冲回")
    with pytest.raises(Conflict, match="只有支出记录可以冲回"):
        services.fund_refund(actor=world.staff_a, entry=refund, reason="冲回冲回")
    assert _spent(budget) == 50_000
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1


def test_fund_refund_needs_a_reason_and_the_right_to_spend_there(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a)
    spend = services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=1_000, category=OTHER, reference="")
    with pytest.raises(ValidationFailed) as caught:
        services.fund_refund(actor=world.staff_a, entry=spend, reason="")
    assert caught.value.fields["reason"] == "请填写冲回原因"
    with pytest.raises(PermissionDenied, match="无权冲回"):
        services.fund_refund(actor=world.staff_b, entry=spend, reason="越权")
    assert _spent(budget) == 1_000
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_the_ledger_is_append_only(world: World) -> None:
    budget = make_budget(world.staff_a, world.union_a)
    spend = services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=1_000, category=OTHER, reference="")
    spend.amount_fen = 1
    with pytest.raises(Conflict, match="台账记录不能修改"):
        spend.save()
    with pytest.raises(Conflict, match="台账记录不能删除"):
        spend.delete()
    assert LedgerEntry.objects.get(pk=spend.pk).amount_fen == 1_000


def test_the_database_refuses_spent_above_the_amount_or_below_zero(world: World) -> None:
    from django.db import IntegrityError, transaction

    budget = make_budget(world.staff_a, world.union_a, amount_fen=1_000)
    for spent in (1_001, -1):
        with pytest.raises(IntegrityError), transaction.atomic():
            Budget.objects.filter(pk=budget.pk).update(spent_fen=spent)
    assert _spent(budget) == 0


# ---- the selector the paying apps call --------------------------------------------------------------


def test_budgets_for_spending_lists_the_organisations_own_budgets_with_money_left(world: World) -> None:
    own = make_budget(world.staff_a, world.union_a, source=Source.OWN, line="临时救助", amount_fen=1_000)
    fiscal = make_budget(world.staff_a, world.union_a, source=Source.FISCAL, line="困难职工帮扶", amount_fen=1_000)
    used_up = make_budget(world.staff_a, world.union_a, source=Source.DONATION, line="助学", amount_fen=1_000)
    services.fund_spend(actor=world.staff_a, budget=used_up, amount_fen=1_000, category=OTHER, reference="")
    make_budget(world.staff_a, world.union_a, year=2025, line="临时救助")
    make_budget(world.federation_admin, world.street, line="临时救助")  # the parent union's budget
    make_budget(world.staff_b, world.union_b, line="临时救助")

    def names(user, org=world.union_a, category=None):  # type: ignore[no-untyped-def]
        return list(budgets_for_spending(user=user, organization=org, year=2026, category=category))

    assert names(world.staff_a) == [fiscal, own]  # by source, then line
    assert names(world.staff_a, category=OTHER) == [fiscal, own]
    assert names(world.staff_a, category="nobody.registered") == []
    assert names(world.staff_b) == []
    assert names(grant(make_user(), world.union_a, Role.HEALTH)) == []


def test_entries_for_reference_tell_a_case_what_it_was_paid_from(world: World) -> None:
    from gonghui.funds.selectors import entries_for_reference

    fiscal = make_budget(world.staff_a, world.union_a, source=Source.FISCAL, line="困难职工帮扶")
    own = make_budget(world.staff_a, world.union_a)
    first = services.fund_spend(
        actor=world.staff_a, budget=fiscal, amount_fen=1_000, category=OTHER, reference="relief.case:9"
    )
    services.fund_refund(actor=world.staff_a, entry=first, reason="改由本级列支")
    services.fund_spend(actor=world.staff_a, budget=own, amount_fen=1_000, category=OTHER, reference="relief.case:9")
    services.fund_spend(actor=world.staff_a, budget=own, amount_fen=500, category=OTHER, reference="relief.case:10")
    services.budget_adjust(actor=world.staff_a, budget=own, amount_fen=2_000_000, reason="追加")
    rows = [(e.kind, e.budget.line) for e in entries_for_reference(actor=world.staff_a, reference="relief.case:9")]
    assert rows == [("spend", "困难职工帮扶"), ("refund", "困难职工帮扶"), ("spend", "临时救助")]
    assert list(entries_for_reference(actor=world.staff_b, reference="relief.case:9")) == []
