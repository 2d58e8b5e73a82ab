"""Working days: the official schedule with local overrides.

The State Council's yearly holiday schedule (国务院办公厅关于部分节假日安排的通知: 法定节假日 and
the 调休 weekend days worked instead) comes from the `chinese-calendar` package, which carries
every published year (2004–2026 in 1.11.0); never a hand-kept list in code. A union may add
local overrides (a day off for a local festival, a 调休 workday) as the versioned policy
`core.workdays`, resolved for its organisation by the tenant layer (`policy_for`). A year the
package does not yet know — the schedule for the next year is published in November or
December — counts Monday to Friday as working days, plus the overrides, and says so
(`WorkCalendar.official`), so nothing stops on 1 January while the package is updated.

Used for deadlines counted in working days: the 退档 public notice (relief), SLA clocks
(suggestions); and for opening hours with holiday exceptions (`is_holiday`, stations)."""

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field

WORKDAYS_POLICY = "core.workdays"


class WorkdaysBody(BaseModel):
    """`core.workdays`: local days off and local working days on top of the official schedule."""

    model_config = ConfigDict(extra="forbid")
    holidays: list[dt.date] = Field(default_factory=list, max_length=400, title="本地增加的休息日")
    workdays: list[dt.date] = Field(default_factory=list, max_length=400, title="本地增加的工作日（调休上班）")
    note: str = Field(default="", max_length=200, title="说明")


WORKDAYS_DEFAULT: dict[str, Any] = {"holidays": [], "workdays": [], "note": ""}


# The years whose schedule the package carries (it refuses any other year).
OFFICIAL_YEARS = frozenset(day.year for day in chinese_calendar.holidays)


@functools.lru_cache(maxsize=16_384)
def official_working_day(day: dt.date) -> bool | None:
    """Whether the official schedule makes `day` a working day; None for a year it lacks.
    Cached: the package checks each date against its whole table (an SLA clock of a page of
    items asks about thousands of days)."""
    if day.year not in OFFICIAL_YEARS:
        return None
    return bool(chinese_calendar.is_workday(day))


def official_holiday(day: dt.date) -> bool | None:
    """Whether `day` falls in an official holiday period (法定节假日, the weekend days inside
    one included; an ordinary weekend is not one); None for a year the package lacks."""
    if day.year not in OFFICIAL_YEARS:
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return bool(on_holiday and name)


@dataclass(frozen=True)
class WorkCalendar:
    """The official schedule with one organisation's overrides."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    @classmethod
    def of(cls, body: Mapping[str, Any] | None) -> "WorkCalendar":
        """The calendar of a `core.workdays` policy body (None: the official schedule alone)."""
        body = body or {}

        def days(key: str) -> frozenset[dt.date]:
            return frozenset(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in body.get(key, ()))

        return cls(days("holidays"), days("workdays"))

    def official(self, day: dt.date) -> bool:
        """Whether the official schedule of `day`'s year is known (else: Monday to Friday)."""
        return official_working_day(day) is not None

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        official = official_working_day(day)
        return day.weekday() < 5 if official is None else official

    def is_holiday(self, day: dt.date) -> bool:
        """A holiday (节假日): a local day off, or an official holiday period's day that no
        local override makes a working day. Opening hours with holiday exceptions ask this."""
        if day in self.holidays:
            return True
        if day in self.workdays:
            return False
        return bool(official_holiday(day))

    def nth_working_day(self, start: dt.date, n: int) -> dt.date:
        """The `n`-th working day counted from `start` itself (n ≥ 1): a notice posted on
        `start` for 5 working days runs to `nth_working_day(start, 5)` inclusive."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day, seen = start, 0
        while True:
            if self.is_working_day(day):
                seen += 1
                if seen == n:
                    return day
            day += dt.timedelta(days=1)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The working day `n` working days after `start` (n ≥ 0; `start` itself not counted)."""
        day = start
        for _ in range(n):
            day += dt.timedelta(days=1)
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        return day

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """Working days from `first` to `last`, both included (0 if `last` is before `first`)."""
        count, day = 0, first
        while day <= last:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """The part of [start, end) that falls on working days (whole days, in the zone the
        datetimes carry): an SLA clock that stops over weekends and holidays."""
        if end <= start:
            return 0.0
        total = 0.0
        cursor = start
        while cursor < end:
            next_midnight = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time(), tzinfo=cursor.tzinfo)
            stop = min(end, next_midnight)
            if self.is_working_day(cursor.date()):
                total += (stop - cursor).total_seconds()
            cursor = stop
        return total
