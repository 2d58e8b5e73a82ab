"""Test helpers of the stations app."""

import itertools
from typing import Any

from gonghui.organizations.models import Organization
from gonghui.stations import defaults, services
from gonghui.stations.models import Facility, HolidayMode, Station, StationKind

_seq = itertools.count(1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def kind(code: str = "outdoor") -> StationKind:
    defaults.install()
    return StationKind.objects.get(code=code)


def facility(code: str) -> Facility:
    defaults.install()
    return Facility.objects.get(code=code)


def make_station(
    org: Organization,
    *,
    lat: float = 31.3238,
    lng: float = 120.6186,
    kind_code: str = "outdoor",
    facilities: tuple[str, ...] = ("aircon", "water"),
    always_open: bool = True,
    weekly: tuple[str, ...] = ("",) * 7,
    holiday_mode: str = HolidayMode.REGULAR,
    name: str | None = None,
    **fields: Any,
) -> Station:
    n = next(_seq)
    defaults.install()
    mask = services.facility_mask_of(Facility.objects.filter(code__in=facilities))
    data = services.StationInput(
        name=name or "测试站点%d" % n,
        code="TS%06d" % n,
        kind=kind(kind_code),
        address="测试地址%d号" % n,
        lat=lat,
        lng=lng,
        facility_mask=mask,
        always_open=always_open,
        weekly_text=weekly,
        holiday_mode=holiday_mode,
    )
    station = Station.objects.create(organization=org, code=data.code, **services.station_fields(data))
    services.forget_districts()
    if fields:
        Station.objects.filter(pk=station.pk).update(**fields)
        station.refresh_from_db()
    return station
