import datetime as dt
import io

import duckdb
import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.core import tabular
from gonghui.core.errors import Conflict, PermissionDenied
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.screening import ingest, services, storage
from gonghui.screening.ids import normalise_agency_id, upgrade_15
from gonghui.screening.kinds import DatasetKind
from gonghui.screening.models import Dataset, DatasetStatus
from gonghui.screening.tests.helpers import csv_bytes, id_of, upload
from gonghui.site.testing import make_member, xlsx_of

DIBAO_HEADER = ["姓名", "身份证号码", "认定日期", "月保障金额"]


def _parquet_rows(dataset: Dataset) -> list[tuple]:
    path = storage.path_of(storage.DATA, dataset.data_file)
    query = "SELECT id_blind, event_date, amount_fen, row_no FROM read_parquet(?) ORDER BY row_no"
    return duckdb.connect().execute(query, [str(path)]).fetchall()


def test_old_15_digit_numbers_become_18_digits():
    assert upgrade_15("320502850101123") == "32050219850101123" + upgrade_15("320502850101123")[-1]
    assert normalise_agency_id("320502850101123") == upgrade_15("320502850101123")
    assert normalise_agency_id(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.django_db
def test_upload_normalises_ids_and_keeps_only_blind_indexes(world, settings):
    a, b = id_of(world.member_a), id_of(world.member_b)
    old_b = b[:6] + b[8:17]  # the 15-digit form of member B's number
    content = csv_bytes(
        DIBAO_HEADER,
        [
            ["张三", a.lower(), "2026-01-05", "850.5"],
            ["李四", old_b, "2026/2/1", ""],
            ["王五", "12345", "2026-01-01", "1"],
        ],
    )
    dataset = upload(world.federation_admin, world.city, DatasetKind.MZ_DIBAO, content)
    assert dataset.job.status == JobStatus.SUCCEEDED
    assert dataset.status == DatasetStatus.READY
    assert (dataset.rows_total, dataset.rows_valid, dataset.rows_failed) == (3, 2, 1)
    assert dataset.problems == [[4, "身份证号码应为18位，前17位为数字，末位为数字或X"]]
    assert _parquet_rows(dataset) == [
        (world.member_a.id_blind, dt.date(2026, 1, 5), 85050, 2),
        (world.member_b.id_blind, dt.date(2026, 2, 1), None, 3),
    ]
    assert dataset.summary["people"] == 2 and dataset.summary["amount_fen"] == 85050
    # No plaintext number in the Parquet copy, and no scratch file left behind.
    stored = storage.path_of(storage.DATA, dataset.data_file).read_bytes()
    assert a.encode() not in stored and b.encode() not in stored and old_b.encode() not in stored
    assert list(storage.directory(storage.WORK).iterdir()) == []
    # The upload kept for the error report is sealed at rest: no name or number in the clear.
    kept = storage.path_of(storage.RAW, dataset.raw_file).read_bytes()
    assert a.encode() not in kept and a.lower().encode() not in kept and "张三".encode() not in kept
    assert storage.read_sealed(storage.path_of(storage.RAW, dataset.raw_file)) == content


@pytest.mark.django_db
def test_error_report_lists_failed_rows_with_reasons(world):
    a = id_of(world.member_a)
    content = csv_bytes(DIBAO_HEADER, [["张三", a, "2026-13-01", ""], ["李四", "", "", ""], ["王五", a, "", "abc"]])
    dataset = upload(world.federation_admin, world.city, DatasetKind.MZ_DIBAO, content)
    assert dataset.rows_failed == 3
    response = world.client_for(world.federation_admin).get(f"/console/screening/datasets/{dataset.pk}/errors.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["行号", *DIBAO_HEADER, "错误原因"]
    assert [r[0] for r in rows[1:]] == [2, 3, 4]
    assert rows[1][-1] == "日期不存在"
    assert rows[2][-1] == "身份证号码为空"
    assert rows[3][-1] == "月保障金额应为以元为单位的数字，如 12.50"


@pytest.mark.django_db
def test_xlsx_upload_with_a_saved_column_mapping(world):
    tabular.tabular_mapping_save(
        actor=world.federation_admin,
        kind="screening.yb_settlement",
        organization=world.city,
        columns={"id_number": "参保人证件", "amount": "统筹外自付(元)", "event_date": "结算时间"},
    )
    a = id_of(world.member_a)
    content = xlsx_of([["参保人证件", "结算时间", "统筹外自付(元)"], [a, dt.date(2026, 3, 1), 65000.25]])
    dataset = upload(world.federation_admin, world.city, DatasetKind.YB_SETTLEMENT, content, filename="yb.xlsx")
    assert dataset.rows_valid == 1, dataset.problems
    assert _parquet_rows(dataset) == [(world.member_a.id_blind, dt.date(2026, 3, 1), 6500025, 2)]


@pytest.mark.django_db
def test_a_number_stored_as_a_spreadsheet_number_is_refused_per_row(world):
    content = xlsx_of([["身份证号码", "结算日期", "个人负担金额"], [3.2050219850101e17, dt.date(2026, 3, 1), 10]])
    dataset = upload(world.federation_admin, world.city, DatasetKind.YB_SETTLEMENT, content, filename="yb.xlsx")
    assert dataset.rows_failed == 1
    assert "文本格式" in dataset.problems[0][1]


@pytest.mark.django_db
def test_missing_required_column_fails_the_job_in_chinese(world):
    content = csv_bytes(["姓名", "身份证号码"], [["张三", id_of(world.member_a)]])
    dataset = upload(world.federation_admin, world.city, DatasetKind.YB_SETTLEMENT, content)
    assert dataset.job.status == JobStatus.FAILED
    assert dataset.status == DatasetStatus.FAILED
    assert "文件缺少必填列：结算日期、个人负担金额" in dataset.job.error
    assert dataset.data_file == ""


@pytest.mark.django_db
def test_sibling_staff_cannot_upload_or_see_the_dataset(world):
    make_member(world.union_a)
    content = csv_bytes(DIBAO_HEADER, [["张三", id_of(world.member_a), "", ""]])
    with pytest.raises(PermissionDenied):
        upload(world.staff_b, world.union_a, DatasetKind.MZ_DIBAO, content)
    assert Dataset.objects.count() == 0
    dataset = upload(world.staff_a, world.union_a, DatasetKind.MZ_DIBAO, content)
    client = world.client_for(world.staff_b)
    assert client.get(f"/console/screening/datasets/{dataset.pk}/").status_code == 404
    assert client.get(f"/console/screening/datasets/{dataset.pk}/errors.xlsx").status_code == 404


@pytest.mark.django_db
def test_upload_page_refuses_a_wrong_kind_in_chinese(world):
    client = world.client_for(world.federation_admin)
    upload_file = io.BytesIO(csv_bytes(DIBAO_HEADER, []))
    upload_file.name = "a.csv"
    response = client.post(
        "/console/screening/datasets/", {"organization": world.city.code, "kind": "nope", "file": upload_file}
    )
    assert response.status_code == 422
    assert "请选择数据类别" in response.content.decode()
    assert Dataset.objects.count() == 0


@pytest.mark.django_db
def test_parquet_upload_of_a_settlement_file(world, tmp_path):
    source = tmp_path / "yb.parquet"
    a = id_of(world.member_a)
    connection = duckdb.connect()
    select = "SELECT * FROM (VALUES (?, DATE '2026-04-01', 1234.5), ('bad', DATE '2026-04-02', 1.0)) t(身份证号码, 结算日期, 个人负担金额)"
    ingest.copy_to_parquet(connection, select, [a], source)
    dataset = upload(
        world.federation_admin, world.city, DatasetKind.YB_SETTLEMENT, source.read_bytes(), filename="yb.parquet"
    )
    assert (dataset.rows_valid, dataset.rows_failed) == (1, 1), dataset.job.error
    assert _parquet_rows(dataset) == [(world.member_a.id_blind, dt.date(2026, 4, 1), 123450, 2)]


@pytest.mark.django_db
def test_housekeeping_removes_the_files_of_datasets_out_of_use_past_the_keep_time(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SCREENING_DATASET_KEEP_DAYS = 30
    content = csv_bytes(DIBAO_HEADER, [["张三", id_of(world.member_a), "2026-01-05", "850"]])
    replaced = upload(world.federation_admin, world.city, DatasetKind.MZ_DIBAO, content)
    newer = upload(world.federation_admin, world.city, DatasetKind.MZ_DIBAO, content)
    retired = upload(world.federation_admin, world.city, DatasetKind.RS_INJURY, content)
    services.dataset_retire(actor=world.federation_admin, dataset=retired)
    recent = upload(world.federation_admin, world.city, DatasetKind.MZ_TEKUN, content)
    services.dataset_retire(actor=world.federation_admin, dataset=recent)
    files = {
        d.pk: [storage.path_of(storage.RAW, d.raw_file), storage.path_of(storage.DATA, d.data_file)]
        for d in Dataset.objects.all()
    }
    assert all(p.is_file() for paths in files.values() for p in paths)
    # Nothing is old enough yet.
    assert services.datasets_files_expire() == 0
    long_ago = timezone.now() - dt.timedelta(days=31)
    Dataset.objects.filter(pk=retired.pk).update(retired_at=long_ago)
    Job.objects.filter(pk=newer.job_id).update(finished_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.datasets_files_expire() == 4
    gone, kept = {replaced.pk, retired.pk}, {newer.pk, recent.pk}
    assert not any(p.exists() for pk in gone for p in files[pk])
    assert all(p.is_file() for pk in kept for p in files[pk])
    for pk in gone:  # the row stays for the runs that name it, without its files
        dataset = Dataset.objects.get(pk=pk)
        assert (dataset.status, dataset.raw_file, dataset.data_file) == (DatasetStatus.RETIRED, "", "")
    assert Dataset.objects.get(pk=newer.pk).status == DatasetStatus.READY
    assert services.datasets_in_force(world.city)[DatasetKind.MZ_DIBAO].pk == newer.pk
    events = AuditEvent.objects.filter(action="screening.dataset_files_expire")
    assert sorted((int(e.object_id), e.detail["replaced"]) for e in events) == [
        (replaced.pk, True),
        (retired.pk, False),
    ]
    # The error report of a dataset whose upload is gone says so.
    with pytest.raises(Conflict):
        services.dataset_error_report(actor=world.federation_admin, dataset=Dataset.objects.get(pk=replaced.pk))
    assert services.datasets_files_expire() == 0
