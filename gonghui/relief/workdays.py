"""Working days for the 退档 public notice.

The `chinese-calendar` package is not installed in this environment, so the official schedule
is the `relief.workdays` policy, a local table an administrator keeps (休息日 and 调休上班日,
the 2026 国务院办公厅 schedule shipped): a day is a working day when it is listed as a 调休
workday, or when it is Monday–Friday and not listed as a holiday."""

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    @classmethod
    def of(cls, body: dict[str, Any]) -> "Calendar":
        def days(key: str) -> frozenset[dt.date]:
            return frozenset(dt.date.fromisoformat(str(d)) for d in body.get(key, ()))

        return cls(days("holidays"), days("workdays"))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def nth_working_day(self, start: dt.date, n: int) -> dt.date:
        """The `n`-th working day counted from `start` itself (n ≥ 1)."""
        day, seen = start, 0
        while True:
            if self.is_working_day(day):
                seen += 1
                if seen == n:
                    return day
            day += dt.timedelta(days=1)

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """Working days from `first` to `last`, both included."""
        count, day = 0, first
        while day <= last:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count
