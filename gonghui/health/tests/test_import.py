"""Importing results: messy HL7 v2 and FHIR R4 files, CSV/XLSX with and without a mapping,
re-imports, dry runs, scope, encryption at rest, the command and the console upload."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from gonghui.core.errors import PermissionDenied
from gonghui.core.models import AuditEvent, JobStatus
from gonghui.health import services
from gonghui.health.models import Checkup, ImportBatch, Indicator, Result
from gonghui.health.tests.samples import fhir_bundle, messy_hl7
from gonghui.organizations.models import PolicyVersion
from gonghui.site.testing import World


def run(
    world: World, fmt: str, content: bytes, *, mapping: dict | None = None, dry_run: bool = False, org=None
) -> dict:  # type: ignore[no-untyped-def,type-arg]
    batch = services.import_batch_create(
        actor=world.staff_a,
        organization=org or world.union_a,
        fmt=fmt,
        filename="results.%s" % fmt,
        content=content,
        mapping=mapping,
        dry_run=dry_run,
        enqueue=False,
    )
    return services.import_batch_run(batch_id=batch.pk)


def stored(member) -> dict[tuple[str, str], tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(exam date, indicator code) → (flag, canonical value) for everything stored."""
    out = {}
    for result in Result.objects.filter(member=member).select_related("indicator"):
        value = services.decrypt_result(result.value_encrypted)["v"]
        out[(result.measured_on.isoformat(), result.indicator.code)] = (result.flag, value)
    return out


def counts(summary: dict) -> dict:  # type: ignore[type-arg]
    keys = ("status", "observations", "imported", "checkups", "members", "skipped_existing", "problems", "warnings")
    return {k: summary[k] for k in keys}


@pytest.mark.django_db
def test_messy_hl7_imports_what_is_valid_and_reports_the_rest(world: World, ids: dict[str, str]) -> None:
    summary = run(world, "hl7", messy_hl7(ids["a"], ids["b"]))
    assert counts(summary) == {
        "status": "succeeded",
        "observations": 21,
        "imported": 15,
        "checkups": 2,
        "members": 1,
        "skipped_existing": 0,
        "problems": 7,
        "warnings": 1,
    }
    assert summary["by_reason"] == {
        "result_status": 1,
        "unit_mismatch": 1,
        "code_unknown": 1,
        "not_numeric": 2,
        "date_invalid": 1,
        "member_not_found": 1,
    }
    problems = {p["where"]: p["reason"] for p in summary["problem_list"]}
    assert problems == {
        "消息 2（MSG-2） OBX 1": "结果已取消（OBX-11=X）",
        "消息 1（MSG-1） OBX 8": "项目编码与单位不一致：项目“14771-0”，单位“mg/dL”",
        "消息 1（MSG-1） OBX 9": "项目“HBSAG”不在指标目录中",
        "消息 1（MSG-1） OBX 10": "结果不是数值（钾）",
        "消息 1（MSG-1） OBX 11": "结果为区间值（带 < 或 >），不能判读（促甲状腺激素）",
        "消息 3（MSG-3） OBX 1": "日期不存在",
        # member B belongs to a sibling union: not found for union A, and not revealed
        "消息 4（MSG-4） OBX 1": "未找到会员（证件 %s）" % world.member_b.id_masked,
    }
    assert stored(world.member_a) == {
        ("2025-03-12", "GLU"): ("high", "6.30"),
        ("2025-03-12", "TC"): ("high", "6.00"),  # SN ^232 mg/dL
        ("2025-03-12", "TG"): ("normal", "1.20"),  # zero-width space in the value
        ("2025-03-12", "UA"): ("high", "480"),  # µmol/L with the micro sign
        ("2025-03-12", "ALT"): ("normal", "35"),  # LOINC in the alternate triplet
        ("2025-03-12", "ALP"): ("normal", "88"),  # range written 45_125
        ("2025-03-12", "WBC"): ("normal", "5.60"),  # G/L
        ("2025-03-12", "SBP"): ("high", "142"),  # mm[Hg]
        ("2025-03-12", "DBP"): ("normal", "88"),
        ("2025-03-12", "BMI"): ("high", "26.1"),
        ("2025-03-12", "HGB"): ("normal", "142"),  # 14.2 g/dL
        ("2024-03-10", "GLU"): ("normal", "5.28"),  # 95 mg/dL, range 70_105
        ("2024-03-10", "TC"): ("normal", "5.00"),
        ("2024-03-10", "UA"): ("normal", "400"),
        ("2024-03-10", "SBP"): ("normal", "128"),
    }
    checkups = {c.external_id: c for c in Checkup.objects.filter(member=world.member_a)}
    assert set(checkups) == {"TJ2025-001", "TJ2024-001"}
    latest = checkups["TJ2025-001"]
    assert (latest.result_count, latest.abnormal_count, latest.critical_count) == (11, 5, 0)
    assert latest.centre_name == "苏州市体检中心"
    assert not Result.objects.filter(member=world.member_b).exists()
    batch = ImportBatch.objects.get(pk=summary["batch_id"])
    assert batch.payload_encrypted == "" and batch.job.status == JobStatus.SUCCEEDED


@pytest.mark.django_db
def test_results_are_encrypted_at_rest(world: World, ids: dict[str, str]) -> None:
    run(world, "hl7", messy_hl7(ids["a"], ids["b"]))
    result = Result.objects.get(member=world.member_a, indicator__code="UA", measured_on=dt.date(2025, 3, 12))
    assert "480" not in result.value_encrypted and result.value_encrypted.startswith("v1:")
    assert services.decrypt_result(result.value_encrypted) == {
        "v": "480",
        "o": "480",
        "u": "μmol/L",
        "r": "208-428",
        "c": "",
    }
    # what statistics need stays in clear
    assert (result.flag, result.interval.high, result.critical_low) == ("high", Decimal("420.0000"), None)


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(world: World, ids: dict[str, str]) -> None:
    run(world, "hl7", messy_hl7(ids["a"], ids["b"]))
    before = Result.objects.count()
    summary = run(world, "hl7", messy_hl7(ids["a"], ids["b"]))
    assert (summary["imported"], summary["checkups"], summary["skipped_existing"]) == (0, 0, 15)
    assert sorted(summary["skipped_reports"]) == ["TJ2024-001", "TJ2025-001"]
    assert Result.objects.count() == before


@pytest.mark.django_db
def test_dry_run_stores_nothing(world: World, ids: dict[str, str]) -> None:
    summary = run(world, "hl7", messy_hl7(ids["a"], ids["b"]), dry_run=True)
    assert (summary["imported"], summary["checkups"], summary["problems"]) == (15, 2, 7)
    assert summary["flags"] == {"high": 5, "normal": 10}
    assert not Checkup.objects.exists()
    event = AuditEvent.objects.get(action="job.health.import.succeeded")
    assert (event.detail["dry_run"], event.detail["imported"]) == (True, 15)


@pytest.mark.django_db
def test_fhir_bundle(world: World, ids: dict[str, str]) -> None:
    summary = run(world, "fhir", fhir_bundle(ids["a"]))
    assert counts(summary) == {
        "status": "succeeded",
        "observations": 10,
        "imported": 9,
        "checkups": 1,
        "members": 1,
        "skipped_existing": 0,
        "problems": 4,
        "warnings": 0,
    }
    problems = {p["where"]: (p["code"], p["reason"]) for p in summary["problem_list"]}
    assert problems == {
        "条目 11（Observation/bad-date）": (
            "fhir_invalid",
            "不符合 FHIR R4：effectiveDateTime Input should be a valid datetime or date, day value is outside expected range",
        ),
        "条目 12（Observation/prelim）": ("result_status", "结果状态为 preliminary，只导入 final/amended/corrected"),
        "条目 13（Observation/coded）": ("not_numeric", "结果不是数值（钾）"),
        "条目 14（Observation/orphan）": ("no_patient", "找不到该结果对应患者的身份证号"),
    }
    assert stored(world.member_a) == {
        ("2026-04-20", "GLU"): ("high", "7.20"),
        ("2026-04-20", "TC"): ("high", "6.46"),  # 250 mg/dL
        ("2026-04-20", "LDL"): ("high", "4.27"),  # 165 mg/dL, calculated LDL code
        ("2026-04-20", "HDL"): ("low", "0.92"),
        ("2026-04-20", "UA"): ("high", "446"),  # 7.5 mg/dL
        ("2026-04-20", "CREA"): ("normal", "88"),  # 1.0 mg/dL
        ("2026-04-20", "HBA1C"): ("high", "7.0"),  # 53 mmol/mol
        ("2026-04-20", "SBP"): ("high", "148"),  # blood-pressure panel components
        ("2026-04-20", "DBP"): ("high", "96"),
    }
    checkup = Checkup.objects.get(member=world.member_a)
    assert (checkup.external_id, checkup.centre_name, checkup.source) == ("DR-2026-0420", "苏州工会体检中心", "fhir")


@pytest.mark.django_db
def test_fhir_ndjson_and_logical_subject(world: World, ids: dict[str, str]) -> None:
    lines = [
        {
            "resourceType": "Observation",
            "id": "o1",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
            "subject": {"identifier": {"value": ids["a"]}},
            "effectiveDateTime": "2025-10-09",
            "valueQuantity": {"value": 2.6, "unit": "mmol/L"},
        },
        {
            "resourceType": "Observation",
            "id": "o2",
            "status": "amended",
            "code": {"coding": [{"system": "urn:local", "code": "钠"}]},
            "subject": {"identifier": {"value": ids["a"]}},
            "effectiveDateTime": "2025-10-09",
            "valueString": "１４１",
        },
    ]
    content = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    summary = run(world, "fhir", content)
    assert (summary["imported"], summary["problems"]) == (1, 1)
    assert summary["problem_list"][0]["reason"] == "缺少单位：项目“钠”，单位“”"
    assert stored(world.member_a) == {("2025-10-09", "K"): ("critical_low", "2.60")}


@pytest.mark.django_db
def test_organisation_critical_limits_apply_on_import(world: World, ids: dict[str, str]) -> None:
    services.critical_limit_set(
        actor=world.staff_a, organization=world.union_a, indicator=Indicator.objects.get(code="GLU"), low="", high="6.2"
    )
    run(world, "hl7", messy_hl7(ids["a"], ids["b"]))
    result = Result.objects.get(member=world.member_a, indicator__code="GLU", measured_on=dt.date(2025, 3, 12))
    assert (result.flag, result.critical_high) == ("critical_high", Decimal("6.2000"))
    version = PolicyVersion.objects.get(kind="health.critical_limits", organization=world.union_a)
    assert result.checkup.critical_policy == version


CSV_GBK = """体检编号,身份证号,姓名,体检日期,项目名称,结果,单位,参考范围,身高(cm),体重(kg)
R-1,{a},张三,2025/6/3,空腹血糖,５.８,mmol/L,3.9-6.1,172,80
R-1,{a},张三,2025/6/3,谷丙转氨酶,62↑,U/L,9_50,,
R-1,{a},张三,2025/6/3,肌酐,1.3,mg/dL,0.7-1.2,,
R-1,{a},张三,2025/6/3,血红蛋白,阴性,g/L,,,
R-2,{b},李四,2025/6/3,空腹血糖,5.0,mmol/L,,,
R-3,{bad},王五,2025/6/3,空腹血糖,5.0,mmol/L,,,
R-1,{a},张三,03/06/2025,总胆固醇,4.1,mmol/L,,,
"""


@pytest.mark.django_db
def test_csv_in_gbk_with_long_and_wide_columns(world: World, ids: dict[str, str]) -> None:
    bad = ids["a"][:17] + ("0" if ids["a"][17] != "0" else "1")
    content = CSV_GBK.format(a=ids["a"], b=ids["b"], bad=bad).encode("gb18030")
    summary = run(world, "csv", content)
    assert (summary["imported"], summary["checkups"], summary["problems"]) == (5, 1, 4)
    assert {p["where"]: p["code"] for p in summary["problem_list"]} == {
        "第 5 行": "not_numeric",
        "第 6 行": "member_not_found",
        "第 7 行": "id_invalid",
        "第 8 行": "date_invalid",
    }
    assert stored(world.member_a) == {
        ("2025-06-03", "GLU"): ("normal", "5.80"),
        ("2025-06-03", "ALT"): ("high", "62"),
        ("2025-06-03", "CREA"): ("high", "115"),
        ("2025-06-03", "HEIGHT"): ("none", "172.0"),
        ("2025-06-03", "WEIGHT"): ("none", "80.0"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_csv_in_utf16_or_with_a_bom_reads_the_same(world: World, ids: dict[str, str], codec: str) -> None:
    bad = ids["a"][:17] + ("0" if ids["a"][17] != "0" else "1")
    content = CSV_GBK.format(a=ids["a"], b=ids["b"], bad=bad).encode(codec)
    summary = run(world, "csv", content)
    assert (summary["imported"], summary["checkups"], summary["problems"]) == (5, 1, 4)
    assert stored(world.member_a)[("2025-06-03", "CREA")] == ("high", "115")


@pytest.mark.django_db
def test_a_mapped_column_wins_over_a_recognised_header(world: World, ids: dict[str, str]) -> None:
    # Both 证件号码 and 身份证号 are ID headers; the mapping names the one to use, and a file
    # holding both is not refused (the better-known header wins without a mapping).
    content = ("身份证号,证件号码,体检日期,项目代码,结果,单位\nX,%s,2025-07-01,TC,212,mg/dL\n" % ids["a"]).encode()
    summary = run(world, "csv", content, mapping={"fields": {"id_number": "证件号码"}})
    assert (summary["imported"], summary["problems"]) == (1, 0)
    unmapped = run(world, "csv", content)
    assert [p["code"] for p in unmapped["problem_list"]] == ["id_invalid"]


@pytest.mark.django_db
def test_csv_with_an_explicit_mapping(world: World, ids: dict[str, str]) -> None:
    content = ("ID;DAY;ITEM;RES;U\n%s;2025-07-01;TC;212;mg/dL\n" % ids["a"]).encode()
    mapping = {
        "fields": {"id_number": "ID", "exam_date": "DAY", "code": "ITEM", "value": "RES", "unit": "U"},
        "centre": "某体检中心",
    }
    summary = run(world, "csv", content, mapping=mapping)
    assert (summary["imported"], summary["problems"]) == (1, 0)
    assert stored(world.member_a) == {("2025-07-01", "TC"): ("high", "5.48")}
    assert Checkup.objects.get(member=world.member_a).centre_name == "某体检中心"


@pytest.mark.django_db
def test_csv_without_required_columns_is_refused(world: World) -> None:
    summary = run(world, "csv", "姓名,结果\n张三,5\n".encode())
    assert summary["status"] == "failed"
    assert summary["error"] == "缺少必需的列：身份证号、体检日期、项目代码/项目名称 + 结果（或每个项目一列）"
    assert AuditEvent.objects.filter(action="job.health.import.failed", result="failed").count() == 1


@pytest.mark.django_db
def test_xlsx_with_dates_floats_and_a_numeric_id(world: World, ids: dict[str, str]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["证件号码", "检查日期", "空腹血糖(mmol/L)", "收缩压（mmHg）", "尿酸(mg/dL)"])
    sheet.append([ids["a"], dt.datetime(2025, 9, 1, 8, 30), 6.099999999, 135, 6.2])
    sheet.append([int(ids["b"][:17]), dt.date(2025, 9, 1), 5.2, 120, 5.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    summary = run(world, "xlsx", buffer.getvalue())
    assert (summary["imported"], summary["problems"]) == (3, 1)
    assert summary["problem_list"][0] == {
        "where": "第 3 行",
        "code": "id_as_number",
        "reason": "证件号码被存为数字（可能已丢失末位），请将该列设为文本后重新导出",
    }
    assert stored(world.member_a) == {
        ("2025-09-01", "GLU"): ("high", "6.10"),
        ("2025-09-01", "SBP"): ("normal", "135"),
        ("2025-09-01", "UA"): ("normal", "369"),
    }


@pytest.mark.django_db
def test_staff_of_a_sibling_union_cannot_import_into_union_a(world: World, ids: dict[str, str]) -> None:
    with pytest.raises(PermissionDenied):
        services.import_batch_create(
            actor=world.staff_b,
            organization=world.union_a,
            fmt="hl7",
            filename="x.hl7",
            content=messy_hl7(ids["a"], ids["b"]),
            enqueue=False,
        )
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_command_prints_a_json_summary_line(world: World, ids: dict[str, str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bundle.json"
    path.write_bytes(fhir_bundle(ids["a"]))
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_health_results", str(path), "--format", "fhir", "--org", world.union_a.code, stdout=out, stderr=err
    )
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {k: last[k] for k in ("status", "format", "dry_run", "imported", "checkups", "problems")} == {
        "status": "succeeded",
        "format": "fhir",
        "dry_run": False,
        "imported": 9,
        "checkups": 1,
        "problems": 4,
    }
    assert len(last["problem_examples"]) == 4
    assert "条目 14（Observation/orphan）: 找不到该结果对应患者的身份证号" in err.getvalue()
    assert ImportBatch.objects.get(pk=last["batch_id"]).created_by is None


@pytest.mark.django_db
def test_command_dry_run_against_the_root(world: World, ids: dict[str, str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "results.hl7"
    path.write_bytes(messy_hl7(ids["a"], ids["b"]))
    out = io.StringIO()
    call_command("import_health_results", str(path), "--format", "hl7", "--dry-run", stdout=out, stderr=io.StringIO())
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    # from the province root member B is in scope too
    assert (last["dry_run"], last["imported"], last["members"], last["problems"]) == (True, 16, 2, 6)
    assert not Checkup.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loaded_catalogue")
def test_console_upload_runs_in_the_background() -> None:
    from gonghui.core.permissions import Role
    from gonghui.health.tests.conftest import id_of
    from gonghui.site.testing import build_world, grant, make_user

    world = build_world()
    staff = grant(make_user("health_a"), world.union_a, Role.HEALTH)
    client = world.client_for(staff)
    upload = io.BytesIO(messy_hl7(id_of(world.member_a), id_of(world.member_b)))
    upload.name = "lab.hl7"
    response = client.post(
        "/console/health/imports/", {"organization": world.union_a.code, "format": "hl7", "file": upload}
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == "/console/health/imports/%d/" % batch.pk
    assert batch.job.status == JobStatus.QUEUED and batch.payload_encrypted
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    batch = ImportBatch.objects.select_related("job").get(pk=batch.pk)
    assert (batch.job.status, batch.summary["imported"], batch.payload_encrypted) == (JobStatus.SUCCEEDED, 15, "")
    page = client.get("/console/health/imports/%d/" % batch.pk)
    assert page.status_code == 200
    assert "结果已取消（OBX-11=X）" in page.content.decode()
    assert "偏高 5" in page.content.decode() and "正常 10" in page.content.decode()
    assert PolicyVersion.objects.count() == 0
