"""Funds reads, each for an acting user and narrowed to the organisations where their roles
grant the permission (and those organisations' sub-trees)."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Substr

from gonghui.core.errors import NotFound
from gonghui.funds import categories
from gonghui.funds.models import Budget, EntryKind, LedgerEntry, Source
from gonghui.funds.permissions import FundPerm
from gonghui.organizations.models import PATH_STEP, Organization
from gonghui.organizations.selectors import (
    has_perm_on,
    organizations_for_actor,
    scope_paths,
    scope_q,
    scope_root_for_actor,
)

# Fund sources in the order the choices list them (财政, 上级工会拨付, 本级工会预算, 社会募集).
SOURCE_ORDER = Case(
    *(When(source=value, then=Value(index)) for index, value in enumerate(Source.values)),
    default=Value(len(Source.values)),
    output_field=IntegerField(),
)

# A budget this close to used up shows on the dashboard card.
NEARLY_USED_PERMILLE = 900


def budgets_for_actor(*, actor: Any, perm: str = FundPerm.FUND_VIEW) -> QuerySet[Budget]:
    return Budget.objects.filter(scope_q(actor, perm)).select_related("organization")


def budget_list_for_actor(
    *, actor: Any, year: int, source: str = "", organization: Organization | None = None
) -> QuerySet[Budget]:
    """The budgets of `year` the actor may see, of one source if given, in the sub-tree of
    `organization` if given (which the caller has resolved through `organization_in_scope`)."""
    qs = budgets_for_actor(actor=actor).filter(year=year)
    if source:
        qs = qs.filter(source=source)
    if organization is not None:
        qs = qs.filter(organization__path__startswith=organization.path)
    return qs.order_by("organization__path", SOURCE_ORDER, "line", "id")


def budget_get_for_actor(*, actor: Any, pk: int | str, perm: str = FundPerm.FUND_VIEW) -> Budget:
    budget = budgets_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if budget is None:
        raise NotFound("预算不存在或无权访问")
    return budget


def ledger_for_budget(*, budget: Budget) -> QuerySet[LedgerEntry]:
    """The budget's entries, newest first (the budget was read through a selector)."""
    return LedgerEntry.objects.filter(budget=budget).select_related("actor", "reverses").order_by("-created_at", "-id")


def refunded_ids(entries: list[LedgerEntry]) -> set[int]:
    """Which of these spends have been refunded already (one query)."""
    ids = [e.pk for e in entries if e.kind == EntryKind.SPEND]
    if not ids:
        return set()
    return set(LedgerEntry.objects.filter(reverses_id__in=ids).values_list("reverses_id", flat=True))


def entries_for_reference(*, actor: Any, reference: str) -> QuerySet[LedgerEntry]:
    """The spends and refunds a paying app recorded under `reference` ("relief.case:123"), in
    the budgets the actor may see, oldest first: what a case was paid from."""
    return (
        LedgerEntry.objects.filter(scope_q(actor, FundPerm.FUND_VIEW, field="budget__organization__path"))
        .filter(reference=reference, kind__in=(EntryKind.SPEND, EntryKind.REFUND))
        .select_related("budget__organization", "actor")
        .order_by("created_at", "id")
    )


def entry_get_for_actor(*, actor: Any, pk: int | str, perm: str = FundPerm.FUND_SPEND) -> LedgerEntry:
    entry = (
        LedgerEntry.objects.filter(scope_q(actor, perm, field="budget__organization__path"), pk=pk)
        .select_related("budget__organization")
        .first()
    )
    if entry is None:
        raise NotFound("台账记录不存在或无权访问")
    return entry


def budgets_for_spending(
    *, user: Any, organization: Organization, year: int, category: str | None = None
) -> QuerySet[Budget]:
    """The budgets `user` may pay from for `organization` in `year`: that organisation's own,
    with something left, drawable for `category` when one is given (see
    `categories.register_category(lines=…)`); none when the user may not spend there."""
    if not has_perm_on(user, FundPerm.FUND_SPEND, organization):
        return Budget.objects.none()
    qs = Budget.objects.filter(organization=organization, year=year, amount_fen__gt=F("spent_fen"))
    if category is not None:
        found = categories.category(category)
        if found is None:
            return Budget.objects.none()
        if found.lines:
            qs = qs.filter(line__in=found.lines)
    return qs.select_related("organization").order_by(SOURCE_ORDER, "line", "id")


def organizations_for_funds(*, actor: Any, perm: str = FundPerm.FUND_VIEW, limit: int = 500) -> list[Organization]:
    return list(organizations_for_actor(actor=actor, perm=perm).filter(is_active=True).order_by("path")[:limit])


def organization_in_scope(*, actor: Any, pk: int | None, perm: str = FundPerm.FUND_VIEW) -> Organization | None:
    if pk is None:
        return None
    return organizations_for_actor(actor=actor, perm=perm).filter(pk=pk).first()


def home_organization(*, actor: Any, perm: str = FundPerm.FUND_VIEW) -> Organization | None:
    return scope_root_for_actor(actor=actor, perm=perm)


# ---- the summary --------------------------------------------------------------------------------


class _Usage:
    """What is left of a row's budget and how much of it is used (a summary row's mixin)."""

    amount_fen: int
    spent_fen: int

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.spent_fen

    @property
    def usage_label(self) -> str:
        return _usage(self.spent_fen, self.amount_fen)


@dataclass(frozen=True)
class SourceRow(_Usage):
    source: str
    label: str
    amount_fen: int
    spent_fen: int


@dataclass(frozen=True)
class CategoryRow:
    key: str
    label: str
    spent_fen: int
    spends: int


@dataclass(frozen=True)
class BranchRow(_Usage):
    """The organisation's own budgets (`own`) or those of one child union's whole sub-tree."""

    organization: Organization
    own: bool
    amount_fen: int
    spent_fen: int


@dataclass(frozen=True)
class Summary:
    organization: Organization
    year: int
    by_source: list[SourceRow] = field(default_factory=list)
    by_category: list[CategoryRow] = field(default_factory=list)
    by_branch: list[BranchRow] = field(default_factory=list)

    @property
    def amount_fen(self) -> int:
        return sum(r.amount_fen for r in self.by_source)

    @property
    def spent_fen(self) -> int:
        return sum(r.spent_fen for r in self.by_source)

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.spent_fen

    @property
    def usage_label(self) -> str:
        return _usage(self.spent_fen, self.amount_fen)


def _usage(spent: int, amount: int) -> str:
    permille = spent * 1000 // amount if amount else 0
    return "%(whole)d.%(tenth)d%%" % {"whole": permille // 10, "tenth": permille % 10}


def spending_summary(*, actor: Any, organization: Organization, year: int) -> Summary:
    """Budgets and net spending (spends less refunds) of `organization`'s sub-tree in `year`,
    by fund source, by spending category and by branch (the organisation itself, then each
    child union with its sub-tree): four queries."""
    budgets = budgets_for_actor(actor=actor).filter(year=year, organization__path__startswith=organization.path)
    totals = {
        row["source"]: row
        for row in budgets.order_by().values("source").annotate(amount=Sum("amount_fen"), spent=Sum("spent_fen"))
    }
    by_source = [
        SourceRow(source, label, totals[source]["amount"], totals[source]["spent"])
        for source, label in Source.choices
        if source in totals
    ]
    spent = Coalesce(Sum("amount_fen", filter=Q(kind=EntryKind.SPEND)), 0) - Coalesce(
        Sum("amount_fen", filter=Q(kind=EntryKind.REFUND)), 0
    )
    rows = (
        LedgerEntry.objects.filter(budget__in=budgets.values("pk"), kind__in=(EntryKind.SPEND, EntryKind.REFUND))
        .order_by()
        .values("category")
        .annotate(net=spent, spends=Count("id", filter=Q(kind=EntryKind.SPEND)))
    )
    by_category = sorted(
        (CategoryRow(r["category"], categories.category_label(r["category"]), r["net"], r["spends"]) for r in rows),
        key=lambda r: (-r.spent_fen, r.key),
    )
    return Summary(
        organization=organization,
        year=year,
        by_source=by_source,
        by_category=by_category,
        by_branch=_branches(budgets, organization),
    )


def _branches(budgets: QuerySet[Budget], organization: Organization) -> list[BranchRow]:
    # A child's path is the parent's and one more segment (six characters and a dot): cut every budget's
    # organisation path there to group it under the child it lies below.
    cut = len(organization.path) + PATH_STEP + 1
    totals = {
        row["branch"]: row
        for row in budgets.order_by()
        .annotate(branch=Substr("organization__path", 1, cut))
        .values("branch")
        .annotate(amount=Sum("amount_fen"), spent=Sum("spent_fen"))
    }
    orgs = {o.path: o for o in Organization.objects.filter(path__in=list(totals))}
    rows = [
        BranchRow(orgs[path], path == organization.path, totals[path]["amount"], totals[path]["spent"])
        for path in totals
        if path in orgs
    ]
    return sorted(rows, key=lambda r: (not r.own, r.organization.path))


@dataclass(frozen=True)
class HomeFigures:
    organization: Organization | None  # None when it has no budget this year
    year: int
    amount_fen: int
    spent_fen: int
    nearly_used: list[Budget]

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.spent_fen

    @property
    def usage_label(self) -> str:
        return _usage(self.spent_fen, self.amount_fen)


def home_figures(*, actor: Any, year: int) -> HomeFigures | None:
    """This year's budgets of the actor's own organisation (the highest where they may view
    funds): totals, and the lines nearly used up. One query."""
    paths = scope_paths(actor, FundPerm.FUND_VIEW)
    if not paths:
        return None
    home = min(paths, key=lambda path: (len(path), path))
    budgets = list(
        budgets_for_actor(actor=actor).filter(organization__path=home, year=year).order_by(SOURCE_ORDER, "line")
    )
    return HomeFigures(
        organization=budgets[0].organization if budgets else None,
        year=year,
        amount_fen=sum(b.amount_fen for b in budgets),
        spent_fen=sum(b.spent_fen for b in budgets),
        nearly_used=[b for b in budgets if b.amount_fen and b.usage_permille >= NEARLY_USED_PERMILLE],
    )
