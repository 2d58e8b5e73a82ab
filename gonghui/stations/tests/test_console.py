"""Console pages: creating and editing a station (coordinates checked, GCJ-02 converted),
union B never sees or touches union A's stations, exports, photos, the "六有" inspection and
the failing list, the usage counts, the redemption-point link, the settings and the console
home's card."""

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.benefits.models import PointKind, RedemptionPoint
from gonghui.core.errors import PermissionDenied
from gonghui.core.models import AuditEvent
from gonghui.site.testing import World
from gonghui.stations import defaults, geo, selectors, services
from gonghui.stations.models import Checkin, Inspection, Requirement, Station, StationKind
from gonghui.stations.tests.factories import PNG, facility, kind, make_station


def _form(world: World, **overrides: str) -> dict[str, object]:
    data: dict[str, object] = {
        "organization": world.union_a.code,
        "name": "平江路户外劳动者服务站",
        "kind": str(kind("outdoor").pk),
        "address": "姑苏区平江路 120 号",
        "lat": "31.3238",
        "lng": "120.6186",
        "coord_system": "wgs84",
        "facilities": [str(facility("microwave").pk), str(facility("water").pk)],
        "hours_0": "08:00-20:00",
        "holiday_mode": "regular",
        "contact_phone": "0512-65221234",
        "is_active": "1",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_staff_create_a_station_and_union_b_cannot_see_or_change_it(world: World) -> None:
    client = world.client_for(world.staff_a)
    response = client.post("/console/stations/new/", _form(world))
    assert response.status_code == 302
    station = Station.objects.get(name="平江路户外劳动者服务站")
    assert station.organization == world.union_a and station.code.startswith("ZD320508")
    assert station.cell == geo.cell_of(31.3238, 120.6186)
    assert station.weekly_hours[0] == [[480, 1200]] and station.weekly_hours[1] == []
    assert station.facility_mask == facility("microwave").mask | facility("water").mask
    assert AuditEvent.objects.filter(action="stations.station_create", object_id=str(station.pk)).count() == 1
    page = client.get("/console/stations/%d/" % station.pk).content.decode()
    assert "微波炉" in page and "周一：08:00-20:00" in page

    other = world.client_for(world.staff_b)
    assert station.code not in other.get("/console/stations/").content.decode()
    assert other.get("/console/stations/%d/" % station.pk).status_code == 404
    before = Station.objects.get(pk=station.pk).name
    assert other.post("/console/stations/%d/edit/" % station.pk, _form(world, name="改名")).status_code == 404
    assert Station.objects.get(pk=station.pk).name == before
    # B may not create a station for A either.
    refused = other.post("/console/stations/new/", _form(world, name="B建的A站"))
    assert refused.status_code == 422 and "无权管理" in refused.content.decode()
    assert not Station.objects.filter(name="B建的A站").exists()
    with pytest.raises(PermissionDenied):
        services.station_update(
            actor=world.staff_b, station=station, data=services.StationInput(name="x", kind=station.kind)
        )


@pytest.mark.django_db
def test_the_form_refuses_bad_values_in_chinese_and_converts_gcj02(world: World) -> None:
    client = world.client_for(world.staff_a)
    for overrides, words in (
        ({"lat": "48.8584", "lng": "2.2945"}, "不在中国境内"),
        ({"lat": "abc"}, "纬度必须是数字"),
        ({"hours_0": "8点-20点"}, "格式不对"),
        ({"hours_0": ""}, "请填写开放时段"),
        ({"contact_phone": "12345"}, "联系电话格式不对"),
        ({"kind": "999999"}, "站点类型不存在"),
        ({"kind": "x"}, "站点类型无效"),
        ({"facilities": ["abc"]}, "设施不存在"),
        ({"name": ""}, "请填写站点名称"),
        ({"code": "坏编号"}, "站点编号由"),
    ):
        response = client.post("/console/stations/new/", _form(world, **overrides))
        assert response.status_code in (404, 422), overrides
        assert words in response.content.decode(), overrides
    assert not Station.objects.exists()
    response = client.post(
        "/console/stations/new/", _form(world, lat="31.17530398364597", lng="121.531541859215", coord_system="gcj02")
    )
    assert response.status_code == 302
    station = Station.objects.get()
    assert geo.distance_m(station.lat, station.lng, 31.1774276, 121.5272106) < 0.05
    taken = client.post("/console/stations/new/", _form(world, code=station.code))
    assert taken.status_code == 422 and "已被使用" in taken.content.decode()


@pytest.mark.django_db
def test_list_filters_export_and_edit(world: World) -> None:
    a1 = make_station(world.union_a, facilities=("microwave",), name="甲一")
    make_station(world.union_a, facilities=("fridge",), kind_code="driver", name="甲二")
    make_station(world.union_b, facilities=("microwave",), name="乙一")
    client = world.client_for(world.staff_a)
    page = client.get("/console/stations/", {"facility": facility("microwave").pk}).content.decode()
    assert "甲一" in page and "甲二" not in page and "乙一" not in page
    assert client.get("/console/stations/", {"kind": "x"}).status_code == 422
    assert client.get("/console/stations/", {"page": "9999"}).status_code == 200
    export = client.get("/console/stations/export.xlsx", {"kind": kind("outdoor").pk})
    sheet = load_workbook(io.BytesIO(export.content)).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["甲一"]
    assert AuditEvent.objects.filter(action="stations.list_export").count() == 1
    federation = world.client_for(world.federation_admin)
    whole = load_workbook(io.BytesIO(federation.get("/console/stations/export.xlsx").content)).active
    assert sorted(row[1] for row in whole.iter_rows(min_row=2, values_only=True)) == ["乙一", "甲一", "甲二"]
    edit = client.post(
        "/console/stations/%d/edit/" % a1.pk, _form(world, name="甲一（改）", always_open="1", hours_0="")
    )
    assert edit.status_code == 302
    a1.refresh_from_db()
    assert a1.name == "甲一(改)"  # full-width brackets folded by parsing.clean and a1.always_open
    event = AuditEvent.objects.get(action="stations.station_update")
    assert "name" in event.detail["changed"]


@pytest.mark.django_db
def test_photos_and_the_poster(world: World) -> None:
    station = make_station(world.union_a)
    client = world.client_for(world.staff_a)
    upload = SimpleUploadedFile("站.png", PNG, content_type="image/png")
    assert (
        client.post("/console/stations/%d/photos/" % station.pk, {"photo": upload, "caption": "门口"}).status_code
        == 302
    )
    photo = station.photos.get()
    assert client.get("/console/stations/photos/%d/" % photo.pk).content == PNG
    assert world.client_for(world.staff_b).get("/console/stations/photos/%d/" % photo.pk).status_code == 404
    bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    client.post("/console/stations/%d/photos/" % station.pk, {"photo": bad})
    assert station.photos.count() == 1
    poster = client.get("/console/stations/%d/poster/" % station.pk).content.decode()
    assert "data:image/svg+xml" in poster and "/h5/stations/s/%s/checkin/" % station.code in poster


@pytest.mark.django_db
def test_inspections_and_the_failing_list(world: World) -> None:
    good = make_station(world.union_a, name="全达标")
    weak = make_station(world.union_a, name="缺制度")
    never = make_station(world.union_a, name="甲站待查")
    b_weak = make_station(world.union_b, name="乙缺制度")
    client = world.client_for(world.staff_a)
    all_met = ["sign", "premises", "facilities", "rules", "staff", "mapped"]
    today = timezone.localdate().isoformat()
    post = client.post(
        "/console/stations/%d/inspect/" % good.pk,
        {"inspected_on": today, "score": "95", "met": all_met, "photos": [SimpleUploadedFile("a.png", PNG)]},
    )
    assert post.status_code == 302
    client.post(
        "/console/stations/%d/inspect/" % weak.pk,
        {"inspected_on": today, "score": "70", "met": all_met[:3] + all_met[4:]},
    )
    services.inspection_record(
        actor=world.staff_b, station=b_weak, data=services.InspectionInput(inspected_on=today, met=[], score="10")
    )
    refused = client.post("/console/stations/%d/inspect/" % weak.pk, {"inspected_on": today, "score": "101"})
    assert refused.status_code == 422 and "评分" in refused.content.decode()
    assert Inspection.objects.filter(station=weak).count() == 1
    weak.refresh_from_db()
    assert weak.last_inspection is not None and weak.last_inspection.failed == ["管理制度"]
    assert good.inspections.get().photos.count() == 1
    failing = client.get("/console/stations/failing/").content.decode()
    assert "缺制度" in failing and "全达标" not in failing and "乙缺制度" not in failing
    assert "甲站待查" not in client.get("/console/stations/failing/", {"requirement": "rules"}).content.decode()
    assert "甲站待查" in client.get("/console/stations/failing/", {"requirement": "never"}).content.decode()
    assert client.get("/console/stations/failing/", {"requirement": "bogus"}).status_code == 422
    sheet = load_workbook(io.BytesIO(client.get("/console/stations/failing/export.xlsx").content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[7]) for r in rows] == [("缺制度", "管理制度")]
    assert never.last_inspection is None


@pytest.mark.django_db
def test_usage_counts_by_day_and_hour_in_the_actors_sub_tree(world: World) -> None:
    station = make_station(world.union_a)
    b_station = make_station(world.union_b)
    zone = timezone.get_current_timezone()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    at = dt.datetime.combine(yesterday, dt.time(12, 10), tzinfo=zone)
    services.checkin_record(member=world.member_a, station=station, now=at)
    services.checkin_record(member=world.member_b, station=station, now=at)
    services.checkin_record(member=world.member_a, station=station, now=at + dt.timedelta(minutes=5))  # same visit
    services.checkin_record(member=world.member_b, station=b_station, now=at)
    usage = selectors.usage_for_actor(actor=world.staff_a, date_from=yesterday, date_to=timezone.localdate())
    assert usage.total == 2 and usage.by_day == [2, 0] and usage.by_hour[12] == 2 and sum(usage.by_hour) == 2
    page = world.client_for(world.staff_a).get("/console/stations/usage/")
    assert page.status_code == 200 and 'data-testid="usage-total">2<' in page.content.decode()
    assert world.client_for(world.staff_a).get("/console/stations/usage/", {"from": "2026-13-01"}).status_code == 422
    assert Checkin.objects.count() == 3


@pytest.mark.django_db
def test_a_station_becomes_a_coupon_redemption_point(world: World) -> None:
    station = make_station(world.union_a, name="驿站")
    client = world.client_for(world.staff_a)
    client.post("/console/stations/%d/redemption-point/" % station.pk, {"action": "create"})
    station.refresh_from_db()
    point = RedemptionPoint.objects.get(pk=station.redemption_point_id)
    assert point.kind == PointKind.STATION and point.organization == world.union_a and point.name == "驿站"
    client.post("/console/stations/%d/redemption-point/" % station.pk, {"action": "unlink"})
    station.refresh_from_db()
    assert station.redemption_point_id is None
    client.post("/console/stations/%d/redemption-point/" % station.pk, {"action": "link", "point": point.pk})
    station.refresh_from_db()
    assert station.redemption_point_id == point.pk
    other = make_station(world.union_b)
    b = world.client_for(world.staff_b)
    b.post("/console/stations/%d/redemption-point/" % other.pk, {"action": "link", "point": point.pk})
    other.refresh_from_db()
    assert other.redemption_point_id is None  # B cannot pick A's point


@pytest.mark.django_db
def test_only_the_federation_admin_configures_kinds_and_facilities(world: World) -> None:
    defaults.install()
    assert (
        world.client_for(world.staff_a).post("/console/stations/settings/kinds/", {"name": "职工驿站"}).status_code
        == 302
    )
    assert not StationKind.objects.filter(name="职工驿站").exists()
    admin = world.client_for(world.federation_admin)
    admin.post("/console/stations/settings/kinds/", {"name": "职工驿站", "order": "5", "is_active": "1"})
    assert StationKind.objects.get(name="职工驿站").order == 5
    admin.post("/console/stations/settings/facilities/", {"name": "雨具", "is_active": "1"})
    umbrella = facility("water").__class__.objects.get(name="雨具")
    assert umbrella.bit == 15 and umbrella.is_active
    admin.post("/console/stations/settings/facilities/", {"pk": umbrella.pk, "name": "雨具", "is_active": ""})
    umbrella.refresh_from_db()
    assert not umbrella.is_active
    assert "雨具" not in [f.name for f in selectors.active_facilities()]


@pytest.mark.django_db
def test_the_console_home_card_counts_the_actors_active_stations(world: World) -> None:
    failed, passed = make_station(world.union_a), make_station(world.union_a)
    make_station(world.union_a)  # never inspected
    make_station(world.union_a, is_active=False)
    make_station(world.union_b)
    today = timezone.localdate().isoformat()
    services.inspection_record(
        actor=world.staff_a, station=failed, data=services.InspectionInput(inspected_on=today, met=["sign"], score="60")
    )
    every = [r.value for r in Requirement]
    services.inspection_record(
        actor=world.staff_a, station=passed, data=services.InspectionInput(inspected_on=today, met=every, score="95")
    )
    services.checkin_record(member=world.member_a, station=passed)

    def card(user: Any) -> Any:
        response = world.client_for(user).get(reverse("site:dashboard"))
        return {c.key: c for c in response.context["cards"]}["stations.overview"]

    mine = card(world.staff_a)
    assert {f.label: f.value for f in mine.figures} == {
        "在用站点": "3",
        "本月签到": "1",
        "检查未达标": "1",
        "从未检查": "1",
    }
    assert [t.text for t in mine.todos] == [
        "1 个站点最近一次“六有”检查未达标，请督促整改",
        "1 个在用站点尚未做过“六有”检查",
    ]
    sibling = card(world.staff_b)
    assert {f.label: f.value for f in sibling.figures} == {
        "在用站点": "1",
        "本月签到": "0",
        "检查未达标": "0",
        "从未检查": "1",
    }
