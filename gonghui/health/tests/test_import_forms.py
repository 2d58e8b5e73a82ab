"""The health import page: a template per format that imports as downloaded, the column
mapping saved per check-up centre (versioned, audited) and reused at upload, and the 正在后台导入
notice that the status panel carries until the import is done."""

import io

import pytest
from openpyxl import load_workbook

from gonghui.core.models import AuditEvent, JobStatus
from gonghui.health import services
from gonghui.health.import_templates import SAMPLE_ID_NUMBER, TABULAR_HEADER
from gonghui.health.models import CheckupCentre, ImportBatch, ImportMapping
from gonghui.members.identity import identity_from_raw
from gonghui.members.models import Member
from gonghui.site.testing import World, make_member

pytestmark = pytest.mark.django_db

TEMPLATE_URL = "/console/health/imports/template/"


def _sample_member(world: World) -> Member:
    member = make_member(world.union_a, name="示例")
    identity = identity_from_raw(SAMPLE_ID_NUMBER)
    Member.objects.filter(pk=member.pk).update(
        id_number_encrypted=identity.encrypted,
        id_blind=identity.blind,
        id_masked=identity.masked,
        birth_date=identity.resident.birth_date,
        sex=identity.resident.sex,
    )
    return member


@pytest.mark.parametrize(
    ("fmt", "filename"),
    [
        ("csv", "体检结果导入模板.csv"),
        ("xlsx", "体检结果导入模板.xlsx"),
        ("hl7", "体检结果示例-HL7.hl7"),
        ("fhir", "体检结果示例-FHIR.json"),
    ],
)
def test_each_template_downloads_and_imports_cleanly(world: World, fmt: str, filename: str) -> None:
    member = _sample_member(world)
    response = world.client_for(world.staff_a).get(TEMPLATE_URL, {"format": fmt})
    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith(__import__("urllib.parse").parse.quote(filename))
    batch = services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt=fmt,
        filename=filename,
        content=response.content,
        enqueue=False,
    )
    summary = services.import_batch_run(batch_id=batch.pk)
    assert (summary["status"], summary["imported"], summary["problems"]) == ("succeeded", 1, 0)
    assert member.health_checkups.get().result_count == 1


def test_tabular_templates_carry_the_expected_headers(world: World) -> None:
    client = world.client_for(world.staff_a)
    csv_text = client.get(TEMPLATE_URL, {"format": "csv"}).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == ",".join(TABULAR_HEADER)
    sheet = load_workbook(io.BytesIO(client.get(TEMPLATE_URL, {"format": "xlsx"}).content)).active
    assert [c.value for c in sheet[1]] == TABULAR_HEADER
    assert sheet.max_row == 2
    assert client.get(TEMPLATE_URL, {"format": "pdf"}).status_code == 404


def _mapping_post(column: str = "FBG值", indicator: str = "GLU", unit: str = "mmol/L") -> dict[str, object]:
    return {
        "field_id_number": "证件号",
        "field_exam_date": "检查时间",
        "field_report_no": "",
        "column": [column, ""],
        "indicator": [indicator, ""],
        "unit": [unit, ""],
    }


def test_mapping_is_saved_per_centre_versioned_and_reused_at_upload(world: World) -> None:
    member = _sample_member(world)
    centre = CheckupCentre.objects.create(organization=world.union_a, name="姑苏体检中心")
    other = CheckupCentre.objects.create(organization=world.union_a, name="平江体检中心")
    client = world.client_for(world.staff_a)
    url = "/console/health/centres/%s/mapping/" % centre.pk
    assert client.post(url, _mapping_post(unit="mg/dL")).status_code == 302
    assert client.post(url, _mapping_post()).status_code == 302
    saved = ImportMapping.objects.filter(centre=centre).order_by("version")
    assert [m.version for m in saved] == [1, 2]
    assert saved[1].fields == {"id_number": "证件号", "exam_date": "检查时间"}
    assert saved[1].columns == [{"column": "FBG值", "indicator": "GLU", "unit": "mmol/L"}]
    assert not ImportMapping.objects.filter(centre=other).exists()
    assert AuditEvent.objects.filter(action="health.import_mapping_save").count() == 2
    assert 'value="FBG值"' in client.get(url).content.decode()

    content = ("证件号,检查时间,FBG值\n%s,2026-03-12,5.6\n" % SAMPLE_ID_NUMBER).encode()
    upload = io.BytesIO(content)
    upload.name = "姑苏体检.csv"
    response = client.post(
        "/console/health/imports/",
        {"organization": world.union_a.code, "format": "csv", "centre": centre.pk, "file": upload},
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert batch.saved_mapping == saved[1]
    upload_event = AuditEvent.objects.get(action="health.import_upload")
    assert (upload_event.detail["centre"], upload_event.detail["mapping_version"]) == (centre.pk, 2)
    summary = services.import_batch_run(batch_id=batch.pk)
    assert (summary["imported"], summary["problems"]) == (1, 0)
    assert member.health_checkups.get().centre_name == "姑苏体检中心"


def test_a_bad_mapping_is_explained_and_nothing_is_saved(world: World) -> None:
    centre = CheckupCentre.objects.create(organization=world.union_a, name="姑苏体检中心")
    client = world.client_for(world.staff_a)
    url = "/console/health/centres/%s/mapping/" % centre.pk
    for post, message in (
        (_mapping_post(unit="kg"), "第 1 行：单位“kg”不适用于空腹血糖"),
        (_mapping_post(indicator=""), "第 1 行：请选择体检项目"),
        (_mapping_post(indicator="NOPE"), "第 1 行：请选择体检项目"),
        (_mapping_post(column="", indicator="GLU"), "第 1 行：请填写文件中的列名"),
    ):
        response = client.post(url, post)
        assert response.status_code == 422
        assert message in response.content.decode()
    assert not ImportMapping.objects.exists()
    assert not AuditEvent.objects.filter(action="health.import_mapping_save").exists()


def test_staff_of_b_cannot_read_or_change_as_mapping(world: World) -> None:
    centre = CheckupCentre.objects.create(organization=world.union_a, name="姑苏体检中心")
    client = world.client_for(world.staff_b)
    url = "/console/health/centres/%s/mapping/" % centre.pk
    assert client.get(url).status_code == 404
    assert client.post(url, _mapping_post()).status_code == 404
    upload = io.BytesIO(b"x")
    upload.name = "a.csv"
    response = client.post(
        "/console/health/imports/",
        {"organization": world.union_b.code, "format": "csv", "centre": centre.pk, "file": upload},
    )
    assert response.status_code == 422  # the refusal is shown on the upload form
    assert "体检机构不存在或无权访问" in response.content.decode()
    assert not ImportMapping.objects.exists() and not ImportBatch.objects.exists()


def test_the_background_notice_is_in_the_status_panel_until_done(world: World) -> None:
    _sample_member(world)
    client = world.client_for(world.staff_a)
    template = client.get(TEMPLATE_URL, {"format": "csv"}).content
    upload = io.BytesIO(template)
    upload.name = "模板.csv"
    response = client.post(
        "/console/health/imports/", {"organization": world.union_a.code, "format": "csv", "file": upload}, follow=True
    )
    body = response.content.decode()
    assert body.count("正在后台导入") == 1
    assert 'data-testid="import-pending"' in body and 'hx-trigger="every 2s"' in body
    batch = ImportBatch.objects.get()
    services.import_batch_run(batch_id=batch.pk)  # what the worker runs
    batch.job.refresh_from_db()
    assert batch.job.status == JobStatus.SUCCEEDED
    panel = client.get("/console/health/imports/%s/" % batch.pk, HTTP_HX_REQUEST="true").content.decode()
    assert "正在后台导入" not in panel and "hx-trigger" not in panel
