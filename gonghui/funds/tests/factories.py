"""Budgets for the funds tests, made through the services (as staff of the budget's union)."""

from typing import Any

from gonghui.core.permissions import Role
from gonghui.funds import services
from gonghui.funds.models import Budget, Source
from gonghui.site.testing import grant, make_user


def finance_of(org: Any, username: str | None = None) -> Any:
    """A 财务 of `org` (who may create, adjust and spend its budgets)."""
    return grant(make_user(username), org, Role.FINANCE)


def make_budget(
    actor: Any,
    org: Any,
    *,
    amount_fen: int = 1_000_000,
    year: int = 2026,
    source: str = Source.OWN,
    line: str = "临时救助",
) -> Budget:
    return services.budget_create(
        actor=actor, organization=org, year=year, source=source, line=line, amount_fen=amount_fen
    )
