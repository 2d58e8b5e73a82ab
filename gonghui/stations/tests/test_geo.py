"""WGS-84 ↔ GCJ-02 against the reference pairs of the usual implementations, the inverse to
well under half a metre, points outside China left alone, and the search grid's cover."""

import math
import random

import pytest

from gonghui.core.errors import ValidationFailed
from gonghui.stations import geo, services

# (WGS-84 lat, lng, GCJ-02 lat, lng): the test vectors of googollee/eviltransform (Shanghai,
# Shenzhen, Beijing), which coordtransform and the other ports reproduce.
REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), REFERENCE)
def test_wgs84_to_gcj02_matches_the_reference_pairs(wgs_lat, wgs_lng, gcj_lat, gcj_lng) -> None:  # type: ignore[no-untyped-def]
    lat, lng = geo.wgs84_to_gcj02(wgs_lat, wgs_lng)
    assert lat == pytest.approx(gcj_lat, abs=1e-9)
    assert lng == pytest.approx(gcj_lng, abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), REFERENCE)
def test_gcj02_to_wgs84_returns_the_reference_point(wgs_lat, wgs_lng, gcj_lat, gcj_lng) -> None:  # type: ignore[no-untyped-def]
    lat, lng = geo.gcj02_to_wgs84(gcj_lat, gcj_lng)
    assert geo.distance_m(lat, lng, wgs_lat, wgs_lng) < 0.01


def test_the_offset_is_the_few_hundred_metres_maps_show() -> None:
    lat, lng = geo.wgs84_to_gcj02(31.3238, 120.6186)  # 苏州 姑苏区
    assert 300 < geo.distance_m(31.3238, 120.6186, lat, lng) < 700


def test_the_inverse_is_accurate_to_well_under_half_a_metre_across_china() -> None:
    rng = random.Random(7)
    worst = 0.0
    for _ in range(2000):
        lat, lng = rng.uniform(18.2, 53.5), rng.uniform(73.6, 134.7)
        back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lat, lng))
        worst = max(worst, geo.distance_m(lat, lng, *back))
    assert worst < 0.05


@pytest.mark.parametrize(("lat", "lng"), [(48.8584, 2.2945), (37.7749, -122.4194), (-33.8688, 151.2093), (0.5, 100)])
def test_outside_china_both_conversions_return_the_point_unchanged(lat: float, lng: float) -> None:
    assert geo.out_of_china(lat, lng)
    assert geo.wgs84_to_gcj02(lat, lng) == (lat, lng)
    assert geo.gcj02_to_wgs84(lat, lng) == (lat, lng)


def test_a_station_outside_china_is_refused_in_chinese() -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.station_point("48.8584", "2.2945")
    assert "不在中国境内" in refused.value.message
    with pytest.raises(ValidationFailed) as swapped:
        services.station_point("120.6186", "31.3238")  # latitude and longitude swapped
    assert "纬度应在 -90 到 90 之间" in swapped.value.message
    with pytest.raises(ValidationFailed) as typed:
        services.station_point("三十一", "120")
    assert "纬度必须是数字" in typed.value.message
    with pytest.raises(ValidationFailed):
        services.station_point("nan", "120")


def test_a_point_picked_on_a_gcj02_map_is_stored_as_wgs84() -> None:
    wgs_lat, wgs_lng, gcj_lat, gcj_lng = REFERENCE[0]
    lat, lng = services.station_point(gcj_lat, gcj_lng, services.CoordSystem.GCJ02)
    assert geo.distance_m(lat, lng, wgs_lat, wgs_lng) < 0.05
    assert services.station_point(wgs_lat, wgs_lng) == (round(wgs_lat, 7), round(wgs_lng, 7))


def test_distance_and_walking_time() -> None:
    # One degree of latitude on the mean sphere.
    assert geo.distance_m(31.0, 120.0, 32.0, 120.0) == pytest.approx(math.radians(1) * geo.EARTH_RADIUS_M)
    assert geo.walking_minutes(10) == 1
    assert geo.walking_minutes(750) == 10
    assert geo.distance_label(845.4) == "845 米"
    assert geo.distance_label(1260) == "1.3 公里"


def test_the_cells_of_a_box_cover_every_point_within_the_radius() -> None:
    rng = random.Random(3)
    for _ in range(300):
        lat, lng, radius = rng.uniform(18, 53), rng.uniform(74, 134), rng.uniform(100, 60_000)
        ranges = geo.cell_ranges(lat, lng, radius)
        for _ in range(20):
            bearing, d = rng.uniform(0, 2 * math.pi), radius * math.sqrt(rng.random())
            # A point d metres away along the bearing (small-distance approximation, nudged in).
            p_lat = lat + math.degrees(0.999 * d * math.cos(bearing) / geo.EARTH_RADIUS_M)
            p_lng = lng + math.degrees(
                0.999 * d * math.sin(bearing) / (geo.EARTH_RADIUS_M * math.cos(math.radians(p_lat)))
            )
            if geo.distance_m(lat, lng, p_lat, p_lng) > radius:
                continue
            cell = geo.cell_of(p_lat, p_lng)
            assert any(first <= cell <= last for first, last in ranges)


def _cells(ranges: list[tuple[int, int]]) -> list[int]:
    return [cell for first, last in ranges for cell in range(first, last + 1)]


def test_a_widening_reads_only_the_cells_the_larger_box_adds() -> None:
    rng = random.Random(8)
    for _ in range(100):
        lat, lng = rng.uniform(18, 53), rng.uniform(74, 134)
        inner = rng.uniform(100, 20_000)
        outer = inner * rng.uniform(1.01, 8)
        read = _cells(geo.cell_ranges(lat, lng, inner))
        added = _cells(geo.cell_ranges(lat, lng, outer, read_m=inner))
        assert not set(read) & set(added)
        assert sorted(read + added) == _cells(geo.cell_ranges(lat, lng, outer))
