"""`relief_assess` and `relief_major_illness`: JSON lines in, one JSON line out per input, a bad
line answered with a Chinese error and the run continuing."""

import io
import json
import sys
from typing import Any

import pytest
from django.core.management import call_command


def run(command: str, lines: list[str], monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
    out = io.StringIO()
    call_command(command, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def household(**overrides: Any) -> str:
    row = {
        "annual_income_fen": 4_409_999 + 1_000_000,
        "rigid_spending_fen": 1_000_000,
        "household_size": 3,
        "dibao_monthly_fen": 122_500,
        "hardship_costs_fen": 0,
        "disaster": False,
    }
    row.update(overrides)
    return json.dumps(row)


def test_relief_assess_classes_each_line_at_the_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(
        "relief_assess",
        [
            household(),  # disposable ¥44,099.99 < ¥1,225 × 12 × 3
            household(annual_income_fen=5_410_000),  # exactly the deep line → relative
            household(annual_income_fen=9_820_000),  # exactly twice → none
            household(annual_income_fen=9_820_000, disaster=True),
            household(annual_income_fen=10_000_000, hardship_costs_fen=8_000_001),
        ],
        monkeypatch,
    )
    assert [o["class"] for o in out] == ["deep", "relative", "none", "accident", "accident"]
    assert out[0]["label"] == "深度困难" and out[0]["disposable_fen"] == 4_409_999 and out[0]["base_fen"] == 4_410_000
    assert out[0]["steps"][-1].endswith("认定为深度困难")


def test_relief_assess_answers_a_bad_line_in_chinese_and_continues(monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(
        "relief_assess",
        [
            "not json",
            household(household_size=0),
            household(annual_income_fen="1000"),
            household(annual_income_fen=1.5),
            household(disaster="yes"),
            json.dumps([1, 2]),
            "",
            json.dumps({"annual_income_fen": 1}),
            household(),
        ],
        monkeypatch,
    )
    assert len(out) == 8
    assert out[0] == {"error": "第 1 行不是有效的 JSON", "line": 1}
    assert out[1]["error"] == "共同生活人口（household_size）必须在 1 到 99 之间"
    assert out[2]["error"] == "家庭年收入（annual_income_fen）必须是整数（单位：分）"
    assert out[3]["error"] == "家庭年收入（annual_income_fen）必须是整数（单位：分）"
    assert out[4]["error"] == "突发灾害或意外（disaster）必须是 true 或 false"
    assert out[5]["error"] == "每一行必须是一个 JSON 对象"
    assert out[6] == {"error": "缺少字段 rigid_spending_fen（刚性支出）", "line": 8}
    assert out[7]["class"] == "deep"


def illness(**row: Any) -> str:
    return json.dumps(row)


def test_relief_major_illness_gives_net_spend_and_tier_amount(monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(
        "relief_major_illness",
        [
            illness(
                total_fen=5_000_000,
                medical_insurance_fen=2_000_000,
                other_insurance_fen=500_000,
                mutual_aid_fen=500_000,
            ),
            illness(total_fen=2_999_999, medical_insurance_fen=1_000_000, other_insurance_fen=0, mutual_aid_fen=0),
            illness(total_fen=999_999, medical_insurance_fen=0, other_insurance_fen=0, mutual_aid_fen=0),
            illness(total_fen=10_000_000, medical_insurance_fen=0, other_insurance_fen=0, mutual_aid_fen=0),
            illness(total_fen=100, medical_insurance_fen=200, other_insurance_fen=0, mutual_aid_fen=0),
        ],
        monkeypatch,
    )
    assert [(o["net_personal_fen"], o["amount_fen"]) for o in out] == [
        (2_000_000, 300_000),
        (1_999_999, 150_000),
        (999_999, 0),
        (10_000_000, 5_000_000),
        (0, 0),
    ]
    assert out[0]["tier"] == {"from_fen": 2_000_000, "to_fen": 3_000_000, "amount_fen": 300_000}
    assert out[2]["tier"] is None
    assert out[3]["cap_fen"] == 5_000_000


def test_relief_major_illness_answers_a_bad_line_in_chinese_and_continues(monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(
        "relief_major_illness",
        [
            illness(total_fen=-1),
            illness(medical_insurance_fen=1),
            "{",
            illness(total_fen=True),
            illness(total_fen=2_000_000),
        ],
        monkeypatch,
    )
    assert out[0]["error"] == "医疗总费用（total_fen）必须在 0 到 1000000000000 之间"
    assert out[1]["error"] == "缺少字段 total_fen（医疗总费用）"
    assert out[2]["error"] == "第 3 行不是有效的 JSON"
    assert out[3]["error"] == "医疗总费用（total_fen）必须是整数（单位：分）"
    assert out[4]["amount_fen"] == 300_000
