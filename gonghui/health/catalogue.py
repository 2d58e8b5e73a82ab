"""The indicator catalogue in memory, and loading the reviewed file into the database.

`current_catalogue()` returns an immutable snapshot built from the database (one query to see
whether the release changed, three to rebuild); interpretation works only on the snapshot, so
interpreting a result costs dictionary lookups and a few Decimal operations."""

import json
import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from gonghui.health.cleaning import code_key, unit_key
from gonghui.health.models import CatalogueRelease, Indicator, ReferenceInterval

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "catalogue.json"
MAX_AGE = 130
ANY_UNIT = "*"


class CatalogueError(ValueError):
    pass


class UnknownCode(LookupError):
    pass


class UnitRefused(LookupError):
    """The unit is unknown, or known but not what this code is measured in."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class IntervalSpec:
    id: int
    sex: str
    age_min: int
    age_max: int | None
    low: Decimal | None
    high: Decimal | None
    lower_rule: str
    upper_rule: str
    source: str


@dataclass(frozen=True, slots=True)
class GradeSpec:
    sex: str
    min: Decimal | None
    min_rule: str
    max: Decimal | None
    label: str

    def matches(self, sex: str, value: Decimal) -> bool:
        if self.sex and self.sex != sex:
            return False
        if self.min is not None and (value < self.min if self.min_rule == "gte" else value <= self.min):
            return False
        return self.max is None or value < self.max


@dataclass(slots=True)
class IndicatorSpec:
    id: int
    code: str
    loinc: str
    name_zh: str
    name_en: str
    category: str
    unit: str
    decimals: int
    conversions: dict[str, tuple[Decimal, Decimal]]
    unit_labels: dict[str, str]
    grades: tuple[GradeSpec, ...]
    critical_low: Decimal | None
    critical_high: Decimal | None
    explanation: str
    advice_low: str
    advice_high: str
    sort_order: int
    quantum: Decimal = field(init=False)
    intervals: tuple[IntervalSpec, ...] = ()
    _table: dict[str, list[IntervalSpec | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.quantum = Decimal(1).scaleb(-self.decimals)

    def set_intervals(self, intervals: list[IntervalSpec]) -> None:
        """Index intervals by sex and whole-year age so choosing one is two list lookups."""
        self.intervals = tuple(intervals)
        for sex in ("M", "F"):
            row: list[IntervalSpec | None] = [None] * (MAX_AGE + 1)
            for age in range(MAX_AGE + 1):
                matching = [
                    iv
                    for iv in intervals
                    if iv.sex in ("", sex) and iv.age_min <= age and (iv.age_max is None or age < iv.age_max)
                ]
                specific = [iv for iv in matching if iv.sex == sex] or matching
                if len(specific) > 1:
                    raise CatalogueError(f"{self.code}: overlapping intervals for {sex} at age {age}")
                row[age] = specific[0] if specific else None
            self._table[sex] = row

    def interval_for(self, sex: str, age: int) -> IntervalSpec | None:
        row = self._table.get(sex)
        if row is None or age < 0:
            return None
        return row[min(age, MAX_AGE)]

    def to_canonical(self, value: Decimal, unit: str) -> Decimal:
        factor, offset = self.conversions[unit]
        if factor != 1 or offset:
            value = value * factor + offset
        return value.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def grade(self, sex: str, value: Decimal) -> str:
        for grade in self.grades:
            if grade.matches(sex, value):
                return grade.label
        return ""


@dataclass
class Catalogue:
    release_id: int
    version: str
    boundary_convention: str
    sources: dict[str, str]
    indicators: list[IndicatorSpec]
    by_id: dict[int, IndicatorSpec]
    by_code: dict[str, IndicatorSpec]
    index: dict[str, tuple[IndicatorSpec, frozenset[str] | None]]

    def lookup(self, code: str) -> tuple[IndicatorSpec, frozenset[str] | None]:
        """The indicator a code (LOINC, local code or Chinese name) names, with the units that
        code may be reported in (None: any unit of the indicator)."""
        entry = self.index.get(code_key(code))
        if entry is None:
            raise UnknownCode(code)
        return entry

    @staticmethod
    def check_unit(spec: IndicatorSpec, allowed: frozenset[str] | None, unit: str) -> str:
        """The normalised unit, refused when unknown or not one this code is measured in."""
        key = unit_key(unit)
        if key not in spec.conversions:
            if not key:
                raise UnitRefused("缺少单位", "unit_missing")
            raise UnitRefused("单位无法识别或不适用于该项目", "unit_unknown")
        if allowed is not None and key not in allowed:
            raise UnitRefused("项目编码与单位不一致", "unit_mismatch")
        return key

    def resolve(self, code: str, unit: str) -> tuple[IndicatorSpec, str]:
        spec, allowed = self.lookup(code)
        return spec, self.check_unit(spec, allowed, unit)


def parse_factor(raw: str) -> Decimal:
    text = str(raw).strip()
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        return Decimal(numerator) / Decimal(denominator)
    return Decimal(text)


def _dec(raw: Any) -> Decimal | None:
    return None if raw is None or raw == "" else Decimal(str(raw))


def build_catalogue(release: Any, indicators: list[Any], intervals: list[Any]) -> Catalogue:
    by_indicator: dict[int, list[IntervalSpec]] = {}
    for iv in intervals:
        by_indicator.setdefault(iv.indicator_id, []).append(
            IntervalSpec(
                id=iv.pk,
                sex=iv.sex,
                age_min=iv.age_min,
                age_max=iv.age_max,
                low=_dec(iv.low),
                high=_dec(iv.high),
                lower_rule=iv.lower_rule,
                upper_rule=iv.upper_rule,
                source=iv.source,
            )
        )
    specs: list[IndicatorSpec] = []
    index: dict[str, tuple[IndicatorSpec, frozenset[str] | None]] = {}
    for ind in indicators:
        spec = IndicatorSpec(
            id=ind.pk,
            code=ind.code,
            loinc=ind.loinc,
            name_zh=ind.name_zh,
            name_en=ind.name_en,
            category=ind.category,
            unit=ind.unit,
            decimals=ind.decimals,
            conversions={k: (Decimal(v["factor"]), Decimal(v["offset"])) for k, v in ind.conversions.items()},
            unit_labels={k: v["label"] for k, v in ind.conversions.items()},
            grades=tuple(
                GradeSpec(
                    sex=g.get("sex", ""),
                    min=_dec(g.get("min")),
                    min_rule=g.get("min_rule", "gte"),
                    max=_dec(g.get("max")),
                    label=g["label"],
                )
                for g in ind.grades
            ),
            critical_low=_dec(ind.critical_low),
            critical_high=_dec(ind.critical_high),
            explanation=ind.explanation,
            advice_low=ind.advice_low,
            advice_high=ind.advice_high,
            sort_order=ind.sort_order,
        )
        spec.set_intervals(by_indicator.get(ind.pk, []))
        specs.append(spec)
        for key, units in ind.codes.items():
            allowed = None if ANY_UNIT in units else frozenset(units)
            index[key] = (spec, allowed)
    return Catalogue(
        release_id=release.pk,
        version=release.version,
        boundary_convention=release.boundary_convention,
        sources=release.sources,
        indicators=specs,
        by_id={s.id: s for s in specs},
        by_code={s.code: s for s in specs},
        index=index,
    )


_lock = threading.Lock()
_cached: Catalogue | None = None


def current_catalogue() -> Catalogue:
    """The snapshot of the latest loaded release (rebuilt when a newer release appears)."""
    global _cached  # noqa: PLW0603 - a process-wide cache of immutable data

    release = CatalogueRelease.objects.order_by("-id").first()
    if release is None:
        raise CatalogueError("指标目录尚未加载（请运行 migrate 或 health_catalogue_load）")
    cached = _cached
    if cached is not None and (cached.release_id, cached.version) == (release.pk, release.version):
        return cached
    with _lock:
        catalogue = build_catalogue(
            release,
            list(Indicator.objects.order_by("sort_order")),
            list(ReferenceInterval.objects.filter(retired=False)),
        )
        _cached = catalogue
    return catalogue


def forget_catalogue() -> None:
    global _cached  # noqa: PLW0603
    _cached = None


# ---- loading the reviewed file ---------------------------------------------------------------


def read_catalogue_file(path: Path = CATALOGUE_FILE) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    validate_catalogue_data(data)
    return data


def validate_catalogue_data(data: dict[str, Any]) -> None:
    seen_codes: dict[str, str] = {}
    for item in data["indicators"]:
        code = item["code"]
        units = {unit_key(u) for u in item["units"]}
        if unit_key(item["unit"]) not in units:
            raise CatalogueError(f"{code}: canonical unit missing from units")
        for raw_code, allowed in [*item["codes"].items(), (code, ["*"])]:
            key = code_key(raw_code)
            if seen_codes.get(key, code) != code:
                raise CatalogueError(f"code {raw_code!r} names both {seen_codes[key]} and {code}")
            seen_codes[key] = code
            for u in allowed:
                if u != ANY_UNIT and unit_key(u) not in units:
                    raise CatalogueError(f"{code}: code {raw_code} allows unknown unit {u}")
        if item["loinc"] not in item["codes"]:
            raise CatalogueError(f"{code}: primary LOINC missing from codes")
        for iv in item["intervals"]:
            if not any(iv["source"].startswith(s) for s in data["sources"]):
                raise CatalogueError(f"{code}: interval source {iv['source']!r} is not a listed source")
            if iv.get("low") is None and iv.get("high") is None:
                raise CatalogueError(f"{code}: interval without limits")


def _conversions(item: dict[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for label, spec in item["units"].items():
        if isinstance(spec, dict):
            factor, offset = parse_factor(spec["factor"]), Decimal(spec.get("offset", "0"))
        else:
            factor, offset = parse_factor(spec), Decimal(0)
        out[unit_key(label)] = {"label": label, "factor": str(factor), "offset": str(offset)}
    return out


def _codes(item: dict[str, Any]) -> dict[str, list[str]]:
    out = {code_key(item["code"]): [ANY_UNIT]}
    for raw, allowed in item["codes"].items():
        out[code_key(raw)] = [ANY_UNIT] if ANY_UNIT in allowed else sorted(unit_key(u) for u in allowed)
    return out


def load_catalogue(data: dict[str, Any], *, models: dict[str, Any]) -> tuple[Any, bool]:
    """Load a validated catalogue into the database; `models` maps model names to classes (the
    historical models inside a migration, the real ones elsewhere). Loading the same version
    twice does nothing. Returns (release, created)."""
    release_model = models["CatalogueRelease"]
    indicator_model = models["Indicator"]
    interval_model = models["ReferenceInterval"]
    existing = release_model.objects.filter(version=data["version"]).first()
    if existing is not None:
        return existing, False
    release = release_model.objects.create(
        version=data["version"],
        review_note=data["review"],
        boundary_convention=data["boundary_convention"],
        sources=data["sources"],
    )
    for position, item in enumerate(data["indicators"]):
        critical = item.get("critical") or {}
        indicator, _ = indicator_model.objects.update_or_create(
            code=item["code"],
            defaults={
                "loinc": item["loinc"],
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "category": item["category"],
                "unit": item["unit"],
                "decimals": item["decimals"],
                "conversions": _conversions(item),
                "codes": _codes(item),
                "grades": item.get("grades", []),
                "explanation": item["explanation"],
                "advice_low": item.get("advice_low", ""),
                "advice_high": item.get("advice_high", ""),
                "critical_low": _dec(critical.get("low")),
                "critical_high": _dec(critical.get("high")),
                "critical_source": critical.get("source", ""),
                "sort_order": position,
                "release": release,
            },
        )
        wanted = [
            {
                "sex": iv.get("sex", ""),
                "age_min": (iv.get("age") or [16, None])[0],
                "age_max": (iv.get("age") or [16, None])[1],
                "low": _dec(iv.get("low")),
                "high": _dec(iv.get("high")),
                "lower_rule": iv.get("lower", "lt"),
                "upper_rule": iv.get("upper", "gt"),
                "source": iv["source"],
            }
            for iv in item["intervals"]
        ]
        current = list(interval_model.objects.filter(indicator=indicator, retired=False))
        keep = set()
        for want in wanted:
            match = next(
                (
                    row
                    for row in current
                    if row.pk not in keep
                    and all(
                        (_dec(getattr(row, k)) if k in ("low", "high") else getattr(row, k)) == v
                        for k, v in want.items()
                    )
                ),
                None,
            )
            if match is not None:
                keep.add(match.pk)
            else:
                keep.add(interval_model.objects.create(indicator=indicator, release=release, **want).pk)
        interval_model.objects.filter(indicator=indicator, retired=False).exclude(pk__in=keep).update(retired=True)
    return release, True
