"""Small-group suppression: no hidden count can be recovered by differencing from the totals."""

from hypothesis import given, settings
from hypothesis import strategies as st

from gonghui.core.aggregates import suppress_groups, suppress_table

counts = st.integers(min_value=0, max_value=40)


def _relation_safe(total: int | None, parts: list[int | None]) -> bool:
    """A relation total = Σ parts leaks when exactly one of its terms is hidden."""
    return sum(term is None for term in [total, *parts]) != 1


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(counts, min_size=1, max_size=6), min_size=1, max_size=6).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    ),
    st.integers(min_value=2, max_value=15),
)
def test_no_hidden_cell_follows_from_row_or_column_totals(rows: list[list[int]], min_group: int) -> None:
    shown = suppress_table(rows, min_group=min_group)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            cell = shown.cells[i][j]
            assert cell is None or (cell == value and value >= min_group)
    for i in range(len(rows)):
        assert _relation_safe(shown.row_totals[i], shown.cells[i])
    for j in range(len(rows[0])):
        assert _relation_safe(shown.column_totals[j], [r[j] for r in shown.cells])
    assert _relation_safe(shown.grand_total, shown.row_totals)
    assert _relation_safe(shown.grand_total, shown.column_totals)
    # the differencing attack itself: a row or column with one unknown gives it away
    for i, row in enumerate(shown.cells):
        if row.count(None) == 1 and shown.row_totals[i] is not None:
            raise AssertionError("row %d reveals its hidden cell" % i)


@settings(max_examples=300, deadline=None)
@given(st.lists(counts, min_size=1, max_size=10), st.integers(min_value=2, max_value=15))
def test_no_hidden_group_follows_from_the_parent_total(groups: list[int], min_group: int) -> None:
    shown = suppress_groups(groups, min_group=min_group)
    assert _relation_safe(shown.total, shown.counts)
    for value, cell in zip(groups, shown.counts, strict=True):
        assert cell is None or (cell == value and value >= min_group)


def test_one_small_group_hides_the_next_smallest_too() -> None:
    assert suppress_groups([12, 30, 3, 25], min_group=10).counts == [None, 30, None, 25]


def test_a_lone_group_hides_the_total_it_equals() -> None:
    shown = suppress_groups([4], min_group=10, total=4)
    assert (shown.counts, shown.total) == ([None], None)


def test_table_hides_a_complementary_cell_in_row_and_column() -> None:
    shown = suppress_table([[20, 3, 15], [12, 30, 40]], min_group=10)
    assert shown.cells == [[20, None, None], [12, None, None]]
    assert (shown.row_totals, shown.column_totals, shown.grand_total) == ([38, 82], [32, 33, 55], 120)
