"""The nearest search: the same stations, in the same order, as a brute-force scan of every
station (with kind, facility and open-now filters, across radius expansions); it reads the
grid cells through their index; holidays come from the organisation's work calendar."""

import datetime as dt
import random
import re
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gonghui.core.workdays import WORKDAYS_POLICY, official_holiday
from gonghui.organizations.policies import policy_propose
from gonghui.site.testing import World
from gonghui.stations import geo, selectors
from gonghui.stations.benchmarks import BruteForce
from gonghui.stations.models import HolidayMode, Station
from gonghui.stations.tests.factories import facility, kind, make_station

TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def scattered(world: World) -> list[Station]:
    rng = random.Random(11)
    out = []
    for n in range(160):
        out.append(
            make_station(
                world.union_a if n % 2 else world.union_b,
                lat=31.30 + rng.uniform(-0.25, 0.25),
                lng=120.60 + rng.uniform(-0.25, 0.25),
                kind_code=rng.choice(("outdoor", "driver", "workers-home")),
                facilities=tuple(c for c in ("microwave", "fridge", "massage") if rng.random() < 0.5),
                always_open=n % 3 == 0,
                weekly=("08:00-18:00",) * 5 + ("", ""),
            )
        )
    return out


@pytest.mark.django_db
def test_nearest_equals_a_brute_force_scan(scattered: list[Station]) -> None:
    rng = random.Random(5)
    now = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)  # a Friday, 11:00 in 苏州
    brute = BruteForce(now)
    kinds = [None, kind("outdoor").pk]
    masks = [0, facility("microwave").mask, facility("massage").mask | facility("fridge").mask]
    checked = 0
    for _ in range(60):
        query = selectors.NearestQuery(
            lat=31.30 + rng.uniform(-0.4, 0.4),
            lng=120.60 + rng.uniform(-0.4, 0.4),
            kind_id=rng.choice(kinds),
            facility_mask=rng.choice(masks),
            open_now=rng.random() < 0.7,
            limit=rng.choice((1, 5, 10)),
            max_radius_m=rng.choice((5_000.0, 100_000.0)),
        )
        found = [h.station_id for h in selectors.nearest_hits(query, now=now)]
        assert found == brute.answer(query)
        checked += bool(found)
    assert checked > 30  # most queries found stations: the comparison was not vacuous


@pytest.mark.django_db
def test_results_carry_distance_walking_time_and_open_state(world: World) -> None:
    near = make_station(world.union_a, lat=31.3240, lng=120.6190, facilities=("microwave",), name="近站")
    make_station(world.union_a, lat=31.3300, lng=120.6300, facilities=("fridge",), name="无微波炉")
    far = make_station(world.union_b, lat=31.3500, lng=120.6500, facilities=("microwave",), name="远站")
    make_station(
        world.union_a,
        lat=31.3241,
        lng=120.6191,
        facilities=("microwave",),
        always_open=False,
        weekly=("08:00-09:00",) * 7,
        name="已下班",
    )
    query = selectors.NearestQuery(lat=31.3238, lng=120.6186, facility_mask=facility("microwave").mask)
    results = selectors.nearest_stations(query, now=dt.datetime(2026, 12, 4, 15, 0, tzinfo=TZ))
    assert [r.station.name for r in results] == ["近站", "远站"]
    first = results[0]
    assert first.distance_m == pytest.approx(geo.distance_m(31.3238, 120.6186, near.lat, near.lng))
    assert first.walking_minutes == geo.walking_minutes(first.distance_m) and first.is_open
    assert [f.name for f in first.facilities] == ["微波炉"]
    everything = selectors.nearest_stations(
        selectors.NearestQuery(lat=31.3238, lng=120.6186, open_now=False),
        now=dt.datetime(2026, 12, 4, 15, 0, tzinfo=TZ),
    )
    assert [r.station.name for r in everything][:2] == ["近站", "已下班"]
    assert everything[1].is_open is False
    assert far.pk in [r.station.pk for r in everything]


@pytest.mark.django_db
def test_an_inactive_station_is_never_found(world: World) -> None:
    make_station(world.union_a, is_active=False)
    assert selectors.nearest_hits(selectors.NearestQuery(lat=31.3238, lng=120.6186)) == []


@pytest.mark.django_db
def test_a_search_reads_cell_ranges_not_the_table(world: World) -> None:
    make_station(world.union_a)
    query = selectors.NearestQuery(lat=31.3238, lng=120.6186, kind_id=kind("outdoor").pk, facility_mask=1)
    with CaptureQueriesContext(connection) as ctx:
        selectors.nearest_hits(query)
    statements = [q["sql"] for q in ctx.captured_queries if "stations_station" in q["sql"]]
    assert statements and all("s.cell BETWEEN" in s for s in statements)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            for statement in statements:
                cursor.execute("EXPLAIN " + statement)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                # The cell index alone (not the kind's), even with the table scan ruled out.
                assert set(re.findall(r"Index (?:Only )?Scan (?:using|on) (\w+)", plan)) == {"station_cell_idx"}


@pytest.mark.django_db
def test_each_widening_reads_only_the_cells_it_adds(world: World) -> None:
    far = make_station(world.union_a, lat=31.60, lng=120.62)  # about 31 km north
    query = selectors.NearestQuery(lat=31.3238, lng=120.6186, limit=1)
    steps: list[tuple[float, float | None]] = []
    read = selectors.candidate_rows

    def spy(query: selectors.NearestQuery, radius_m: float, *, read_m: float | None = None) -> list[Any]:
        steps.append((radius_m, read_m))
        return read(query, radius_m, read_m=read_m)

    with mock.patch.object(selectors, "candidate_rows", spy):
        found = selectors.nearest_hits(query)
    assert [h.station_id for h in found] == [far.pk]
    assert len(steps) > 2 and steps[0][1] is None
    assert all(read_m == previous for (_, read_m), (previous, _) in zip(steps[1:], steps, strict=False))


@pytest.mark.django_db
def test_holiday_hours_follow_the_official_calendar_and_local_days_off(world: World) -> None:
    closed_on_holidays = make_station(world.union_a, holiday_mode=HolidayMode.CLOSED)
    national_day = dt.datetime(2026, 10, 1, 10, 0, tzinfo=TZ)
    assert not selectors.station_is_open(closed_on_holidays, national_day)
    day = timezone.localdate() + dt.timedelta(days=7)
    while official_holiday(day):
        day += dt.timedelta(days=1)
    ordinary_day = dt.datetime.combine(day, dt.time(10), tzinfo=TZ)
    assert selectors.station_is_open(closed_on_holidays, ordinary_day)
    policy_propose(  # local days off need no second approval
        actor=world.federation_admin,
        kind=WORKDAYS_POLICY,
        organization=world.street,
        body={"holidays": [day.isoformat()], "workdays": [], "note": "本地休息日"},
    )
    selectors._holidays.clear()  # the calendar is remembered for a minute
    selectors._org_holidays.clear()
    assert not selectors.station_is_open(closed_on_holidays, ordinary_day)
    near = selectors.NearestQuery(lat=closed_on_holidays.lat, lng=closed_on_holidays.lng, open_now=False)
    assert [h.is_open for h in selectors.nearest_hits(near, now=ordinary_day)] == [False]
    other = make_station(world.city, holiday_mode=HolidayMode.CLOSED)  # outside the street's sub-tree
    assert selectors.station_is_open(other, ordinary_day)
