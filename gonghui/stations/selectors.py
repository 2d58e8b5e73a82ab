"""Reads of the stations domain. Console reads take the acting user and return only stations
of organisations in their sub-tree for the permission; the member's reads (the nearest
search, a station's page) cover every active station, as a map would.

The nearest search never scans the table: it reads the stations of the grid cells covering a
box around the point (`geo.cell_ranges`, one indexed range per row of cells), keeps those
within the box's inscribed circle in exact great-circle order, and widens the radius until
enough stations pass the filters or the radius reaches its cap, reading on each widening only
the cells the larger box adds. Every station closer than the radius lies inside the box, so
the answer is exactly the brute-force one."""

import datetime as dt
import json
import math
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import ExtractHour, Substr, TruncDate
from django.utils import timezone

from gonghui.core import parsing, sql
from gonghui.core.errors import NotFound
from gonghui.core.workdays import WORKDAYS_POLICY, WorkCalendar
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.policies import policies_for_paths
from gonghui.organizations.selectors import scope_q
from gonghui.stations import geo, hours
from gonghui.stations.models import (
    DISTRICTS_CACHE_KEY,
    Checkin,
    Facility,
    Inspection,
    InspectionPhoto,
    Requirement,
    Station,
    StationImport,
    StationKind,
    StationPhoto,
)
from gonghui.stations.permissions import StationPerm

START_RADIUS_M = 2_000.0
MAX_RADIUS_M = 100_000.0
NEAREST_LIMIT = 10

# ---- kinds, facilities --------------------------------------------------------------------


def active_kinds() -> list[StationKind]:
    return list(StationKind.objects.filter(is_active=True))


def active_facilities() -> list[Facility]:
    return list(Facility.objects.filter(is_active=True))


def all_kinds() -> QuerySet[StationKind]:
    return StationKind.objects.all()


def all_facilities() -> QuerySet[Facility]:
    return Facility.objects.all()


def kind_get(pk: Any) -> StationKind:
    found = StationKind.objects.filter(pk=key).first() if (key := parsing.as_id(pk)) else None
    if found is None:
        raise NotFound("站点类型不存在")
    return found


def facility_get(pk: Any) -> Facility:
    found = Facility.objects.filter(pk=key).first() if (key := parsing.as_id(pk)) else None
    if found is None:
        raise NotFound("设施不存在")
    return found


# ---- holidays, opening --------------------------------------------------------------------

_CALENDAR_SECONDS = 60.0
_holidays: dict[tuple[str, dt.date], tuple[bool, float]] = {}


def holidays_for(paths: Iterable[str], day: dt.date) -> dict[str, bool]:
    """Whether `day` is a holiday for each organisation path (its `core.workdays` calendar),
    remembered for a minute: a policy change shows in opening hours within a minute."""
    now = time.monotonic()
    out: dict[str, bool] = {}
    missing: list[str] = []
    for path in set(paths):
        known = _holidays.get((path, day))
        if known is not None and known[1] > now:
            out[path] = known[0]
        else:
            missing.append(path)
    if missing:
        if len(_holidays) > 10_000:
            _holidays.clear()
        for path, policy in policies_for_paths(kind=WORKDAYS_POLICY, paths=missing, on=day).items():
            holiday = WorkCalendar.of(policy.body).is_holiday(day)
            _holidays[(path, day)] = (holiday, now + _CALENDAR_SECONDS)
            out[path] = holiday
    return out


def station_open_at(station: Station, local: dt.datetime, holiday: bool) -> bool:
    return hours.open_at(
        always_open=station.always_open,
        weekly_hours=station.weekly_hours,
        holiday_mode=station.holiday_mode,
        holiday_hours=station.holiday_hours,
        local=local,
        holiday=holiday,
    )


def station_is_open(station: Station, now: dt.datetime | None = None) -> bool:
    local = timezone.localtime(now)
    holiday = holidays_for([station.organization.path], local.date())[station.organization.path]
    return station_open_at(station, local, holiday)


# ---- the nearest search -------------------------------------------------------------------


@dataclass(frozen=True)
class NearestQuery:
    lat: float
    lng: float
    kind_id: int | None = None
    facility_mask: int = 0
    open_now: bool = True
    limit: int = NEAREST_LIMIT
    max_radius_m: float = MAX_RADIUS_M


@dataclass(frozen=True)
class Hit:
    station_id: int
    distance_m: float
    is_open: bool


def candidate_rows(query: NearestQuery, radius_m: float, *, read_m: float | None = None) -> list[tuple[Any, ...]]:
    """The active stations passing the kind and facility filters in the grid cells covering
    the box around the point (with `read_m`, only the cells outside the box of that radius,
    read already): (id, lat, lng, organisation id, always_open, weekly_hours, holiday_mode,
    holiday_hours), the hours as their JSON text (stations share a few schedules, so the
    search parses and evaluates each distinct one once).

    Stated in SQL (the subset PostgreSQL and SQLite share): the statement is built on every
    step of every search, and compiling the ORM's OR of cell ranges cost more than running it.
    The kind is compared as `kind_id + 0`, which no index serves: the cell ranges are the only
    way in, whatever the planner's statistics (on a freshly loaded table PostgreSQL ANDed the
    kind index's bitmap of half the table into every search)."""
    ranges = geo.cell_ranges(query.lat, query.lng, radius_m, read_m=read_m)
    if not ranges:
        return []
    params: list[Any] = [True]
    conditions = []
    for first, last in ranges:
        conditions.append("s.cell BETWEEN %s AND %s")
        params += [first, last]
    where = "s.is_active = %s AND (" + " OR ".join(conditions) + ")"
    if query.kind_id is not None:
        where += " AND s.kind_id + 0 = %s"
        params.append(query.kind_id)
    if query.facility_mask:
        where += " AND (s.facility_mask & %s) = %s"
        params += [query.facility_mask, query.facility_mask]
    columns = (
        "s.id, s.lat, s.lng, s.organization_id, s.always_open, CAST(s.weekly_hours AS TEXT), s.holiday_mode,"
        " CAST(s.holiday_hours AS TEXT)"
    )
    # The table name from the model, conditions of this module, every value a parameter.
    statement = "SELECT " + columns + " FROM " + sql.table(Station) + " s WHERE " + where  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


_org_holidays: dict[tuple[int, dt.date], tuple[bool, float]] = {}


def holidays_by_organization(organization_ids: Iterable[int], day: dt.date) -> dict[int, bool]:
    """`holidays_for` by organisation id (the search reads ids, not paths), remembered for a
    minute like the calendars themselves: one query for the paths of the ids not known yet."""
    now = time.monotonic()
    out: dict[int, bool] = {}
    missing: list[int] = []
    for pk in set(organization_ids):
        known = _org_holidays.get((pk, day))
        if known is not None and known[1] > now:
            out[pk] = known[0]
        else:
            missing.append(pk)
    if missing:
        if len(_org_holidays) > 10_000:
            _org_holidays.clear()
        paths = dict(Organization.objects.filter(pk__in=missing).values_list("pk", "path"))
        by_path = holidays_for(paths.values(), day)
        for pk, path in paths.items():
            _org_holidays[(pk, day)] = (by_path[path], now + _CALENDAR_SECONDS)
            out[pk] = by_path[path]
    return out


def nearest_hits(query: NearestQuery, *, now: dt.datetime | None = None) -> list[Hit]:
    """The `limit` nearest stations passing the filters, nearest first (ties by id). The
    stations read on earlier steps are kept with their distance and opening state."""
    local = timezone.localtime(now)
    opening: dict[tuple[Any, ...], bool] = {}  # hours (as text) and holiday → open at `local`
    kept: list[Hit] = []
    read: float | None = None
    radius = min(START_RADIUS_M, query.max_radius_m)
    while True:
        rows = candidate_rows(query, radius, read_m=read)
        holidays = holidays_by_organization({r[3] for r in rows}, local.date()) if rows else {}
        for pk, lat, lng, org_id, always, weekly, mode, special in rows:
            key = (always, weekly, mode, special, holidays[org_id])
            is_open = opening.get(key)
            if is_open is None:
                is_open = opening[key] = hours.open_at(
                    always_open=bool(always),
                    weekly_hours=json.loads(weekly),
                    holiday_mode=mode,
                    holiday_hours=json.loads(special),
                    local=local,
                    holiday=key[4],
                )
            if is_open or not query.open_now:
                kept.append(Hit(pk, geo.distance_m(query.lat, query.lng, lat, lng), is_open))
        found = [h for h in kept if h.distance_m <= radius]
        if len(found) >= query.limit or radius >= query.max_radius_m:
            found.sort(key=lambda h: (h.distance_m, h.station_id))
            return found[: query.limit]
        # Too few within the circle: widen it to where, at the density just seen, the limit
        # would be met (at least doubling, at most eightfold).
        growth = math.sqrt(query.limit / len(found)) * 1.25 if found else 8.0
        read, radius = radius, min(radius * min(8.0, max(2.0, growth)), query.max_radius_m)


@dataclass(frozen=True)
class NearStation:
    station: Station
    distance_m: float
    walking_minutes: int
    is_open: bool
    facilities: list[Facility]

    @property
    def distance_label(self) -> str:
        return geo.distance_label(self.distance_m)


def nearest_stations(query: NearestQuery, *, now: dt.datetime | None = None) -> list[NearStation]:
    hits = nearest_hits(query, now=now)
    by_id = Station.objects.select_related("kind").in_bulk([h.station_id for h in hits])
    facilities = active_facilities()
    return [
        NearStation(
            by_id[h.station_id],
            h.distance_m,
            geo.walking_minutes(h.distance_m),
            h.is_open,
            [f for f in facilities if by_id[h.station_id].facility_mask & f.mask],
        )
        for h in hits
    ]


@dataclass(frozen=True)
class District:
    pk: int
    name: str
    lat: float
    lng: float


def districts() -> list[District]:
    """The 区县 unions with stations, each centred on its stations' mean position (a member
    without location picks one): one grouped query per depth of the tree, cached 5 minutes."""
    cached = cache.get(DISTRICTS_CACHE_KEY)
    if cached is not None:
        return [District(*row) for row in cached]
    counties = {c.path: c for c in Organization.objects.filter(level=Level.COUNTY).only("pk", "name", "path")}
    centres: dict[str, tuple[float, float]] = {}
    for length in sorted({len(path) for path in counties}):
        grouped = (
            Station.objects.filter(is_active=True)
            .annotate(prefix=Substr("organization__path", 1, length))
            .values("prefix")
            .annotate(lat=Avg("lat"), lng=Avg("lng"))
            .order_by()
        )
        for row in grouped:
            if row["prefix"] in counties:
                centres[row["prefix"]] = (row["lat"], row["lng"])
    out = [District(counties[p].pk, counties[p].name, *centres[p]) for p in sorted(centres)]
    cache.set(DISTRICTS_CACHE_KEY, [(d.pk, d.name, d.lat, d.lng) for d in out], 300)
    return out


def member_station_get(code: str) -> Station:
    """An active station by its code, for a member (a station's page or its QR code)."""
    text = str(code or "").strip().upper()[:20]
    station = (
        Station.objects.filter(code=text, is_active=True).select_related("kind", "organization").first()
        if text
        else None
    )
    if station is None:
        raise NotFound("站点不存在或已停用")
    return station


_POSTER_PATH = re.compile(r"/h5/stations/s/([^/?#\s]+)")


def member_station_scanned(text: str) -> Station:
    """The active station a member scanned or typed on the scan page: its poster QR code's
    check-in URL, or its station number (full-width characters as typed on a phone count as
    their ASCII forms)."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()[:500]
    found = _POSTER_PATH.search(raw)
    code = found.group(1) if found else raw
    try:
        return member_station_get(code)
    except NotFound:
        raise NotFound("站点编号“%(code)s”不存在或站点已停用，请核对站点海报上的编号" % {"code": code[:20]}) from None


def member_photo_get(pk: int) -> StationPhoto:
    photo = StationPhoto.objects.filter(pk=pk, station__is_active=True).first()
    if photo is None:
        raise NotFound("照片不存在")
    return photo


def member_recent_checkins(member: Any, limit: int = 5) -> list[Checkin]:
    return list(Checkin.objects.filter(member=member).select_related("station").order_by("-at")[:limit])


# ---- console reads ------------------------------------------------------------------------


def stations_for_actor(*, actor: Any, perm: str = StationPerm.VIEW) -> QuerySet[Station]:
    return Station.objects.filter(scope_q(actor, perm)).select_related("kind", "organization", "last_inspection")


@dataclass(frozen=True)
class StationFilters:
    kind_id: int | None = None
    facility_id: int | None = None
    query: str = ""
    active: str = ""
    organization_id: int | None = None


def station_list_for_actor(*, actor: Any, filters: StationFilters, perm: str = StationPerm.VIEW) -> QuerySet[Station]:
    qs = stations_for_actor(actor=actor, perm=perm)
    if filters.kind_id is not None:
        qs = qs.filter(kind_id=filters.kind_id)
    if filters.facility_id is not None:
        facility = Facility.objects.filter(pk=filters.facility_id).first()
        mask = facility.mask if facility else 0
        qs = qs.annotate(has_mask=F("facility_mask").bitand(mask)).filter(has_mask=mask) if mask else qs.none()
    if filters.active == "1":
        qs = qs.filter(is_active=True)
    elif filters.active == "0":
        qs = qs.filter(is_active=False)
    if filters.organization_id is not None:
        org = Organization.objects.filter(pk=filters.organization_id).only("path").first()
        qs = qs.filter(organization__path__startswith=org.path) if org else qs.none()
    if filters.query:
        text = filters.query.strip()
        qs = qs.filter(Q(code=text.upper()) | Q(name__contains=text) | Q(address__contains=text))
    return qs.order_by("organization__path", "code")


def station_get_for_actor(*, actor: Any, pk: Any, perm: str = StationPerm.VIEW) -> Station:
    found = None
    if key := parsing.as_id(pk):
        found = stations_for_actor(actor=actor, perm=perm).filter(pk=key).first()
    if found is None:
        raise NotFound("服务阵地不存在或无权访问")
    return found


def station_photo_for_actor(*, actor: Any, pk: int, perm: str = StationPerm.VIEW) -> StationPhoto:
    photo = (
        StationPhoto.objects.filter(scope_q(actor, perm, field="station__organization__path"))
        .select_related("station__organization")
        .filter(pk=pk)
        .first()
    )
    if photo is None:
        raise NotFound("照片不存在或无权访问")
    return photo


def inspections_of(station: Station) -> QuerySet[Inspection]:
    return station.inspections.select_related("inspector").prefetch_related("photos")


def inspection_photo_for_actor(*, actor: Any, pk: int) -> InspectionPhoto:
    photo = (
        InspectionPhoto.objects.filter(
            scope_q(actor, StationPerm.VIEW, field="inspection__station__organization__path")
        )
        .filter(pk=pk)
        .first()
    )
    if photo is None:
        raise NotFound("照片不存在或无权访问")
    return photo


NEVER = "never"
ANY_FAILED = "any"


def failing_for_actor(*, actor: Any, requirement: str, perm: str = StationPerm.VIEW) -> QuerySet[Station]:
    """Active stations whose latest inspection failed `requirement` (or any requirement), or
    that were never inspected (`NEVER`)."""
    qs = stations_for_actor(actor=actor, perm=perm).filter(is_active=True)
    if requirement == NEVER:
        qs = qs.filter(last_inspection__isnull=True)
    elif requirement in Requirement.values:
        qs = qs.filter(**{"last_inspection__has_%s" % requirement: False})
    else:
        qs = qs.filter(_latest_failed())
    return qs.order_by("organization__path", "code")


def _latest_failed() -> Q:
    """Stations whose latest inspection failed any requirement."""
    failed = Q()
    for r in Requirement:
        failed |= Q(**{"last_inspection__has_%s" % r.value: False})
    return failed


@dataclass(frozen=True)
class Overview:
    active: int
    never_inspected: int
    failing: int
    checkins_this_month: int


def overview_for_actor(*, actor: Any, today: dt.date) -> Overview:
    """The console home's figures: the actor's active stations, those never inspected and
    those whose latest inspection failed a requirement (one grouped query), and this month's
    check-ins (Asia/Shanghai) at stations in the sub-tree."""
    counts = Station.objects.filter(scope_q(actor, StationPerm.VIEW), is_active=True).aggregate(
        active=Count("id"),
        never=Count("id", filter=Q(last_inspection__isnull=True)),
        failing=Count("id", filter=_latest_failed()),
    )
    month = dt.datetime.combine(today.replace(day=1), dt.time(), tzinfo=timezone.get_current_timezone())
    checkins = Checkin.objects.filter(
        scope_q(actor, StationPerm.VIEW, field="station__organization__path"), at__gte=month
    ).count()
    return Overview(counts["active"], counts["never"], counts["failing"], checkins)


def imports_for_actor(*, actor: Any) -> QuerySet[StationImport]:
    return StationImport.objects.filter(scope_q(actor, StationPerm.MANAGE)).select_related(
        "organization", "job", "created_by"
    )


def import_get_for_actor(*, actor: Any, pk: Any) -> StationImport:
    found = None
    if key := parsing.as_id(pk):
        found = imports_for_actor(actor=actor).filter(pk=key).first()
    if found is None:
        raise NotFound("导入记录不存在或无权访问")
    return found


@dataclass(frozen=True)
class Usage:
    days: list[str]
    by_day: list[int]
    by_hour: list[int]
    total: int
    top: list[tuple[str, str, int]]


def usage_for_actor(*, actor: Any, date_from: dt.date, date_to: dt.date, station: Station | None = None) -> Usage:
    """Check-ins per day and per hour of the day (Asia/Shanghai) in the actor's sub-tree."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    qs = Checkin.objects.filter(scope_q(actor, StationPerm.VIEW, field="station__organization__path")).filter(
        at__gte=start, at__lt=end
    )
    if station is not None:
        qs = qs.filter(station=station)
    per_day = {
        row["day"]: row["n"]
        for row in qs.annotate(day=TruncDate("at", tzinfo=zone)).values("day").annotate(n=Count("id")).order_by()
    }
    per_hour = {
        row["hour"]: row["n"]
        for row in qs.annotate(hour=ExtractHour("at", tzinfo=zone)).values("hour").annotate(n=Count("id")).order_by()
    }
    days = [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    top = [
        (row["station__code"], row["station__name"], row["n"])
        for row in qs.values("station__code", "station__name")
        .annotate(n=Count("id"))
        .order_by("-n", "station__code")[:10]
    ]
    return Usage(
        days=[d.isoformat() for d in days],
        by_day=[per_day.get(d, 0) for d in days],
        by_hour=[per_hour.get(h, 0) for h in range(24)],
        total=sum(per_day.values()),
        top=top,
    )
