"""The demo seeder, on any date: a plan whose sessions lie around that day, rosters whose
counters agree with their rows, a closed over-subscribed camp the demo staff can draw."""

import datetime as dt
import io
import random

import pytest
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.activities import demo, services
from gonghui.activities.models import (
    Activity,
    ActivityKind,
    Attendance,
    Certificate,
    Place,
    PlaceStatus,
    Roster,
    Session,
    TrainingPlan,
)
from gonghui.activities.tests.factories import members
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("today", [None, dt.date(2028, 2, 29), dt.date(2031, 12, 31)])
def test_the_demo_builds_a_night_school_around_the_day_and_an_over_subscribed_camp(world: World, today) -> None:  # type: ignore[no-untyped-def]
    today = today or timezone.localdate()
    admin = grant(
        User.objects.create_staff_user(username="demo_admin", password="x-Gonghui-2026"), world.city, Role.HANDLER
    )
    members(world.union_a, 80)
    demo.seed(rng=random.Random(3), stdout=io.StringIO(), today=today)
    for roster in Roster.objects.all():
        rows = Place.objects.filter(roster=roster)
        assert roster.confirmed == rows.filter(status=PlaceStatus.CONFIRMED).count() <= roster.capacity
        assert roster.last_seq == rows.count()
    assert Attendance.objects.exists() and Certificate.objects.exists()
    camp = Activity.objects.get(kind=ActivityKind.SUMMER_CAMP)
    entered = Place.objects.filter(roster_id=camp.roster_id, status=PlaceStatus.ENTERED).count()
    assert entered > camp.roster.capacity
    assert camp.signup_closes_at.date() <= today < camp.starts_on
    plan = TrainingPlan.objects.get(name__endswith="（本期）")
    starts = [timezone.localtime(s.starts_at).date() for s in Session.objects.filter(course__plan=plan)]
    assert min(starts) < today <= max(starts) and plan.starts_on <= min(starts) and max(starts) <= plan.ends_on
    assert {ActivityKind.RUN, ActivityKind.RETREAT} <= set(Activity.objects.values_list("kind", flat=True))
    if today == timezone.localdate():
        draw = services.activity_draw(actor=admin, activity=camp)
        assert len(draw.order) == entered
