"""The issue's "done when" in chromium: a member on a phone (390×844, location allowed and
set) opens 服务阵地, asks for stations with a 微波炉 near them, gets the nearest one that is
open now (a closer one is closed, a closer one has no microwave), sees it on the map page —
as a list with distances without a tile server, as a Leaflet map with one — and checks in
with the station's QR code: scanned on the 扫码签到 page (the camera path, with a stand-in
detector) or its station number typed there, opened from the member card."""

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.site.testing import build_world
from gonghui.stations.models import Checkin, HolidayMode, Station
from gonghui.stations.tests.factories import make_station

HERE = {"latitude": 31.3238, "longitude": 120.6186}  # 平江路, 苏州 (WGS-84, as a phone reports)


def _closed_now_hours() -> str:
    minute = timezone.localtime().hour * 60 + timezone.localtime().minute
    return "13:00-14:00" if minute < 12 * 60 else "01:00-02:00"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_member_finds_the_nearest_open_station_with_a_microwave_and_checks_in(live_server, browser, settings) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    make_station(world.union_a, lat=31.3240, lng=120.6188, facilities=("water", "fridge"), name="无微波炉驿站")
    make_station(
        world.union_b,
        lat=31.3242,
        lng=120.6190,
        facilities=("microwave",),
        always_open=False,
        weekly=(_closed_now_hours(),) * 7,
        holiday_mode=HolidayMode.REGULAR,
        name="已下班驿站",
    )
    target = make_station(
        world.union_a, lat=31.3260, lng=120.6200, facilities=("microwave", "aircon"), name="平江路爱心驿站"
    )
    make_station(world.union_b, lat=31.3400, lng=120.6400, facilities=("microwave",), name="远处驿站")

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        geolocation=HERE,
        permissions=["geolocation"],
    )
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    base = live_server.url
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)

    # 1. From the member home to 服务阵地; ask for a microwave, from the phone's position.
    page.goto(f"{base}/h5/")
    page.click("a[data-testid=tile][href='/h5/stations/']")
    page.wait_for_selector("[data-testid=nearest-hint]")
    page.select_option("[data-testid=filter-facility]", label="有微波炉")
    page.click("[data-testid=locate]")
    page.wait_for_selector("[data-testid=nearest-results]")
    items = page.locator("[data-testid=nearest-item]")
    assert items.count() == 2  # the closed one and the one without a microwave are not offered
    first = items.nth(0)
    assert first.get_attribute("data-code") == target.code
    assert "平江路爱心驿站" in first.inner_text() and "开放中" in first.inner_text()
    distance = first.locator("[data-testid=nearest-distance]").inner_text()
    assert distance.endswith(" 米") and 200 < int(distance.split()[0]) < 400
    assert "步行约" in first.inner_text()
    assert "远处驿站" in items.nth(1).inner_text()

    # 2. The map page without a tile server: the same stations as a list with distances.
    page.click("[data-testid=map-link]")
    page.wait_for_selector("[data-testid=map-unavailable]")
    assert page.locator("[data-testid=nearest-item]").nth(0).get_attribute("data-code") == target.code

    # 3. With a tile server configured, a Leaflet map with a marker per station.
    settings.GONGHUI_MAP_TILE_URL = f"{base}/static/vendor/leaflet-1.9.4/images/layers.png?z={{z}}&x={{x}}&y={{y}}"
    page.reload()
    page.wait_for_selector("#station-map[data-rendered='2']")
    assert page.locator(".leaflet-marker-icon").count() == 2
    page.locator(".leaflet-marker-icon").first.click()
    assert "驿站" in page.locator(".leaflet-popup-content").inner_text()

    # 4. The station's page; its poster's QR code holds the check-in URL.
    page.goto(f"{base}/h5/stations/s/{target.code}/?lat={HERE['latitude']}&lng={HERE['longitude']}")
    assert "微波炉" in page.inner_text("[data-testid=station-facilities]")
    assert page.inner_text("[data-testid=station-open]") == "开放中"
    staff = world.client_for(world.staff_a)
    poster = staff.get(f"/console/stations/{target.pk}/poster/").content.decode()
    checkin_url = f"/h5/stations/s/{target.code}/checkin/"
    assert checkin_url in poster

    # 5. 扫码签到 with a camera: the scan page reads the QR code (a stand-in BarcodeDetector
    #    and camera; this chromium has neither) and opens the station's check-in.
    camera = context.new_page()
    camera.add_init_script(
        "window.BarcodeDetector = class { detect() { return Promise.resolve([{ rawValue: %r }]); } };"
        "navigator.mediaDevices.getUserMedia = () => Promise.resolve(document.createElement('canvas').captureStream());"
        % f"{base}{checkin_url}"
    )
    camera.goto(f"{base}/h5/stations/scan/")
    camera.wait_for_selector("[data-testid=checkin-page]")
    assert camera.inner_text("[data-testid=checkin-station]") == "平江路爱心驿站"
    camera.close()

    # 6. 扫码签到 from the member card, typing the station number: a wrong one is refused in
    #    Chinese, the right one opens the check-in, and one tap records the visit.
    page.goto(f"{base}/h5/card/")
    page.click("[data-testid=card-scan-checkin]")
    page.fill("[data-testid=scan-code]", "ZD9999999999")
    page.click("[data-testid=scan-submit]")
    page.wait_for_selector("[data-testid=scan-error]:visible")
    assert "站点编号“ZD9999999999”不存在或站点已停用" in page.inner_text("[data-testid=scan-error]")
    page.fill("[data-testid=scan-code]", target.code.lower())
    page.click("[data-testid=scan-submit]")
    page.wait_for_selector("[data-testid=checkin-page]")
    assert page.inner_text("[data-testid=checkin-station]") == "平江路爱心驿站"
    assert not Checkin.objects.exists()
    page.click("[data-testid=checkin-submit]")
    page.wait_for_selector(".weui-toptips_success")
    assert "签到成功" in page.inner_text(".weui-toptips_success")
    assert "平江路爱心驿站" in page.inner_text("[data-testid=checkin-recent]")
    assert Checkin.objects.filter(station=target, member=world.member_a).count() == 1
    assert Station.objects.count() == 4
    context.close()
