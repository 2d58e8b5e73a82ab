"""The station-list import: a CSV or XLSX checked row by row through the kernel's tabular
reader, written all at once by its job (new codes created, known codes updated), or — when a
row fails — nothing written and a per-row error report to download."""

import io

import pytest
from openpyxl import load_workbook

from gonghui.core import jobs
from gonghui.core.models import AuditEvent
from gonghui.site.testing import World, xlsx_of
from gonghui.stations import geo, services
from gonghui.stations.importing import SPEC
from gonghui.stations.models import Station, StationImport
from gonghui.stations.tests.factories import facility, make_station

HEADER = ["站点编号", "站点名称", "类型", "所属工会代码", "地址", "纬度", "经度", "坐标系", "设施", "24小时开放"]
HEADER += ["周一至周五", "周六", "周日", "节假日", "节假日时段", "联系人", "联系电话"]


def _row(world: World, name: str, **over: str) -> list[str]:
    values = {
        "code": "",
        "name": name,
        "kind": "户外劳动者服务站点",
        "org": world.union_a.code,
        "address": "姑苏区干将路 1 号",
        "lat": "31.31",
        "lng": "120.62",
        "crs": "",
        "facilities": "空调、微波炉",
        "always": "否",
        "weekdays": "08:00-20:00",
        "sat": "09:00-17:00",
        "sun": "",
        "holiday": "照常",
        "holiday_hours": "",
        "contact": "王师傅",
        "phone": "13912345678",
    }
    values.update(over)
    return list(values.values())


def _csv(rows: list[list[str]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _run(world: World, content: bytes, filename: str = "站点.csv", actor=None) -> StationImport:  # type: ignore[no-untyped-def]
    batch = services.station_import_upload(
        actor=actor or world.staff_a, organization=world.union_a, filename=filename, content=content, enqueue=False
    )
    jobs.job_execute(job_id=batch.job_id)
    return StationImport.objects.select_related("job").get(pk=batch.pk)


@pytest.mark.django_db
def test_a_clean_csv_creates_and_updates_stations(world: World) -> None:
    known = make_station(world.union_a, name="旧名")
    rows = [
        _row(world, "新站一"),
        _row(world, "新站二", lat="31.17530398364597", lng="121.531541859215", crs="GCJ-02", always="是"),
        _row(world, "改名后", code=known.code, facilities="冰箱"),
    ]
    batch = _run(world, _csv(rows))
    assert batch.job.status == "succeeded" and (batch.created, batch.updated, batch.row_errors) == (2, 1, [])
    assert batch.content == b""  # the upload is dropped once read
    one = Station.objects.get(name="新站一")
    assert one.code.startswith("ZD320508") and one.cell == geo.cell_of(one.lat, one.lng)
    assert one.facility_mask == facility("aircon").mask | facility("microwave").mask
    assert one.weekly_hours[4] == [[480, 1200]] and one.weekly_hours[5] == [[540, 1020]] and one.weekly_hours[6] == []
    two = Station.objects.get(name="新站二")
    assert two.always_open and geo.distance_m(two.lat, two.lng, 31.1774276, 121.5272106) < 0.05
    known.refresh_from_db()
    assert known.name == "改名后" and known.facility_mask == facility("fridge").mask
    assert AuditEvent.objects.filter(action="stations.import_commit").count() == 1


@pytest.mark.django_db
def test_one_bad_row_writes_nothing_and_the_report_names_each_failure(world: World) -> None:
    b_station = make_station(world.union_b)
    rows = [
        _row(world, "好站"),
        _row(world, "境外站", lat="48.85", lng="2.29"),
        _row(world, "坏设施", facilities="空调、游泳池"),
        _row(world, "别人的工会", org=world.union_b.code),
        _row(world, "别人的编号", code=b_station.code),
        _row(world, "坏时间", weekdays="早八晚八"),
    ]
    batch = _run(world, xlsx_of([HEADER, *rows]), filename="站点.xlsx")
    assert batch.job.status == "succeeded" and batch.created == 0
    assert not Station.objects.filter(name="好站").exists()
    reasons = {e["row"]: e["reason"] for e in batch.row_errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert "不在中国境内" in reasons[3]
    assert "游泳池" in reasons[4]
    assert "不存在或不在" in reasons[5]
    assert "已属于其他工会" in reasons[6]
    assert "格式不对" in reasons[7]
    client = world.client_for(world.staff_a)
    page = client.get("/console/stations/imports/%d/" % batch.pk).content.decode()
    assert "一行也没有导入" in page
    report = load_workbook(io.BytesIO(client.get("/console/stations/imports/%d/errors.xlsx" % batch.pk).content))
    lines = list(report.active.iter_rows(values_only=True))
    assert lines[0][0] == "行号" and lines[0][-1] == "错误原因"
    assert [line[0] for line in lines[1:]] == [3, 4, 5, 6, 7] and lines[1][2] == "境外站"
    assert world.client_for(world.staff_b).get("/console/stations/imports/%d/" % batch.pk).status_code == 404


@pytest.mark.django_db
def test_a_file_without_the_required_columns_fails_in_chinese(world: World) -> None:
    batch = _run(world, "名称,地址\n甲,乙\n".encode())
    assert batch.job.status == "failed" and "文件缺少必填列" in batch.job.error
    batch = _run(world, b"\x00\x01\x02 not a table")
    assert batch.job.status == "failed"


@pytest.mark.django_db
def test_the_upload_page_and_template(world: World) -> None:
    client = world.client_for(world.staff_a)
    template = load_workbook(io.BytesIO(client.get("/console/stations/imports/template.xlsx").content))
    assert [c.value for c in template.active[1]] == [c.header for c in SPEC.columns]
    response = client.post("/console/stations/imports/", {"organization": world.union_b.code})
    assert response.status_code == 422 and "无权管理" in response.content.decode()
    response = client.post("/console/stations/imports/", {"organization": world.union_a.code})
    assert response.status_code == 422 and "请选择要导入的文件" in response.content.decode()
    assert not StationImport.objects.exists()
