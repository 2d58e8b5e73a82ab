"""Interpretation, table-driven: every row is (code, value, unit, sex, age) → (flag, canonical
value), at the limits of reference intervals and guideline cut-offs, and across unit
conversions. A reference interval includes its limits; a guideline cut-off follows its wording
(≥ for 空腹血糖, BMI, blood pressure, lipids; > for 尿酸); critical limits are strict."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from gonghui.health.catalogue import Catalogue, UnitRefused, UnknownCode
from gonghui.health.cleaning import Unreadable, parse_date, parse_decimal, parse_range, unit_key
from gonghui.health.interpret import interpret_raw

BOUNDARIES = [
    # 空腹血糖: guideline, low < 3.9, high ≥ 6.1 (糖尿病指南2020)
    ("GLU", "3.89", "mmol/L", "M", 40, "low", "3.89"),
    ("GLU", "3.9", "mmol/L", "M", 40, "normal", "3.90"),
    ("GLU", "6.09", "mmol/L", "F", 40, "normal", "6.09"),
    ("GLU", "6.1", "mmol/L", "F", 40, "high", "6.10"),
    ("GLU", "6.095", "mmol/L", "F", 40, "high", "6.10"),
    ("GLU", "6.094", "mmol/L", "F", 40, "normal", "6.09"),
    # 白细胞: WS/T 405 interval includes both limits
    ("WBC", "3.49", "10^9/L", "M", 30, "low", "3.49"),
    ("WBC", "3.5", "10^9/L", "M", 30, "normal", "3.50"),
    ("WBC", "9.5", "10^9/L", "F", 30, "normal", "9.50"),
    ("WBC", "9.51", "10^9/L", "F", 30, "high", "9.51"),
    # 血红蛋白 by sex
    ("HGB", "130", "g/L", "M", 30, "normal", "130"),
    ("HGB", "129", "g/L", "M", 30, "low", "129"),
    ("HGB", "115", "g/L", "F", 30, "normal", "115"),
    ("HGB", "114", "g/L", "F", 30, "low", "114"),
    ("HGB", "175", "g/L", "M", 30, "normal", "175"),
    ("HGB", "151", "g/L", "F", 30, "high", "151"),
    # 碱性磷酸酶: women change band at 50
    ("ALP", "100", "U/L", "F", 49, "normal", "100"),
    ("ALP", "101", "U/L", "F", 49, "high", "101"),
    ("ALP", "101", "U/L", "F", 50, "normal", "101"),
    ("ALP", "49", "U/L", "F", 50, "low", "49"),
    ("ALP", "135", "U/L", "F", 50, "normal", "135"),
    ("ALP", "136", "U/L", "F", 50, "high", "136"),
    # 肌酐 (enzymatic) by sex and age band
    ("CREA", "97", "μmol/L", "M", 59, "normal", "97"),
    ("CREA", "98", "μmol/L", "M", 59, "high", "98"),
    ("CREA", "98", "μmol/L", "M", 60, "normal", "98"),
    ("CREA", "111", "μmol/L", "M", 60, "normal", "111"),
    ("CREA", "112", "μmol/L", "M", 60, "high", "112"),
    ("CREA", "40", "μmol/L", "F", 30, "low", "40"),
    # the youngest adult band applies from 16; younger workers have no interval
    ("UREA", "2.6", "mmol/L", "F", 16, "normal", "2.60"),
    ("UREA", "2.6", "mmol/L", "F", 15, "none", "2.60"),
    # 尿酸: > 420 is high, 420 itself is not
    ("UA", "420", "μmol/L", "M", 40, "normal", "420"),
    ("UA", "421", "μmol/L", "F", 40, "high", "421"),
    # lipids (血脂指南2023)
    ("TC", "5.19", "mmol/L", "M", 40, "normal", "5.19"),
    ("TC", "5.2", "mmol/L", "M", 40, "high", "5.20"),
    ("LDL", "3.39", "mmol/L", "M", 40, "normal", "3.39"),
    ("LDL", "3.4", "mmol/L", "M", 40, "high", "3.40"),
    ("TG", "1.69", "mmol/L", "F", 40, "normal", "1.69"),
    ("TG", "1.7", "mmol/L", "F", 40, "high", "1.70"),
    ("HDL", "0.99", "mmol/L", "F", 40, "low", "0.99"),
    ("HDL", "1.0", "mmol/L", "F", 40, "normal", "1.00"),
    # blood pressure (高血压指南2018)
    ("SBP", "139", "mmHg", "M", 50, "normal", "139"),
    ("SBP", "140", "mmHg", "M", 50, "high", "140"),
    ("SBP", "89", "mmHg", "F", 50, "low", "89"),
    ("SBP", "90", "mmHg", "F", 50, "normal", "90"),
    ("DBP", "89", "mmHg", "M", 50, "normal", "89"),
    ("DBP", "90", "mmHg", "M", 50, "high", "90"),
    # BMI and waist (WS/T 428—2013)
    ("BMI", "18.4", "kg/m²", "M", 30, "low", "18.4"),
    ("BMI", "18.5", "kg/m²", "M", 30, "normal", "18.5"),
    ("BMI", "23.9", "kg/m²", "M", 30, "normal", "23.9"),
    ("BMI", "24.0", "kg/m²", "M", 30, "high", "24.0"),
    ("WAIST", "84.9", "cm", "M", 30, "normal", "84.9"),
    ("WAIST", "85", "cm", "M", 30, "high", "85.0"),
    ("WAIST", "79.9", "cm", "F", 30, "normal", "79.9"),
    ("WAIST", "80", "cm", "F", 30, "high", "80.0"),
    # HbA1c ≥ 6.5 %
    ("HBA1C", "6.4", "%", "M", 50, "normal", "6.4"),
    ("HBA1C", "6.5", "%", "M", 50, "high", "6.5"),
    # critical limits are strict and win over the interval
    ("K", "2.8", "mmol/L", "M", 40, "low", "2.80"),
    ("K", "2.79", "mmol/L", "M", 40, "critical_low", "2.79"),
    ("K", "6.2", "mmol/L", "M", 40, "high", "6.20"),
    ("K", "6.21", "mmol/L", "M", 40, "critical_high", "6.21"),
    ("GLU", "22.2", "mmol/L", "M", 40, "high", "22.20"),
    ("GLU", "22.21", "mmol/L", "M", 40, "critical_high", "22.21"),
    ("SBP", "180", "mmHg", "M", 40, "high", "180"),
    ("SBP", "181", "mmHg", "M", 40, "critical_high", "181"),
    ("PLT", "30", "10^9/L", "F", 40, "low", "30"),
    ("PLT", "29", "10^9/L", "F", 40, "critical_low", "29"),
    # no interval in the catalogue: measured, not judged
    ("WEIGHT", "70", "kg", "M", 40, "none", "70.0"),
]

CONVERSIONS = [
    # glucose mg/dL ÷ 18
    ("GLU", "126", "mg/dL", "M", 40, "high", "7.00"),
    ("GLU", "99", "mg/dL", "M", 40, "normal", "5.50"),
    ("GLU", "109.8", "mg/dL", "M", 40, "high", "6.10"),
    ("GLU", "70", "mg/dL", "M", 40, "low", "3.89"),
    ("GLU", "70.2", "mg/dL", "M", 40, "normal", "3.90"),
    # cholesterol mg/dL ÷ 38.67, triglycerides ÷ 88.57
    ("TC", "200", "mg/dL", "F", 40, "normal", "5.17"),
    ("TC", "201", "mg/dL", "F", 40, "high", "5.20"),
    ("LDL", "130", "mg/dL", "F", 40, "normal", "3.36"),
    ("LDL", "132", "mg/dL", "F", 40, "high", "3.41"),
    ("HDL", "39", "mg/dL", "F", 40, "normal", "1.01"),
    ("HDL", "38", "mg/dL", "F", 40, "low", "0.98"),
    ("TG", "150", "mg/dL", "F", 40, "normal", "1.69"),
    ("TG", "151", "mg/dL", "F", 40, "high", "1.70"),
    # creatinine mg/dL × 88.4, uric acid mg/dL × 59.48, mmol/L × 1000
    ("CREA", "1.1", "mg/dL", "M", 30, "normal", "97"),
    ("CREA", "1.11", "mg/dL", "M", 30, "high", "98"),
    ("UA", "7.0", "mg/dL", "M", 30, "normal", "416"),
    ("UA", "7.07", "mg/dL", "M", 30, "high", "421"),
    ("UA", "0.42", "mmol/L", "M", 30, "normal", "420"),
    # urea nitrogen mg/dL × 0.357 (only under a BUN code)
    ("BUN", "20", "mg/dL", "M", 30, "normal", "7.14"),
    # bilirubin mg/dL × 17.1 (≤ 26.0 men, ≤ 21.0 women)
    ("TBIL", "1.5", "mg/dL", "M", 30, "normal", "25.7"),
    ("TBIL", "1.5", "mg/dL", "F", 30, "high", "25.7"),
    # haemoglobin g/dL × 10
    ("HGB", "12.9", "g/dL", "M", 30, "low", "129"),
    # HbA1c IFCC mmol/mol → NGSP %
    ("HBA1C", "46", "mmol/mol", "M", 50, "normal", "6.4"),
    ("HBA1C", "48", "mmol/mol", "M", 50, "high", "6.5"),
    # blood pressure kPa × 7.50062
    ("SBP", "18.7", "kPa", "M", 50, "high", "140"),
    # spellings of the same unit
    ("WBC", "5.6", "G/L", "M", 30, "normal", "5.60"),
    ("WBC", "5.6", "×10⁹/L", "M", 30, "normal", "5.60"),
    ("WBC", "5.6", "10*9/L", "M", 30, "normal", "5.60"),
    ("WBC", "5.6", "K/uL", "M", 30, "normal", "5.60"),
    ("RBC", "4.2", "T/L", "F", 30, "normal", "4.20"),
    ("CREA", "80", "µmol/L", "F", 30, "high", "80"),
    ("CREA", "80", "umol/l", "F", 30, "high", "80"),
    ("SBP", "120", "mm[Hg]", "F", 30, "normal", "120"),
    ("GLU", "5.0", "ｍｍｏｌ/Ｌ", "F", 30, "normal", "5.00"),
    ("GLU", "5.0", "mmol\u200b/L", "F", 30, "normal", "5.00"),
    ("BMI", "22", "kg/m2", "F", 30, "normal", "22.0"),
    ("WEIGHT", "140", "斤", "F", 30, "none", "70.0"),
    ("AG", "1.5", "", "F", 30, "normal", "1.50"),
    # codes: LOINC, local code, Chinese name
    ("14771-0", "6.0", "mmol/L", "F", 30, "normal", "6.00"),
    ("1558-6", "108", "mg/dL", "F", 30, "normal", "6.00"),
    ("空腹血糖", "6.2", "mmol/L", "F", 30, "high", "6.20"),
    ("谷丙转氨酶", "41", "U/L", "F", 30, "high", "41"),
    ("1742-6", "0.5", "μkat/L", "M", 30, "normal", "30"),
]


@pytest.mark.parametrize(("code", "value", "unit", "sex", "age", "flag", "canonical"), BOUNDARIES + CONVERSIONS)
def test_interpretation_table(
    catalogue: Catalogue, code: str, value: str, unit: str, sex: str, age: int, flag: str, canonical: str
) -> None:
    _spec, result = interpret_raw(catalogue, code=code, value=value, unit=unit, sex=sex, age=age)
    assert (result.flag, str(result.canonical_value)) == (flag, canonical)


@pytest.mark.parametrize(
    ("code", "unit", "error"),
    [
        ("14771-0", "mg/dL", "unit_mismatch"),  # a molar LOINC code with a mass unit
        ("2345-7", "mmol/L", "unit_mismatch"),
        ("2160-0", "μmol/L", "unit_mismatch"),
        ("UREA", "mg/dL", "unit_mismatch"),  # urea in mg/dL is ambiguous with BUN: refused
        ("GLU", "U/L", "unit_unknown"),
        ("GLU", "mmol/mol", "unit_unknown"),
        ("GLU", "", "unit_missing"),
        ("WBC", "g/L", "unit_unknown"),  # g/L is grams, G/L is giga-cells
    ],
)
def test_code_and_unit_that_disagree_are_refused(catalogue: Catalogue, code: str, unit: str, error: str) -> None:
    with pytest.raises(UnitRefused) as excinfo:
        interpret_raw(catalogue, code=code, value="5", unit=unit, sex="M", age=40)
    assert excinfo.value.code == error


def test_unknown_code_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownCode):
        interpret_raw(catalogue, code="HBSAG", value="1", unit="", sex="M", age=40)


def test_interval_names_its_source_and_limits(catalogue: Catalogue) -> None:
    _spec, result = interpret_raw(catalogue, code="CREA", value="100", unit="μmol/L", sex="F", age=65)
    assert (result.low, result.high) == (Decimal("41"), Decimal("81"))
    assert result.interval is not None
    assert result.interval.source == "WS/T 404.5—2015 表1（酶法，女，60～79岁）"


def test_organisation_critical_limits_override_the_default(catalogue: Catalogue) -> None:
    spec = catalogue.by_code["K"]
    critical = {spec.id: (Decimal("3.0"), None)}
    _spec, result = interpret_raw(catalogue, code="K", value="2.9", unit="mmol/L", sex="M", age=40, critical=critical)
    assert (result.flag, result.critical_low, result.critical_high) == ("critical_low", Decimal("3.0"), None)
    _spec, result = interpret_raw(catalogue, code="K", value="6.5", unit="mmol/L", sex="M", age=40, critical=critical)
    assert result.flag == "high"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6.3", "6.3"),
        ("６.３", "6.3"),
        ("\u200b5.6\ufeff", "5.6"),
        ("6.3↑", "6.3"),
        ("6.3 H", "6.3"),
        ("2.1↓", "2.1"),
        ("+7", "7"),
        (".5", "0.5"),
        (5.6, "5.6"),
        (140, "140"),
        (Decimal("4.20"), "4.20"),
    ],
)
def test_values_are_read_without_guessing(raw: object, expected: str) -> None:
    assert str(parse_decimal(raw)) == expected


@pytest.mark.parametrize(
    "raw", ["<0.5", ">200", "≥6.1", "阴性", "1,234", "5,6", "-1", "", None, True, "NaN", float("inf"), "6.3.1", "1e3"]
)
def test_unreadable_values_are_refused(raw: object) -> None:
    with pytest.raises(Unreadable):
        parse_decimal(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("70_105", ("70", "105")),
        ("3.9-6.1", ("3.9", "6.1")),
        ("3.9～6.1", ("3.9", "6.1")),
        ("3.9 — 6.1", ("3.9", "6.1")),
        ("(3.5-5.3)", ("3.5", "5.3")),
        ("<5.2", (None, "5.2")),
        ("≤420", (None, "420")),
        (">1.0", ("1.0", None)),
    ],
)
def test_laboratory_ranges(raw: str, expected: tuple[str | None, str | None]) -> None:
    low, high = parse_range(raw)
    assert (str(low) if low is not None else None, str(high) if high is not None else None) == expected


@pytest.mark.parametrize("raw", ["阴性", "6.1-3.9", "男:13-17.5", "3.9-", ""])
def test_unreadable_ranges(raw: str) -> None:
    with pytest.raises(Unreadable):
        parse_range(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024/3/5",
        "2024.03.05",
        "20240305",
        "20240305083000+0800",
        "2024-03-05T08:30:00+08:00",
        "2024年3月5日",
        "\u200b2024-03-05 ",
        dt.date(2024, 3, 5),
        dt.datetime(2024, 3, 5, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(2024, 3, 4, 16, 30, tzinfo=dt.UTC),  # 00:30 on the 5th in Shanghai
        45356,
        45356.0,
    ],
)
def test_dates(raw: object) -> None:
    assert parse_date(raw, today=dt.date(2026, 1, 1)) == dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2024-02-30", "日期不存在"),
        ("20251345", "日期不存在"),
        ("05/03/2024", "日期写法有歧义（日/月顺序不明），请使用 年-月-日"),
        ("2024-03", "日期无法识别"),
        ("昨天", "日期无法识别"),
        ("2026-06-01", "检查日期晚于今天"),
        ("1949-12-31", "检查日期过早"),
        (12, "日期无法识别"),
        ("", "缺少检查日期"),
    ],
)
def test_bad_dates_are_refused_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(Unreadable) as excinfo:
        parse_date(raw, today=dt.date(2026, 1, 1))
    assert excinfo.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("μmol/L", "umol/l"),
        ("µmol/L", "umol/l"),
        ("G/L", "10^9/l"),
        ("×10⁹/L", "10^9/l"),
        ("x10^12/L", "10^12/l"),
        ("{beats}/min", "次/分"),
        ("mm[Hg]", "mmhg"),
        ("kg/m²", "kg/m2"),
        ("m[IU]/L", "miu/l"),
        ("u[IU]/mL", "uiu/ml"),
    ],
)
def test_unit_spellings(raw: str, key: str) -> None:
    assert unit_key(raw) == key


@pytest.mark.django_db
def test_health_interpret_command_reads_and_writes_json_lines(catalogue: Catalogue) -> None:
    lines = [
        {"loinc": "14771-0", "value": 6.1, "unit": "mmol/L", "sex": "M", "age": 45},
        {"loinc": "2345-7", "value": "126", "unit": "mg/dL", "sex": "女", "age": 30},
        {"loinc": "14682-9", "value": 112, "unit": "μmol/L", "sex": "M", "age": 65},
        {"loinc": "3084-1", "value": 7.07, "unit": "mg/dL", "sex": "F", "age": 30},
        {"loinc": "2823-3", "value": 2.7, "unit": "mmol/L", "sex": "M", "age": 30},
        {"loinc": "14771-0", "value": 6.1, "unit": "mg/dL", "sex": "M", "age": 45},
        {"loinc": "14771-0", "value": "阴性", "unit": "mmol/L", "sex": "M", "age": 45},
        {"loinc": "14771-0", "value": 5, "unit": "mmol/L", "sex": "X", "age": 45},
    ]
    stdin = io.StringIO("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\nnot json\n")
    out = io.StringIO()
    call_command("health_interpret", stdin=stdin, stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    picked = [
        {k: row.get(k) for k in ("flag", "low", "high", "canonical_value", "canonical_unit", "error")} for row in rows
    ]
    assert picked == [
        {"flag": "high", "low": 3.9, "high": 6.1, "canonical_value": 6.1, "canonical_unit": "mmol/L", "error": None},
        {"flag": "high", "low": 3.9, "high": 6.1, "canonical_value": 7, "canonical_unit": "mmol/L", "error": None},
        {"flag": "high", "low": 57, "high": 111, "canonical_value": 112, "canonical_unit": "μmol/L", "error": None},
        {"flag": "high", "low": None, "high": 420, "canonical_value": 421, "canonical_unit": "μmol/L", "error": None},
        {
            "flag": "critical_low",
            "low": 3.5,
            "high": 5.3,
            "canonical_value": 2.7,
            "canonical_unit": "mmol/L",
            "error": None,
        },
        {
            "flag": None,
            "low": None,
            "high": None,
            "canonical_value": None,
            "canonical_unit": None,
            "error": "unit_mismatch",
        },
        {
            "flag": None,
            "low": None,
            "high": None,
            "canonical_value": None,
            "canonical_unit": None,
            "error": "not_numeric",
        },
        {
            "flag": None,
            "low": None,
            "high": None,
            "canonical_value": None,
            "canonical_unit": None,
            "error": "sex_invalid",
        },
        {
            "flag": None,
            "low": None,
            "high": None,
            "canonical_value": None,
            "canonical_unit": None,
            "error": "invalid_json",
        },
    ]
    assert rows[2]["source"] == "WS/T 404.5—2015 表1（酶法，男，60～79岁）"
