"""A member import commit always ends in a terminal state: an error before the commit starts
fails the batch and removes its upload, and housekeeping recovers a commit whose worker died
(queued again, or failed with its upload removed after repeated deaths) (issue 9 item 12)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from gonghui.core import housekeeping
from gonghui.core.models import AuditEvent
from gonghui.members import imports, tasks
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
        tasks.import_batch_commit_task.func(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.error_message, batch.stored_file) == (
        ImportStatus.FAILED,
        batches.IMPORT_UNREADABLE,
        "",
    )
    assert batch.finished_at is not None and not default_storage.exists(stored)
    assert Member.objects.count() == members
    event = AuditEvent.objects.get(action="member.import", object_id=str(batch.pk))
    assert event.result == "failed"
    assert tasks.import_batch_commit_task.func(batch.pk) == {"batch": batch.pk, "skipped": True}


def test_a_refusal_before_the_commit_also_removes_the_upload(world: World) -> None:
    batch = _queued(world)
    stored = ImportBatch.objects.get(pk=batch.pk).stored_file
    default_storage.delete(stored)
    result = tasks.import_batch_commit_task.func(batch.pk)
    assert result == {"batch": batch.pk, "status": "failed", "message": "上传的文件已清除，请重新上传"}
    batch.refresh_from_db()
    assert (batch.status, batch.stored_file) == (ImportStatus.FAILED, "")


def _chore() -> housekeeping.Registered:
    return {c.name: c for c in housekeeping.chores()}["member_import_recover"]


def test_housekeeping_queues_again_a_commit_whose_worker_died_and_leaves_a_live_one(
    world: World, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    now = timezone.now()
    dead, live = _queued(world, 1), _queued(world, 2)
    ImportBatch.objects.filter(pk=dead.pk).update(
        status=ImportStatus.RUNNING, started_at=now - dt.timedelta(hours=1), attempts=1
    )
    ImportBatch.objects.filter(pk=live.pk).update(
        status=ImportStatus.RUNNING, started_at=now - dt.timedelta(minutes=5), attempts=1
    )
    queued: list[int] = []
    monkeypatch.setattr(batches, "import_batch_commit_task", SimpleNamespace(enqueue=queued.append))
    with django_capture_on_commit_callbacks(execute=True):
        assert _chore().run() == 1
    assert queued == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == ImportStatus.QUEUED and dead.stored_file
    assert AuditEvent.objects.filter(action="member.import_resume", object_id=str(dead.pk)).count() == 1
    assert ImportBatch.objects.get(pk=live.pk).status == ImportStatus.RUNNING
    # The queued delivery imports the file.
    assert batches.import_batch_run(batch_id=dead.pk)["status"] == "succeeded"
    assert _chore().run() == 0


def test_housekeeping_fails_a_commit_that_died_too_often_and_removes_its_upload(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    batch = _queued(world)
    stored = ImportBatch.objects.get(pk=batch.pk).stored_file
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=1), attempts=3
    )
    assert _chore().run() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.stored_file) == (ImportStatus.FAILED, "")
    assert batch.error_message == "后台任务已中断 3 次，登记库没有任何改动，上传的文件已删除；请拆分文件后重新上传"
    assert not default_storage.exists(stored)
