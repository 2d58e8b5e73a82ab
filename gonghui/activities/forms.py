"""Parsing of the console and H5 forms into the services' inputs: every field checked for type
and range, every error in Chinese and named by its field (a 422, never a 500)."""

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from gonghui.activities import services
from gonghui.activities.models import ActivityKind
from gonghui.core import parsing
from gonghui.core.errors import ValidationFailed
from gonghui.members.models import Member

T = TypeVar("T")


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def take(self, name: str, parse: Callable[[], T], fallback: T) -> T:
        try:
            return parse()
        except ValueError as exc:
            self.fields[name] = str(exc)
            return fallback

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationFailed(next(iter(self.fields.values())), fields=self.fields)


_DAY = dt.date(2000, 1, 1)


def _time(raw: Any, *, label: str) -> dt.time:
    text = parsing.clean(raw)
    try:
        return dt.time.fromisoformat(text) if 4 <= len(text) <= 8 else dt.time.fromisoformat("x")
    except ValueError:
        raise ValueError("%(l)s格式应为 HH:MM" % {"l": label}) from None


def plan_input(data: Mapping[str, Any]) -> services.PlanInput:
    e = _Errors()
    starts = e.take("starts_on", lambda: parsing.parse_date(data.get("starts_on"), label="开始日期"), _DAY)
    ends = e.take("ends_on", lambda: parsing.parse_date(data.get("ends_on"), label="结束日期"), _DAY)
    e.raise_any()
    return services.PlanInput(
        name=str(data.get("name", "")), description=str(data.get("description", "")), starts_on=starts, ends_on=ends
    )


def course_input(data: Mapping[str, Any], instructors: list[Member]) -> services.CourseInput:
    e = _Errors()
    capacity = e.take(
        "capacity",
        lambda: parsing.parse_int(data.get("capacity"), label="名额", minimum=1, maximum=services.CAPACITY_MAX),
        1,
    )
    threshold = e.take(
        "certificate_sessions",
        lambda: parsing.parse_int(
            data.get("certificate_sessions"), label="结业所需出勤次数", minimum=1, maximum=services.SESSIONS_MAX
        ),
        1,
    )
    instructor = next((m for m in instructors if str(m.pk) == parsing.clean(data.get("instructor"))), None)
    if instructor is None:
        e.fields["instructor"] = "请选择授课老师（本组织范围内的劳模或工匠）"
    e.raise_any()
    assert instructor is not None
    return services.CourseInput(
        name=str(data.get("name", "")),
        trade=str(data.get("trade", "")),
        instructor=instructor,
        location=str(data.get("location", "")),
        description=str(data.get("description", "")),
        capacity=capacity,
        certificate_sessions=threshold,
    )


def sessions_input(data: Mapping[str, Any]) -> services.SessionsInput:
    e = _Errors()
    day = e.take("first_day", lambda: parsing.parse_date(data.get("first_day"), label="首次上课日期"), _DAY)
    start = e.take("start", lambda: _time(data.get("start"), label="上课时间"), dt.time(18))
    end = e.take("end", lambda: _time(data.get("end"), label="下课时间"), dt.time(19))
    weeks = e.take(
        "weeks",
        lambda: parsing.parse_int(data.get("weeks") or "1", label="连续周数", minimum=1, maximum=services.WEEKS_MAX),
        1,
    )
    e.raise_any()
    return services.SessionsInput(topic=str(data.get("topic", "")), first_day=day, start=start, end=end, weeks=weeks)


def activity_input(data: Mapping[str, Any]) -> services.ActivityInput:
    e = _Errors()
    kind = parsing.clean(data.get("kind"))
    if kind not in ActivityKind.values:
        e.fields["kind"] = "请选择活动类型"
    starts = e.take("starts_on", lambda: parsing.parse_date(data.get("starts_on"), label="活动开始日期"), _DAY)
    ends = e.take("ends_on", lambda: parsing.parse_date(data.get("ends_on"), label="活动结束日期"), _DAY)
    closes = e.take(
        "signup_closes_at",
        lambda: parsing.parse_local_datetime(data.get("signup_closes_at"), label="报名截止时间"),
        dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
    capacity = e.take(
        "capacity",
        lambda: parsing.parse_int(data.get("capacity"), label="名额", minimum=1, maximum=services.CAPACITY_MAX),
        1,
    )
    e.raise_any()
    return services.ActivityInput(
        kind=kind,
        title=str(data.get("title", "")),
        description=str(data.get("description", "")),
        location=str(data.get("location", "")),
        starts_on=starts,
        ends_on=ends,
        signup_closes_at=closes,
        capacity=capacity,
        lottery=data.get("lottery") == "1",
    )


def child_input(data: Mapping[str, Any]) -> services.ChildInput:
    e = _Errors()
    raw = parsing.clean(data.get("child_birth"))
    birth = e.take("child_birth", lambda: parsing.parse_date(raw, label="子女出生日期"), None) if raw else None
    e.raise_any()
    return services.ChildInput(name=str(data.get("child_name", "")), birth_date=birth)
