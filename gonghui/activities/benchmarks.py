"""`bench signups`: members sign up at once over HTTP (the production server, `--server`,
started here in a subprocess) for an activity with `--places` places, then `--cancel`
confirmed members cancel at once. The final line says whether the capacity mechanism held:
exactly `places` confirmed, the rest wait-listed in arrival order, and the first in line
promoted once per cancellation.

    python manage.py bench signups --places 100 --clients 300

Data is created under a throw-away organisation and deleted afterwards (`--keep` keeps it);
audit events written by the run stay, as the audit trail is append-only."""

import argparse
import datetime as dt
import http.client
import os
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from gonghui.accounts.models import User
from gonghui.activities.models import Activity, ActivityKind, Place, PlaceStatus, Roster
from gonghui.core.benchserver import DEFAULT_SERVER, SERVERS, WebServer, server_label
from gonghui.members.benchdata import bench_organization, bulk_members, signed_in_sessions
from gonghui.members.models import Member
from gonghui.organizations.models import Organization

BACKEND = "gonghui.accounts.backends.StaffPasswordBackend"


def signups_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--places", type=int, default=100, help="places of the activity")
    parser.add_argument("--clients", type=int, default=300, help="members signing up at once, one request each")
    parser.add_argument("--cancel", type=int, default=10, help="confirmed members who then cancel at once")
    parser.add_argument(
        "--server", choices=SERVERS, default=DEFAULT_SERVER, help="web server (default: %(default)s, as deployed)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="web server processes (default: one per core)"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per web server process")
    parser.add_argument("--conn-max-age", type=int, default=60, help="DB_CONN_MAX_AGE for the web server")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark data")


def _at_once(count: int, request: Any) -> tuple[list[int], list[float], float]:
    """`count` threads, released together, each sending `request(i)` once; their statuses,
    latencies and the wall time from release to the last answer."""
    statuses = [0] * count
    latencies = [0.0] * count
    barrier = threading.Barrier(count + 1)

    def target(i: int) -> None:
        barrier.wait()
        t = time.perf_counter()
        statuses[i] = request(i)
        latencies[i] = time.perf_counter() - t

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    return statuses, latencies, time.perf_counter() - started


def _post(port: int, path: str, session_key: str, body: dict[str, str]) -> int:
    csrf = get_random_string(32)  # the CSRF cookie's secret form: 32 letters and digits
    data = urlencode({**body, "csrfmiddlewaretoken": csrf})
    headers = {
        "Cookie": "sessionid=%s; csrftoken=%s" % (session_key, csrf),
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(data)),
        "Origin": "http://127.0.0.1:%d" % port,
        "Referer": "http://127.0.0.1:%d%s" % (port, path),
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", path, body=data, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 1) if ordered else 0.0


def _activity(org: Organization, places: int) -> Activity:
    today = timezone.localdate()
    return Activity.objects.create(
        organization=org,
        kind=ActivityKind.RUN,
        title="压测半程马拉松%s" % secrets.token_hex(3),
        location="压测",
        starts_on=today + dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=30),
        signup_closes_at=timezone.now() + dt.timedelta(days=1),
        roster=Roster.objects.create(capacity=places),
    )


def _cleanup(org: Organization, activity: Activity, tag: str) -> None:
    root = org.parent
    with transaction.atomic():
        Place.objects.filter(roster_id=activity.roster_id).delete()
        roster_id = activity.roster_id
        activity.delete()
        Roster.objects.filter(pk=roster_id).delete()
        users = list(User.objects.filter(username__startswith="bench_%s_" % tag).values_list("pk", flat=True))
        Member.objects.filter(organization=org).delete()
        Session.objects.filter(session_key__startswith="bench%s" % tag).delete()
        User.objects.filter(pk__in=users).delete()
        org.delete()
        if root is not None:
            root.delete()


def run_signups(
    *,
    stdout: Any,
    places: int,
    clients: int,
    cancel: int,
    server: str,
    workers: int,
    threads: int,
    conn_max_age: int,
    keep: bool,
    **_: Any,
) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    org = bench_organization(tag)
    members = bulk_members(org, tag, clients, with_users=True)
    keys = signed_in_sessions([m.user for m in members if m.user is not None], prefix="bench%s" % tag, backend=BACKEND)
    activity = _activity(org, places)
    path = "/h5/activities/events/%d/" % activity.pk
    stdout.write("%d members, %d places; starting %s …" % (clients, places, server))
    web = WebServer(server=server, workers=workers, threads=threads, conn_max_age=conn_max_age)
    try:
        web.wait_ready()
        statuses, latencies, elapsed = _at_once(clients, lambda i: _post(web.port, path, keys[i], {"op": "signup"}))
        rows = list(Place.objects.filter(roster_id=activity.roster_id).order_by("seq"))
        confirmed = [p for p in rows if p.status == PlaceStatus.CONFIRMED]
        waiting = sorted((p for p in rows if p.status == PlaceStatus.WAITLISTED), key=lambda p: p.rank)
        # Arrival order held: the first `places` arrivals hold the seats, the rest wait in order.
        arrival_ok = [p.seq for p in confirmed] == list(range(1, len(confirmed) + 1)) and [
            p.seq for p in waiting
        ] == list(range(len(confirmed) + 1, len(rows) + 1))
        leaving = confirmed[:cancel]
        index_of = {m.pk: i for i, m in enumerate(members)}
        cancel_statuses, _latencies, _wall = _at_once(
            len(leaving), lambda i: _post(web.port, path, keys[index_of[leaving[i].member_id]], {"op": "cancel"})
        )
    finally:
        web.stop()
    after = {p.pk: p for p in Place.objects.filter(roster_id=activity.roster_id)}
    promoted = [p for p in after.values() if p.promoted_at is not None]
    expected = {p.pk for p in waiting[: len(leaving)]}
    roster = Roster.objects.get(pk=activity.roster_id)
    order_ok = (
        arrival_ok
        and {p.pk for p in promoted} == expected
        and len(promoted) == len(expected)
        and all(after[p.pk].status == PlaceStatus.CANCELLED for p in leaving)
        and roster.confirmed == sum(1 for p in after.values() if p.status == PlaceStatus.CONFIRMED) == len(confirmed)
    )
    stdout.write(
        "sign-ups: %d in %.2fs, statuses %s; cancellations: statuses %s"
        % (clients, elapsed, _counts(statuses), _counts(cancel_statuses))
    )
    result = {
        "confirmed": len(confirmed),
        "waitlisted": len(waiting),
        "promoted": len(promoted),
        "order_ok": order_ok,
        "signups_per_s": round(clients / elapsed, 1) if elapsed else 0.0,
        "signup_p50_ms": _percentile(latencies, 0.5),
        "signup_p99_ms": _percentile(latencies, 0.99),
        "places": places,
        "clients": clients,
        "server": server_label(server, workers=workers, threads=threads),
    }
    if not keep:
        _cleanup(org, activity, tag)
    return result


def _counts(statuses: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return out


BENCHMARKS = {"signups": (signups_arguments, run_signups)}
