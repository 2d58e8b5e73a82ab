"""A health import is a `health.import` job (gonghui/core/jobs.py) that ends succeeded, failed or
cancelled: a file refused (a malformed column mapping) is deleted at once; after an unexpected
error, or a worker that died, nothing was stored and the kept file can be imported again; a
file never imported is deleted when its job expires."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from gonghui.core import housekeeping, jobs
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.health import services
from gonghui.health.models import Checkup, ImportBatch, Result
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db

CSV = "身份证号,体检日期,项目代码,结果,单位\n{id},2025-06-03,GLU,5.8,mmol/L\n"


def _batch(world: World, content: bytes, mapping: dict | None = None) -> ImportBatch:  # type: ignore[type-arg]
    return services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="csv",
        filename="results.csv",
        content=content,
        mapping=mapping,
        enqueue=False,
    )


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"columns": {"FBG": "GLU"}}, '列映射 columns 中“FBG”的写法应为 {"code": "项目代码", "unit": "单位"}'),
        ({"fields": ["id_number"]}, '列映射的 fields 必须是对象：{"字段名": "文件中的列名"}'),
        ({"fields": {"patient": "ID"}}, None),
        ({"colums": {}}, "列映射中有无法识别的项：colums（可用 fields、columns、centre）"),
    ],
)
def test_a_malformed_mapping_is_refused_at_upload(world: World, ids: dict[str, str], mapping, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        _batch(world, CSV.format(id=ids["a"]).encode(), mapping)
    if message is not None:
        assert refused.value.message == message
    assert refused.value.fields == {"mapping": refused.value.message}
    assert ImportBatch.objects.count() == 0


def _chore(name: str) -> housekeeping.Registered:
    return {c.name: c for c in housekeeping.chores()}[name]


def _reload(batch: ImportBatch) -> ImportBatch:
    return ImportBatch.objects.select_related("job").get(pk=batch.pk)


def test_an_upload_is_a_queued_job_that_expires(world: World, ids: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    settings.HEALTH_IMPORT_UPLOAD_KEEP_HOURS = 72
    before = timezone.now()
    batch = _reload(_batch(world, CSV.format(id=ids["a"]).encode()))
    job = batch.job
    assert (job.kind, job.status, job.organization_id, job.created_by_id) == (
        services.IMPORT_JOB,
        JobStatus.QUEUED,
        world.union_a.pk,
        world.staff_a.pk,
    )
    assert job.expires_at is not None and job.expires_at >= before + dt.timedelta(hours=72)
    summary = services.import_batch_run(batch_id=batch.pk)
    assert (summary["status"], summary["imported"]) == (JobStatus.SUCCEEDED, 1)
    done = _reload(batch)
    assert (done.job.done, done.job.total, done.job.result["imported"], done.payload_encrypted) == (1, 1, 1, "")
    assert AuditEvent.objects.get(action="job.health.import.succeeded").detail["checkups"] == 1


def test_a_malformed_mapping_stored_earlier_fails_the_batch_and_drops_the_file(
    world: World, ids: dict[str, str]
) -> None:
    batch = _batch(world, CSV.format(id=ids["a"]).encode())
    ImportBatch.objects.filter(pk=batch.pk).update(mapping={"columns": {"结果": "GLU"}})
    summary = services.import_batch_run(batch_id=batch.pk)
    batch = _reload(batch)
    reason = '列映射 columns 中“结果”的写法应为 {"code": "项目代码", "unit": "单位"}'
    assert (batch.job.status, batch.payload_encrypted, summary["error"]) == (JobStatus.FAILED, "", reason)
    assert batch.job.error == reason and batch.job.finished_at is not None
    assert Result.objects.count() == 0
    # The file is gone, so it cannot be imported again: a new upload is needed.
    with pytest.raises(Conflict, match="上传的文件已删除"):
        services.import_batch_retry(actor=world.staff_a, batch=batch)


def test_an_unexpected_error_mid_run_fails_the_batch_keeps_the_file_and_is_raised(
    world: World, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _batch(world, CSV.format(id=ids["a"]).encode())

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise AttributeError("'str' object has no attribute 'get'")

    monkeypatch.setattr(services, "results_store", broken)
    with pytest.raises(AttributeError):
        services.import_batch_run(batch_id=batch.pk)
    batch = _reload(batch)
    assert (batch.job.status, batch.job.error) == (JobStatus.FAILED, services.IMPORT_CRASHED)
    assert batch.payload_encrypted  # kept until it expires, for 重新导入
    assert (Checkup.objects.count(), Result.objects.count()) == (0, 0)
    event = AuditEvent.objects.get(action="job.health.import.failed")
    assert (event.result, event.detail["error"]) == ("failed", services.IMPORT_CRASHED)
    # A second delivery of the task finds the batch finished and leaves it so.
    assert services.import_batch_run(batch_id=batch.pk)["status"] == JobStatus.FAILED
    # Staff of another union may not retry it; its own staff may, and it imports from the kept file.
    with pytest.raises(PermissionDenied):
        services.import_batch_retry(actor=world.staff_b, batch=batch)
    monkeypatch.undo()
    services.import_batch_retry(actor=world.staff_a, batch=batch)
    summary = services.import_batch_run(batch_id=batch.pk)
    assert (summary["status"], summary["imported"]) == (JobStatus.SUCCEEDED, 1)
    assert _reload(batch).payload_encrypted == "" and Result.objects.count() == 1


def test_housekeeping_queues_again_a_run_whose_worker_died_and_leaves_a_live_one(
    world: World, ids: dict[str, str], settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    dead = _batch(world, CSV.format(id=ids["a"]).encode())
    live = _batch(world, CSV.format(id=ids["a"]).encode())
    now = timezone.now()
    for batch, beat in ((dead, now - dt.timedelta(hours=1)), (live, now - dt.timedelta(minutes=5))):
        Job.objects.filter(pk=batch.job_id).update(
            status=JobStatus.RUNNING, attempts=1, started_at=beat, heartbeat_at=beat
        )
    queued: list[int] = []
    monkeypatch.setattr(jobs, "job_run_task", SimpleNamespace(enqueue=queued.append))
    with django_capture_on_commit_callbacks(execute=True):
        assert _chore("jobs_recover").run() == 1
    assert queued == [dead.job_id]
    dead, live = _reload(dead), _reload(live)
    assert dead.job.status == JobStatus.QUEUED and dead.payload_encrypted
    assert live.job.status == JobStatus.RUNNING and live.payload_encrypted
    assert _chore("jobs_recover").run() == 0
    # The new delivery imports the file: the dead run had stored nothing.
    summary = services.import_batch_run(batch_id=dead.pk)
    assert (summary["status"], summary["imported"], Result.objects.count()) == (JobStatus.SUCCEEDED, 1, 1)


def test_housekeeping_fails_a_run_that_keeps_dying(world: World, ids: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    batch = _batch(world, CSV.format(id=ids["a"]).encode())
    beat = timezone.now() - dt.timedelta(hours=1)
    Job.objects.filter(pk=batch.job_id).update(status=JobStatus.RUNNING, attempts=3, started_at=beat, heartbeat_at=beat)
    assert _chore("jobs_recover").run() == 1
    batch = _reload(batch)
    assert (batch.job.status, batch.job.error) == (JobStatus.FAILED, jobs.GAVE_UP)


def test_an_upload_never_imported_is_deleted_when_it_expires(world: World, ids: dict[str, str]) -> None:
    waiting = _batch(world, CSV.format(id=ids["a"]).encode())
    failed = _batch(world, CSV.format(id=ids["a"]).encode())
    fresh = _batch(world, CSV.format(id=ids["a"]).encode())
    past = timezone.now() - dt.timedelta(minutes=1)
    Job.objects.filter(pk__in=[waiting.job_id, failed.job_id]).update(expires_at=past)
    Job.objects.filter(pk=failed.job_id).update(status=JobStatus.FAILED, error=services.IMPORT_CRASHED)
    assert _chore("jobs_expire").run() == 2
    waiting, failed, fresh = _reload(waiting), _reload(failed), _reload(fresh)
    assert (waiting.job.status, waiting.job.error, waiting.payload_encrypted) == (JobStatus.CANCELLED, jobs.EXPIRED, "")
    assert (failed.job.status, failed.payload_encrypted) == (JobStatus.FAILED, "")
    assert fresh.job.status == JobStatus.QUEUED and fresh.payload_encrypted
    assert AuditEvent.objects.filter(action="job.health.import.expired").count() == 2
    with pytest.raises(Conflict, match="已过期"):
        services.import_batch_retry(actor=world.staff_a, batch=failed)
    assert _chore("jobs_expire").run() == 0


def test_the_batch_page_offers_retry_and_cancel_to_its_staff_only(world: World, ids: dict[str, str]) -> None:
    batch = _batch(world, CSV.format(id=ids["a"]).encode())
    client = world.client_for(world.staff_a)
    page = client.get("/console/health/imports/%d/" % batch.pk).content.decode()
    assert 'data-testid="import-cancel"' in page and 'data-testid="import-retry"' not in page
    assert world.client_for(world.staff_b).post("/console/health/imports/%d/cancel/" % batch.pk).status_code in (
        403,
        404,
    )
    assert _reload(batch).job.status == JobStatus.QUEUED
    client.post("/console/health/imports/%d/cancel/" % batch.pk)
    assert _reload(batch).job.status == JobStatus.CANCELLED
    page = client.get("/console/health/imports/%d/" % batch.pk).content.decode()
    assert 'data-testid="import-retry"' in page and 'data-testid="import-cancel"' not in page
    client.post("/console/health/imports/%d/retry/" % batch.pk)
    assert _reload(batch).job.status == JobStatus.QUEUED
