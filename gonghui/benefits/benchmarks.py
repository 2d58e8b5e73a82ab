"""`bench claims` and `bench redeem`: the member claim endpoint and the signed device
redemption endpoint, driven over HTTP against the production web server (`--server`, started
here in a subprocess), each compared in the same run with its bare SQL through psycopg at the
same client count.

    python manage.py bench claims --seconds 20 --clients 64
    python manage.py bench redeem --seconds 20 --clients 64
    python manage.py bench redeem --server gunicorn   # gunicorn gthread instead of granian

Data is created under a throw-away organisation and deleted afterwards (`--keep` keeps it);
audit events written by the run stay, as the audit trail is append-only."""

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.crypto import get_random_string
from psycopg import sql as pgsql

from gonghui.accounts.models import User
from gonghui.benefits import codes
from gonghui.benefits.models import (
    Campaign,
    CampaignItem,
    CampaignKind,
    CampaignStatus,
    Coupon,
    CouponStatus,
    IssueMode,
    PointDevice,
    PointKind,
    Redemption,
    RedemptionPoint,
)
from gonghui.core import signing
from gonghui.core.benchserver import DEFAULT_SERVER, SERVERS, WebServer, server_label
from gonghui.core.models import Device, DeviceNonce, IdempotentResponse
from gonghui.members.benchdata import bench_organization, bulk_members, signed_in_sessions
from gonghui.members.models import Member
from gonghui.organizations.models import Organization

BACKEND = "gonghui.accounts.backends.StaffPasswordBackend"


class _SoldOut(Exception):
    """The bare SQL found no stock left: its transaction rolls back."""


def _table(model: type[Model]) -> pgsql.Identifier:
    return pgsql.Identifier(model._meta.db_table)


# The bare SQL the HTTP phases are compared with: table names from the models, statuses passed
# as parameters from their TextChoices.
CLAIM_INSERT = pgsql.SQL(
    "INSERT INTO {coupon} (campaign_id, member_id, organization_id, seq, code, status,"
    " face_value_fen, issued_at, claimed_at, claim_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '')"
).format(coupon=_table(Coupon))
CLAIM_TAKE_STOCK = pgsql.SQL(
    "UPDATE {campaign} SET stock = stock - 1 WHERE id = %s AND status = %s AND stock > 0"
).format(campaign=_table(Campaign))
REDEEM_LOCK = pgsql.SQL(
    "SELECT c.id, c.status, c.face_value_fen FROM {coupon} c"
    " JOIN {allowed} ap ON ap.campaign_id = c.campaign_id"
    " WHERE c.code = %s AND ap.redemptionpoint_id = %s FOR UPDATE OF c"
).format(coupon=_table(Coupon), allowed=_table(Campaign.allowed_points.through))
REDEEM_MARK = pgsql.SQL("UPDATE {coupon} SET status = %s, redeemed_at = %s WHERE id = %s AND status = %s").format(
    coupon=_table(Coupon)
)
REDEEM_INSERT = pgsql.SQL(
    "INSERT INTO {redemption} (coupon_id, campaign_id, point_id, device_id,"
    " face_value_fen, redeemed_at, request_id, reversal_reason)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, '')"
).format(redemption=_table(Redemption))


# ---- shared plumbing ------------------------------------------------------------------------


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (HTTP and SQL)")
    parser.add_argument(
        "--server", choices=SERVERS, default=DEFAULT_SERVER, help="web server (default: %(default)s, as deployed)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="web server processes (default: one per core)"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per web server process")
    parser.add_argument("--conn-max-age", type=int, default=60, help="DB_CONN_MAX_AGE for the web server")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before the HTTP phase")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark data")


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    ok: int = 0
    elapsed: float = 0.0
    exhausted: bool = False

    def merge(self, other: "Phase") -> None:
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.ok += other.ok
        self.exhausted = self.exhausted or other.exhausted

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0


def _run_clients(clients: int, seconds: float, work: Callable[[int, float], Phase]) -> Phase:
    """Start `clients` threads together; each runs `work(index, deadline)` and returns its Phase."""
    results: list[Phase] = [Phase() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    deadline_box: list[float] = []

    def target(index: int) -> None:
        barrier.wait()
        results[index] = work(index, deadline_box[0])

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline_box.append(time.perf_counter() + seconds)
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    total = Phase(elapsed=time.perf_counter() - started)
    for phase in results:
        total.merge(phase)
    return total


def _mean_latency_floor(clients: int, phase: Phase) -> float | None:
    """Little's law for a closed loop: `clients` each waiting for an answer before asking
    again average clients / rate seconds per request, however fair the queueing. A p99 below
    this figure is out of reach at this rate."""
    return round(clients / phase.rate * 1000, 1) if phase.rate else None


def _tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by process `root` and its descendants (Linux /proc), so a run
    on a shared machine can still say what one request costs the server."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total = 0.0
    for pid, seconds in used.items():
        walk = pid
        while walk and walk != root:
            walk = parents.get(walk, 0)
        if walk == root:
            total += seconds
    return total


def _psycopg_connect() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params)


def _campaign(org: Organization, creator: User, points: list[RedemptionPoint], *, stock: int, limit: int) -> Campaign:
    now = timezone.now()
    campaign = Campaign.objects.create(
        organization=org,
        name="压测活动%s" % uuid.uuid4().hex[:6],
        kind=CampaignKind.COOLING,
        mode=IssueMode.FIRST_COME,
        status=CampaignStatus.PUBLISHED,
        target_org=org,
        stock_total=stock,
        stock=stock,
        face_value_fen=500,
        budget_fen=stock * 500,
        per_member_limit=limit,
        claim_starts_at=now - dt.timedelta(hours=1),
        claim_ends_at=now + dt.timedelta(days=1),
        valid_from=now - dt.timedelta(hours=1),
        valid_until=now + dt.timedelta(days=2),
        created_by=creator,
        updated_by=creator,
        published_by=creator,
        published_at=now,
    )
    CampaignItem.objects.create(campaign=campaign, name="冰镇矿泉水", face_value_fen=500, quantity=1)
    campaign.allowed_points.set(points)
    return campaign


def _integrity(campaign: Campaign) -> dict[str, int]:
    """oversold: coupons beyond what left the stock (or beyond the total); duplicates: members
    over the per-member limit plus codes held twice."""
    campaign.refresh_from_db()
    issued = Coupon.objects.filter(campaign=campaign).count()
    coupons = connection.ops.quote_name(Coupon._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT member_id FROM %s WHERE campaign_id = %%s "  # noqa: S608 - model's table, quoted
            "GROUP BY member_id HAVING count(*) > %%s) over_limit" % coupons,
            [campaign.pk, campaign.per_member_limit],
        )
        over_limit = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) - count(DISTINCT code) FROM %s WHERE campaign_id = %%s" % coupons,  # noqa: S608 - as above
            [campaign.pk],
        )
        twice = cursor.fetchone()[0]
    oversold = max(0, issued - (campaign.stock_total - campaign.stock)) + max(0, issued - campaign.stock_total)
    return {"issued": issued, "stock_left": campaign.stock, "oversold": oversold, "duplicates": over_limit + twice}


def _cleanup(org: Organization, tag: str) -> None:
    root = org.parent
    campaigns = Campaign.objects.filter(organization=org)
    with transaction.atomic():
        Redemption.objects.filter(campaign__in=campaigns).delete()
        Coupon.objects.filter(campaign__in=campaigns).delete()
        CampaignItem.objects.filter(campaign__in=campaigns).delete()
        for campaign in campaigns:
            campaign.allowed_points.clear()
        campaigns.delete()
        points = RedemptionPoint.objects.filter(organization=org)
        device_ids = list(PointDevice.objects.filter(point__in=points).values_list("device_id", flat=True))
        IdempotentResponse.objects.filter(scope__in=["benefits.device:%d" % d for d in device_ids]).delete()
        DeviceNonce.objects.filter(device_id__in=device_ids).delete()
        PointDevice.objects.filter(point__in=points).delete()
        Device.objects.filter(pk__in=device_ids).delete()
        points.delete()
        users = list(User.objects.filter(username__startswith="bench_%s_" % tag).values_list("pk", flat=True))
        Member.objects.filter(organization=org).delete()
        Session.objects.filter(session_key__startswith="bench%s" % tag).delete()
        User.objects.filter(pk__in=users).delete()
        org.delete()
        if root is not None:
            root.delete()


# ---- bench claims ------------------------------------------------------------------------------


def claims_arguments(parser: argparse.ArgumentParser) -> None:
    _common_arguments(parser)
    parser.add_argument("--members", type=int, default=0, help="members with a session (default: 400 per client)")
    parser.add_argument("--stock", type=int, default=2_000_000, help="stock of the campaign each phase claims from")


def run_claims(
    *,
    stdout: Any,
    seconds: float,
    clients: int,
    server: str,
    workers: int,
    threads: int,
    conn_max_age: int,
    warmup: float,
    keep: bool,
    members: int,
    stock: int,
    **_: Any,
) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    members = members or clients * 400
    stdout.write("setting up %d members with sessions …" % members)
    started = time.perf_counter()
    org = bench_organization(tag)
    creator = User.objects.create_user(username="bench_%s_staff" % tag)
    point = RedemptionPoint.objects.create(organization=org, name="压测驿站", kind=PointKind.STATION, address="压测")
    member_rows = bulk_members(org, tag, members, with_users=True)
    session_keys = signed_in_sessions(
        [m.user for m in member_rows if m.user is not None], prefix="bench%s" % tag, backend=BACKEND
    )
    http_campaign = _campaign(org, creator, [point], stock=stock, limit=1)
    sql_campaign = _campaign(org, creator, [point], stock=stock, limit=1)
    stdout.write("setup took %.1fs" % (time.perf_counter() - started))

    next_member = iter(range(len(session_keys)))
    lock = threading.Lock()

    def take() -> int | None:
        with lock:
            return next(next_member, None)

    web = WebServer(server=server, workers=workers, threads=threads, conn_max_age=conn_max_age)
    try:
        web.wait_ready()
        path = "/h5/coupons/campaigns/%d/claim/" % http_campaign.pk

        def http_work(_index: int, deadline: float) -> Phase:
            phase = Phase()
            csrf = get_random_string(32)  # the CSRF cookie's secret form: 32 letters and digits
            conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
            try:
                while time.perf_counter() < deadline:
                    i = take()
                    if i is None:
                        phase.exhausted = True
                        break
                    headers = {
                        "Cookie": "sessionid=%s; csrftoken=%s" % (session_keys[i], csrf),
                        "X-CSRFToken": csrf,
                        "HX-Request": "true",
                        "Idempotency-Key": uuid.uuid4().hex,
                        "Content-Length": "0",
                    }
                    t = time.perf_counter()
                    conn.request("POST", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    phase.latencies.append(time.perf_counter() - t)
                    phase.statuses[response.status] += 1
                    if response.status == 204:
                        phase.ok += 1
            finally:
                conn.close()
            return phase

        if warmup > 0:
            _run_clients(clients, warmup, http_work)
        cpu_before, client_before = _tree_cpu_seconds(web.process.pid), time.process_time()
        http_phase = _run_clients(clients, seconds, http_work)
        server_cpu = _tree_cpu_seconds(web.process.pid) - cpu_before
        client_cpu = time.process_time() - client_before
    finally:
        web.stop()
    stdout.write(
        "http: %d claims in %.1fs, statuses %s" % (http_phase.ok, http_phase.elapsed, dict(http_phase.statuses))
    )

    sql_members = [(m.pk, m.organization_id) for m in member_rows]
    sql_iter = iter(range(len(sql_members)))

    def sql_take() -> int | None:
        with lock:
            return next(sql_iter, None)

    def sql_work(_index: int, deadline: float) -> Phase:
        phase = Phase()
        with _psycopg_connect() as conn:
            while time.perf_counter() < deadline:
                i = sql_take()
                if i is None:
                    phase.exhausted = True
                    break
                member_id, org_id = sql_members[i]
                t = time.perf_counter()
                # The statements the claim service issues for a limit of one (the unique key on
                # (campaign, member, seq) stands in for the count), minus the ORM, audit and HTTP.
                with conn.transaction():
                    now = dt.datetime.now(dt.UTC)
                    conn.execute(
                        CLAIM_INSERT,
                        (sql_campaign.pk, member_id, org_id, 1, codes.generate(), CouponStatus.CLAIMED, 500, now, now),
                    )
                    taken = conn.execute(CLAIM_TAKE_STOCK, (sql_campaign.pk, CampaignStatus.PUBLISHED)).rowcount
                    if taken != 1:
                        raise _SoldOut
                phase.latencies.append(time.perf_counter() - t)
                phase.ok += 1
        return phase

    def sql_work_until_sold_out(index: int, deadline: float) -> Phase:
        try:
            return sql_work(index, deadline)
        except _SoldOut:
            return Phase(exhausted=True)

    sql_phase = _run_clients(clients, seconds, sql_work_until_sold_out)
    stdout.write("sql: %d claims in %.1fs" % (sql_phase.ok, sql_phase.elapsed))

    http_check = _integrity(http_campaign)
    sql_check = _integrity(sql_campaign)
    result = {
        "http_claims_per_s": round(http_phase.rate, 1),
        "sql_claims_per_s": round(sql_phase.rate, 1),
        "ratio": round(http_phase.rate / sql_phase.rate, 3) if sql_phase.rate else 0.0,
        "p50_ms": round(http_phase.percentile(0.50), 1),
        "p99_ms": round(http_phase.percentile(0.99), 1),
        "mean_ms_floor": _mean_latency_floor(clients, http_phase),
        "oversold": http_check["oversold"] + sql_check["oversold"],
        "duplicates": http_check["duplicates"] + sql_check["duplicates"],
        "http_requests": sum(http_phase.statuses.values()),
        "http_statuses": {str(k): v for k, v in sorted(http_phase.statuses.items())},
        "http_coupons": http_check["issued"],
        "server_cpu_ms_per_claim": round(server_cpu * 1000 / http_phase.ok, 1) if http_phase.ok else None,
        "client_cpu_ms_per_claim": round(client_cpu * 1000 / http_phase.ok, 1) if http_phase.ok else None,
        "load_average": round(os.getloadavg()[0], 2),
        "sql_p50_ms": round(sql_phase.percentile(0.50), 1),
        "sql_p99_ms": round(sql_phase.percentile(0.99), 1),
        "members_exhausted": http_phase.exhausted or sql_phase.exhausted,
        "clients": clients,
        "seconds": seconds,
        "server": server_label(server, workers=workers, threads=threads),
    }
    if not keep:
        _cleanup(org, tag)
        User.objects.filter(pk=creator.pk).delete()
    return result


# ---- bench redeem ------------------------------------------------------------------------------


def redeem_arguments(parser: argparse.ArgumentParser) -> None:
    _common_arguments(parser)
    parser.add_argument("--coupons", type=int, default=0, help="coupons per phase (default: 400 per client)")


def _coupons(campaign: Campaign, holders: list[Member], count: int) -> list[str]:
    now = timezone.now()
    rows = []
    per_member = campaign.per_member_limit
    for i in range(count):
        member = holders[i // per_member]
        rows.append(
            Coupon(
                campaign=campaign,
                member=member,
                organization_id=member.organization_id,
                seq=i % per_member + 1,
                code=codes.generate(),
                status=CouponStatus.CLAIMED,
                face_value_fen=campaign.face_value_fen,
                issued_at=now,
                claimed_at=now,
            )
        )
    Coupon.objects.bulk_create(rows, batch_size=2000)
    Campaign.objects.filter(pk=campaign.pk).update(stock=campaign.stock_total - count)
    return [row.code for row in rows]


def _chunks(items: list[str], parts: int) -> list[Iterator[str]]:
    return [iter(items[i::parts]) for i in range(parts)]


def run_redeem(
    *,
    stdout: Any,
    seconds: float,
    clients: int,
    server: str,
    workers: int,
    threads: int,
    conn_max_age: int,
    warmup: float,
    keep: bool,
    coupons: int,
    **_: Any,
) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    coupons = coupons or clients * 400
    stdout.write("setting up %d devices and 2 x %d coupons …" % (clients, coupons))
    started = time.perf_counter()
    org = bench_organization(tag)
    creator = User.objects.create_user(username="bench_%s_staff" % tag)
    points: list[RedemptionPoint] = []
    devices: list[tuple[str, str]] = []
    device_pks: list[int] = []
    for i in range(clients):
        point = RedemptionPoint.objects.create(
            organization=org, name="压测售货机%03d" % i, kind=PointKind.VENDING, address="压测"
        )
        device, secret = signing.device_register(actor=None, organization=org, name="压测设备%03d" % i, kind="vending")
        PointDevice.objects.create(point=point, device=device)
        points.append(point)
        devices.append((device.key_id, secret))
        device_pks.append(device.pk)
    limit = 20
    holders = bulk_members(org, tag, 2 * (coupons // limit + 1) + 2, with_users=False)
    half = len(holders) // 2
    http_campaign = _campaign(org, creator, points, stock=coupons, limit=limit)
    sql_campaign = _campaign(org, creator, points, stock=coupons, limit=limit)
    http_codes = _coupons(http_campaign, holders[:half], coupons)
    sql_codes = _coupons(sql_campaign, holders[half:], coupons)
    point_ids = [p.pk for p in points]
    stdout.write("setup took %.1fs" % (time.perf_counter() - started))

    path = "/api/benefits/device/redeem"
    queues = _chunks(http_codes, clients)
    web = WebServer(server=server, workers=workers, threads=threads, conn_max_age=conn_max_age)
    answered: list[int] = []
    try:
        web.wait_ready()

        def http_work(index: int, deadline: float) -> Phase:
            phase = Phase()
            key_id, secret = devices[index]
            conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
            try:
                while time.perf_counter() < deadline:
                    code = next(queues[index], None)
                    if code is None:
                        phase.exhausted = True
                        break
                    body = json.dumps({"request_id": uuid.uuid4().hex, "code": code}).encode()
                    headers = signing.signed_headers(key_id=key_id, secret=secret, method="POST", path=path, body=body)
                    headers["Content-Type"] = "application/json"
                    t = time.perf_counter()
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    phase.latencies.append(time.perf_counter() - t)
                    phase.statuses[response.status] += 1
                    if response.status == 200:
                        phase.ok += 1
                        answered.append(json.loads(payload)["redemption_id"])
            finally:
                conn.close()
            return phase

        if warmup > 0:
            _run_clients(clients, warmup, http_work)
        warm_answers = len(answered)
        cpu_before, client_before = _tree_cpu_seconds(web.process.pid), time.process_time()
        http_phase = _run_clients(clients, seconds, http_work)
        server_cpu = _tree_cpu_seconds(web.process.pid) - cpu_before
        client_cpu = time.process_time() - client_before
    finally:
        web.stop()
    stdout.write(
        "http: %d redemptions in %.1fs, statuses %s" % (http_phase.ok, http_phase.elapsed, dict(http_phase.statuses))
    )

    sql_queues = _chunks(sql_codes, clients)

    def sql_work(index: int, deadline: float) -> Phase:
        phase = Phase()
        point_id, device_id = point_ids[index], device_pks[index]
        with _psycopg_connect() as conn:
            while time.perf_counter() < deadline:
                code = next(sql_queues[index], None)
                if code is None:
                    phase.exhausted = True
                    break
                t = time.perf_counter()
                with conn.transaction():
                    row = conn.execute(REDEEM_LOCK, (code, point_id)).fetchone()
                    if row is None or row[1] != CouponStatus.CLAIMED:
                        continue
                    now = dt.datetime.now(dt.UTC)
                    conn.execute(REDEEM_MARK, (CouponStatus.REDEEMED, now, row[0], CouponStatus.CLAIMED))
                    conn.execute(
                        REDEEM_INSERT, (row[0], sql_campaign.pk, point_id, device_id, row[2], now, uuid.uuid4().hex)
                    )
                phase.latencies.append(time.perf_counter() - t)
                phase.ok += 1
        return phase

    sql_phase = _run_clients(clients, seconds, sql_work)
    stdout.write("sql: %d redemptions in %.1fs" % (sql_phase.ok, sql_phase.elapsed))

    checks = {}
    for name, campaign in (("http", http_campaign), ("sql", sql_campaign)):
        standing = Redemption.objects.filter(campaign=campaign, reversed_at__isnull=True)
        redeemed = Coupon.objects.filter(campaign=campaign, status=CouponStatus.REDEEMED).count()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT coupon_id FROM %s WHERE campaign_id = %%s"  # noqa: S608 - model's table, quoted
                " AND reversed_at IS NULL GROUP BY coupon_id HAVING count(*) > 1) twice"
                % connection.ops.quote_name(Redemption._meta.db_table),
                [campaign.pk],
            )
            twice = cursor.fetchone()[0]
        checks[name] = {"standing": standing.count(), "redeemed": redeemed, "twice": twice}
    oversold = sum(abs(c["standing"] - c["redeemed"]) for c in checks.values())
    duplicates = sum(c["twice"] for c in checks.values()) + (len(answered) - len(set(answered)))
    result = {
        "http_redeems_per_s": round(http_phase.rate, 1),
        "sql_redeems_per_s": round(sql_phase.rate, 1),
        "ratio": round(http_phase.rate / sql_phase.rate, 3) if sql_phase.rate else 0.0,
        "p50_ms": round(http_phase.percentile(0.50), 1),
        "p99_ms": round(http_phase.percentile(0.99), 1),
        "mean_ms_floor": _mean_latency_floor(clients, http_phase),
        "oversold": oversold,
        "duplicates": duplicates,
        "http_requests": sum(http_phase.statuses.values()),
        "http_statuses": {str(k): v for k, v in sorted(http_phase.statuses.items())},
        "http_answers_match_rows": len(answered) == checks["http"]["standing"],
        "warmup_redemptions": warm_answers,
        "server_cpu_ms_per_redeem": round(server_cpu * 1000 / http_phase.ok, 1) if http_phase.ok else None,
        "client_cpu_ms_per_redeem": round(client_cpu * 1000 / http_phase.ok, 1) if http_phase.ok else None,
        "load_average": round(os.getloadavg()[0], 2),
        "sql_p50_ms": round(sql_phase.percentile(0.50), 1),
        "sql_p99_ms": round(sql_phase.percentile(0.99), 1),
        "coupons_exhausted": http_phase.exhausted or sql_phase.exhausted,
        "clients": clients,
        "seconds": seconds,
        "server": server_label(server, workers=workers, threads=threads),
    }
    if not keep:
        _cleanup(org, tag)
        User.objects.filter(pk=creator.pk).delete()
    return result


BENCHMARKS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[..., dict[str, Any]]]] = {
    "claims": (claims_arguments, run_claims),
    "redeem": (redeem_arguments, run_redeem),
}
