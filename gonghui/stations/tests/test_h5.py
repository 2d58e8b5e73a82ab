"""The member's pages: nearest stations from a position or a district (filters checked), the
map page with and without a tile server, a station's page, the QR check-in and the scan page
the member card links to."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from gonghui.core.models import AuditEvent
from gonghui.members.models import MembershipStatus
from gonghui.site.testing import World
from gonghui.stations import services
from gonghui.stations.models import Checkin
from gonghui.stations.tests.factories import facility, make_station


def _member(world: World) -> Client:
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return client


@pytest.mark.django_db
def test_nearest_from_a_position_with_filters(world: World) -> None:
    make_station(world.union_a, lat=31.3240, lng=120.6190, facilities=("microwave",), name="近的微波炉站")
    make_station(world.union_b, lat=31.3250, lng=120.6200, facilities=("fridge",), name="只有冰箱")
    client = _member(world)
    page = client.get(
        "/h5/stations/", {"lat": "31.3238", "lng": "120.6186", "facility": facility("microwave").pk}
    ).content.decode()
    assert "近的微波炉站" in page and "只有冰箱" not in page and "步行约" in page and "米" in page
    for params, words in (
        ({"lat": "abc", "lng": "120"}, "纬度必须是数字"),
        ({"lat": "48.85", "lng": "2.29"}, "不在中国境内"),
        ({"facility": "999999", "lat": "31.3", "lng": "120.6"}, "设施无效"),
        ({"district": "x"}, "区县无效"),
    ):
        response = client.get("/h5/stations/", params)
        assert response.status_code == 200 and words in response.content.decode(), params
    hint = client.get("/h5/stations/").content.decode()
    assert "使用我的位置" in hint and 'data-testid="nearest-hint"' in hint


@pytest.mark.django_db
def test_nearest_from_a_district_centre(world: World) -> None:
    county = world.street.parent
    assert county is not None
    make_station(world.union_a, lat=31.32, lng=120.61, name="区内站")
    page = _member(world).get("/h5/stations/").content.decode()
    assert county.name in page
    found = _member(world).get("/h5/stations/", {"district": county.pk}).content.decode()
    assert "区内站" in found and "该区县中心附近" in found


@pytest.mark.django_db
def test_the_map_page_is_a_list_without_tiles_and_a_leaflet_map_with_them(world: World) -> None:
    make_station(world.union_a, lat=31.3240, lng=120.6190, name="地图上的站")
    client = _member(world)
    plain = client.get("/h5/stations/map/", {"lat": "31.3238", "lng": "120.6186"})
    body = plain.content.decode()
    assert "未配置地图服务" in body and "地图上的站" in body and "leaflet.js" not in body
    with override_settings(GONGHUI_MAP_TILE_URL="https://webrd0{s}.example-tiles.cn/tile/{z}/{x}/{y}.png"):
        mapped = client.get("/h5/stations/map/", {"lat": "31.3238", "lng": "120.6186"})
    html = mapped.content.decode()
    assert "vendor/leaflet-1.9.4/leaflet.js" in html and 'id="station-map"' in html
    assert "img-src 'self' https://webrd0*.example-tiles.cn" in mapped.headers["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_qr_check_in_is_recorded_once_per_half_hour(world: World) -> None:
    station = make_station(world.union_a, name="扫码站")
    client = _member(world)
    page = client.get("/h5/stations/s/%s/checkin/" % station.code)
    assert page.status_code == 200 and "扫码站" in page.content.decode()
    assert not Checkin.objects.exists()  # opening the page records nothing
    first = client.post("/h5/stations/s/%s/checkin/" % station.code, follow=True).content.decode()
    assert "签到成功" in first
    again = client.post("/h5/stations/s/%s/checkin/" % station.code, follow=True).content.decode()
    assert "您已于" in again
    assert Checkin.objects.filter(station=station, member=world.member_a).count() == 1
    assert AuditEvent.objects.filter(action="stations.checkin").count() == 1
    assert client.get("/h5/stations/s/NOSUCH/checkin/").status_code == 404


@pytest.mark.django_db
def test_the_member_card_offers_scan_check_in_by_qr_url_or_station_number(world: World) -> None:
    station = make_station(world.union_a, name="扫码站")
    retired = make_station(world.union_a, is_active=False)
    client = _member(world)
    card = client.get("/h5/card/").content.decode()
    assert 'href="/h5/stations/scan/"' in card and "扫码签到" in card
    page = client.get("/h5/stations/scan/").content.decode()
    assert "站点编号" in page and 'data-testid="scan-error"' in page and "stations/scan.js" in page
    checkin = "/h5/stations/s/%s/checkin/" % station.code
    for typed in (
        station.code,
        station.code.lower(),
        " %s " % station.code,
        station.code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),  # typed in full width
        "https://gh.example.cn" + checkin,  # what the poster's QR code holds
        checkin + "?from=poster",
    ):
        response = client.get("/h5/stations/scan/", {"code": typed})
        assert response.status_code == 302 and response["Location"] == checkin, typed
    for typed, words in (
        ("NOSUCH", "站点编号“NOSUCH”不存在或站点已停用"),
        (retired.code, "不存在或站点已停用"),
        ("   ", "请输入站点编号"),
        ("https://gh.example.cn/h5/stations/s/NOPE/checkin/", "站点编号“NOPE”不存在"),
        ("<script>x</script>" * 30, "不存在或站点已停用"),
    ):
        response = client.get("/h5/stations/scan/", {"code": typed})
        body = response.content.decode()
        assert response.status_code == 200 and words in body and "<script>x" not in body, typed
    assert not Checkin.objects.exists()  # finding the station records nothing: the check-in page does


@pytest.mark.django_db
def test_check_ins_are_refused_when_not_in_membership_or_too_many(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    cache.clear()  # the hourly counters are keyed by member id, which a fresh database repeats
    station = make_station(world.union_a)
    world.member_a.status = MembershipStatus.TRANSFERRED
    world.member_a.save(update_fields=["status"])
    with pytest.raises(services.PermissionDenied):
        services.checkin_record(member=world.member_a, station=station)
    stations = [make_station(world.union_a) for _ in range(services.CHECKINS_PER_HOUR + 1)]
    for s in stations[:-1]:
        services.checkin_record(member=world.member_b, station=s)
    with pytest.raises(services.RateLimited):
        services.checkin_record(member=world.member_b, station=stations[-1])
    cache.clear()  # on SQLite the next test's member B has this one's id: leave no full counter
