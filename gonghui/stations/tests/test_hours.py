"""Opening hours: the weekly ranges, 24 hours, and the holiday rule on official holidays."""

import datetime as dt

import pytest

from gonghui.core.errors import ValidationFailed
from gonghui.stations import hours
from gonghui.stations.models import HolidayMode

TZ = dt.timezone(dt.timedelta(hours=8))
WEEKLY = [[[480, 720], [840, 1080]]] * 5 + [[[540, 1020]], []]


def test_ranges_are_parsed_sorted_and_refused_in_chinese() -> None:
    assert hours.parse_ranges("14:00-18:00，08:00-12:00", label="周一") == [[480, 720], [840, 1080]]
    assert hours.parse_ranges("08:00-24:00", label="周一") == [[480, 1440]]
    assert hours.parse_ranges("", label="周日") == []
    assert hours.parse_ranges("休息", label="周日") == []
    for text, words in (
        ("8点到6点", "格式不对"),
        ("25:00-26:00", "不是有效的时间"),
        ("18:00-08:00", "结束时间须晚于开始时间"),
        ("08:00-12:00,11:00-13:00", "重叠"),
        ("1:00-2:00,3:00-4:00,5:00-6:00,7:00-8:00,9:00-10:00", "最多填写"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            hours.parse_ranges(text, label="周一")
        assert words in refused.value.message and "周一" in refused.value.message
    assert hours.format_ranges([[480, 720], [840, 1440]]) == "08:00-12:00，14:00-24:00"


def _open(at: dt.datetime, *, holiday: bool = False, mode: str = HolidayMode.REGULAR, always: bool = False) -> bool:
    return hours.open_at(
        always_open=always,
        weekly_hours=WEEKLY,
        holiday_mode=mode,
        holiday_hours=[[600, 900]],
        local=at,
        holiday=holiday,
    )


def test_open_within_the_day_ranges_only() -> None:
    friday = dt.datetime(2026, 12, 4, 9, 0, tzinfo=TZ)
    assert _open(friday)
    assert not _open(friday.replace(hour=12, minute=30))  # lunch break
    assert not _open(friday.replace(hour=18, minute=0))  # the end is exclusive
    assert _open(friday.replace(hour=17, minute=59))
    assert _open(dt.datetime(2026, 12, 5, 9, 0, tzinfo=TZ))  # Saturday 09:00-17:00
    assert not _open(dt.datetime(2026, 12, 6, 10, 0, tzinfo=TZ))  # Sunday closed
    assert _open(dt.datetime(2026, 12, 6, 3, 0, tzinfo=TZ), always=True)


def test_the_holiday_rule() -> None:
    national_day = dt.datetime(2026, 10, 1, 9, 0, tzinfo=TZ)  # a Thursday
    assert _open(national_day, holiday=True)
    assert not _open(national_day, holiday=True, mode=HolidayMode.CLOSED)
    assert not _open(national_day, holiday=True, mode=HolidayMode.CLOSED, always=True)
    assert not _open(national_day, holiday=True, mode=HolidayMode.SPECIAL)  # 10:00-15:00 on holidays
    assert _open(national_day.replace(hour=14), holiday=True, mode=HolidayMode.SPECIAL)
    assert not _open(national_day.replace(hour=16), holiday=True, mode=HolidayMode.SPECIAL, always=True)
