"""Property: whatever sequence of spends, refunds and adjustments staff attempt, a budget's
spent amount stays within [0, amount], equals its spends less its refunds, and matches a
plain model of the rules; every refused operation leaves the budget as it was."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gonghui.core.errors import DomainError
from gonghui.funds import services
from gonghui.funds.models import Budget, EntryKind, LedgerEntry
from gonghui.funds.tests.factories import make_budget
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db

OTHER = services.OTHER_CATEGORY

operations = st.lists(
    st.one_of(
        st.tuples(st.just("spend"), st.integers(min_value=-100, max_value=60_000)),
        st.tuples(st.just("refund"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("adjust"), st.integers(min_value=-100, max_value=150_000)),
    ),
    max_size=25,
)


class _Rollback(Exception):
    pass


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_spent_stays_within_the_budget_and_equals_the_ledger(world: World, ops: list[tuple[str, int]]) -> None:
    try:
        with transaction.atomic():
            budget = make_budget(world.staff_a, world.union_a, amount_fen=100_000, line="性质测试")
            amount, spent = 100_000, 0
            spends: list[tuple[LedgerEntry, bool]] = []  # (spend, refunded)
            for op, value in ops:
                before = Budget.objects.values_list("amount_fen", "spent_fen").get(pk=budget.pk)
                try:
                    if op == "spend":
                        entry = services.fund_spend(
                            actor=world.staff_a, budget=budget, amount_fen=value, category=OTHER, reference=""
                        )
                        assert 0 < value <= amount - spent
                        spent += value
                        spends.append((entry, False))
                    elif op == "refund" and spends:
                        index = value % len(spends)
                        entry, refunded = spends[index]
                        services.fund_refund(actor=world.staff_a, entry=entry, reason="性质测试")
                        assert not refunded
                        spent -= entry.amount_fen
                        spends[index] = (entry, True)
                    elif op == "adjust":
                        services.budget_adjust(actor=world.staff_a, budget=budget, amount_fen=value, reason="性质测试")
                        assert spent <= value != amount
                        amount = value
                except DomainError:
                    # Refused: exactly when the model says so, and nothing changed.
                    assert Budget.objects.values_list("amount_fen", "spent_fen").get(pk=budget.pk) == before
                    if op == "spend":
                        assert not 0 < value <= amount - spent
                    elif op == "refund":
                        assert spends[value % len(spends)][1]
                    else:
                        assert value < spent or value == amount or value < 0
                row = Budget.objects.get(pk=budget.pk)
                ledger = LedgerEntry.objects.filter(budget=budget)
                assert (row.amount_fen, row.spent_fen) == (amount, spent)
                assert 0 <= row.spent_fen <= row.amount_fen
                assert row.spent_fen == sum(e.signed_fen for e in ledger)
                assert ledger.filter(kind=EntryKind.REFUND).count() == sum(1 for _, r in spends if r)
            raise _Rollback
    except _Rollback:
        pass
