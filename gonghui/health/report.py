"""A member's report as shown on H5, in the console and in the PDF: abnormal items first
(critical, then high/low), each with the catalogue's explanation and advice, the remaining
items by category, the trend against previous years' exams, and chart data across all
readings (exams and 健康小屋 visits) up to the report date.

Everything the report says comes from the interpretation stored with each result and the
reviewed catalogue; `report_text` renders it as plain text, which is also the reference an
LLM summary is checked against."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gonghui.health.catalogue import IndicatorSpec, current_catalogue
from gonghui.health.cleaning import age_on
from gonghui.health.models import ABNORMAL_FLAGS, Category, Checkup, CheckupKind, Flag, Result
from gonghui.health.services import decrypt_result, llm_summary_text

FLAG_ORDER = {
    Flag.CRITICAL_HIGH: 0,
    Flag.CRITICAL_LOW: 0,
    Flag.HIGH: 1,
    Flag.LOW: 1,
    Flag.NORMAL: 2,
    Flag.NONE: 3,
}
FLAG_CSS = {
    Flag.CRITICAL_HIGH: "critical",
    Flag.CRITICAL_LOW: "critical",
    Flag.HIGH: "high",
    Flag.LOW: "low",
    Flag.NORMAL: "normal",
    Flag.NONE: "none",
}
FLAG_ARROW = {Flag.CRITICAL_HIGH: "↑↑", Flag.CRITICAL_LOW: "↓↓", Flag.HIGH: "↑", Flag.LOW: "↓"}
CATEGORY_ORDER = {c.value: i for i, c in enumerate(Category)}
HISTORY_YEARS = 10


def fmt(value: Decimal | None) -> str:
    """`Decimal("3.9000")` → "3.9"; `Decimal("420.0000")` → "420"."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def range_text(
    low: Decimal | None, high: Decimal | None, lower_rule: str, upper_rule: str, *, decimals: int = 0
) -> str:
    """A reference as people read it: `3.5～9.5` for an interval that includes its limits,
    `≥3.9 且 <6.1` or `<5.2` for guideline cut-offs, `≤420` for a one-sided interval. A limit of
    an indicator reported with decimals keeps one (`≥1.0`, not `≥1`)."""

    def limit(value: Decimal) -> str:
        text = fmt(value)
        return text + ".0" if decimals and "." not in text else text

    if low is not None and high is not None and lower_rule == "lt" and upper_rule == "gt":
        return "%s～%s" % (limit(low), limit(high))
    parts = []
    if low is not None:
        parts.append(("≥" if lower_rule == "lt" else ">") + limit(low))
    if high is not None:
        parts.append(("≤" if upper_rule == "gt" else "<") + limit(high))
    return " 且 ".join(parts)


@dataclass
class PastValue:
    year: int
    date: dt.date
    value: str
    flag: str


@dataclass
class ItemView:
    code: str
    name: str
    category: str
    category_label: str
    value: str
    unit: str
    flag: str
    flag_label: str
    css: str
    arrow: str
    reference: str
    source: str
    grade: str
    explanation: str
    advice: str
    original: str
    lab_range: str
    previous: list[PastValue] = field(default_factory=list)
    delta: str = ""
    direction: str = ""
    newly_abnormal: bool = False

    @property
    def is_abnormal(self) -> bool:
        return self.flag in ABNORMAL_FLAGS

    @property
    def last(self) -> PastValue | None:
        return self.previous[-1] if self.previous else None


@dataclass
class ReportView:
    checkup: Checkup
    member_name: str
    sex_label: str
    age: int
    exam_date: dt.date
    centre: str
    kind_label: str
    items: list[ItemView]
    abnormal: list[ItemView]
    by_category: list[tuple[str, list[ItemView]]]
    chart: dict[str, Any]
    previous_years: list[int]
    summary_lines: list[str]
    llm_summary: str
    catalogue_version: str
    boundary_note: str

    @property
    def critical(self) -> list[ItemView]:
        return [i for i in self.abnormal if i.css == "critical"]


def _advice(spec: IndicatorSpec, flag: str) -> str:
    if flag in (Flag.HIGH, Flag.CRITICAL_HIGH):
        advice = spec.advice_high
    elif flag in (Flag.LOW, Flag.CRITICAL_LOW):
        advice = spec.advice_low
    else:
        return ""
    if flag in (Flag.CRITICAL_HIGH, Flag.CRITICAL_LOW):
        advice = "该结果达到危急值，请尽快就医或联系体检机构医生。" + advice
    return advice


def build_report(checkup: Checkup) -> ReportView:
    catalogue = current_catalogue()
    member = checkup.member
    results = list(Result.objects.filter(checkup=checkup).select_related("interval").order_by("indicator_id"))
    indicator_ids = [r.indicator_id for r in results]
    history: dict[int, list[tuple[dt.date, int, str, str, str]]] = defaultdict(list)
    since = checkup.exam_date.replace(year=checkup.exam_date.year - HISTORY_YEARS, day=1)
    rows = (
        Result.objects.filter(
            member_id=member.pk,
            indicator_id__in=indicator_ids,
            measured_on__lte=checkup.exam_date,
            measured_on__gte=since,
        )
        .exclude(checkup_id=checkup.pk)
        .values_list("indicator_id", "measured_on", "checkup_id", "checkup__kind", "flag", "value_encrypted")
        .order_by("measured_on", "checkup_id")
    )
    for indicator_id, measured_on, checkup_id, kind, flag, token in rows:
        history[indicator_id].append((measured_on, checkup_id, kind, flag, decrypt_result(token)["v"]))
    items: list[ItemView] = []
    chart_series: dict[str, Any] = {}
    years: set[int] = set()
    for result in results:
        spec = catalogue.by_id[result.indicator_id]
        payload = decrypt_result(result.value_encrypted)
        interval = result.interval
        value = Decimal(payload["v"])
        original = ""
        if payload.get("u") and payload["u"] != spec.unit and payload.get("o"):
            original = "%s %s" % (payload["o"], payload["u"])
        past_by_year: dict[int, PastValue] = {}
        for measured_on, _cid, kind, flag, past in history.get(result.indicator_id, []):
            if kind == CheckupKind.EXAM:
                past_by_year[measured_on.year] = PastValue(measured_on.year, measured_on, past, flag)
        previous = [past_by_year[y] for y in sorted(past_by_year) if past_by_year[y].date < checkup.exam_date]
        previous = previous[-HISTORY_YEARS:]
        years.update(p.year for p in previous)
        delta = direction = ""
        if previous:
            change = value - Decimal(previous[-1].value)
            delta = ("+" if change > 0 else "") + format(change.quantize(spec.quantum), "f")
            direction = "up" if change > 0 else "down" if change < 0 else "same"
        item = ItemView(
            code=spec.code,
            name=spec.name_zh,
            category=spec.category,
            category_label=Category(spec.category).label,
            value=fmt(value) if spec.decimals == 0 else payload["v"],
            unit=spec.unit,
            flag=result.flag,
            flag_label=Flag(result.flag).label,
            css=FLAG_CSS[Flag(result.flag)],
            arrow=FLAG_ARROW.get(Flag(result.flag), ""),
            reference=range_text(
                interval.low, interval.high, interval.lower_rule, interval.upper_rule, decimals=spec.decimals
            )
            if interval
            else "",
            source=interval.source if interval else "",
            grade=spec.grade(member.sex, value) if result.flag != Flag.NONE else "",
            explanation=spec.explanation,
            advice=_advice(spec, result.flag),
            original=original,
            lab_range=payload.get("r", ""),
            previous=previous,
            delta=delta,
            direction=direction,
            newly_abnormal=result.flag in ABNORMAL_FLAGS and bool(previous) and previous[-1].flag not in ABNORMAL_FLAGS,
        )
        items.append(item)
        points = [
            [d.isoformat(), float(v), "kiosk" if kind == CheckupKind.KIOSK else "exam"]
            for d, _cid, kind, _f, v in history.get(result.indicator_id, [])
        ]
        points.append([checkup.exam_date.isoformat(), float(value), checkup.kind])
        chart_series[spec.code] = {
            "name": spec.name_zh,
            "unit": spec.unit,
            "low": float(interval.low) if interval and interval.low is not None else None,
            "high": float(interval.high) if interval and interval.high is not None else None,
            "points": points,
        }
    items.sort(key=lambda i: (CATEGORY_ORDER.get(i.category, 99), catalogue.by_code[i.code].sort_order))
    abnormal = sorted(
        (i for i in items if i.is_abnormal), key=lambda i: (FLAG_ORDER[Flag(i.flag)], CATEGORY_ORDER[i.category])
    )
    by_category: dict[str, list[ItemView]] = {}
    for item in items:
        by_category.setdefault(item.category_label, []).append(item)
    default_codes = [i.code for i in abnormal][:6] or [
        c for c in ("SBP", "GLU", "TC", "UA", "BMI") if c in chart_series
    ][:3]
    view = ReportView(
        checkup=checkup,
        member_name=member.name,
        sex_label=member.get_sex_display(),
        age=age_on(member.birth_date, checkup.exam_date),
        exam_date=checkup.exam_date,
        centre=checkup.centre_name,
        kind_label=CheckupKind(checkup.kind).label,
        items=items,
        abnormal=abnormal,
        by_category=list(by_category.items()),
        chart={"series": chart_series, "default": default_codes},
        previous_years=sorted(years),
        summary_lines=[],
        llm_summary=llm_summary_text(checkup),
        catalogue_version=catalogue.version,
        boundary_note=catalogue.boundary_convention,
    )
    view.summary_lines = summary_lines(view)
    return view


def summary_lines(view: ReportView) -> list[str]:
    """The rule-based summary: counts, then each abnormal item with its value, reference,
    grade and the change since the previous exam."""
    lines = [
        "本次%(kind)s共 %(n)s 项，异常 %(a)s 项%(c)s。"
        % {
            "kind": view.kind_label,
            "n": len(view.items),
            "a": len(view.abnormal),
            "c": "，其中危急值 %d 项" % len(view.critical) if view.critical else "",
        }
    ]
    for item in view.abnormal:
        text = "%(name)s %(flag)s：%(value)s %(unit)s（参考 %(ref)s）" % {
            "name": item.name,
            "flag": item.flag_label,
            "value": item.value,
            "unit": item.unit,
            "ref": item.reference or "—",
        }
        if item.grade:
            text += "，%s" % item.grade
        if item.last is not None:
            text += "；%(year)s年为 %(prev)s，变化 %(delta)s" % {
                "year": item.last.year,
                "prev": item.last.value,
                "delta": item.delta,
            }
            if item.newly_abnormal:
                text += "（今年新出现异常）"
        lines.append(text + "。")
    if not view.abnormal:
        lines.append("所有项目均在参考范围内，请继续保持健康的生活方式。")
    return lines


def report_text(view: ReportView) -> str:
    """The whole report as plain text: what the member sees, and the only numbers an LLM
    summary may quote."""
    out = [
        "%(kind)s %(date)s %(centre)s"
        % {"kind": view.kind_label, "date": view.exam_date.isoformat(), "centre": view.centre},
        "%(sex)s %(age)s岁" % {"sex": view.sex_label, "age": view.age},
        *view.summary_lines,
    ]
    for item in view.items:
        out.append(
            "%s %s %s %s 参考 %s %s %s %s"
            % (
                item.name,
                item.value,
                item.unit,
                item.flag_label,
                item.reference,
                item.grade,
                item.original,
                item.lab_range,
            )
        )
        out.extend("%s年 %s" % (p.date.isoformat(), p.value) for p in item.previous)
        if item.delta:
            out.append(item.delta)
        if item.is_abnormal:
            out.extend([item.explanation, item.advice])
    return "\n".join(out)
