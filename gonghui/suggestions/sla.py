"""SLA rules (`suggestions.sla`, a versioned policy) and the state of an item's clocks.

A body is an ordered list of rules; the first whose criteria (category name, channel,
organisation code — an empty criterion matches anything) fit the item applies. A rule says
within how many hours the union must first respond, within how many days the item must be
resolved, from what share of a limit the item counts as at risk, how many hours after a breach
it is escalated to the parent organisation, and whether only working days count (the official
schedule with the organisation's `core.workdays` overrides).

`sla_state` is a pure function of the item's timestamps, the rule, the calendar and now."""

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gonghui.core.workdays import WorkCalendar
from gonghui.suggestions.models import Channel

SLA_POLICY = "suggestions.sla"


class SlaRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40, title="规则名称")
    category: str = Field(default="", max_length=20, title="分类（空为任意）")
    channel: str = Field(default="", max_length=20, title="渠道（空为任意）")
    organization: str = Field(default="", max_length=32, title="组织代码（空为任意）")
    respond_hours: int = Field(ge=1, le=24 * 90, title="首次答复时限（小时）")
    resolve_days: int = Field(ge=1, le=730, title="办结时限（天）")
    at_risk_percent: int = Field(default=80, ge=1, le=99, title="预警比例（%）")
    escalate_after_hours: int = Field(default=24, ge=0, le=24 * 90, title="超时后上报（小时）")
    working_days: bool = Field(default=True, title="只计工作日")

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        if value and value not in Channel.values:
            raise ValueError("渠道“%(c)s”不存在" % {"c": value[:20]})
        return value


class SlaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[SlaRule] = Field(min_length=1, max_length=50, title="规则（按顺序匹配）")


SLA_DEFAULT: dict[str, Any] = {
    "rules": [
        {
            "name": "职代会提案",
            "channel": Channel.CONGRESS,
            "respond_hours": 72,
            "resolve_days": 90,
            "at_risk_percent": 80,
            "escalate_after_hours": 72,
            "working_days": True,
        },
        {
            "name": "一般诉求",
            "respond_hours": 24,
            "resolve_days": 15,
            "at_risk_percent": 80,
            "escalate_after_hours": 24,
            "working_days": True,
        },
    ]
}


class SlaState(enum.StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


SLA_LABELS = {SlaState.ON_TRACK: "正常", SlaState.AT_RISK: "临期", SlaState.BREACHED: "超时"}


@dataclass(frozen=True)
class Clock:
    state: SlaState
    respond_used: float  # share of the response limit used (1.0 = the limit)
    resolve_used: float
    escalate_due: bool


def rule_for(rules: Sequence[Mapping[str, Any]], *, category: str, channel: str, organization: str) -> SlaRule:
    """The first rule whose criteria fit; the last rule when none does (a body always has one)."""
    parsed = [SlaRule.model_validate(r) for r in rules]
    for rule in parsed:
        if rule.category and rule.category != category:
            continue
        if rule.channel and rule.channel != channel:
            continue
        if rule.organization and rule.organization != organization:
            continue
        return rule
    return parsed[-1]


def _elapsed(start: dt.datetime, end: dt.datetime, rule: SlaRule, calendar: WorkCalendar) -> float:
    if rule.working_days:
        return calendar.working_seconds_between(start, end)
    return max(0.0, (end - start).total_seconds())


def sla_state(
    *,
    clock_started_at: dt.datetime,
    first_response_at: dt.datetime | None,
    resolved_at: dt.datetime | None,
    rule: SlaRule,
    now: dt.datetime,
    calendar: WorkCalendar,
) -> Clock:
    """On track, at risk (a limit's at-risk share reached) or breached (a limit reached). The
    response clock stops at the first response, the resolution clock when the item is closed;
    a late response stays breached."""
    respond_limit = rule.respond_hours * 3600
    resolve_limit = rule.resolve_days * 86400
    responded = first_response_at if first_response_at and first_response_at >= clock_started_at else None
    respond_used = _elapsed(clock_started_at, responded or resolved_at or now, rule, calendar) / respond_limit
    resolve_seconds = _elapsed(clock_started_at, resolved_at or now, rule, calendar)
    resolve_used = resolve_seconds / resolve_limit
    worst = max(respond_used, resolve_used)
    if worst >= 1:
        state = SlaState.BREACHED
    elif worst >= rule.at_risk_percent / 100:
        state = SlaState.AT_RISK
    else:
        state = SlaState.ON_TRACK
    escalate_due = resolved_at is None and (
        resolve_seconds >= resolve_limit + rule.escalate_after_hours * 3600
        or (responded is None and respond_used * respond_limit >= respond_limit + rule.escalate_after_hours * 3600)
    )
    return Clock(state, respond_used, resolve_used, escalate_due)
