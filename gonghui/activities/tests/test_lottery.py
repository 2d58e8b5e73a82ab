"""The lottery is reproducible from its recorded seed and entrant list, by anyone."""

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from gonghui.activities import places, services
from gonghui.activities.models import ActivityKind, Draw, Place, PlaceStatus, Roster
from gonghui.activities.tests.factories import handler_of, make_activity, members
from gonghui.core.errors import Conflict
from gonghui.core.models import AuditEvent


def _camp(world, capacity: int = 5, entrants: int = 12):  # type: ignore[no-untyped-def]
    camp = make_activity(world.union_a, capacity=capacity, kind=ActivityKind.SUMMER_CAMP, lottery=True)
    birth = timezone.localdate().replace(year=timezone.localdate().year - 9)
    for i, m in enumerate(members(world.union_a, entrants)):
        services.activity_signup(
            user=m.user, member=m, activity=camp, child=services.ChildInput(name="小明%d" % i, birth_date=birth)
        )
    camp.signup_closes_at = timezone.now() - dt.timedelta(minutes=1)
    camp.save(update_fields=["signup_closes_at"])
    return camp


def test_draw_order_is_the_documented_sha256_rule() -> None:
    seed = "5eed"
    expected = sorted([1, 2, 3, 4, 5], key=lambda n: hashlib.sha256(("5eed:%d" % n).encode()).hexdigest())
    assert places.draw_order(seed, [1, 2, 3, 4, 5]) == expected
    assert places.draw_order(seed, [5, 3, 1, 2, 4]) == expected  # input order does not matter
    assert places.draw_order("another", [1, 2, 3, 4, 5]) != expected


@pytest.mark.django_db
def test_a_recorded_draw_is_reproduced_from_its_seed_and_entrants(world) -> None:  # type: ignore[no-untyped-def]
    camp = _camp(world)
    assert set(Place.objects.filter(roster_id=camp.roster_id).values_list("status", flat=True)) == {"entered"}
    draw = services.activity_draw(actor=handler_of(world.union_a), activity=camp)
    record = Draw.objects.get(pk=draw.pk)
    assert len(record.seed) == 32 and record.algorithm == places.DRAW_ALGORITHM
    assert [seq for seq, _ in record.entrants] == list(range(1, 13))
    # Anyone with the seed and the entrant list recomputes the order, and the seats follow it.
    assert places.draw_order(record.seed, [seq for seq, _ in record.entrants]) == record.order
    by_seq = {p.seq: p for p in Place.objects.filter(roster_id=camp.roster_id)}
    assert [s for s in record.order if by_seq[s].status == PlaceStatus.CONFIRMED] == record.order[:5]
    waiting = sorted((p for p in by_seq.values() if p.status == PlaceStatus.WAITLISTED), key=lambda p: p.rank)
    assert [p.seq for p in waiting] == record.order[5:]
    assert Roster.objects.get(pk=camp.roster_id).confirmed == 5
    event = AuditEvent.objects.get(action="activities.draw")
    assert event.detail["seed"] == record.seed and event.detail["entrants"] == 12


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_winners_on_another_camp(world) -> None:  # type: ignore[no-untyped-def]
    first, second = _camp(world), _camp(world)
    a = services.activity_draw(actor=handler_of(world.union_a), activity=first, seed="fixed-seed")
    b = services.activity_draw(actor=handler_of(world.union_a), activity=second, seed="fixed-seed")
    assert a.order == b.order


@pytest.mark.django_db
def test_a_draw_happens_once_and_only_after_sign_up_closes(world) -> None:  # type: ignore[no-untyped-def]
    open_camp = make_activity(world.union_a, kind=ActivityKind.SUMMER_CAMP, lottery=True)
    with pytest.raises(Conflict):
        services.activity_draw(actor=handler_of(world.union_a), activity=open_camp)
    camp = _camp(world)
    services.activity_draw(actor=handler_of(world.union_a), activity=camp)
    before = list(Place.objects.filter(roster_id=camp.roster_id).values_list("pk", "status", "rank"))
    with pytest.raises(Conflict):
        services.activity_draw(actor=handler_of(world.union_a), activity=camp)
    assert list(Place.objects.filter(roster_id=camp.roster_id).values_list("pk", "status", "rank")) == before
    assert Draw.objects.filter(activity=camp).count() == 1


@pytest.mark.django_db
def test_after_the_draw_a_cancellation_promotes_the_first_drawn_in_line(world) -> None:  # type: ignore[no-untyped-def]
    camp = _camp(world)
    draw = services.activity_draw(actor=handler_of(world.union_a), activity=camp)
    seat = Place.objects.get(roster_id=camp.roster_id, seq=draw.order[0])
    result = services.place_cancel(user=seat.member.user, place=seat, by_member=seat.member)
    assert result.promoted is not None and result.promoted.seq == draw.order[5]
