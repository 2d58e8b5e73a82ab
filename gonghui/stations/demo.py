"""Demo stations: a few hundred service stations of several kinds across the demo province's
districts (around each district's real centre, WGS-84), with hours, facilities, "六有"
inspections, a month of member check-ins, and the benefits demo's station redemption points
linked to a station each. Bulk inserts only, so seeding stays fast on SQLite."""

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gonghui.benefits.models import PointKind, RedemptionPoint
from gonghui.members.models import Member
from gonghui.organizations.models import Level, Organization
from gonghui.stations import defaults, geo, services
from gonghui.stations.models import (
    CHECKIN_SLOT_SECONDS,
    Checkin,
    Facility,
    HolidayMode,
    Inspection,
    Requirement,
    Station,
    StationKind,
)

# Approximate centres (WGS-84) of the demo province's districts, by GB/T 2260 code.
DISTRICT_CENTRES = {
    "320508": (31.3238, 120.6186, "姑苏"),
    "320506": (31.2658, 120.6317, "吴中"),
    "320571": (31.3181, 120.7213, "园区"),
    "320583": (31.3826, 120.9766, "昆山"),
    "320102": (32.0485, 118.7973, "玄武"),
    "320106": (32.0664, 118.7700, "鼓楼"),
    "320115": (31.9532, 118.8396, "江宁"),
    "320213": (31.5689, 120.2991, "梁溪"),
    "320211": (31.5225, 120.2818, "滨湖"),
}

# kind code, share, name suffixes
KIND_MIX = (
    ("outdoor", 50, ("户外劳动者服务站", "爱心驿站", "工会驿站")),
    ("driver", 10, ("司机之家",)),
    ("port-driver", 2, ("口岸司机之家",)),
    ("workers-home", 12, ("职工之家",)),
    ("health-hut", 8, ("健康小屋",)),
    ("model-worker", 5, ("劳模港",)),
    ("culture-palace", 2, ("工人文化宫",)),
    ("reading-room", 6, ("职工书屋",)),
    ("women-care", 5, ("女职工关爱室",)),
)
PLACES: tuple[str, ...] = (
    "人民路",
    "干将路",
    "十全街",
    "金鸡湖大道",
    "中山路",
    "太湖大道",
    "解放路",
    "长江路",
    "新街口",
    "湖滨路",
    "凤凰街",
    "竹辉路",
    "东环路",
    "星湖街",
    "前进路",
    "珠江路",
    "建设路",
    "学士街",
    "南门路",
    "友谊路",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙"
ALWAYS = ("aircon", "chairs", "water", "first-aid")
LIKELY = (("fridge", 0.75), ("microwave", 0.6), ("charging", 0.55), ("toilet", 0.6), ("wifi", 0.5))
RARE = (("massage", 0.15), ("parcel", 0.2), ("legal", 0.12), ("clinic", 0.12), ("shower", 0.08), ("books", 0.2))


def _hours(kind: str, rng: random.Random) -> dict[str, Any]:
    def days(weekday: list[list[int]], saturday: list[list[int]], sunday: list[list[int]]) -> list[list[list[int]]]:
        return [weekday] * 5 + [saturday, sunday]

    if kind in ("driver", "port-driver") or (kind == "outdoor" and rng.random() < 0.25):
        return {"always_open": True, "weekly_hours": [[] for _ in range(7)], "holiday_mode": HolidayMode.REGULAR}
    if kind == "outdoor":
        daily = [[7 * 60, 20 * 60]]
        return {"always_open": False, "weekly_hours": days(daily, daily, daily), "holiday_mode": HolidayMode.REGULAR}
    if kind in ("workers-home", "women-care", "model-worker"):
        office = [[9 * 60, 12 * 60], [13 * 60 + 30, 17 * 60 + 30]]
        return {"always_open": False, "weekly_hours": days(office, [], []), "holiday_mode": HolidayMode.CLOSED}
    long_day = [[8 * 60 + 30, 20 * 60]]
    return {
        "always_open": False,
        "weekly_hours": days(long_day, [[9 * 60, 17 * 60]], [[9 * 60, 17 * 60]]),
        "holiday_mode": HolidayMode.SPECIAL,
        "holiday_hours": [[9 * 60, 16 * 60]],
    }


def _facility_mask(kind: str, rng: random.Random, facilities: dict[str, Facility]) -> int:
    wanted = set(ALWAYS)
    for code, share in LIKELY + RARE:
        boost = 1.3 if kind == "outdoor" and code in ("microwave", "fridge") else 1.0
        if rng.random() < share * boost:
            wanted.add(code)
    if kind in ("driver", "port-driver"):
        wanted.update(("shower", "toilet", "charging"))
    if kind == "health-hut":
        wanted.add("clinic")
    if kind == "reading-room":
        wanted.add("books")
    mask = 0
    for code in wanted:
        if code in facilities:
            mask |= facilities[code].mask
    return mask


def seed(*, rng: random.Random, stdout: Any, today: dt.date) -> None:
    province = Organization.objects.filter(parent=None, level=Level.PROVINCE).order_by("pk").first()
    if province is None:
        return
    defaults.install()
    kinds = {k.code: k for k in StationKind.objects.all()}
    facilities = {f.code: f for f in Facility.objects.all()}
    counties = [
        c
        for c in Organization.objects.filter(level=Level.COUNTY, path__startswith=province.path).order_by("path")
        if c.region_code in DISTRICT_CENTRES
    ]
    if not counties or not kinds:
        return
    pool = [code for code, share, _ in KIND_MIX for _ in range(share) if code in kinds]
    suffixes = {code: names for code, _, names in KIND_MIX}
    stations: list[Station] = []
    seq: dict[str, int] = {}
    for county in counties:
        lat0, lng0, short = DISTRICT_CENTRES[county.region_code]
        owners = [county, *Organization.objects.filter(parent=county, level=Level.STREET).order_by("path")]
        for n in range(40):
            kind = rng.choice(pool)
            lat = round(lat0 + rng.uniform(-0.06, 0.06), 6)
            lng = round(lng0 + rng.uniform(-0.07, 0.07), 6)
            place = rng.choice(PLACES)
            seq[county.region_code] = seq.get(county.region_code, 0) + 1
            stations.append(
                Station(
                    code="ZD%s%05d" % (county.region_code, seq[county.region_code]),
                    name="%s%s%s" % (short, place, rng.choice(suffixes[kind])) + ("" if n < 20 else "（%d号）" % n),
                    kind=kinds[kind],
                    organization=owners[n % len(owners)],
                    address="%s%s%d号" % (county.name.replace("总工会", ""), place, rng.randint(1, 300)),
                    lat=lat,
                    lng=lng,
                    cell=geo.cell_of(lat, lng),
                    facility_mask=_facility_mask(kind, rng, facilities),
                    contact_name="%s师傅" % rng.choice(SURNAMES),
                    contact_phone="0512-6%07d" % rng.randint(0, 9_999_999),
                    description="工会为户外劳动者、货车司机等提供歇脚、饮水、热饭、充电等暖心服务。"
                    if kind == "outdoor"
                    else "",
                    **_hours(kind, rng),
                )
            )
    with transaction.atomic():
        Station.objects.bulk_create(stations, batch_size=500)
        saved = list(
            Station.objects.filter(code__in=[s.code for s in stations]).select_related("organization").order_by("pk")
        )
        _inspect(saved, rng, today)
        checkins = _checkins(saved, rng)
        linked = _link_points(saved)
        transaction.on_commit(services.forget_districts)
    stdout.write(
        "  服务阵地：%(n)d 个站点（%(d)d 个区县），%(c)d 次签到，%(p)d 个核销点"
        % {"n": len(saved), "d": len(counties), "c": checkins, "p": linked}
    )


def _inspect(stations: list[Station], rng: random.Random, today: dt.date) -> None:
    inspector = get_user_model().objects.filter(username="demo_handler").first()
    if inspector is None:
        return
    rows = []
    for station in stations:
        if rng.random() < 0.25:
            continue  # not inspected yet
        failing = {r.value for r in Requirement if rng.random() < 0.08}
        rows.append(
            Inspection(
                station=station,
                inspected_on=today - dt.timedelta(days=rng.randint(3, 200)),
                inspector=inspector,
                score=max(40, 96 - 12 * len(failing) - rng.randint(0, 8)),
                notes="、".join(Requirement(r).label for r in sorted(failing)) + "需整改" if failing else "",
                **{"has_%s" % r.value: r.value not in failing for r in Requirement},
            )
        )
    Inspection.objects.bulk_create(rows, batch_size=500)
    latest = {i.station_id: i for i in Inspection.objects.filter(station__in=stations)}
    for station in stations:
        station.last_inspection = latest.get(station.pk)
    Station.objects.bulk_update(stations, ["last_inspection"], batch_size=500)


def _checkins(stations: list[Station], rng: random.Random) -> int:
    members = list(Member.objects.order_by("pk")[:120])
    if not members:
        return 0
    now = timezone.now()
    zone = timezone.get_current_timezone()
    hot = stations[: min(len(stations), 60)]
    seen: set[tuple[int, int, int]] = set()
    rows = []
    for _ in range(900):
        day = now.astimezone(zone).date() - dt.timedelta(days=rng.randint(0, 29))
        hour = rng.choice((7, 8, 11, 11, 12, 12, 12, 13, 15, 17, 18, 18, 19, 21))
        at = dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59)), tzinfo=zone)
        if at > now:
            continue
        station, member = rng.choice(hot), rng.choice(members)
        slot = int(at.timestamp()) // CHECKIN_SLOT_SECONDS
        if (station.pk, member.pk, slot) in seen:
            continue
        seen.add((station.pk, member.pk, slot))
        rows.append(Checkin(station=station, member=member, at=at, slot=slot))
    Checkin.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _link_points(stations: list[Station]) -> int:
    """The benefits demo's 工会驿站 redemption points each become one station's."""
    points = list(RedemptionPoint.objects.filter(kind=PointKind.STATION, station=None).select_related("organization"))
    linked = 0
    for point in points:
        match = next(
            (
                s
                for s in stations
                if s.redemption_point_id is None and s.organization.is_within(point.organization.path)
            ),
            None,
        ) or next(
            (
                s
                for s in stations
                if s.redemption_point_id is None and point.organization.is_within(s.organization.path)
            ),
            None,
        )
        if match is None:
            continue
        match.redemption_point = point
        match.save(update_fields=["redemption_point"])
        linked += 1
    return linked
