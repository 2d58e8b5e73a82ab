"""Every export writes what people typed as text, never as a formula, sends no-store, may
carry a Chinese file name and is audited with its row count (core/exports.py)."""

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_point, make_redemption
from gonghui.core import exports
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.health import services as health_services
from gonghui.health.models import Slot
from gonghui.health.tests.test_programmes import make_programme
from gonghui.members.import_models import ImportBatch
from gonghui.members.tests.test_import_validation import csv_bytes, person
from gonghui.site.testing import World, grant, make_member, make_user

FORMULA = '=HYPERLINK("http://x","点我")'


def _cells(content: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _formula_cells(content: bytes, text: str) -> list[tuple[Any, str]]:
    return [(cell.value, cell.data_type) for cell in _cells(content) if cell.value == text]


def _assert_no_formula(content: bytes) -> None:
    assert [cell.coordinate for cell in _cells(content) if cell.data_type == "f"] == []


def _assert_download(response: Any, action: str, rows: int) -> AuditEvent:
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "filename*=utf-8''" in response["Content-Disposition"]  # a Chinese name, RFC 5987
    event = AuditEvent.objects.get(action=action)
    assert event.detail["rows"] == rows
    assert event.detail["export"]
    return event


def test_xlsx_cells_are_text_numbers_stay_numbers() -> None:
    content, rows = exports.xlsx_bytes([exports.Sheet("表", ["a", "b", "c", "d"], [[FORMULA, 12, "=1+1", None]])])
    sheet = load_workbook(io.BytesIO(content)).active
    assert rows == 1
    assert [(c.value, c.data_type) for c in sheet[2]] == [(FORMULA, "s"), (12, "n"), ("=1+1", "s"), (None, "n")]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_every_formula_start(start: str) -> None:
    assert exports.csv_text(start + "1+1") == "'" + start + "1+1"


def test_csv_keeps_numbers_and_plain_text() -> None:
    content, rows = exports.csv_bytes(["名", "数"], [[FORMULA, -5], ["张三", dt.date(2026, 1, 2)]])
    assert rows == 2
    assert list(csv.reader(io.StringIO(content.decode("utf-8-sig")))) == [
        ["名", "数"],
        ["'" + FORMULA, "-5"],
        ["张三", "2026-01-02"],
    ]


@pytest.mark.django_db
def test_member_list_export_writes_the_name_as_text(world: World) -> None:
    make_member(world.union_a, name=FORMULA)
    response = world.client_for(world.staff_a).get("/console/members/export.xlsx")
    _assert_download(response, "member.export", 2)
    assert _formula_cells(response.content, FORMULA) == [(FORMULA, "s")]
    _assert_no_formula(response.content)


@pytest.mark.django_db
def test_card_export_writes_the_name_as_text(world: World) -> None:
    make_member(world.union_a, name=FORMULA)
    response = world.client_for(world.staff_a).get("/console/members/cards.xlsx")
    _assert_download(response, "member.card_export", 2)
    assert _formula_cells(response.content, FORMULA) == [(FORMULA, "s")]
    _assert_no_formula(response.content)


@pytest.mark.django_db
def test_campaign_report_and_settlement_write_names_as_text(world: World) -> None:
    finance = grant(make_user("finance_a"), world.union_a, Role.FINANCE)
    point = make_point(world.union_a, name=FORMULA)
    campaign = make_campaign(world.union_a, world.staff_a, name=FORMULA, points=[point])
    member = make_member(world.union_a, name=FORMULA)
    make_redemption(make_coupon(campaign, member), point, world.staff_a)
    client = world.client_for(finance)

    report = client.get("/console/benefits/%d/report.xlsx" % campaign.pk)
    book = load_workbook(io.BytesIO(report.content))
    data_rows = sum(sheet.max_row - 1 for sheet in book.worksheets)
    assert data_rows >= 13  # 10 summary lines, a day, an organisation, a point
    event = _assert_download(report, "campaign.report_export", data_rows)
    assert (event.object_id, event.organization_id) == (str(campaign.pk), world.union_a.pk)
    assert _formula_cells(report.content, FORMULA) == [(FORMULA, "s"), (FORMULA, "s")]  # name, point
    _assert_no_formula(report.content)

    today = timezone.localdate().isoformat()
    statement = client.get(
        "/console/benefits/settlement/?point=%d&from=%s&to=%s&format=xlsx" % (point.pk, today, today)
    )
    _assert_download(statement, "point.settlement_export", 3)  # summary line, total, one redemption
    assert _formula_cells(statement.content, FORMULA) == [(FORMULA, "s"), (FORMULA, "s")]  # summary, detail
    masked = FORMULA[0] + "*" * (len(FORMULA) - 1)
    assert _formula_cells(statement.content, masked) == [(masked, "s")]
    _assert_no_formula(statement.content)


@pytest.mark.django_db
def test_appointments_csv_is_neutralised_audited_and_not_cached(world: World) -> None:
    programme = make_programme(world)
    member = make_member(world.union_a, name=FORMULA, sex="M")
    health_services.appointment_book(member=member, programme=programme, slot=Slot.objects.get(programme=programme))
    health_admin = grant(make_user("health_street"), world.street, Role.HEALTH)
    response = world.client_for(health_admin).get("/console/health/programmes/%d/appointments.csv" % programme.pk)
    event = _assert_download(response, "health.appointments_export", 1)
    assert event.object_id == str(programme.pk)
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [line[1] for line in lines] == ["姓名", "'" + FORMULA]


@pytest.mark.django_db
def test_health_stats_csv_is_audited_and_not_cached(world: World) -> None:
    response = world.client_for(world.staff_a).get(
        "/console/health/stats/?organization=%s&indicator=SBP&year=2025&export=csv" % world.union_a.code
    )
    _assert_download(response, "health.stats_export", 0)


@pytest.mark.django_db
def test_import_error_report_keeps_uploaded_formulas_as_text(world: World) -> None:
    client = world.client_for(world.staff_a)
    rows = [person(1, 姓名="=1+1", 手机号="123")]
    client.post(
        "/console/members/import/upload/",
        {"organization": world.union_a.code, "file": SimpleUploadedFile("会员.csv", csv_bytes(rows), "text/csv")},
    )
    batch = ImportBatch.objects.get()
    response = client.get("/console/members/import/%d/report/" % batch.pk)
    _assert_download(response, "member.import_report", 1)
    assert _formula_cells(response.content, "=1+1") == [("=1+1", "s")]
    _assert_no_formula(response.content)
