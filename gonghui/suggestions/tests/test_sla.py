"""SLA state at and around each threshold, with a frozen clock: the response limit, the
at-risk share, the resolution limit, escalation, and hours counted on working days only
(weekends and the official 劳动节 holiday stop the clock)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from gonghui.core.workdays import WorkCalendar
from gonghui.suggestions.sla import SLA_DEFAULT, SlaBody, SlaRule, SlaState, rule_for, sla_state

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
S = dt.timedelta(seconds=1)
CALENDAR = WorkCalendar()
CLOCK_RULE = SlaRule(
    name="测试", respond_hours=24, resolve_days=10, at_risk_percent=80, escalate_after_hours=24, working_days=False
)

ON, RISK, BREACH = SlaState.ON_TRACK, SlaState.AT_RISK, SlaState.BREACHED

# (elapsed since the clock started, responded after, resolved after, expected state)
CASES = [
    (19 * H + 11 * 60 * S, None, None, ON),  # 79.9% of the response limit
    (19 * H + 12 * 60 * S, None, None, RISK),  # exactly 80%
    (19 * H + 12 * 60 * S + S, None, None, RISK),
    (24 * H - S, None, None, RISK),
    (24 * H, None, None, BREACH),  # exactly the limit
    (24 * H + S, None, None, BREACH),
    (8 * D - S, 2 * H, None, ON),  # responded in time; resolution at 79.99%
    (8 * D, 2 * H, None, RISK),
    (10 * D - S, 2 * H, None, RISK),
    (10 * D, 2 * H, None, BREACH),
    (26 * H, 25 * H, None, BREACH),  # a late response stays breached
    (30 * D, 2 * H, 5 * D, ON),  # resolved: the clocks stopped on day 5
    (30 * D, 2 * H, 9 * D, RISK),
    (30 * D, 2 * H, 10 * D, BREACH),
]


@pytest.mark.parametrize(("elapsed", "responded", "resolved", "expected"), CASES)
def test_sla_state_at_and_around_each_threshold(elapsed, responded, resolved, expected) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START + elapsed, tick=False):
        clock = sla_state(
            clock_started_at=START,
            first_response_at=START + responded if responded is not None else None,
            resolved_at=START + resolved if resolved is not None else None,
            rule=CLOCK_RULE,
            now=timezone.now(),
            calendar=CALENDAR,
        )
    assert clock.state == expected


# (elapsed, responded after, resolved after, escalation due?)
ESCALATION = [
    (48 * H - S, None, None, False),  # 24 h past the response limit is the escalation point
    (48 * H, None, None, True),
    (11 * D - S, 2 * H, None, False),  # resolution limit + 24 h
    (11 * D, 2 * H, None, True),
    (40 * D, 2 * H, 12 * D, False),  # closed, even if late: nothing to escalate
]


@pytest.mark.parametrize(("elapsed", "responded", "resolved", "due"), ESCALATION)
def test_escalation_falls_due_after_the_rule_s_hours_past_a_breach(elapsed, responded, resolved, due) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START + elapsed, tick=False):
        clock = sla_state(
            clock_started_at=START,
            first_response_at=START + responded if responded is not None else None,
            resolved_at=START + resolved if resolved is not None else None,
            rule=CLOCK_RULE,
            now=timezone.now(),
            calendar=CALENDAR,
        )
    assert clock.escalate_due is due


WORKING = CLOCK_RULE.model_copy(update={"working_days": True})


@pytest.mark.parametrize(
    ("start", "now", "expected"),
    [
        # Friday 18:00 + 6 h on Friday, the weekend stops the clock, 18 h on Monday = 24 working hours.
        (dt.datetime(2026, 3, 6, 18, 0, tzinfo=TZ), dt.datetime(2026, 3, 9, 17, 59, 59, tzinfo=TZ), RISK),
        (dt.datetime(2026, 3, 6, 18, 0, tzinfo=TZ), dt.datetime(2026, 3, 9, 18, 0, tzinfo=TZ), BREACH),
        # Thursday 30 April 12:00: 12 h that day, 1–5 May are the official holiday, then 12 h on 6 May.
        (dt.datetime(2026, 4, 30, 12, 0, tzinfo=TZ), dt.datetime(2026, 5, 6, 11, 59, 59, tzinfo=TZ), RISK),
        (dt.datetime(2026, 4, 30, 12, 0, tzinfo=TZ), dt.datetime(2026, 5, 6, 12, 0, tzinfo=TZ), BREACH),
        (dt.datetime(2026, 4, 30, 12, 0, tzinfo=TZ), dt.datetime(2026, 5, 5, 23, 0, tzinfo=TZ), ON),
    ],
)
def test_working_day_rules_count_only_working_hours(start, now, expected) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(now, tick=False):
        clock = sla_state(
            clock_started_at=start,
            first_response_at=None,
            resolved_at=None,
            rule=WORKING,
            now=timezone.now(),
            calendar=CALENDAR,
        )
    assert clock.state == expected


def test_a_local_holiday_override_stops_the_clock_too() -> None:
    start = dt.datetime(2026, 3, 9, 0, 0, tzinfo=TZ)
    calendar = WorkCalendar.of({"holidays": ["2026-03-09"], "workdays": []})
    clock = sla_state(
        clock_started_at=start,
        first_response_at=None,
        resolved_at=None,
        rule=WORKING,
        now=start + 30 * H,
        calendar=calendar,
    )
    assert clock.respond_used == pytest.approx(6 / 24)
    assert clock.state == ON


def test_rules_match_first_by_order_on_category_channel_and_organisation() -> None:
    rules = [
        {"name": "甲公司后勤", "organization": "A1", "category": "后勤保障", "respond_hours": 4, "resolve_days": 3},
        {"name": "提案", "channel": "congress", "respond_hours": 72, "resolve_days": 90},
        {"name": "后勤", "category": "后勤保障", "respond_hours": 8, "resolve_days": 5},
        {"name": "一般", "respond_hours": 24, "resolve_days": 15},
    ]
    assert rule_for(rules, category="后勤保障", channel="congress", organization="A1").name == "甲公司后勤"
    assert rule_for(rules, category="后勤保障", channel="congress", organization="B1").name == "提案"
    assert rule_for(rules, category="后勤保障", channel="letter", organization="B1").name == "后勤"
    assert rule_for(rules, category="", channel="letter", organization="A1").name == "一般"


def test_the_policy_schema_refuses_bad_rules_and_accepts_the_default() -> None:
    SlaBody.model_validate(SLA_DEFAULT)
    with pytest.raises(ValueError):
        SlaBody.model_validate({"rules": []})
    with pytest.raises(ValueError):
        SlaBody.model_validate({"rules": [{"name": "x", "respond_hours": 0, "resolve_days": 1}]})
    with pytest.raises(ValueError):
        SlaBody.model_validate({"rules": [{"name": "x", "channel": "fax", "respond_hours": 1, "resolve_days": 1}]})
