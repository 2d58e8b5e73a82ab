"""A long member list is exported by a background job: streamed into a private file, followed
on a progress page, downloaded by the person who asked for it until it expires."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.core import export_jobs, jobs
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.members import exports
from gonghui.site.testing import World, make_member


@pytest.fixture
def export_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.EXPORT_DIR = tmp_path / "exports"
    settings.EXPORT_SYNC_ROWS = 2
    return settings.EXPORT_DIR


def _ask(world: World, query: str = "", *, who=None) -> Job:  # type: ignore[no-untyped-def]
    client = world.client_for(who or world.staff_a)
    response = client.get("/console/members/export.xlsx" + query)
    assert response.status_code == 302
    job = Job.objects.get(kind="export." + exports.MEMBERS_EXPORT)
    assert response["Location"] == "/console/exports/%d/" % job.pk
    return job


def _rows(content: bytes) -> list[tuple]:  # type: ignore[type-arg]
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


@pytest.mark.django_db
def test_a_list_over_the_limit_becomes_a_job_that_streams_every_row(world: World, export_dir: Path) -> None:
    for i in range(4):
        make_member(world.union_a, name="会员%d" % i)
    job = _ask(world)
    assert job.status == JobStatus.QUEUED and job.organization == world.union_a
    client = world.client_for(world.staff_a)
    assert "排队等待后台任务" in client.get("/console/exports/%d/" % job.pk).content.decode()

    done = jobs.job_execute(job_id=job.pk)
    assert done is not None and done.status == JobStatus.SUCCEEDED
    assert done.result["rows"] == 5  # 张三 of the world and the four
    page = client.get("/console/exports/%d/progress" % job.pk).content.decode()
    assert 'data-testid="export-ready"' in page

    response = client.get("/console/exports/%d/download" % job.pk)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    rows = _rows(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert rows[0][0] == "会员编号"
    assert sorted(r[1] for r in rows[1:]) == sorted(["张三", "会员0", "会员1", "会员2", "会员3"])
    assert all("*" in r[4] for r in rows[1:])  # ID numbers masked
    assert AuditEvent.objects.get(action="member.export").detail["rows"] == 5
    assert AuditEvent.objects.get(action="export.download").actor_id == world.staff_a.pk
    assert "会员名册导出" in client.get("/console/exports/").content.decode()


@pytest.mark.django_db
def test_only_the_person_who_asked_may_see_or_download_it(world: World, export_dir: Path) -> None:
    for i in range(3):
        make_member(world.union_a, name="会员%d" % i)
    job = _ask(world)
    jobs.job_execute(job_id=job.pk)
    other = world.client_for(world.staff_b)
    assert other.get("/console/exports/%d/" % job.pk).status_code == 404
    assert other.get("/console/exports/%d/download" % job.pk).status_code == 404
    assert other.post("/console/exports/%d/cancel" % job.pk).status_code == 404
    # Union B's own export holds union B's members only.
    for i in range(3):
        make_member(world.union_b, name="乙会员%d" % i)
    response = other.get("/console/members/export.xlsx")
    job_b = Job.objects.exclude(pk=job.pk).get(kind="export." + exports.MEMBERS_EXPORT)
    assert response["Location"] == "/console/exports/%d/" % job_b.pk
    jobs.job_execute(job_id=job_b.pk)
    content = b"".join(other.get("/console/exports/%d/download" % job_b.pk).streaming_content)  # type: ignore[attr-defined]
    names = {r[1] for r in _rows(content)[1:]}
    assert names == {"李四", "乙会员0", "乙会员1", "乙会员2"}


@pytest.mark.django_db
def test_the_file_expires_and_is_deleted(world: World, export_dir: Path) -> None:
    for i in range(3):
        make_member(world.union_a, name="会员%d" % i)
    job = _ask(world)
    job = jobs.job_execute(job_id=job.pk)
    assert job is not None
    path = export_dir / job.result["file"]
    assert path.is_file()
    assert jobs.jobs_expire(now=timezone.now() + dt.timedelta(hours=25)) == 1
    assert not path.exists()
    response = world.client_for(world.staff_a).get("/console/exports/%d/download" % job.pk)
    assert response.status_code == 409
    assert "已过期" in response.content.decode()


@pytest.mark.django_db
def test_rows_continue_on_a_next_sheet_and_progress_is_written(world: World, export_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(export_jobs, "SHEET_ROWS", 2)
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 1)
    for i in range(4):
        make_member(world.union_a, name="会员%d" % i)
    job = jobs.job_execute(job_id=_ask(world).pk)
    assert job is not None and job.status == JobStatus.SUCCEEDED
    book = load_workbook(export_dir / job.result["file"], read_only=True)
    assert [sheet.title for sheet in book.worksheets] == ["会员（1）", "会员（2）", "会员（3）"]
    assert sum(len(list(sheet.iter_rows())) - 1 for sheet in book.worksheets) == 5
    assert job.done == job.total == 5


@pytest.mark.django_db
def test_a_cancelled_export_stops_at_its_next_heartbeat_and_leaves_no_file(
    world: World, export_dir: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 1)
    for i in range(4):
        make_member(world.union_a, name="会员%d" % i)
    job = _ask(world)
    real_row = exports._member_row

    def row_then_cancel(member):  # type: ignore[no-untyped-def]
        Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)  # someone pressed 取消
        return real_row(member)

    monkeypatch.setattr(exports, "_member_row", row_then_cancel)
    stopped = jobs.job_execute(job_id=job.pk)
    assert stopped is not None and stopped.status == JobStatus.CANCELLED
    assert list(export_dir.iterdir()) == []
    assert not AuditEvent.objects.filter(action="member.export").exists()


@pytest.mark.django_db
def test_an_exporter_who_lost_the_role_gets_no_file(world: World, export_dir: Path) -> None:
    from gonghui.organizations.models import RoleAssignment
    from gonghui.organizations.selectors import forget_roles

    for i in range(3):
        make_member(world.union_a, name="会员%d" % i)
    job = _ask(world)
    RoleAssignment.objects.filter(user=world.staff_a).delete()
    forget_roles(world.staff_a)
    failed = jobs.job_execute(job_id=job.pk)
    assert failed is not None and failed.status == JobStatus.FAILED
    assert failed.error == "导出人已无权导出这些数据"
    assert not export_dir.exists() or list(export_dir.iterdir()) == []


@pytest.mark.django_db
def test_a_short_list_still_downloads_at_once(world: World, export_dir: Path) -> None:
    response = world.client_for(world.staff_a).get("/console/members/export.xlsx")
    assert response.status_code == 200
    assert not Job.objects.exists()
