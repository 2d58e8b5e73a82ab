"""Interpreting one value: convert to the canonical unit, round to the reported precision,
choose the interval for the member's sex and age, and flag it.

Boundary convention (also in `data/catalogue.json`): a reference interval includes its limits
(`lower_rule="lt"`, `upper_rule="gt"`); a guideline cut-off follows its wording (e.g. 空腹血糖
`upper_rule="gte"`: 6.10 is already high). Critical limits are strict and are checked first:
below `critical_low` is `critical_low`, above `critical_high` is `critical_high`."""

from dataclasses import dataclass
from decimal import Decimal

from gonghui.health.catalogue import Catalogue, IndicatorSpec, IntervalSpec
from gonghui.health.cleaning import parse_decimal
from gonghui.health.models import Flag

CriticalLimits = tuple[Decimal | None, Decimal | None]


@dataclass(slots=True)
class Interpretation:
    flag: str
    canonical_value: Decimal
    canonical_unit: str
    interval: IntervalSpec | None
    critical_low: Decimal | None
    critical_high: Decimal | None

    @property
    def low(self) -> Decimal | None:
        return self.interval.low if self.interval else None

    @property
    def high(self) -> Decimal | None:
        return self.interval.high if self.interval else None


_CRITICAL_LOW, _CRITICAL_HIGH = Flag.CRITICAL_LOW.value, Flag.CRITICAL_HIGH.value
_LOW, _HIGH, _NORMAL, _NONE = Flag.LOW.value, Flag.HIGH.value, Flag.NORMAL.value, Flag.NONE.value


def flag_for(
    value: Decimal, interval: IntervalSpec | None, critical_low: Decimal | None, critical_high: Decimal | None
) -> str:
    if critical_low is not None and value < critical_low:
        return _CRITICAL_LOW
    if critical_high is not None and value > critical_high:
        return _CRITICAL_HIGH
    if interval is None:
        return _NONE
    low = interval.low
    if low is not None and (value < low if interval.lower_rule == "lt" else value <= low):
        return _LOW
    high = interval.high
    if high is not None and (value > high if interval.upper_rule == "gt" else value >= high):
        return _HIGH
    return _NORMAL


def interpret(
    spec: IndicatorSpec,
    value: Decimal,
    unit: str,
    *,
    sex: str,
    age: int,
    critical: CriticalLimits | None = None,
) -> Interpretation:
    """`unit` is a normalised unit key accepted for `spec` (see `Catalogue.resolve`);
    `critical` overrides the catalogue's default critical limits (an organisation's setting)."""
    canonical = spec.to_canonical(value, unit)
    interval = spec.interval_for(sex, age)
    crit_low, crit_high = critical if critical is not None else (spec.critical_low, spec.critical_high)
    return Interpretation(
        flag=flag_for(canonical, interval, crit_low, crit_high),
        canonical_value=canonical,
        canonical_unit=spec.unit,
        interval=interval,
        critical_low=crit_low,
        critical_high=crit_high,
    )


def interpret_raw(
    catalogue: Catalogue,
    *,
    code: str,
    value: object,
    unit: str,
    sex: str,
    age: int,
    critical: dict[int, CriticalLimits] | None = None,
) -> tuple[IndicatorSpec, Interpretation]:
    """The whole path from what a source sent: look the code up, read the value, check and
    convert the unit, choose the interval, flag. Raises `UnknownCode`, `UnitRefused` or
    `Unreadable`."""
    spec, unit_key = catalogue.resolve(code, unit)
    number = parse_decimal(value)
    limits = critical.get(spec.id) if critical else None
    return spec, interpret(spec, number, unit_key, sex=sex, age=age, critical=limits)
