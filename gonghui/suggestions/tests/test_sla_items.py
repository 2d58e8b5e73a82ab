"""An item's SLA state and its escalation with a frozen clock, end to end: the default rule
(first response within 24 working hours, resolution within 15 working days, at risk from 80 %,
escalation 24 working hours after a breach) read from the versioned policy, the official
calendar (weekends stop the clock) and the inbox's badge — at, just before and just after each
threshold. Escalation happens once, at its threshold, however often the chore runs; a re-opened
item has a new clock and may be escalated once more."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_user
from gonghui.suggestions import services
from gonghui.suggestions.models import Item, Notification
from gonghui.suggestions.sla import SlaState
from gonghui.suggestions.tests.factories import EVIDENCE, handler_of, make_item

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday; no holiday until April
S = dt.timedelta(seconds=1)
ON, RISK, BREACH = SlaState.ON_TRACK, SlaState.AT_RISK, SlaState.BREACHED


def _at(moment: dt.datetime):  # type: ignore[no-untyped-def]
    return time_machine.travel(moment, tick=False)


def _state(item: Item, moment: dt.datetime) -> SlaState:
    with _at(moment):
        return services.clock_of(Item.objects.get(pk=item.pk)).state


def _badge(world: World, moment: dt.datetime) -> str:
    with _at(moment):  # signed in afresh at each moment (hours apart, a session would idle out)
        body = world.client_for(world.staff_a).get("/console/suggestions/").content.decode()
    return body.split('data-testid="item-sla"', 1)[1].split(">", 1)[1].split("<", 1)[0]


def _submitted(world: World) -> Item:
    with _at(START):
        return make_item(world.union_a, received_at=START)


RESPONSE = [
    # 80 % of 24 working hours is 19 h 12 min: Tuesday 04:12.
    (dt.datetime(2026, 3, 3, 4, 12, tzinfo=TZ) - S, ON),
    (dt.datetime(2026, 3, 3, 4, 12, tzinfo=TZ), RISK),
    (dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ) - S, RISK),
    (dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ), BREACH),
    (dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ) + S, BREACH),
]


@pytest.mark.parametrize(("moment", "expected"), RESPONSE)
def test_the_response_clock_at_and_around_its_thresholds(world: World, moment, expected) -> None:  # type: ignore[no-untyped-def]
    assert _state(_submitted(world), moment) == expected


def test_the_inbox_badge_follows_the_clock(world: World) -> None:
    _submitted(world)
    labels = [_badge(world, moment) for moment, _ in RESPONSE]
    assert labels == ["正常", "临期", "临期", "超时", "超时"]


RESOLUTION = [
    # 15 working days from Monday 2 March 09:00 end on Monday 23 March 09:00 (three weekends
    # skipped); 80 % is 12 working days: Wednesday 18 March 09:00.
    (dt.datetime(2026, 3, 18, 9, 0, tzinfo=TZ) - S, ON),
    (dt.datetime(2026, 3, 18, 9, 0, tzinfo=TZ), RISK),
    (dt.datetime(2026, 3, 21, 12, 0, tzinfo=TZ), RISK),  # a Saturday: the clock stands still
    (dt.datetime(2026, 3, 23, 9, 0, tzinfo=TZ) - S, RISK),
    (dt.datetime(2026, 3, 23, 9, 0, tzinfo=TZ), BREACH),
]


@pytest.mark.parametrize(("moment", "expected"), RESOLUTION)
def test_the_resolution_clock_at_and_around_its_thresholds(world: World, moment, expected) -> None:  # type: ignore[no-untyped-def]
    item = _submitted(world)
    with _at(START + dt.timedelta(hours=2)):
        services.item_accept(actor=handler_of(world.union_a), item=item)  # responded in time
    assert _state(item, moment) == expected


def test_escalation_happens_at_its_threshold_once_and_once_more_after_a_reopening(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    street = grant(make_user("street_watch"), world.street, Role.HANDLER)
    with _at(START):
        item = make_item(world.union_a, member=world.member_a, received_at=START)
    threshold = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)  # 24 working hours past the response breach
    with django_capture_on_commit_callbacks(execute=True):
        with _at(threshold - S):
            assert services.escalate_breaches() == 0
        with _at(threshold):
            assert services.escalate_breaches() == 1
        for later in (threshold + S, threshold + dt.timedelta(hours=5), threshold + dt.timedelta(days=30)):
            with _at(later):
                assert services.escalate_breaches() == 0
    item.refresh_from_db()
    assert (item.escalated_at, item.escalated_to_id) == (threshold, world.street.pk)
    assert AuditEvent.objects.filter(action="suggestions.escalate", object_id=str(item.pk)).count() == 1
    assert Notification.objects.filter(user=street, item=item).count() == 1
    # Closed and re-opened by the member: a new clock, which may breach and be escalated once more.
    handler = handler_of(world.union_a)
    reopened_at = dt.datetime(2026, 4, 13, 9, 0, tzinfo=TZ)  # a Monday after Qingming
    with _at(reopened_at - dt.timedelta(days=3)):
        services.item_accept(actor=handler, item=item)
        services.item_close(actor=handler, item=item, text="已办结", uploads=[EVIDENCE])
    with _at(reopened_at):
        services.item_reopen(actor=world.member_a.user, item=item, reason="问题依旧")
    assert Item.objects.get(pk=item.pk).escalated_at is None
    with django_capture_on_commit_callbacks(execute=True):
        with _at(reopened_at + dt.timedelta(days=1)):
            assert services.escalate_breaches() == 0  # the first response was reset, 24 h in: breached only
        with _at(dt.datetime(2026, 4, 15, 9, 0, tzinfo=TZ)):
            assert services.escalate_breaches() == 1
            assert services.escalate_breaches() == 0
    assert AuditEvent.objects.filter(action="suggestions.escalate", object_id=str(item.pk)).count() == 2
