"""Working days from the official schedule (chinese-calendar) with local overrides; a year the
package does not know yet counts Monday to Friday."""

import datetime as dt

import pytest

from gonghui.core.errors import ValidationFailed
from gonghui.core.policies import policy_body_validate, policy_kind
from gonghui.core.workdays import WORKDAYS_POLICY, WorkCalendar

D = dt.date
OFFICIAL = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        (D(2026, 10, 1), False, "国庆节 (法定节假日)"),
        (D(2026, 10, 7), False, "国庆节假期最后一天 (a Wednesday)"),
        (D(2026, 10, 10), True, "调休上班的星期六"),
        (D(2026, 9, 25), False, "中秋节 (a Friday)"),
        (D(2026, 9, 20), True, "中秋调休上班的星期日"),
        (D(2026, 12, 4), True, "an ordinary Friday"),
        (D(2026, 12, 5), False, "an ordinary Saturday"),
    ],
)
def test_the_official_2026_schedule(day: dt.date, working: bool, why: str) -> None:
    assert OFFICIAL.is_working_day(day) is working, why
    assert OFFICIAL.official(day)


def test_a_year_not_yet_published_counts_monday_to_friday_and_says_so() -> None:
    assert not OFFICIAL.official(D(2027, 1, 1))
    assert OFFICIAL.is_working_day(D(2027, 1, 1))  # a Friday, until the schedule arrives
    assert not OFFICIAL.is_working_day(D(2027, 1, 2))


def test_local_overrides_win_over_the_official_schedule() -> None:
    local = WorkCalendar.of({"holidays": ["2026-12-04"], "workdays": ["2026-12-06"]})
    assert not local.is_working_day(D(2026, 12, 4))
    assert local.is_working_day(D(2026, 12, 6))
    assert local.is_working_day(D(2026, 12, 7))


def test_five_working_days_of_notice_run_over_the_national_day_holiday() -> None:
    # Posted on Wednesday 30 September 2026: 30 Sep, then 8, 9, 10 (调休 Saturday), 12 October.
    assert OFFICIAL.nth_working_day(D(2026, 9, 30), 5) == D(2026, 10, 12)
    assert OFFICIAL.working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 5
    assert OFFICIAL.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert OFFICIAL.add_working_days(D(2026, 9, 30), 0) == D(2026, 9, 30)
    assert OFFICIAL.working_days_between(D(2026, 10, 12), D(2026, 10, 11)) == 0
    with pytest.raises(ValueError):
        OFFICIAL.nth_working_day(D(2026, 9, 30), 0)


def test_an_sla_clock_stops_over_the_weekend() -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    friday_noon = dt.datetime(2026, 12, 4, 12, tzinfo=tz)
    monday_noon = dt.datetime(2026, 12, 7, 12, tzinfo=tz)
    assert OFFICIAL.working_seconds_between(friday_noon, monday_noon) == 24 * 3600
    assert OFFICIAL.working_seconds_between(monday_noon, friday_noon) == 0


def test_the_overrides_are_a_versioned_policy_with_chinese_validation() -> None:
    assert policy_kind(WORKDAYS_POLICY).label.startswith("本地节假日调整")
    assert policy_body_validate(WORKDAYS_POLICY, {"holidays": ["2026-12-04"]})["holidays"] == ["2026-12-04"]
    with pytest.raises(ValidationFailed) as refused:
        policy_body_validate(WORKDAYS_POLICY, {"holidays": ["2026-13-40"]})
    assert refused.value.fields


def test_holidays_are_the_official_periods_and_the_local_days_off() -> None:
    assert OFFICIAL.is_holiday(D(2026, 10, 1))  # 国庆, a Thursday
    assert OFFICIAL.is_holiday(D(2026, 10, 3))  # a Saturday inside the National Day period
    assert not OFFICIAL.is_holiday(D(2026, 10, 10))  # the 调休 Saturday worked instead
    assert not OFFICIAL.is_holiday(D(2026, 12, 5))  # an ordinary weekend is no holiday
    assert not OFFICIAL.is_holiday(D(2026, 12, 4))
    local = WorkCalendar.of({"holidays": ["2026-12-04"], "workdays": ["2026-10-02"]})
    assert local.is_holiday(D(2026, 12, 4))
    assert not local.is_holiday(D(2026, 10, 2))
