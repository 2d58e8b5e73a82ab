"""The hardship-class formula and the 大病救助 tiers, at and around every boundary. Each test
name states the rule it pins."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonghui.relief.policies import CLASSES_DEFAULT, MAJOR_ILLNESS_DEFAULT, ClassesBody, MajorIllnessBody
from gonghui.relief.rules import ClassParams, HardshipClass, IllnessParams, assess_household, major_illness

DIBAO = 122_500  # ¥1,225.00 a month
SIZE = 3
BASE = DIBAO * 12 * SIZE  # ¥44,100.00: the deep line; twice that is the relative line
PARAMS = ClassParams.of(CLASSES_DEFAULT)
ILLNESS = IllnessParams.of(MAJOR_ILLNESS_DEFAULT)


def klass(disposable: int, *, income: int | None = None, costs: int = 0, disaster: bool = False) -> HardshipClass:
    """The class of a household whose income minus rigid spending is `disposable`."""
    annual = income if income is not None else disposable + 1_000_000
    rigid = annual - disposable
    return assess_household(
        annual_income_fen=annual,
        rigid_spending_fen=rigid,
        household_size=SIZE,
        dibao_monthly_fen=DIBAO,
        hardship_costs_fen=costs,
        disaster=disaster,
        params=PARAMS,
    ).klass


def test_shipped_defaults_pass_their_schemas() -> None:
    assert ClassesBody.model_validate(CLASSES_DEFAULT).relative_percent == 200
    assert MajorIllnessBody.model_validate(MAJOR_ILLNESS_DEFAULT).yearly_cap_fen == 5_000_000


def test_deep_when_disposable_one_fen_below_dibao_times_12_times_size() -> None:
    assert klass(BASE - 1) == HardshipClass.DEEP


def test_not_deep_but_relative_when_disposable_equals_dibao_times_12_times_size() -> None:
    assert klass(BASE) == HardshipClass.RELATIVE


def test_relative_when_disposable_one_fen_above_dibao_times_12_times_size() -> None:
    assert klass(BASE + 1) == HardshipClass.RELATIVE


def test_relative_when_disposable_one_fen_below_twice_dibao_times_12_times_size() -> None:
    assert klass(2 * BASE - 1) == HardshipClass.RELATIVE


def test_none_when_disposable_equals_twice_dibao_times_12_times_size_and_no_accident() -> None:
    assert klass(2 * BASE) == HardshipClass.NONE


def test_deep_when_rigid_spending_exceeds_income_so_disposable_is_negative() -> None:
    assert klass(-5_000_00, income=1_000_00) == HardshipClass.DEEP


def test_accident_when_hardship_costs_one_fen_above_80_percent_of_income() -> None:
    income = 10_000_000
    assert klass(2 * BASE, income=income, costs=income * 80 // 100 + 1) == HardshipClass.ACCIDENT


def test_not_accident_when_hardship_costs_exactly_80_percent_of_income() -> None:
    income = 10_000_000
    assert klass(2 * BASE, income=income, costs=income * 80 // 100) == HardshipClass.NONE


def test_accident_boundary_is_exact_without_division_for_income_not_divisible_by_5() -> None:
    # 80% of ¥100,000.03 is ¥80,000.024: ¥80,000.02 is not above it, ¥80,000.03 is.
    income = 10_000_003
    assert klass(2 * BASE, income=income, costs=8_000_002) == HardshipClass.NONE
    assert klass(2 * BASE, income=income, costs=8_000_003) == HardshipClass.ACCIDENT


def test_accident_when_disaster_recorded_even_with_no_hardship_costs() -> None:
    assert klass(2 * BASE, disaster=True) == HardshipClass.ACCIDENT


def test_deep_takes_precedence_over_accident_in_the_fixed_order() -> None:
    assert klass(BASE - 1, costs=10**9, disaster=True) == HardshipClass.DEEP


def test_relative_takes_precedence_over_accident_in_the_fixed_order() -> None:
    assert klass(BASE, costs=10**9, disaster=True) == HardshipClass.RELATIVE


@pytest.mark.parametrize(
    ("rule", "size", "dibao", "disposable", "expected"),
    [
        ("deep_below_1x_for_one_person", 1, 100_000, 1_199_999, HardshipClass.DEEP),
        ("relative_at_1x_for_one_person", 1, 100_000, 1_200_000, HardshipClass.RELATIVE),
        ("relative_below_2x_for_one_person", 1, 100_000, 2_399_999, HardshipClass.RELATIVE),
        ("none_at_2x_for_one_person", 1, 100_000, 2_400_000, HardshipClass.NONE),
        ("deep_below_1x_for_five_persons", 5, 99_999, 99_999 * 60 - 1, HardshipClass.DEEP),
        ("relative_at_1x_for_five_persons", 5, 99_999, 99_999 * 60, HardshipClass.RELATIVE),
        ("none_at_2x_for_five_persons", 5, 99_999, 99_999 * 120, HardshipClass.NONE),
        ("deep_for_zero_disposable", 2, 1, 0, HardshipClass.DEEP),
    ],
)
def test_class_table(rule: str, size: int, dibao: int, disposable: int, expected: HardshipClass) -> None:
    result = assess_household(
        annual_income_fen=disposable + 300_000,
        rigid_spending_fen=300_000,
        household_size=size,
        dibao_monthly_fen=dibao,
        params=PARAMS,
    )
    assert result.klass == expected, rule


def test_steps_show_the_arithmetic_in_yuan() -> None:
    result = assess_household(
        annual_income_fen=5_000_000,
        rigid_spending_fen=1_200_000,
        household_size=SIZE,
        dibao_monthly_fen=DIBAO,
        params=PARAMS,
    )
    assert result.klass == HardshipClass.DEEP
    assert result.disposable_fen == 3_800_000 and result.base_fen == BASE
    assert result.steps == [
        "家庭年可支配收入 − 刚性支出 = ¥50,000.00 − ¥12,000.00 = ¥38,000.00",
        "低保月标准 × 12 × 共同生活人口 = ¥1,225.00 × 12 × 3 = ¥44,100.00",
        "¥38,000.00 < ¥44,100.00 × 100% = ¥44,100.00，认定为深度困难",
    ]


def test_a_household_of_zero_persons_is_refused() -> None:
    with pytest.raises(ValueError, match="至少 1 人"):
        assess_household(annual_income_fen=0, rigid_spending_fen=0, household_size=0, dibao_monthly_fen=DIBAO)


# ---- 大病救助 ---------------------------------------------------------------------------------


def illness(net: int, paid: int = 0) -> int:
    return major_illness(
        total_fen=net + 5_000_000,
        medical_insurance_fen=3_000_000,
        other_insurance_fen=1_500_000,
        mutual_aid_fen=500_000,
        params=ILLNESS,
        paid_this_year_fen=paid,
    ).amount_fen


@pytest.mark.parametrize(
    ("rule", "net_fen", "amount_fen"),
    [
        ("nothing_below_10000_yuan", 999_999, 0),
        ("nothing_for_zero_net", 0, 0),
        ("1500_at_exactly_10000_yuan_lower_inclusive", 1_000_000, 150_000),
        ("1500_at_19999_99_yuan", 1_999_999, 150_000),
        ("3000_at_exactly_20000_yuan_upper_exclusive", 2_000_000, 300_000),
        ("3000_at_29999_99_yuan", 2_999_999, 300_000),
        ("6000_at_exactly_30000_yuan", 3_000_000, 600_000),
        ("6000_at_39999_99_yuan", 3_999_999, 600_000),
        ("10000_at_exactly_40000_yuan", 4_000_000, 1_000_000),
        ("10000_at_49999_99_yuan", 4_999_999, 1_000_000),
        ("20000_at_exactly_50000_yuan", 5_000_000, 2_000_000),
        ("20000_at_79999_99_yuan", 7_999_999, 2_000_000),
        ("30000_at_exactly_80000_yuan", 8_000_000, 3_000_000),
        ("30000_at_99999_99_yuan", 9_999_999, 3_000_000),
        ("50000_at_exactly_100000_yuan", 10_000_000, 5_000_000),
        ("50000_far_above_100000_yuan", 10**11, 5_000_000),
    ],
)
def test_major_illness_tier_boundaries(rule: str, net_fen: int, amount_fen: int) -> None:
    assert illness(net_fen) == amount_fen, rule


def test_major_illness_net_20000_yuan_exactly_gives_3000_yuan() -> None:
    assert illness(2_000_000) == 300_000


def test_major_illness_net_19999_99_yuan_gives_1500_yuan() -> None:
    assert illness(1_999_999) == 150_000


def test_major_illness_net_below_10000_yuan_gives_nothing() -> None:
    assert illness(999_999) == 0


def test_major_illness_net_100000_yuan_and_above_gives_50000_yuan() -> None:
    assert illness(10_000_000) == 5_000_000


def test_major_illness_net_is_never_below_zero_when_reimbursements_exceed_the_total() -> None:
    result = major_illness(
        total_fen=1_000_000,
        medical_insurance_fen=900_000,
        other_insurance_fen=200_000,
        mutual_aid_fen=0,
        params=ILLNESS,
    )
    assert result.net_personal_fen == 0 and result.amount_fen == 0
    assert "个人自付按 ¥0.00 计" in result.steps[1]


def test_major_illness_net_subtracts_insurance_other_insurance_and_mutual_aid() -> None:
    result = major_illness(
        total_fen=8_000_000,
        medical_insurance_fen=4_000_000,
        other_insurance_fen=1_000_000,
        mutual_aid_fen=500_000,
        params=ILLNESS,
    )
    assert result.net_personal_fen == 2_500_000
    assert result.tier_amount_fen == 300_000 and result.amount_fen == 300_000
    assert result.steps[0] == (
        "个人自付 = 医疗总费用 − 医保统筹支付 − 其他保险赔付 − 医疗互助金 = "
        "¥80,000.00 − ¥40,000.00 − ¥10,000.00 − ¥5,000.00 = ¥25,000.00"
    )


def test_major_illness_yearly_cap_limits_a_second_payment_to_what_is_left() -> None:
    assert illness(10_000_000, paid=4_000_000) == 1_000_000
    assert illness(10_000_000, paid=5_000_000) == 0
    assert illness(2_000_000, paid=4_900_000) == 100_000


def test_major_illness_refuses_negative_amounts() -> None:
    with pytest.raises(ValueError, match="不能为负数"):
        major_illness(total_fen=-1, medical_insurance_fen=0, other_insurance_fen=0, mutual_aid_fen=0, params=ILLNESS)


amounts = st.integers(min_value=0, max_value=10**10)


@given(net=amounts, paid=st.integers(min_value=0, max_value=10**8))
def test_property_major_illness_amount_never_exceeds_the_cap(net: int, paid: int) -> None:
    result = major_illness(
        total_fen=net,
        medical_insurance_fen=0,
        other_insurance_fen=0,
        mutual_aid_fen=0,
        params=ILLNESS,
        paid_this_year_fen=paid,
    )
    assert 0 <= result.amount_fen <= ILLNESS.yearly_cap_fen
    assert result.amount_fen + paid <= max(ILLNESS.yearly_cap_fen, paid)


@given(a=amounts, b=amounts, paid=st.integers(min_value=0, max_value=10**8))
def test_property_major_illness_amount_never_decreases_as_net_spend_grows(a: int, b: int, paid: int) -> None:
    low, high = sorted((a, b))

    def amount(net: int) -> int:
        return major_illness(
            total_fen=net,
            medical_insurance_fen=0,
            other_insurance_fen=0,
            mutual_aid_fen=0,
            params=ILLNESS,
            paid_this_year_fen=paid,
        ).amount_fen

    assert amount(low) <= amount(high)


@given(
    total=amounts,
    medical=amounts,
    other=amounts,
    mutual=amounts,
)
def test_property_major_illness_net_personal_spend_is_never_negative(
    total: int, medical: int, other: int, mutual: int
) -> None:
    result = major_illness(
        total_fen=total, medical_insurance_fen=medical, other_insurance_fen=other, mutual_aid_fen=mutual, params=ILLNESS
    )
    assert result.net_personal_fen == max(total - medical - other - mutual, 0)


@given(
    disposable=st.integers(min_value=-(10**9), max_value=10**9), size=st.integers(1, 20), dibao=st.integers(1, 10**6)
)
def test_property_class_order_matches_the_formula(disposable: int, size: int, dibao: int) -> None:
    result = assess_household(
        annual_income_fen=10**9 + disposable,
        rigid_spending_fen=10**9,
        household_size=size,
        dibao_monthly_fen=dibao,
        params=PARAMS,
    )
    base = dibao * 12 * size
    expected = (
        HardshipClass.DEEP
        if disposable < base
        else HardshipClass.RELATIVE
        if disposable < 2 * base
        else HardshipClass.NONE
    )
    assert result.klass == expected
