"""Reading typed values out of what a browser sent, for every app.

Form values (`parse_*`) raise `ValueError` whose text is the Chinese message to show next to
the field; a form collects them per field. Query-string filters (`query_*`) never refuse: a
value that is not a plausible id, year or date is treated as absent, so a list page shows its
default instead of an error page. Every number is checked against the range its column can
hold, so a hostile `10^20` is a message, not a database overflow.

Money is typed in yuan and stored as integer fen: `parse_yuan` is the one place that turns
one into the other for the whole project.
"""

import datetime as dt
import decimal
import re
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

SMALLINT_MAX = 32_767
INT_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807

# Money: up to 20,000,000.00 yuan fits a PositiveIntegerField of fen.
MONEY_MAX_FEN = 2_000_000_000

EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
EARLIEST_YEAR = 2000
MAX_TEXT = 200  # longer than any number or date a person types

_INT = re.compile(r"-?[0-9]{1,40}")
_MONEY = re.compile(r"(?P<whole>[0-9]{1,40})(?:\.(?P<frac>[0-9]{0,40}))?")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]*)?")


# Full-width forms (！ to ～, as a Chinese input method types them) and the ideographic space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def clean(raw: Any) -> str:
    """A typed value as text: full-width digits and signs folded to ASCII, spaces trimmed."""
    if raw is None:
        return ""
    return str(raw).translate(_FULL_WIDTH).strip()


def parse_int(raw: Any, *, label: str, minimum: int = 0, maximum: int = INT_MAX) -> int:
    """A whole number within [minimum, maximum]; `maximum` defaults to what an integer column holds."""
    text = clean(raw)
    if not text:
        raise ValueError("请填写%(label)s" % {"label": label})
    if not _INT.fullmatch(text):
        raise ValueError("%(label)s应为整数" % {"label": label})
    value = int(text)
    if value < minimum:
        raise ValueError("%(label)s不能小于 %(min)s" % {"label": label, "min": minimum})
    if value > maximum:
        raise ValueError("%(label)s不能大于 %(max)s" % {"label": label, "max": maximum})
    return value


def parse_optional_int(raw: Any, *, label: str, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
    return parse_int(raw, label=label, minimum=minimum, maximum=maximum) if clean(raw) else None


def parse_yuan(raw: Any, *, label: str = "金额", maximum_fen: int = MONEY_MAX_FEN, allow_zero: bool = True) -> int:
    """Yuan as typed (`"12.5"`, `"1,200.00"`, `"１２"`) → integer fen (1250, 120000, 1200).

    Refuses what is not plain money: NaN, Infinity, exponents (`1e3`), signs, more than two
    decimals (money is never rounded silently) and amounts beyond `maximum_fen`."""
    text = clean(raw).replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥")
    if not text:
        raise ValueError("请填写%(label)s（元），如 12.50" % {"label": label})
    if text.startswith("-"):
        raise ValueError("%(label)s不能为负数" % {"label": label})
    match = _MONEY.fullmatch(text)
    if match is None:
        raise ValueError("%(label)s应为以元为单位的数字，如 12.50" % {"label": label})
    frac = match["frac"] or ""
    if len(frac.rstrip("0")) > 2:
        raise ValueError("%(label)s最多保留两位小数" % {"label": label})
    fen = int(match["whole"]) * 100 + int((frac + "00")[:2])
    if fen > maximum_fen:
        raise ValueError(
            "%(label)s不能超过 %(max)s 元" % {"label": label, "max": format_yuan(maximum_fen)},
        )
    if fen == 0 and not allow_zero:
        raise ValueError("%(label)s应大于 0" % {"label": label})
    return fen


def format_yuan(fen: int) -> str:
    """Integer fen as yuan with exactly two decimals: 45000 → "450.00"."""
    return "%(whole)d.%(frac)02d" % {"whole": fen // 100, "frac": fen % 100}


def parse_decimal(
    raw: Any, *, label: str, minimum: decimal.Decimal, maximum: decimal.Decimal, places: int
) -> decimal.Decimal:
    """A plain decimal number (no NaN, Infinity or exponent) within [minimum, maximum], rounded
    half-up to `places` decimals."""
    text = clean(raw)
    if not text:
        raise ValueError("请填写%(label)s" % {"label": label})
    if len(text) > 40 or not _DECIMAL.fullmatch(text):
        raise ValueError("%(label)s应为数字" % {"label": label})
    value = decimal.Decimal(text)
    if value < minimum or value > maximum:
        raise ValueError(
            "%(label)s应在 %(min)s 到 %(max)s 之间" % {"label": label, "min": minimum, "max": maximum},
        )
    return value.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def parse_date(raw: Any, *, label: str, earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE) -> dt.date:
    """A date as `YYYY-MM-DD` within [earliest, latest]."""
    text = clean(raw)
    if not text:
        raise ValueError("请填写%(label)s" % {"label": label})
    try:
        value = dt.date.fromisoformat(text) if len(text) <= 10 else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError("%(label)s格式应为 YYYY-MM-DD" % {"label": label})
    if value < earliest:
        raise ValueError("%(label)s不能早于 %(day)s" % {"label": label, "day": earliest.isoformat()})
    if value > latest:
        raise ValueError("%(label)s不能晚于 %(day)s" % {"label": label, "day": latest.isoformat()})
    return value


def parse_local_datetime(
    raw: Any, *, label: str = "日期时间", earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE
) -> dt.datetime:
    """A `datetime-local` value (`2026-07-01T09:00`), read in the display zone (Asia/Shanghai);
    an explicit offset is honoured. The date must lie within [earliest, latest]."""
    text = clean(raw)
    if not text:
        raise ValueError("请填写%(label)s" % {"label": label})
    try:
        value = dt.datetime.fromisoformat(text) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError("%(label)s格式应为 YYYY-MM-DD HH:MM" % {"label": label})
    if not earliest <= value.date() <= latest:
        raise ValueError(
            "%(label)s应在 %(start)s 到 %(end)s 之间"
            % {"label": label, "start": earliest.isoformat(), "end": latest.isoformat()},
        )
    if timezone.is_aware(value):
        return value
    return timezone.make_aware(value, timezone.get_current_timezone())


def aware(value: dt.datetime) -> dt.datetime:
    """A datetime that may have come without a zone (a device's clock): read it in the display
    zone rather than fail on it."""
    if timezone.is_aware(value):
        return value
    return timezone.make_aware(value, timezone.get_current_timezone())


# ---- query-string filters: a bad value is an absent value -----------------------------------


def as_id(raw: Any) -> int | None:
    """A row id from a URL, a form or a query string: `"12"` → 12; anything that cannot be one
    (text, other digits such as "²", 0, beyond bigint) → None."""
    text = clean(raw)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= BIGINT_MAX else None


def query_id(params: Mapping[str, Any], name: str) -> int | None:
    """`?campaign=12` → 12; anything that cannot be a row id (text, 0, beyond bigint) → None."""
    return as_id(params.get(name))


def query_ids(params: Any, name: str) -> list[int]:
    """Every plausible row id among the repeated `name` parameters."""
    return [v for v in (query_id({name: raw}, name) for raw in params.getlist(name)) if v is not None]


def query_int(params: Mapping[str, Any], name: str, *, default: int, minimum: int, maximum: int) -> int:
    text = clean(params.get(name))
    if not _INT.fullmatch(text):
        return default
    value = int(text)
    return value if minimum <= value <= maximum else default


def query_year(params: Mapping[str, Any], name: str, *, default: int) -> int:
    """A calendar year between 2000 and next year; anything else → `default`."""
    return query_int(params, name, default=default, minimum=EARLIEST_YEAR, maximum=timezone.localdate().year + 1)


def query_date(params: Mapping[str, Any], name: str, default: dt.date | None = None) -> dt.date | None:
    """`?from=2026-07-01` → that date, if plausible; anything else → `default`."""
    try:
        return parse_date(params.get(name), label=name)
    except ValueError:
        return default
