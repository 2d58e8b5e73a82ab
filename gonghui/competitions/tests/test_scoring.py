"""The scoring rules, table-driven and as properties: results, pending entries, ranking with
the documented tie-break, shared ranks and awards."""

import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonghui.competitions import scoring
from gonghui.competitions.models import Award, ScoringRule

D = decimal.Decimal


def ds(*values: str) -> list[D]:
    return [D(v) for v in values]


@pytest.mark.parametrize(
    ("rule", "scores", "min_scores", "expected"),
    [
        # drop the highest and lowest, average the rest
        (ScoringRule.TRIMMED, ds("90", "80", "70", "60", "100"), 3, D("80.00")),
        (ScoringRule.TRIMMED, ds("85.5", "90", "88"), 3, D("88.00")),
        # ties at the extremes: only one of each is dropped
        (ScoringRule.TRIMMED, ds("90", "90", "70", "70"), 3, D("80.00")),
        # rounding half up to two decimals
        (ScoringRule.TRIMMED, ds("80", "80.1", "80.2", "80.2", "99"), 3, D("80.17")),
        (ScoringRule.MEAN, ds("80", "80.1", "80.2"), 1, D("80.10")),
        (ScoringRule.MEAN, ds("90", "85"), 2, D("87.50")),
        (ScoringRule.MEAN, ds("1", "0", "0"), 3, D("0.33")),
        (ScoringRule.MEAN, ds("1", "1", "0"), 3, D("0.67")),
        (ScoringRule.MEDIAN, ds("70", "95", "80"), 3, D("80.00")),
        (ScoringRule.MEDIAN, ds("70", "95", "80", "81"), 3, D("80.50")),
        # missing scores: pending below the stage's minimum …
        (ScoringRule.MEAN, ds("90", "85"), 3, None),
        (ScoringRule.MEDIAN, ds(), 1, None),
        # … and below 3 for the trimmed rule whatever the minimum
        (ScoringRule.TRIMMED, ds("90", "85"), 1, None),
        # computed over those submitted once the minimum is reached
        (ScoringRule.TRIMMED, ds("90", "85", "80"), 3, D("85.00")),
    ],
)
def test_result_of(rule: str, scores: list[D], min_scores: int, expected: D | None) -> None:
    assert scoring.result_of(rule, scores, min_scores=min_scores) == expected


def test_ranking_breaks_ties_by_the_lowest_counted_score_then_shares_the_rank() -> None:
    placed = scoring.rank(
        {
            1: (D("88.00"), D("85")),
            2: (D("88.00"), D("87")),  # same result, more consistent: ahead
            3: (D("90.00"), D("80")),
            4: (D("70.00"), D("70")),
            5: (D("70.00"), D("70")),  # identical: shares the rank
            6: (D("60.00"), D("60")),
        },
        first=1,
        second=2,
        third=2,
        advance=3,
    )
    assert [(p.key, p.rank, p.award, p.advanced) for p in placed] == [
        (3, 1, Award.FIRST, True),
        (2, 2, Award.SECOND, True),
        (1, 3, Award.SECOND, True),
        (4, 4, Award.THIRD, False),
        (5, 4, Award.THIRD, False),
        (6, 6, Award.NONE, False),
    ]


def test_a_tie_at_the_award_boundary_gives_both_the_award() -> None:
    placed = scoring.rank({1: (D("90"), D("90")), 2: (D("90"), D("90")), 3: (D("80"), D("80"))}, first=1)
    assert [(p.key, p.rank, p.award) for p in placed] == [(1, 1, Award.FIRST), (2, 1, Award.FIRST), (3, 3, Award.NONE)]


def test_no_prizes_configured_gives_no_awards() -> None:
    placed = scoring.rank({1: (D("90"), D("90"))})
    assert placed[0].award == Award.NONE and placed[0].rank == 1 and not placed[0].advanced


score = st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False)


@given(st.lists(score, min_size=3, max_size=12), st.sampled_from(list(ScoringRule.values)))
def test_a_result_lies_between_the_lowest_and_highest_score_and_ignores_order(scores: list[D], rule: str) -> None:
    result = scoring.result_of(rule, scores, min_scores=1)
    assert result is not None
    assert min(scores) - D("0.005") <= result <= max(scores) + D("0.005")
    assert scoring.result_of(rule, list(reversed(scores)), min_scores=1) == result


@given(st.lists(score, min_size=3, max_size=12), score)
def test_one_judge_cannot_move_a_trimmed_result_beyond_the_others_range(scores: list[D], outlier: D) -> None:
    """With the extremes dropped, one extra extreme score keeps the result inside the range
    of the original scores."""
    result = scoring.result_of(ScoringRule.TRIMMED, [*scores, outlier], min_scores=1)
    assert result is not None
    assert min(scores) - D("0.005") <= result <= max(scores) + D("0.005")


@given(st.dictionaries(st.integers(1, 50), st.tuples(score, score), min_size=1, max_size=20))
def test_ranks_are_competition_ranks(results: dict[int, tuple[D, D]]) -> None:
    placed = scoring.rank(results, first=2, second=3, third=4, advance=5)
    assert sorted(p.key for p in placed) == sorted(results)
    for position, p in enumerate(placed, start=1):
        # rank = 1 + the number of entries strictly ahead (result, then lowest counted score)
        ahead = sum(
            1 for q in placed if (results[q.key][0], results[q.key][1]) > (results[p.key][0], results[p.key][1])
        )
        assert p.rank == 1 + ahead
        assert p.rank <= position
        assert p.advanced == (p.rank <= 5)
