"""The one places-and-waiting-list mechanism under concurrency (PostgreSQL, real transactions,
one thread per client): exactly `capacity` seats, the rest waiting in arrival order, and a
cancellation promoting the first in line exactly once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection, transaction

from gonghui.activities import places, services
from gonghui.activities.models import Place, PlaceStatus, Roster
from gonghui.activities.tests.factories import make_activity, members
from gonghui.core.errors import Conflict, ValidationFailed
from gonghui.site.testing import build_world

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency")


def _concurrently(count: int, work, workers: int = 30) -> list:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(min(workers, count))

    def run(i: int):  # type: ignore[no-untyped-def]
        try:
            if i < workers:
                barrier.wait()
            return work(i)
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_300_concurrent_signups_for_100_places_then_cancellations_promote_in_order() -> None:
    world = build_world()
    activity = make_activity(world.union_a, capacity=100)
    people = members(world.union_a, 300)

    def sign_up(i: int) -> tuple[int, str]:
        place = services.activity_signup(user=people[i].user, member=people[i], activity=activity)
        return place.seq, place.status

    results = _concurrently(300, sign_up)
    roster = Roster.objects.get(pk=activity.roster_id)
    assert roster.confirmed == 100
    assert roster.last_seq == 300
    confirmed = Place.objects.filter(roster=roster, status=PlaceStatus.CONFIRMED)
    waiting = list(Place.objects.filter(roster=roster, status=PlaceStatus.WAITLISTED).order_by("rank"))
    assert confirmed.count() == 100 and len(waiting) == 200
    # Arrival order decided everything: the first 100 arrivals hold the seats, the rest wait in order.
    assert sorted(confirmed.values_list("seq", flat=True)) == list(range(1, 101))
    assert [p.seq for p in waiting] == list(range(101, 301))
    assert sorted(seq for seq, _ in results) == list(range(1, 301))
    assert all((status == PlaceStatus.CONFIRMED) == (seq <= 100) for seq, status in results)

    # Ten seat holders cancel at once: the first ten in line are promoted, each once.
    leaving = list(confirmed.order_by("seq")[:10])

    def cancel(i: int) -> int | None:
        result = services.place_cancel(user=leaving[i].member.user, place=leaving[i], by_member=leaving[i].member)
        return result.promoted.seq if result.promoted else None

    promoted = _concurrently(10, cancel, workers=10)
    assert sorted(p for p in promoted if p is not None) == list(range(101, 111))
    roster.refresh_from_db()
    assert roster.confirmed == 100
    assert Place.objects.filter(roster=roster, status=PlaceStatus.CONFIRMED).count() == 100
    assert Place.objects.filter(roster=roster, promoted_at__isnull=False).count() == 10
    assert Place.objects.filter(roster=roster, status=PlaceStatus.WAITLISTED).order_by("rank").first().seq == 111


@pytest.mark.django_db(transaction=True)
def test_the_same_cancellation_sent_twice_at_once_promotes_once() -> None:
    world = build_world()
    activity = make_activity(world.union_a, capacity=2)
    people = members(world.union_a, 5)
    for m in people:
        services.activity_signup(user=m.user, member=m, activity=activity)
    seat = Place.objects.get(roster_id=activity.roster_id, seq=1)

    def cancel(_: int) -> str:
        try:
            result = services.place_cancel(user=seat.member.user, place=seat, by_member=seat.member)
        except Conflict:
            return "refused"
        return "promoted %d" % result.promoted.seq if result.promoted else "none"

    outcomes = sorted(_concurrently(8, cancel, workers=8))
    assert outcomes == ["promoted 3"] + ["refused"] * 7
    assert list(
        Place.objects.filter(roster_id=activity.roster_id, status=PlaceStatus.CONFIRMED).values_list("seq", flat=True)
    ) == [2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_member_signing_up_twice_at_once_gets_one_place() -> None:
    world = build_world()
    activity = make_activity(world.union_a, capacity=5)
    member = world.member_a

    def sign_up(_: int) -> str:
        try:
            services.activity_signup(user=member.user, member=member, activity=activity)
        except Conflict:
            return "refused"
        return "ok"

    assert sorted(_concurrently(6, sign_up, workers=6)) == ["ok"] + ["refused"] * 5
    assert Place.objects.filter(roster_id=activity.roster_id).count() == 1


@pytest.mark.django_db
def test_more_places_promote_the_waiting_list_and_fewer_than_the_seats_is_refused() -> None:
    world = build_world()
    activity = make_activity(world.union_a, capacity=2)
    for m in members(world.union_a, 5):
        services.activity_signup(user=m.user, member=m, activity=activity)
    with transaction.atomic():
        promoted = places.roster_resize(roster_id=activity.roster_id, capacity=4)
    assert [p.seq for p in promoted] == [3, 4]
    with pytest.raises(ValidationFailed), transaction.atomic():
        places.roster_resize(roster_id=activity.roster_id, capacity=3)
    assert Roster.objects.get(pk=activity.roster_id).capacity == 4
