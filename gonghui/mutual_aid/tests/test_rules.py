import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonghui.mutual_aid.rules import (
    DAY_ALLOWANCE,
    STANDARD,
    Cover,
    PlanRules,
    Stay,
    adjudicate,
    personal_cost_fen,
    times_ratio,
)

ENROLLED = dt.date(2026, 1, 1)
STD = PlanRules.model_validate(STANDARD)
DAY = PlanRules.model_validate(DAY_ALLOWANCE)


def stay(allowable: int = 0, *, days: int = 5, admitted: dt.date = dt.date(2026, 6, 1), outside: int = 0) -> Stay:
    # total = allowable + 医保 1000 元 + 大病 200 元 + outside
    return Stay(
        total_fen=allowable + 100_000 + 20_000 + outside,
        basic_insurance_fen=100_000,
        serious_illness_insurance_fen=20_000,
        self_outside_catalogue_fen=outside,
        days=days,
        admitted_on=admitted,
    )


def cover(*, first: bool = True, paid: int = 0, deductible_used: int = 0) -> Cover:
    return Cover(
        enrolled_on=ENROLLED, first_enrolment=first, period_paid_fen=paid, period_deductible_used_fen=deductible_used
    )


@pytest.mark.parametrize(
    ("name", "allowable", "paid", "benefit"),
    [
        ("nothing allowable", 0, 0, 0),
        ("below the deductible", 99_999, 0, 0),
        ("exactly at the deductible", 100_000, 0, 0),
        ("one fen above: 0.5 fen rounds up", 100_001, 0, 1),
        ("three fen above: 1.5 rounds up to 2", 100_003, 0, 2),
        ("exactly ¥10,000 above", 1_100_000, 0, 500_000),
        ("one fen into the 60% band", 1_100_001, 0, 500_001),
        ("crossing the band: ¥15,000 allowable", 1_500_000, 0, 500_000 + 240_000),
        ("hitting the per-stay cap", 20_000_000, 0, 5_000_000),
        ("exactly at the per-stay cap", 100_000 + 1_000_000 + 7_500_000, 0, 5_000_000),
        ("last ¥3,000 of the period cap", 1_500_000, 19_700_000, 300_000),
        ("period cap already spent", 1_500_000, 20_000_000, 0),
        ("under what is left of the period cap", 1_500_000, 19_000_000, 740_000),
    ],
)
def test_standard_table(name: str, allowable: int, paid: int, benefit: int) -> None:
    result = adjudicate(rules=STD, stay=stay(allowable), cover=cover(paid=paid))
    assert result.benefit_fen == benefit, name
    assert [s.step for s in result.steps] == [
        "waiting",
        "allowable",
        "deductible",
        "band",
        "band",
        "per_stay_cap",
        "per_period_cap",
    ]
    assert result.steps[1].amount_fen == allowable
    assert result.steps[-1].amount_fen == benefit


def test_standard_steps_show_each_rule() -> None:
    result = adjudicate(rules=STD, stay=stay(1_500_000, outside=30_000), cover=cover())
    amounts = [(s.step, s.amount_fen) for s in result.steps]
    assert amounts == [
        ("waiting", 0),
        ("allowable", 1_500_000),
        ("deductible", 1_400_000),
        ("band", 500_000),
        ("band", 240_000),
        ("per_stay_cap", 740_000),
        ("per_period_cap", 740_000),
    ]
    assert "目录外自付 ¥300.00" in result.steps[1].rule
    assert "扣除 ¥1,000.00" in result.steps[2].rule
    assert "按 50%" in result.steps[3].rule and "按 60%" in result.steps[4].rule
    assert result.deductible_used_fen == 100_000


def test_a_renewal_is_not_covered_before_its_enrolment_date() -> None:
    result = adjudicate(rules=STD, stay=stay(1_500_000, admitted=dt.date(2025, 12, 31)), cover=cover(first=False))
    assert result.benefit_fen == 0
    assert result.steps[0].rule == "续保自 2026-01-01 起保障，本次 2025-12-31 入院在参保之前，不予支付"


def test_allowable_never_below_zero() -> None:
    odd = Stay(
        total_fen=100_000,
        basic_insurance_fen=90_000,
        serious_illness_insurance_fen=20_000,
        self_outside_catalogue_fen=5_000,
        days=2,
        admitted_on=dt.date(2026, 6, 1),
    )
    result = adjudicate(rules=STD, stay=odd, cover=cover())
    assert result.steps[1].amount_fen == 0
    assert result.benefit_fen == 0


@pytest.mark.parametrize(
    ("admitted", "first", "covered"),
    [
        (dt.date(2026, 1, 1), True, False),  # the day of enrolment
        (dt.date(2026, 3, 31), True, False),  # day 89
        (dt.date(2026, 4, 1), True, True),  # day 90: covered
        (dt.date(2026, 1, 1), False, True),  # a renewal has no wait
    ],
)
@pytest.mark.parametrize("rules", [STD, DAY], ids=["standard", "day_allowance"])
def test_waiting_period(rules: PlanRules, admitted: dt.date, first: bool, covered: bool) -> None:
    result = adjudicate(rules=rules, stay=stay(1_500_000, days=10, admitted=admitted), cover=cover(first=first))
    assert (result.benefit_fen > 0) is covered
    if not covered:
        assert [s.step for s in result.steps] == ["waiting"]
        assert "不予支付" in result.steps[0].rule


@pytest.mark.parametrize(
    ("days", "paid", "benefit"),
    [
        (0, 0, 0),
        (3, 0, 0),
        (4, 0, 4_000),
        (10, 0, 7 * 4_000),
        (183, 0, 180 * 4_000),
        (184, 0, 720_000),
        (10, 700_000, 20_000),
        (10, 720_000, 0),
    ],
)
def test_day_allowance_table(days: int, paid: int, benefit: int) -> None:
    result = adjudicate(rules=DAY, stay=stay(0, days=days), cover=cover(paid=paid))
    assert result.benefit_fen == benefit
    assert [s.step for s in result.steps] == ["waiting", "day_allowance", "per_stay_cap", "per_period_cap"]


def test_deductible_per_period_is_asked_once() -> None:
    rules = PlanRules.model_validate({**STANDARD, "deductible_per": "period"})
    first = adjudicate(rules=rules, stay=stay(300_000), cover=cover())
    assert first.deductible_used_fen == 100_000 and first.benefit_fen == 100_000
    second = adjudicate(rules=rules, stay=stay(300_000), cover=cover(deductible_used=100_000))
    assert second.deductible_used_fen == 0 and second.benefit_fen == 150_000
    partly = adjudicate(rules=rules, stay=stay(300_000), cover=cover(deductible_used=40_000))
    assert partly.deductible_used_fen == 60_000 and partly.benefit_fen == 120_000


def test_times_ratio_rounds_half_up() -> None:
    from decimal import Decimal

    assert times_ratio(1, Decimal("50")) == 1
    assert times_ratio(5, Decimal("10")) == 1  # 0.5
    assert times_ratio(4, Decimal("10")) == 0
    assert times_ratio(7, Decimal("60")) == 4  # 4.2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**STANDARD, "bands": []}, "至少需要一个比例分段"),
        ({**STANDARD, "bands": [{"up_to_fen": None, "ratio_percent": "50"}, {"ratio_percent": "60"}]}, "最后一个"),
        (
            {**STANDARD, "bands": [{"up_to_fen": 5, "ratio_percent": "50"}, {"up_to_fen": 5, "ratio_percent": "60"}]},
            "逐段增大",
        ),
        ({**DAY_ALLOWANCE, "day_allowance_fen": 0}, "每日补助"),
    ],
)
def test_rules_refuse_inconsistent_bodies(body: dict, message: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        PlanRules.model_validate(body)


fen = st.integers(min_value=0, max_value=50_000_000)


@st.composite
def stays(draw: st.DrawFn) -> Stay:
    return Stay(
        total_fen=draw(fen),
        basic_insurance_fen=draw(fen),
        serious_illness_insurance_fen=draw(st.integers(0, 5_000_000)),
        self_outside_catalogue_fen=draw(st.integers(0, 5_000_000)),
        days=draw(st.integers(0, 400)),
        admitted_on=draw(st.dates(dt.date(2025, 12, 1), dt.date(2026, 12, 31))),
    )


covers = st.builds(
    Cover, enrolled_on=st.just(ENROLLED), first_enrolment=st.booleans(), period_paid_fen=st.integers(0, 25_000_000)
)


@given(stays(), covers)
def test_standard_benefit_within_personal_cost_and_caps(s: Stay, c: Cover) -> None:
    result = adjudicate(rules=STD, stay=s, cover=c)
    assert 0 <= result.benefit_fen <= personal_cost_fen(s)
    assert result.benefit_fen <= 5_000_000
    assert c.period_paid_fen + result.benefit_fen <= max(20_000_000, c.period_paid_fen)


@given(stays(), covers)
def test_day_allowance_within_caps(s: Stay, c: Cover) -> None:
    result = adjudicate(rules=DAY, stay=s, cover=c)
    assert 0 <= result.benefit_fen <= max(0, s.days - 3) * 4_000
    assert c.period_paid_fen + result.benefit_fen <= max(720_000, c.period_paid_fen)


@given(stays(), covers, st.integers(0, 10_000_000), st.integers(0, 30))
def test_benefit_never_decreases_when_cost_grows(s: Stay, c: Cover, more: int, more_days: int) -> None:
    grown = Stay(
        total_fen=s.total_fen + more,
        basic_insurance_fen=s.basic_insurance_fen,
        serious_illness_insurance_fen=s.serious_illness_insurance_fen,
        self_outside_catalogue_fen=s.self_outside_catalogue_fen,
        days=s.days + more_days,
        admitted_on=s.admitted_on,
    )
    for rules in (STD, DAY):
        assert (
            adjudicate(rules=rules, stay=grown, cover=c).benefit_fen
            >= adjudicate(rules=rules, stay=s, cover=c).benefit_fen
        )
