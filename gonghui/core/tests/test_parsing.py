"""core/parsing.py: the one money parser and the form and filter readers every app uses."""

import datetime as dt
import decimal

import pytest
from django.http import QueryDict

from gonghui.core import parsing


@pytest.mark.parametrize(
    ("raw", "fen"),
    [("12.5", 1250), ("0.01", 1), ("1,200.00", 120000), ("１２", 1200), ("¥3", 300), ("12.500", 1250), ("0", 0)],
)
def test_yuan_to_fen(raw: str, fen: int) -> None:
    assert parsing.parse_yuan(raw) == fen


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("NaN", "金额应为以元为单位的数字，如 12.50"),
        ("Infinity", "金额应为以元为单位的数字，如 12.50"),
        ("1e3", "金额应为以元为单位的数字，如 12.50"),
        ("1e400", "金额应为以元为单位的数字，如 12.50"),
        ("-1", "金额不能为负数"),
        ("1.005", "金额最多保留两位小数"),
        ("", "请填写金额（元），如 12.50"),
        ("1" + "0" * 20, "金额不能超过 20000000.00 元"),
        ("20000000.01", "金额不能超过 20000000.00 元"),
    ],
)
def test_yuan_refusals(raw: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        parsing.parse_yuan(raw)
    assert str(exc.value) == message


def test_yuan_limits_and_zero() -> None:
    assert parsing.parse_yuan("20000000.00") == parsing.MONEY_MAX_FEN
    with pytest.raises(ValueError, match="价格应大于 0"):
        parsing.parse_yuan("0.00", label="价格", allow_zero=False)
    assert parsing.format_yuan(45005) == "450.05"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "名额应为整数"),
        ("1.5", "名额应为整数"),
        ("NaN", "名额应为整数"),
        ("-1", "名额不能小于 0"),
        ("1" + "0" * 20, "名额不能大于 2147483647"),
        ("", "请填写名额"),
    ],
)
def test_int_refusals(raw: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        parsing.parse_int(raw, label="名额")
    assert str(exc.value) == message


def test_int_bounds() -> None:
    assert parsing.parse_int("2147483647", label="x") == parsing.INT_MAX
    assert parsing.parse_int("３", label="x") == 3
    assert parsing.parse_optional_int("", label="x") is None


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "1e400", "1" + "0" * 20, "-91", "abc"])
def test_decimal_refusals(raw: str) -> None:
    with pytest.raises(ValueError):
        parsing.parse_decimal(raw, label="纬度", minimum=decimal.Decimal(-90), maximum=decimal.Decimal(90), places=6)


def test_decimal_rounds_to_its_places() -> None:
    value = parsing.parse_decimal(
        "31.2988865", label="纬度", minimum=decimal.Decimal(-90), maximum=decimal.Decimal(90), places=6
    )
    assert value == decimal.Decimal("31.298887")


def test_dates_and_datetimes_within_range() -> None:
    assert parsing.parse_date("2026-07-01", label="日期") == dt.date(2026, 7, 1)
    for raw in ("0001-01-01", "9999-12-31", "2026-02-30", "x" * 5000):
        with pytest.raises(ValueError):
            parsing.parse_date(raw, label="日期")
    with pytest.raises(ValueError, match="领取开始应在 1900-01-01 到 2100-12-31 之间"):
        parsing.parse_local_datetime("0001-01-01T00:00", label="领取开始")
    local = parsing.parse_local_datetime("2026-07-01T09:00")
    assert local.utcoffset() == dt.timedelta(hours=8)
    assert parsing.aware(dt.datetime(2026, 7, 1, 9)).utcoffset() == dt.timedelta(hours=8)


def test_query_filters_treat_bad_values_as_absent() -> None:
    params = QueryDict(
        "campaign=12&point=1" + "0" * 20 + "&tag=abc&year=-1&y2=2025&from=0001-01-01&to=2026-07-01&ids=1&ids=x&ids=²"
    )
    assert parsing.query_id(params, "campaign") == 12
    assert parsing.query_id(params, "point") is None
    assert parsing.query_id(params, "tag") is None
    assert parsing.query_id(QueryDict("x=0"), "x") is None
    assert parsing.query_year(params, "year", default=2025) == 2025
    assert parsing.query_year(QueryDict("year=0"), "year", default=2025) == 2025
    assert parsing.query_year(params, "y2", default=2024) == 2025
    assert parsing.query_date(params, "from") is None
    assert parsing.query_date(params, "to") == dt.date(2026, 7, 1)
    assert parsing.query_ids(params, "ids") == [1]


def test_a_row_id_from_a_url_or_a_form() -> None:
    assert parsing.as_id("12") == parsing.as_id(12) == parsing.as_id(" １２ ") == 12
    assert parsing.as_id(str(parsing.BIGINT_MAX)) == parsing.BIGINT_MAX
    for bad in (None, "", "0", "-1", "1.0", "abc", "²", "1e3", str(parsing.BIGINT_MAX + 1), "1" + "0" * 20):
        assert parsing.as_id(bad) is None, bad
