"""`python manage.py bench stations --stations 100000 --queries 10000`

Builds that many stations (bulk inserts and an ANALYZE, not timed) spread over the demo
province's extent, then runs the nearest-station queries at random points through the members'
search path (`selectors.nearest_stations`: the indexed grid prefilter, the opening hours at one
fixed moment, exact great-circle order) and answers the same queries by a brute-force scan of every
station in memory (same filters, same moment). Prints `p50_ms`, `p95_ms` (search),
`brute_p95_ms` (scan) and `same_answers`: whether every query returned the same stations in
the same order. The stations made are deleted afterwards."""

import argparse
import heapq
import math
import random
import statistics
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from gonghui.core import sql
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create
from gonghui.stations import defaults, demo, geo, hours, selectors
from gonghui.stations.models import Facility, Station, StationKind

SOUTH, NORTH, WEST, EAST = 30.8, 34.8, 117.0, 121.8
ROOT_CODE = "BENCH-ST-ROOT"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20260816)


def _build(count: int, rng: random.Random, org: Organization) -> None:
    kinds = {k.code: k for k in StationKind.objects.all()}
    facilities = {f.code: f for f in Facility.objects.all()}
    pool = [code for code, share, _ in demo.KIND_MIX for _ in range(share) if code in kinds]
    batch: list[Station] = []
    for n in range(count):
        kind = rng.choice(pool)
        lat, lng = round(rng.uniform(SOUTH, NORTH), 6), round(rng.uniform(WEST, EAST), 6)
        batch.append(
            Station(
                code="BS%010d" % n,
                name="基准站点%d" % n,
                kind=kinds[kind],
                organization=org,
                address="基准地址%d号" % n,
                lat=lat,
                lng=lng,
                cell=geo.cell_of(lat, lng),
                facility_mask=demo._facility_mask(kind, rng, facilities),
                **demo._hours(kind, rng),
            )
        )
        if len(batch) == 2000:
            Station.objects.bulk_create(batch)
            batch = []
    Station.objects.bulk_create(batch)


def _unit(lat: float, lng: float) -> tuple[float, float, float]:
    p, lam = math.radians(lat), math.radians(lng)
    return math.cos(p) * math.cos(lam), math.cos(p) * math.sin(lam), math.sin(p)


class BruteForce:
    """Every active station in memory; a query scans all of those passing its filters."""

    def __init__(self, now: Any):
        local = timezone.localtime(now)
        rows = list(
            Station.objects.filter(is_active=True).values_list(
                "id",
                "lat",
                "lng",
                "kind_id",
                "facility_mask",
                "always_open",
                "weekly_hours",
                "holiday_mode",
                "holiday_hours",
                "organization__path",
            )
        )
        holidays = selectors.holidays_for({r[9] for r in rows}, local.date())
        self.rows = []
        for pk, lat, lng, kind_id, mask, always, weekly, mode, special, path in rows:
            is_open = hours.open_at(
                always_open=always,
                weekly_hours=weekly,
                holiday_mode=mode,
                holiday_hours=special,
                local=local,
                holiday=holidays[path],
            )
            self.rows.append((pk, lat, lng, kind_id, mask, is_open, *_unit(lat, lng)))
        self.filtered: dict[tuple[int | None, int, bool], list[tuple[Any, ...]]] = {}

    def _subset(self, query: selectors.NearestQuery) -> list[tuple[Any, ...]]:
        key = (query.kind_id, query.facility_mask, query.open_now)
        if key not in self.filtered:
            self.filtered[key] = [
                r
                for r in self.rows
                if (query.kind_id is None or r[3] == query.kind_id)
                and (r[4] & query.facility_mask) == query.facility_mask
                and (r[5] or not query.open_now)
            ]
        return self.filtered[key]

    def answer(self, query: selectors.NearestQuery) -> list[int]:
        x0, y0, z0 = _unit(query.lat, query.lng)
        # The chord between unit vectors grows with the great-circle distance: the nearest by
        # chord are the nearest; a margin is ranked again by the search's own distance.
        nearest = heapq.nsmallest(
            query.limit + 8,
            self._subset(query),
            key=lambda r: (r[6] - x0) ** 2 + (r[7] - y0) ** 2 + (r[8] - z0) ** 2,
        )
        ranked = sorted((geo.distance_m(query.lat, query.lng, r[1], r[2]), r[0]) for r in nearest)
        return [pk for distance, pk in ranked if distance <= query.max_radius_m][: query.limit]


def _queries(count: int, rng: random.Random) -> list[selectors.NearestQuery]:
    facilities = {f.code: f for f in Facility.objects.all()}
    kinds = {k.code: k for k in StationKind.objects.all()}
    masks = [0, 0, facilities["microwave"].mask, facilities["fridge"].mask, facilities["massage"].mask]
    out = []
    for _ in range(count):
        kind = kinds["outdoor"].pk if rng.random() < 0.2 else None
        out.append(
            selectors.NearestQuery(
                lat=rng.uniform(SOUTH, NORTH),
                lng=rng.uniform(WEST, EAST),
                kind_id=kind,
                facility_mask=rng.choice(masks),
                open_now=rng.random() < 0.8,
            )
        )
    return out


def run(*, stdout: Any, stations: int, queries: int, seed: int, **_: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    defaults.install()
    with transaction.atomic():
        org = organization_create(
            actor=None,
            parent=None,
            code=ROOT_CODE + str(time.time_ns())[-8:],
            name="阵地基准测试总工会",
            level=Level.PROVINCE,
            region_code="320000",
        )
        started = time.perf_counter()
        _build(stations, rng, org)
    # The planner's statistics of a table in use (autovacuum's, which a freshly loaded table
    # lacks until it runs): without them PostgreSQL took the fresh table for a few pages.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + sql.table(Station))
    stdout.write("built %d stations in %.1f s" % (stations, time.perf_counter() - started))
    try:
        now = timezone.now()
        asked = _queries(queries, rng)
        timings, answers = [], []
        for query in asked:
            t0 = time.perf_counter()
            found = selectors.nearest_stations(query, now=now)
            timings.append((time.perf_counter() - t0) * 1000)
            answers.append([near.station.pk for near in found])
        stdout.write("search done: p95 %.2f ms" % statistics.quantiles(timings, n=20)[18])
        brute = BruteForce(now)
        brute_timings, mismatches = [], 0
        for query, answer in zip(asked, answers, strict=True):
            t0 = time.perf_counter()
            expected = brute.answer(query)
            brute_timings.append((time.perf_counter() - t0) * 1000)
            mismatches += expected != answer
        return {
            "stations": stations,
            "queries": queries,
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(statistics.quantiles(timings, n=20)[18], 2),
            "brute_p95_ms": round(statistics.quantiles(brute_timings, n=20)[18], 2),
            "mean_results": round(sum(len(a) for a in answers) / max(1, len(answers)), 2),
            "mismatches": mismatches,
            "same_answers": mismatches == 0,
        }
    finally:
        Station.objects.filter(organization=org).delete()
        Organization.objects.filter(pk=org.pk).delete()


BENCHMARKS = {"stations": (add_arguments, run)}
