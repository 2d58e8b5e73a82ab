"""Small-group suppression for published counts, with complementary suppression.

Primary suppression hides every count below `min_group` (the `aggregate.small_group` policy).
That alone is not enough: when a row of a table shows its total and only one of its cells is
hidden, the hidden cell is the total minus the visible cells. So every linear relation the
reader can see — a row sums to its row total, a column to its column total, the row totals and
the column totals each to the grand total, a list of groups to its parent total — is checked,
and wherever exactly one of its terms is hidden a second one is hidden too (the smallest
visible part, or the total when no part is left), until nothing changes. Afterwards every
relation with a hidden term has at least two hidden terms, so no hidden count follows from the
visible ones by differencing.

The helpers return what to show; the counts of hidden entries are `None`."""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SMALL_GROUP_POLICY = "aggregate.small_group"


class SmallGroupBody(BaseModel):
    """`aggregate.small_group`: groups of fewer than `min_group` people are not shown."""

    model_config = ConfigDict(extra="forbid")
    min_group: int = Field(ge=2, le=1000, title="最小分组人数")


SMALL_GROUP_DEFAULT = {"min_group": 10}

Relation = tuple[Hashable, Sequence[Hashable]]


def suppress(values: dict[Hashable, int], relations: Sequence[Relation], *, min_group: int) -> set[Hashable]:
    """The keys to hide. `relations` are (total key, part keys): values[total] = Σ values[parts]."""
    hidden = {key for key, value in values.items() if value < min_group}
    order = {key: i for i, key in enumerate(values)}
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            if not parts:
                continue
            terms = [total, *parts]
            if sum(term in hidden for term in terms) != 1:
                continue
            visible = [p for p in parts if p not in hidden]
            pick = min(visible, key=lambda p: (values[p], order[p])) if visible else total
            hidden.add(pick)
            changed = True
    return hidden


@dataclass(frozen=True)
class SuppressedGroups:
    counts: list[int | None]
    total: int | None

    def hidden(self, index: int) -> bool:
        return self.counts[index] is None


def suppress_groups(counts: Sequence[int], *, min_group: int, total: int | None = None) -> SuppressedGroups:
    """A list of groups that partition a parent whose total is known (`total`, by default the
    sum of the groups)."""
    parent = sum(counts) if total is None else total
    values: dict[Hashable, int] = {("g", i): c for i, c in enumerate(counts)}
    values["total"] = parent
    hidden = suppress(values, [("total", [("g", i) for i in range(len(counts))])], min_group=min_group)
    return SuppressedGroups(
        counts=[None if ("g", i) in hidden else c for i, c in enumerate(counts)],
        total=None if "total" in hidden else parent,
    )


@dataclass(frozen=True)
class SuppressedTable:
    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    grand_total: int | None


def suppress_table(cells: Sequence[Sequence[int]], *, min_group: int) -> SuppressedTable:
    """A rows × columns table of counts published with its row, column and grand totals."""
    n_rows = len(cells)
    n_cols = len(cells[0]) if cells else 0
    if any(len(row) != n_cols for row in cells):
        raise ValueError("every row needs the same number of columns")
    values: dict[Hashable, int] = {}
    for i, row in enumerate(cells):
        for j, count in enumerate(row):
            values[("c", i, j)] = count
    for i, row in enumerate(cells):
        values[("r", i)] = sum(row)
    for j in range(n_cols):
        values[("k", j)] = sum(row[j] for row in cells)
    values["t"] = sum(values[("r", i)] for i in range(n_rows))
    relations: list[Relation] = [(("r", i), [("c", i, j) for j in range(n_cols)]) for i in range(n_rows)]
    relations += [(("k", j), [("c", i, j) for i in range(n_rows)]) for j in range(n_cols)]
    relations.append(("t", [("r", i) for i in range(n_rows)]))
    relations.append(("t", [("k", j) for j in range(n_cols)]))
    hidden = suppress(values, relations, min_group=min_group)

    def show(key: Any) -> int | None:
        return None if key in hidden else values[key]

    return SuppressedTable(
        cells=[[show(("c", i, j)) for j in range(n_cols)] for i in range(n_rows)],
        row_totals=[show(("r", i)) for i in range(n_rows)],
        column_totals=[show(("k", j)) for j in range(n_cols)],
        grand_total=show("t"),
    )
