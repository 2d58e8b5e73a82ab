"""The import pages: upload and dry run, commit as a queued task, progress, report, cancel,
resume, and who may do what."""

import datetime as dt
import io
import time

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from gonghui.core import jobs
from gonghui.core.models import AuditEvent, Job
from gonghui.members import imports
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.imports import batches as import_batches
from gonghui.members.models import Member
from gonghui.members.tests.test_import_validation import HEADER, csv_bytes, person
from gonghui.site.testing import World


def post_upload(client, code: str, content: bytes, name: str = "会员.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        "/console/members/import/upload/",
        {"organization": code, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


@pytest.mark.django_db
def test_list_page_template_and_empty_state(world: World) -> None:
    client = world.client_for(world.staff_a)
    response = client.get("/console/members/import/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "还没有导入记录" in page
    assert world.union_a.code in page  # offered as a target
    assert world.union_b.code not in page
    template = client.get("/console/members/import/template/")
    assert template.status_code == 200
    assert template["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in template["Content-Disposition"]
    headers = [c.value for c in load_workbook(io.BytesIO(template.content))["会员信息"][1]]
    assert headers[:4] == ["工会代码", "姓名", "证件类型", "证件号码"]


@pytest.mark.django_db
def test_upload_dry_run_commit_and_report(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.staff_a)
    rows = [person(1), person(2, 手机号="123"), person(3)]
    response = post_upload(client, world.union_a.code, csv_bytes(rows))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/members/import/{batch.pk}/"
    assert (batch.status, batch.rows_total, batch.rows_valid, batch.rows_invalid) == (ImportStatus.VALIDATED, 3, 2, 1)
    assert batch.stored_file and default_storage.exists(batch.stored_file)
    assert rows[0]["证件号码"].encode() not in default_storage.open(batch.stored_file).read()

    detail = client.get(f"/console/members/import/{batch.pk}/").content.decode()
    assert "有 1 行未通过校验" in detail
    assert "手机号：手机号码应为11位、以1开头的中国大陆号码" in detail
    assert 'data-testid="planned-create">2<' in detail

    # All-or-nothing is refused while a row is bad; nothing is queued.
    refused = client.post(f"/console/members/import/{batch.pk}/commit/", follow=True)
    assert "有 1 行未通过校验：请修正后重新上传，或勾选“只导入校验通过的行”" in refused.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.VALIDATED
    assert not DBTaskResult.objects.exists()

    report = client.get(f"/console/members/import/{batch.pk}/report/")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["行号", *HEADER, "错误原因"]
    assert values[1][0] == 3
    assert values[1][2] == rows[1]["证件号码"]
    assert values[1][-1] == "手机号：手机号码应为11位、以1开头的中国大陆号码"
    assert AuditEvent.objects.filter(action="member.import_report", object_id=str(batch.pk)).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(f"/console/members/import/{batch.pk}/commit/", {"keep_good_rows": "1"})
    assert queued.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.keep_good_rows) == (ImportStatus.QUEUED, True)
    task = DBTaskResult.objects.get()
    assert batch.job is not None and task.args_kwargs["args"] == [batch.job.pk]
    waiting = client.get(f"/console/members/import/{batch.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in waiting

    before = Member.objects.count()
    assert imports.import_batch_run(batch_id=batch.pk) == {
        "batch": batch.pk,
        "status": "succeeded",
        "rows": 3,
        "valid": 2,
        "invalid": 1,
        "created": 2,
        "updated": 0,
    }
    assert imports.import_batch_run(batch_id=batch.pk) == {"batch": batch.pk, "skipped": True}
    assert Member.objects.count() == before + 2
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.stored_file) == (ImportStatus.SUCCEEDED, 2, "")

    fragment = client.get(f"/console/members/import/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert 'aria-valuenow="100"' in text
    assert 'data-testid="result-created">2<' in text
    assert "跳过有问题的 <strong>1</strong> 行" in text
    assert fragment["HX-Refresh"] == "true"
    assert "hx-trigger" not in text


@pytest.mark.django_db
def test_sibling_staff_cannot_import_into_union_a(world: World) -> None:
    client = world.client_for(world.staff_b)
    response = post_upload(client, world.union_a.code, csv_bytes([person(1)]))
    assert response.status_code == 422
    assert "工会代码不存在或您无权向该工会导入" in response.content.decode()
    assert not ImportBatch.objects.exists()
    missing = client.post("/console/members/import/upload/", {"organization": world.union_b.code})
    assert missing.status_code == 422
    assert "请选择要导入的文件" in missing.content.decode()


@pytest.mark.django_db
def test_reviewer_without_import_permission_is_refused(world: World) -> None:
    from gonghui.core.permissions import Role
    from gonghui.site.testing import grant, make_user

    reviewer = grant(make_user(), world.union_a, Role.REVIEWER)
    response = world.client_for(reviewer).get("/console/members/import/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_cancel_deletes_the_kept_file(world: World) -> None:
    client = world.client_for(world.staff_a)
    post_upload(client, world.union_a.code, csv_bytes([person(1)]))
    batch = ImportBatch.objects.get()
    stored = batch.stored_file
    client.post(f"/console/members/import/{batch.pk}/cancel/")
    batch.refresh_from_db()
    assert (batch.status, batch.stored_file) == (ImportStatus.CANCELLED, "")
    assert not default_storage.exists(stored)
    again = client.post(f"/console/members/import/{batch.pk}/commit/", {"keep_good_rows": "1"}, follow=True)
    assert "该批次当前为“已取消”，不能导入" in again.content.decode()
    assert AuditEvent.objects.filter(action="member.import_cancel", object_id=str(batch.pk)).count() == 1


@pytest.mark.django_db
def test_resume_only_when_the_run_has_stopped(world: World, settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.MEMBER_IMPORT_STALE_SECONDS = 30
    client = world.client_for(world.staff_a)
    post_upload(client, world.union_a.code, csv_bytes([person(1)]))
    batch = ImportBatch.objects.get()
    imports.import_batch_commit(actor=world.staff_a, batch=batch, keep_good_rows=False)
    batch.refresh_from_db()
    assert batch.job is not None
    jobs.job_claim(job_id=batch.job.pk)  # a worker took it …
    cache.set(import_batches._progress_key(batch), {"done": 1, "total": 1, "phase": "x", "at": time.time()})
    busy = client.post(f"/console/members/import/{batch.pk}/resume/", follow=True)
    assert "导入仍在进行中或已结束，无需继续" in busy.content.decode()
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.RUNNING

    # … and died: its progress and its job's heartbeat stopped 31 seconds ago.
    cache.set(import_batches._progress_key(batch), {"done": 1, "total": 1, "phase": "x", "at": time.time() - 31})
    Job.objects.filter(pk=batch.job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=31))
    DBTaskResult.objects.all().delete()
    page = client.get(f"/console/members/import/{batch.pk}/").content.decode()
    assert "导入中断" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/members/import/{batch.pk}/resume/")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED
    assert DBTaskResult.objects.get().args_kwargs["args"] == [batch.job.pk]
    assert AuditEvent.objects.filter(action="job.members.import.resumed", object_id=str(batch.job.pk)).count() == 1
    assert AuditEvent.objects.filter(action="member.import_resume", object_id=str(batch.pk)).count() == 1


@pytest.mark.django_db
def test_import_members_command_prints_the_json_line(world: World, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "members.csv"
    path.write_bytes(csv_bytes([person(1), person(2), person(3, 证件号码="110101199001010000")]))
    before = Member.objects.count()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as failed:
        call_command("import_members", str(path), "--org", world.union_a.code)
    assert failed.value.args[0] == "有 1 行未通过校验，整批未导入，登记库没有任何改动"
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1] == '{"rows": 3, "valid": 2, "invalid": 1, "created": 0, "updated": 0}'
    assert "第 4 行：证件号码：身份证号码校验位错误" in out.err
    assert Member.objects.count() == before

    call_command("import_members", str(path), "--org", world.union_a.code, "--dry-run")
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        '{"rows": 3, "valid": 2, "invalid": 1, "created": 2, "updated": 0}'
    )
    assert Member.objects.count() == before

    call_command("import_members", str(path), "--org", world.union_a.code, "--keep-good-rows")
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        '{"rows": 3, "valid": 2, "invalid": 1, "created": 2, "updated": 0}'
    )
    assert Member.objects.count() == before + 2
    batch = ImportBatch.objects.filter(status=ImportStatus.SUCCEEDED).get()
    assert (batch.source, batch.uploader_id) == ("command", None)
    event = AuditEvent.objects.get(action="member.import", object_id=str(batch.pk), result="ok")
    assert (event.actor_id, event.actor_label, event.detail["created"]) == (None, "系统", 2)
    with pytest.raises(CommandError):
        call_command("import_members", str(path), "--org", "NO-SUCH-ORG")


@pytest.mark.django_db
def test_the_downloaded_template_imports_into_a_grassroots_union_with_the_union_code_left_empty(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The page says 工会代码 may be left empty when importing into a grassroots union."""
    client = world.client_for(world.staff_a)
    template = client.get("/console/members/import/template/")
    workbook = load_workbook(io.BytesIO(template.content))
    sheet = workbook["会员信息"]
    headers = [c.value for c in sheet[1]]
    assert "工会代码" in headers
    row = person(7)
    for col, header in enumerate(headers, start=1):
        sheet.cell(row=2, column=col, value=row.get(header, ""))
    filled = io.BytesIO()
    workbook.save(filled)
    page = client.get("/console/members/import/").content.decode()
    assert "选择基层工会时，文件中的会员都导入到该工会" in page

    post_upload(client, world.union_a.code, filled.getvalue(), name="会员导入模板.xlsx")
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_total, batch.rows_valid, batch.rows_invalid) == (ImportStatus.VALIDATED, 1, 1, 0)
    assert not batch.issues.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/members/import/{batch.pk}/commit/")
    before = Member.objects.count()
    assert imports.import_batch_run(batch_id=batch.pk)["created"] == 1
    assert Member.objects.count() == before + 1
    member = Member.objects.get(phone=row["手机号"])
    assert (member.organization_id, member.name) == (world.union_a.pk, row["姓名"])
