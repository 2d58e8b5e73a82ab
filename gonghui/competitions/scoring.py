"""How a stage's results are computed from the judges' scores — pure functions, no database.

Rules (`ScoringRule`):
- ``trimmed``: drop one highest and one lowest score, average the rest (needs at least 3 scores);
- ``mean``: the average of the scores;
- ``median``: the middle score (the mean of the two middle ones for an even count).
Results are rounded half-up to two decimals.

Missing scores: a result is computed over the scores submitted so far, and only once there are
at least the stage's ``min_scores`` of them (and at least 3 for ``trimmed``); before that the
entry's result is *pending* (None). A stage cannot be published while an entry is pending.

Ranking and ties: higher result first. Equal results are separated by the higher lowest
counted score (the more consistent performance); still equal, the entries share the rank and
the next rank is skipped (1, 1, 3). Awards go by rank: ranks 1..first_prizes get 一等奖, the next
second_prizes ranks 二等奖, then third_prizes ranks 三等奖 — entries sharing a rank share its award,
so a tie at the boundary gives both entries the award. The same goes for advancing: every
entry whose rank is within ``advance`` advances."""

import decimal
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gonghui.competitions.models import Award, ScoringRule

D = decimal.Decimal
CENT = D("0.01")
TRIMMED_MINIMUM = 3


def required_scores(rule: str, min_scores: int) -> int:
    """How many submitted scores an entry needs before its result exists."""
    return max(min_scores, TRIMMED_MINIMUM if rule == ScoringRule.TRIMMED else 1)


def counted(rule: str, scores: Sequence[D]) -> list[D]:
    """The scores the rule uses (for ``trimmed``, without one highest and one lowest)."""
    ordered = sorted(scores)
    if rule == ScoringRule.TRIMMED:
        return ordered[1:-1]
    return ordered


def result_of(rule: str, scores: Sequence[D], *, min_scores: int) -> D | None:
    """The entry's result, or None while it is pending (too few scores submitted)."""
    if len(scores) < required_scores(rule, min_scores):
        return None
    used = counted(rule, scores)
    value = D(statistics.median(used)) if rule == ScoringRule.MEDIAN else sum(used, D(0)) / D(len(used))
    return value.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


@dataclass(frozen=True)
class Placed:
    key: int
    result: D
    rank: int
    award: str
    advanced: bool


def rank(
    results: Mapping[int, tuple[D, D]], *, first: int = 0, second: int = 0, third: int = 0, advance: int = 0
) -> list[Placed]:
    """Rank entries given {key: (result, lowest counted score)}; see the module's tie rule."""
    ordered = sorted(results.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    placed: list[Placed] = []
    previous: tuple[D, D] | None = None
    current_rank = 0
    for position, (key, pair) in enumerate(ordered, start=1):
        if pair != previous:
            current_rank = position
            previous = pair
        placed.append(
            Placed(key, pair[0], current_rank, award_for(current_rank, first, second, third), current_rank <= advance)
        )
    return placed


def award_for(rank_no: int, first: int, second: int, third: int) -> str:
    if rank_no <= first:
        return Award.FIRST
    if rank_no <= first + second:
        return Award.SECOND
    if rank_no <= first + second + third:
        return Award.THIRD
    return Award.NONE
