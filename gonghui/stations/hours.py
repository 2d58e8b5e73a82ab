"""Opening hours: a weekly schedule of time ranges, or 24 hours, with a holiday rule.

A day's ranges are [start, end] minutes after midnight (end up to 24:00, after start). Whether a
day is a holiday (节假日) is the station's organisation's `WorkCalendar.is_holiday`: the official
schedule with the union's local days off."""

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from typing import Any

from gonghui.core.errors import ValidationFailed
from gonghui.stations.models import HolidayMode

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
MAX_RANGES = 4
_RANGE = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})\s*$")

Ranges = list[list[int]]


def parse_ranges(text: Any, *, label: str) -> Ranges:
    """ "08:00-12:00, 14:00-18:00" as [[480, 720], [840, 1080]]; blank: closed that day."""
    raw = str(text or "").strip()
    if not raw or raw in ("休息", "闭站", "不开放"):
        return []
    parts = [p for p in re.split(r"[,，;；、\s]+(?=\d)", raw) if p.strip()]
    if len(parts) > MAX_RANGES:
        raise ValidationFailed(
            "%(label)s最多填写 %(n)d 个时段" % {"label": label, "n": MAX_RANGES}, fields={label: "时段过多"}
        )
    ranges: Ranges = []
    for part in parts:
        found = _RANGE.match(part)
        if found is None:
            raise ValidationFailed(
                "%(label)s“%(text)s”格式不对，请写成 08:00-18:00，多个时段用逗号分隔"
                % {"label": label, "text": part.strip()[:20]},
                fields={label: "格式不对"},
            )
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValidationFailed(
                "%(label)s“%(text)s”不是有效的时间" % {"label": label, "text": part.strip()[:20]},
                fields={label: "时间无效"},
            )
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValidationFailed(
                "%(label)s“%(text)s”的结束时间须晚于开始时间（跨夜开放请分两天填写，或选择24小时开放）"
                % {"label": label, "text": part.strip()[:20]},
                fields={label: "结束须晚于开始"},
            )
        ranges.append([start, end])
    ranges.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(ranges):
        if s2 < e1:
            raise ValidationFailed("%(label)s的时段有重叠" % {"label": label}, fields={label: "时段重叠"})
    return ranges


def _clock(minutes: int) -> str:
    return "%02d:%02d" % divmod(minutes, 60)


def format_ranges(ranges: Sequence[Sequence[int]]) -> str:
    return "，".join("%s-%s" % (_clock(s), _clock(e)) for s, e in ranges) or "休息"


def open_at(
    *,
    always_open: bool,
    weekly_hours: Sequence[Sequence[Sequence[int]]],
    holiday_mode: str,
    holiday_hours: Sequence[Sequence[int]],
    local: dt.datetime,
    holiday: bool,
) -> bool:
    """Whether a station with these hours is open at the local (Asia/Shanghai) time `local`;
    `holiday`: whether that day is a holiday for the station."""
    if holiday and holiday_mode == HolidayMode.CLOSED:
        return False
    if always_open and not (holiday and holiday_mode == HolidayMode.SPECIAL):
        return True
    if holiday and holiday_mode == HolidayMode.SPECIAL:
        ranges: Sequence[Sequence[int]] = holiday_hours
    else:
        day = local.weekday()
        ranges = weekly_hours[day] if day < len(weekly_hours) else []
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in ranges)


def summary(station: Any) -> list[tuple[str, str]]:
    """(label, hours) lines for a station's page."""
    if station.always_open:
        lines = [("每天", "24小时开放")]
    else:
        lines = []
        for label, ranges in zip(WEEKDAYS, station.weekly_hours, strict=False):
            lines.append((label, format_ranges(ranges)))
    if station.holiday_mode == HolidayMode.CLOSED:
        lines.append(("节假日", "闭站"))
    elif station.holiday_mode == HolidayMode.SPECIAL:
        lines.append(("节假日", format_ranges(station.holiday_hours)))
    return lines
