"""How to build union A's object for each parameterised URL of the funds app (see
site/tests/test_url_access.py)."""

from typing import Any

from gonghui.funds import services
from gonghui.funds.models import Budget, LedgerEntry, Source
from gonghui.funds.tests.factories import finance_of
from gonghui.site.testing import World

# Made by a 财务 of their own: sweeps post forms (revoking roles among them) before asking here.


def _budget(world: World) -> Budget:
    budget = Budget.objects.filter(organization=world.union_a, year=2026, source=Source.OWN, line="临时救助").first()
    if budget is None:
        budget = services.budget_create(
            actor=finance_of(world.union_a),
            organization=world.union_a,
            year=2026,
            source=Source.OWN,
            line="临时救助",
            amount_fen=1_000_000,
        )
    return budget


def budget_pk(world: World) -> dict[str, Any]:
    return {"pk": _budget(world).pk}


def entry_pk(world: World) -> dict[str, Any]:
    budget = _budget(world)
    entry = LedgerEntry.objects.filter(budget=budget, kind="spend").first() or services.fund_spend(
        actor=finance_of(world.union_a),
        budget=budget,
        amount_fen=1_000,
        category=services.OTHER_CATEGORY,
        reference="url",
    )
    return {"pk": entry.pk}


URL_OBJECTS = {
    "funds:budget_detail": budget_pk,
    "funds:budget_adjust": budget_pk,
    "funds:budget_spend": budget_pk,
    "funds:entry_refund": entry_pk,
}
