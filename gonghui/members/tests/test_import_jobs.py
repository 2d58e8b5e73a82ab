"""A member import commit is a kernel job and always ends in a terminal state: an error before
the commit starts fails the batch and removes its upload, and housekeeping's job recovery
queues again a commit whose worker died (its transaction rolled back), skips a live one (it
holds its job's row), and gives up after the kind's attempts, keeping the upload for the
uploader's decision (issue 9 item 12, issue 11 item 4)."""

import datetime as dt
import io
import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection, connections
from django.utils import timezone

from gonghui.core import jobs
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.members import imports
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.imports import batches
from gonghui.members.models import Member
from gonghui.members.tests.test_import_validation import csv_bytes, person
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db


def _queued(world: World, n: int = 0) -> ImportBatch:
    batch = imports.import_batch_upload(
        actor=world.staff_a, organization=world.union_a, file_name="会员.csv", content=csv_bytes([person(n)])
    )
    return imports.import_batch_commit(actor=world.staff_a, batch=batch, keep_good_rows=False)


def test_the_commit_is_queued_as_a_kernel_job_and_the_batch_follows_it(world: World) -> None:
    batch = _queued(world)
    job = Job.objects.get(pk=batch.job_id)
    assert (job.kind, job.status, job.key, job.total, job.created_by) == (
        "members.import",
        JobStatus.QUEUED,
        f"batch:{batch.pk}",
        1,
        world.staff_a,
    )
    assert batch.status == ImportStatus.QUEUED
    result = imports.import_batch_run(batch_id=batch.pk)
    assert result["status"] == "succeeded" and result["created"] == 1
    job.refresh_from_db()
    batch.refresh_from_db()
    assert (job.status, job.attempts, job.done) == (JobStatus.SUCCEEDED, 1, 1)
    assert (batch.status, batch.created, batch.stored_file) == (ImportStatus.SUCCEEDED, 1, "")
    assert AuditEvent.objects.filter(action="job.members.import.succeeded", object_id=str(job.pk)).count() == 1
    # A second commit of the same batch is refused while its first job is still open.
    other = imports.import_batch_upload(
        actor=world.staff_a, organization=world.union_a, file_name="会员.csv", content=csv_bytes([person(5)])
    )
    imports.import_batch_commit(actor=world.staff_a, batch=other, keep_good_rows=False)
    with pytest.raises(Exception, match="不能导入"):
        imports.import_batch_commit(
            actor=world.staff_a, batch=ImportBatch.objects.get(pk=other.pk), keep_good_rows=False
        )


def test_an_unexpected_error_before_the_commit_fails_the_batch_and_removes_the_upload(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _queued(world)
    stored = ImportBatch.objects.get(pk=batch.pk).stored_file
    members = Member.objects.count()

    def broken(batch: ImportBatch) -> bytes:
        raise RuntimeError("storage unreachable")

    monkeypatch.setattr(batches, "_load_upload", broken)
    with pytest.raises(RuntimeError):
        imports.import_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.error_message, batch.stored_file) == (
        ImportStatus.FAILED,
        batches.IMPORT_UNREADABLE,
        "",
    )
    assert batch.job is not None and (batch.job.status, batch.job.error) == (JobStatus.FAILED, imports.IMPORT_CRASHED)
    assert batch.finished_at is not None and not default_storage.exists(stored)
    assert Member.objects.count() == members
    event = AuditEvent.objects.get(action="member.import", object_id=str(batch.pk))
    assert event.result == "failed"
    assert imports.import_batch_run(batch_id=batch.pk) == {"batch": batch.pk, "skipped": True}
    # Nothing left to run it from: 重试 on 后台任务 is refused with the reason.
    with pytest.raises(Exception, match="上传的文件已清除"):
        jobs.job_resume(actor=world.staff_a, job=batch.job)


def test_a_refusal_before_the_commit_also_removes_the_upload(world: World) -> None:
    batch = _queued(world)
    stored = ImportBatch.objects.get(pk=batch.pk).stored_file
    default_storage.delete(stored)
    result = imports.import_batch_run(batch_id=batch.pk)
    assert result == {"batch": batch.pk, "status": "failed", "message": "上传的文件已清除，请重新上传"}
    batch.refresh_from_db()
    assert (batch.status, batch.stored_file) == (ImportStatus.FAILED, "")
    assert batch.job is not None and batch.job.error == "上传的文件已清除，请重新上传"


def _died(batch: ImportBatch, *, attempts: int = 1, minutes: int = 60) -> Job:
    """The batch's job as a worker leaves it when it is killed after claiming it."""
    claimed = jobs.job_claim(job_id=batch.job_id)
    assert claimed is not None
    Job.objects.filter(pk=claimed.pk).update(
        attempts=attempts, heartbeat_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    return Job.objects.get(pk=claimed.pk)


def test_recovery_queues_again_a_commit_whose_worker_died(
    world: World, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.MEMBER_IMPORT_STALE_SECONDS = 60
    dead, recent = _queued(world, 1), _queued(world, 2)
    _died(dead)
    _died(recent, minutes=0)
    assert ImportBatch.objects.get(pk=dead.pk).status == ImportStatus.RUNNING
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert jobs.jobs_recover() == 1
    assert len(callbacks) == 1
    dead.refresh_from_db()
    assert dead.status == ImportStatus.QUEUED and dead.stored_file
    assert dead.job is not None and dead.job.status == JobStatus.QUEUED
    assert AuditEvent.objects.filter(action="job.members.import.recovered", object_id=str(dead.job_id)).count() == 1
    assert ImportBatch.objects.get(pk=recent.pk).status == ImportStatus.RUNNING
    # The queued delivery imports the file, as the job's second attempt.
    assert imports.import_batch_run(batch_id=dead.pk)["status"] == "succeeded"
    assert Job.objects.get(pk=dead.job_id).attempts == 2
    assert jobs.jobs_recover() == 0


def test_recovery_gives_up_after_the_kinds_attempts_and_keeps_the_upload_for_a_decision(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MEMBER_IMPORT_STALE_SECONDS = 60
    batch = _queued(world)
    _died(batch, attempts=3)
    assert jobs.jobs_recover() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.error_message) == (ImportStatus.FAILED, jobs.GAVE_UP)
    assert batch.stored_file and default_storage.exists(batch.stored_file)
    # The uploader decides again: commit once more (a new job) …
    again = imports.import_batch_commit(actor=world.staff_a, batch=batch, keep_good_rows=False)
    assert again.job_id != batch.job_id and again.status == ImportStatus.QUEUED and again.error_message == ""
    assert imports.import_batch_run(batch_id=batch.pk)["status"] == "succeeded"


def test_a_queued_commit_cancelled_on_the_jobs_page_waits_for_the_uploaders_decision(world: World) -> None:
    batch = _queued(world)
    assert batch.job is not None
    jobs.job_cancel(actor=world.staff_a, job=batch.job)
    batch.refresh_from_db()
    assert (batch.status, batch.error_message) == (ImportStatus.FAILED, batches.IMPORT_JOB_CANCELLED)
    assert imports.import_batch_run(batch_id=batch.pk) == {"batch": batch.pk, "skipped": True}
    imports.import_batch_cancel(actor=world.staff_a, batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.stored_file) == (ImportStatus.CANCELLED, "")


@pytest.mark.django_db(transaction=True)
def test_recovery_skips_a_live_commit_that_holds_its_job(
    world: World, settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A commit writes the whole file in one transaction, so its heartbeats are invisible to
    others until COMMIT; the lock it holds on its job's row is what tells recovery it is alive."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    settings.MEMBER_IMPORT_STALE_SECONDS = 60
    batch = _queued(world)
    job = _died(batch)  # as everyone else sees it: running, no heartbeat for an hour
    recovered: list[int] = []
    execute = imports.ImportRun.execute

    def housekeeping_while_open() -> None:
        try:
            recovered.append(jobs.jobs_recover())
        finally:
            connections.close_all()

    def execute_then_housekeeping(run: imports.ImportRun) -> imports.Outcome:
        outcome = execute(run)
        thread = threading.Thread(target=housekeeping_while_open)
        thread.start()
        thread.join()
        return outcome

    monkeypatch.setattr(imports.ImportRun, "execute", execute_then_housekeeping)
    locked = ImportBatch.objects.select_related("organization").get(pk=batch.pk)
    outcome = imports.commit_stream(
        locked, actor=world.staff_a, stream=io.BytesIO(batches._load_upload(locked)), job=job
    )
    assert recovered == [0] and outcome.created == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.SUCCEEDED
