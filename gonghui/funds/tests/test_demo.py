import datetime as dt
import io
import random

import pytest

from gonghui.core.permissions import Role
from gonghui.funds import demo
from gonghui.funds.models import Budget, LedgerEntry
from gonghui.organizations.models import Level
from gonghui.site.testing import World, grant, make_org, make_user

pytestmark = pytest.mark.django_db


def test_demo_seed_budgets_the_city_and_its_districts_for_the_seeds_year(world: World) -> None:
    grant(make_user("demo_finance"), world.city, Role.FINANCE)
    make_org(world.city, Level.COUNTY, "吴中区总工会", "320506")
    out = io.StringIO()
    demo.seed(rng=random.Random(7), stdout=out, today=dt.date(2031, 3, 1))
    budgets = Budget.objects.all()
    assert budgets.count() == 15  # five lines for the city and for each of its two districts
    assert set(budgets.values_list("year", flat=True)) == {2031}
    city = {b.line: b.amount_fen for b in budgets.filter(organization=world.city)}
    assert city["困难职工帮扶"] == 40_000_000
    for budget in budgets.exclude(organization=world.city):
        assert budget.amount_fen < city[budget.line]  # a district gets a tenth to a fifth
    for budget in budgets:
        entries = LedgerEntry.objects.filter(budget=budget)
        assert 0 < budget.spent_fen <= budget.amount_fen
        assert budget.spent_fen == sum(e.signed_fen for e in entries)
        assert set(entries.values_list("category", flat=True)) == {"funds.other"}
    assert "帮扶资金：15 条预算" in out.getvalue()


def test_demo_seed_needs_the_city_and_its_finance_officer(world: World) -> None:
    demo.seed(rng=random.Random(7), stdout=io.StringIO(), today=dt.date(2031, 3, 1))
    assert not Budget.objects.exists()
