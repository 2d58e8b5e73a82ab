"""An import batch step by step: upload and dry run, commit as a background job, progress,
resume, cancel, expiry; reads for an actor.

The dry run happens in the request; the batch then waits for its uploader's decision (commit,
with or without the rows that failed, or cancel) and expires if nobody decides. The commit is
a `core.Job` of kind `members.import`: the kernel queues it, gives it to exactly one worker,
counts its attempts, queues it again when its worker died (housekeeping's `jobs_recover`, or
继续导入 on the page) and shows it on 后台任务. The commit writes the whole file in ONE
transaction and takes the job's row at its start, so the row stays locked while the run is
alive: recovery skips a held job and takes over one whose transaction the database rolled
back. The rows it writes, and so its progress, are invisible until COMMIT: the page reads the
progress from the cache. The batch's `status` follows its job (`import_job_changed`)."""

import binascii
import datetime as dt
import io
import json
import os
import time
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone

from gonghui.core import audit, crypto, jobs
from gonghui.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditResult, Job, JobStatus
from gonghui.core.tabular_limits import clip
from gonghui.members.import_models import ImportBatch, ImportIssue, ImportSource, ImportStatus
from gonghui.members.imports.columns import (
    CSV_BLOCK_BYTES,
    PROGRESS_TTL_SECONDS,
    ROW_PURPOSE,
    UPLOAD_PURPOSE,
    WEB_MAX_BYTES,
    WEB_MAX_ROWS,
    default_workers,
    map_header_for,
    stale_after_seconds,
)
from gonghui.members.imports.readers import detect_format
from gonghui.members.imports.run import ImportRun, Outcome, ProgressFn, Rejected
from gonghui.members.permissions import MemberPerm
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on, scope_paths, scope_q

# A batch whose user still has to decide: commit it (again) or cancel it.
AWAITING_DECISION = (ImportStatus.VALIDATED, ImportStatus.FAILED)

# ---- progress, readable while the import transaction is still open -----------------------


def _progress_key(batch: ImportBatch) -> str:
    return f"gonghui:members:import:{batch.token}"


def _write_progress(batch: ImportBatch, *, done: int, total: int, phase: str) -> None:
    cache.set(
        _progress_key(batch),
        {"done": done, "total": total, "phase": phase, "at": time.time()},
        PROGRESS_TTL_SECONDS,
    )


@dataclass(frozen=True)
class Progress:
    status: str
    done: int
    total: int
    percent: int
    phase: str
    interrupted: bool

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED)


def import_progress(batch: ImportBatch) -> Progress:
    """Where a batch stands: the database says whether it finished, the cache how far a running
    commit has got (the rows it wrote are invisible to others until it commits)."""
    entry = cache.get(_progress_key(batch)) or {}
    total = int(entry.get("total") or batch.rows_total or 0)
    done = int(entry.get("done") or 0)
    if batch.status == ImportStatus.SUCCEEDED:
        return Progress(batch.status, batch.rows_total, batch.rows_total, 100, "已完成", False)
    if batch.status != ImportStatus.RUNNING:
        phase = entry.get("phase", "") if batch.status == ImportStatus.QUEUED else ""
        return Progress(batch.status, 0, total, 0, phase, False)
    started = batch.job.started_at if batch.job is not None else None
    heartbeat = float(entry.get("at") or 0) or (started.timestamp() if started else 0)
    interrupted = time.time() - heartbeat > stale_after_seconds()
    percent = min(99, done * 100 // total) if total else 0
    return Progress(batch.status, done, total, percent, entry.get("phase", "正在导入"), interrupted)


# ---- the upload, kept encrypted between the dry run and the commit ------------------------


def _store_upload(batch: ImportBatch, content: bytes) -> str:
    sealed = crypto.encrypt(binascii.b2a_base64(content, newline=False).decode("ascii"), purpose=UPLOAD_PURPOSE)
    return default_storage.save(f"member_imports/{batch.token}.enc", ContentFile(sealed.encode("ascii")))


def _load_upload(batch: ImportBatch) -> bytes:
    if not batch.stored_file or not default_storage.exists(batch.stored_file):
        raise Conflict("上传的文件已清除，请重新上传")
    with default_storage.open(batch.stored_file, "rb") as handle:
        sealed = handle.read().decode("ascii")
    return binascii.a2b_base64(crypto.decrypt(sealed, purpose=UPLOAD_PURPOSE))


def _discard_upload(batch: ImportBatch) -> None:
    if batch.stored_file:
        default_storage.delete(batch.stored_file)
        ImportBatch.objects.filter(pk=batch.pk).update(stored_file="")
        batch.stored_file = ""


# ---- problems, kept for the report --------------------------------------------------------


def _save_issues(batch: ImportBatch, outcome: Outcome) -> None:
    ImportIssue.objects.filter(batch=batch).delete()
    positions = map_header_for(batch.organization, outcome.columns).positions if outcome.columns else {}
    p_name = positions.get("name", -1)
    p_id = positions.get("id_number", -1)
    rows = []
    for issue in outcome.issues:
        raw_id = issue.cells[p_id].strip() if 0 <= p_id < len(issue.cells) else ""
        rows.append(
            ImportIssue(
                batch=batch,
                row_no=issue.row_no,
                name=(issue.cells[p_name].strip() if 0 <= p_name < len(issue.cells) else "")[:50],
                id_masked=crypto.mask_middle(raw_id)[:24] if raw_id else "",
                errors=[{"column": clip(column), "message": clip(message)} for column, message in issue.errors],
                raw_encrypted=crypto.encrypt(
                    json.dumps([clip(cell) for cell in issue.cells], ensure_ascii=False), purpose=ROW_PURPOSE
                ),
            )
        )
    ImportIssue.objects.bulk_create(rows, batch_size=1000)


def _counts(outcome: Outcome) -> dict[str, int]:
    return {
        "rows_total": outcome.rows,
        "rows_valid": outcome.valid,
        "rows_invalid": outcome.invalid,
    }


def _audit_detail(batch: ImportBatch, outcome: Outcome | None, **extra: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "file": batch.file_name,
        "source": batch.source,
        "keep_good_rows": batch.keep_good_rows,
    }
    if outcome is not None:
        detail.update(outcome.as_json(), unchanged=outcome.unchanged)
    detail.update(extra)
    return detail


# ---- the batch, step by step ---------------------------------------------------------------


def _view_paths(actor: Any) -> list[str] | None:
    return None if actor is None else scope_paths(actor, MemberPerm.MEMBER_VIEW)


def _check_import_perm(actor: Any, organization: Organization) -> None:
    if actor is not None and not has_perm_on(actor, MemberPerm.MEMBER_IMPORT, organization):
        raise PermissionDenied("无权向该工会导入会员")


def import_batch_upload(*, actor: Any, organization: Organization, file_name: str, content: bytes) -> ImportBatch:
    """Check an uploaded file (the dry run) and keep it, encrypted, for the commit."""
    _check_import_perm(actor, organization)
    if not content:
        raise ValidationFailed("上传的文件是空的", fields={"file": "请选择要导入的文件"})
    if len(content) > WEB_MAX_BYTES:
        raise ValidationFailed(
            "文件超过 %(mb)s MB，请拆分后上传" % {"mb": WEB_MAX_BYTES // (1024 * 1024)}, fields={"file": "文件过大"}
        )
    file_format = detect_format(file_name, content[:8])
    outcome = ImportRun(
        organization=organization,
        stream=io.BytesIO(content),
        file_format=file_format,
        dry_run=True,
        keep_good_rows=False,
        actor_id=getattr(actor, "pk", None),
        view_paths=_view_paths(actor),
        max_rows=WEB_MAX_ROWS,
    ).execute()
    if outcome.rows == 0:
        raise ValidationFailed("文件里没有会员数据（第一行应为表头，从第二行起每行一位会员）")
    stored = ""
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                organization=organization,
                uploader=actor,
                source=ImportSource.WEB,
                file_name=os.path.basename(file_name)[:200] or "upload",
                file_format=file_format,
                file_size=len(content),
                status=ImportStatus.VALIDATED,
            )
            _store_outcome(batch, actor, outcome, action="member.import_validate", **_planned(outcome))
            stored = _store_upload(batch, content)
            batch.stored_file = stored
            batch.save(update_fields=["stored_file"])
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    batch.refresh_from_db()
    return batch


def import_batch_commit(*, actor: Any, batch: ImportBatch, keep_good_rows: bool) -> ImportBatch:
    """Queue the commit of a checked batch as a background task."""
    _check_import_perm(actor, batch.organization)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().select_related("organization").get(pk=batch.pk)
        if locked.status not in AWAITING_DECISION:
            raise Conflict("该批次当前为“%(status)s”，不能导入" % {"status": locked.get_status_display()})
        if not locked.stored_file:
            raise Conflict("上传的文件已清除，请重新上传")
        if locked.rows_valid == 0:
            raise ValidationFailed("没有通过校验的行，无法导入")
        if locked.rows_invalid and not keep_good_rows:
            raise ValidationFailed(
                "有 %(n)s 行未通过校验：请修正后重新上传，或勾选“只导入校验通过的行”" % {"n": locked.rows_invalid},
                fields={"keep_good_rows": "整批导入要求所有行都通过校验"},
            )
        locked.keep_good_rows = keep_good_rows
        locked.error_message = ""
        locked.job = _queue_job(locked, actor)
        locked.status = ImportStatus.QUEUED
        locked.save(update_fields=["status", "keep_good_rows", "error_message", "job"])
        audit.record(
            actor=actor,
            action="member.import_queue",
            obj=locked,
            organization=locked.organization,
            detail=_audit_detail(locked, None),
        )
        _write_progress(locked, done=0, total=locked.rows_total, phase="排队等待后台任务")
    return locked


# ---- the commit as a job -------------------------------------------------------------------

IMPORT_JOB = "members.import"
IMPORT_UNREADABLE = "系统无法读取保存的上传文件，登记库没有任何改动，文件已删除；请重新上传"
IMPORT_CRASHED = "导入时发生系统错误，登记库没有任何改动，请稍后重试"
IMPORT_JOB_CANCELLED = "后台导入已取消，登记库没有任何改动；可重新导入或取消该批次"

# The batch's status while its job is at each stage of its life.
_FOLLOWS = {
    JobStatus.QUEUED: ImportStatus.QUEUED,
    JobStatus.RUNNING: ImportStatus.RUNNING,
    JobStatus.SUCCEEDED: ImportStatus.SUCCEEDED,
    JobStatus.FAILED: ImportStatus.FAILED,
    JobStatus.CANCELLED: ImportStatus.FAILED,
}


def _queue_job(batch: ImportBatch, actor: Any, *, enqueue: bool = True) -> Job:
    return jobs.job_create(
        kind=IMPORT_JOB,
        organization=batch.organization,
        created_by=actor,
        key="batch:%(id)s" % {"id": batch.pk},
        params={"batch": batch.pk},
        total=batch.rows_total,
        enqueue=enqueue,
    )


def import_job_changed(job: Job) -> None:
    """The kernel changed the state of a batch's job (claimed it, queued it again after a dead
    worker, failed it, cancelled it): the batch's status follows. A batch already imported
    stays imported; a failure's reason is the runner's when it gave one."""
    batch = ImportBatch.objects.filter(job=job)
    status = _FOLLOWS[JobStatus(job.status)]
    if status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        batch.exclude(status=ImportStatus.SUCCEEDED).update(status=status)
    elif status == ImportStatus.FAILED:
        reason = (job.error if job.status == JobStatus.FAILED else IMPORT_JOB_CANCELLED)[:500]
        batch.exclude(status=ImportStatus.SUCCEEDED).update(
            status=status,
            finished_at=job.finished_at or timezone.now(),
            error_message=Case(When(error_message="", then=Value(reason)), default=F("error_message")),
        )
    else:
        batch.update(status=status)


def import_job_resumable(job: Job) -> str | None:
    """A commit runs again only while the batch still holds its upload."""
    holds_file = ImportBatch.objects.filter(job=job).exclude(stored_file="").exists()
    return None if holds_file else "上传的文件已清除，请重新上传"


def import_batch_job(job: Job) -> dict[str, Any]:
    """The runner of a `members.import` job: commit the batch (all-or-nothing unless it keeps
    the good rows only). A failure before the commit starts (the uploader lost the right to
    import, the kept file is gone or unreadable) fails it and removes what is left of the
    upload; a refused file fails it with its problems, and the uploader decides again."""
    batch = ImportBatch.objects.select_related("organization", "uploader").get(job=job)
    if batch.status == ImportStatus.SUCCEEDED:  # committed just before its worker was given up
        return {"batch": batch.pk, "created": batch.created, "updated": batch.updated}
    actor = batch.uploader
    try:
        _check_import_perm(actor, batch.organization)
        stream = io.BytesIO(_load_upload(batch))
    except DomainError as exc:
        _record_failure(batch, actor, exc.message, None)
        _discard_upload(batch)
        raise jobs.JobFailed(exc.message) from exc
    except Exception:
        _record_failure(batch, actor, IMPORT_UNREADABLE, None)
        _discard_upload(batch)
        raise
    try:
        outcome = commit_stream(batch, actor=actor, stream=stream, workers=default_workers(), job=job)
    except DomainError as exc:
        raise jobs.JobFailed(exc.message) from exc
    return {"batch": batch.pk, **outcome.as_json()}


def import_batch_run(*, batch_id: int) -> dict[str, Any]:
    """Run the batch's queued commit now, as the worker does (`jobs.job_execute`), and say how
    it ended; a commit already taken or finished is left alone (`skipped`)."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.job_id is None or batch.status != ImportStatus.QUEUED:
        return {"batch": batch_id, "skipped": True}
    job = jobs.job_execute(job_id=batch.job_id)
    batch.refresh_from_db()
    summary: dict[str, Any] = {"batch": batch_id, "status": batch.status}
    if job is not None and job.status == JobStatus.SUCCEEDED:
        summary.update({k: v for k, v in job.result.items() if k != "batch"})
    elif batch.error_message:
        summary["message"] = batch.error_message
    return summary


def commit_stream(
    batch: ImportBatch,
    *,
    actor: Any,
    stream: IO[bytes],
    workers: int = 1,
    engine: str = "auto",
    block_bytes: int = CSV_BLOCK_BYTES,
    on_progress: ProgressFn | None = None,
    job: Job | None = None,
) -> Outcome:
    """Validate and write every row of `stream` in one transaction; on any failure nothing is
    written, the batch is marked failed (with its problems) and the error is raised again.
    With the batch's `job`, the run holds the job's row until COMMIT and stops (`JobStopped`,
    writing nothing) if the job is no longer this attempt's."""

    def progress(done: int, total: int) -> None:
        _write_progress(batch, done=done, total=total, phase="正在校验并写入登记库")
        if on_progress is not None:
            on_progress(done, total)

    run = ImportRun(
        organization=batch.organization,
        stream=stream,
        file_format=batch.file_format,
        dry_run=False,
        keep_good_rows=batch.keep_good_rows,
        actor_id=getattr(actor, "pk", None),
        view_paths=_view_paths(actor),
        reason="批量导入：%(file)s（批次 %(id)s）" % {"file": batch.file_name, "id": batch.pk},
        engine=engine,
        workers=workers,
        progress=progress,
        block_bytes=block_bytes,
    )
    _write_progress(batch, done=0, total=batch.rows_total, phase="正在读取文件")
    try:
        with transaction.atomic():
            # Held until COMMIT: a second run of the same batch waits, and the kernel tells this
            # live run from a dead one (it skips a job whose row is held).
            ImportBatch.objects.select_for_update().filter(pk=batch.pk).exists()
            if job is not None:
                jobs.job_heartbeat(job, message="正在校验并写入登记库")
            outcome = run.execute()
            _write_progress(batch, done=outcome.rows, total=outcome.rows, phase="正在提交")
            if job is not None:
                jobs.job_heartbeat(job, done=outcome.rows, total=outcome.rows, message="正在提交")
            _store_outcome(
                batch,
                actor,
                outcome,
                action="member.import",
                status=ImportStatus.SUCCEEDED,
                finished_at=timezone.now(),
                created=outcome.created,
                updated=outcome.updated,
                unchanged=outcome.unchanged,
            )
    except jobs.JobStopped:
        raise
    except Rejected as exc:
        _record_failure(batch, actor, exc.message, exc.outcome)
        raise
    except DomainError as exc:
        _record_failure(batch, actor, exc.message, None)
        raise
    except Exception:
        _record_failure(batch, actor, IMPORT_CRASHED, None)
        raise
    batch.refresh_from_db()
    _write_progress(batch, done=outcome.rows, total=outcome.rows, phase="已完成")
    _discard_upload(batch)
    return outcome


def _planned(outcome: Outcome) -> dict[str, Any]:
    """What a dry run records: when it ran and what a commit would write."""
    return {
        "validated_at": timezone.now(),
        "planned_create": outcome.created,
        "planned_update": outcome.updated,
        "planned_unchanged": outcome.unchanged,
    }


def _store_outcome(batch: ImportBatch, actor: Any, outcome: Outcome, *, action: str, **fields: Any) -> None:
    """Save what a pass over the file found (counts, columns, problem rows) on the batch, with
    the step's own `fields`, and audit it; the caller holds the transaction."""
    ImportBatch.objects.filter(pk=batch.pk).update(
        columns=outcome.columns,
        ignored_columns=outcome.ignored,
        per_row_org=outcome.per_row_org,
        **_counts(outcome),
        **fields,
    )
    _save_issues(batch, outcome)
    audit.record(
        actor=actor,
        action=action,
        obj=batch,
        organization=batch.organization,
        detail=_audit_detail(batch, outcome),
    )


def _record_failure(batch: ImportBatch, actor: Any, message: str, outcome: Outcome | None) -> None:
    with transaction.atomic():
        values: dict[str, Any] = {
            "status": ImportStatus.FAILED,
            "error_message": message[:500],
            "finished_at": timezone.now(),
            "created": 0,
            "updated": 0,
            "unchanged": 0,
        }
        if outcome is not None:
            values.update(_counts(outcome))
        ImportBatch.objects.filter(pk=batch.pk).update(**values)
        if outcome is not None:
            _save_issues(batch, outcome)
        audit.record(
            actor=actor,
            action="member.import",
            obj=batch,
            organization=batch.organization,
            result=AuditResult.FAILED,
            detail=_audit_detail(batch, outcome, message=message),
        )
    batch.refresh_from_db()
    _write_progress(batch, done=0, total=batch.rows_total, phase="导入失败")


def import_batch_resume(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """继续导入: queue again a commit whose worker died (killed, machine restarted) without
    waiting for housekeeping. Its transaction was rolled back by the database, so the import
    simply starts over from the kept file."""
    _check_import_perm(actor, batch.organization)
    if batch.job is None or batch.status != ImportStatus.RUNNING or not import_progress(batch).interrupted:
        raise Conflict("导入仍在进行中或已结束，无需继续")
    jobs.job_resume(actor=actor, job=batch.job)
    _write_progress(batch, done=0, total=batch.rows_total, phase="排队等待后台任务")
    audit.record(
        actor=actor,
        action="member.import_resume",
        obj=batch,
        organization=batch.organization,
        detail=_audit_detail(batch, None),
    )
    batch.refresh_from_db()
    return batch


def import_batch_cancel(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    _check_import_perm(actor, batch.organization)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().select_related("organization").get(pk=batch.pk)
        if locked.status not in AWAITING_DECISION:
            raise Conflict("该批次当前为“%(status)s”，不能取消" % {"status": locked.get_status_display()})
        _cancel_locked(locked, actor=actor, action="member.import_cancel", now=timezone.now())
    _discard_upload(locked)
    return locked


def _cancel_locked(locked: ImportBatch, *, actor: Any, action: str, now: dt.datetime, message: str = "") -> None:
    """Cancel a batch whose row the caller holds locked, audited; the upload goes after commit."""
    locked.status = ImportStatus.CANCELLED
    locked.finished_at = now
    fields = ["status", "finished_at"]
    if message:
        locked.error_message = message
        fields.append("error_message")
    locked.save(update_fields=fields)
    audit.record(
        actor=actor, action=action, obj=locked, organization=locked.organization, detail=_audit_detail(locked, None)
    )


def import_batches_expire(*, now: dt.datetime | None = None) -> int:
    """Cancel batches left unconfirmed (dry run done, or failed and not retried) for
    MEMBER_IMPORT_UPLOAD_KEEP_HOURS and delete their stored uploads: personal data does not
    wait on disk for a commit nobody is going to make. Returns how many were cancelled."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.MEMBER_IMPORT_UPLOAD_KEEP_HOURS)
    message = "超过 %(hours)d 小时未确认导入，已自动取消并删除上传的文件" % {
        "hours": settings.MEMBER_IMPORT_UPLOAD_KEEP_HOURS
    }
    waiting = ImportBatch.objects.filter(status__in=AWAITING_DECISION, created_at__lt=cutoff).exclude(
        finished_at__gte=cutoff
    )
    expired = 0
    for batch_id in waiting.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().select_related("organization").get(pk=batch_id)
            if locked.status not in AWAITING_DECISION:
                continue
            _cancel_locked(locked, actor=None, action="member.import_expire", now=now, message=message)
        _discard_upload(locked)
        expired += 1
    return expired


def import_file(
    *,
    path: str,
    organization: Organization,
    actor: Any = None,
    dry_run: bool = False,
    keep_good_rows: bool = False,
    workers: int = 1,
    engine: str = "auto",
    on_progress: ProgressFn | None = None,
) -> tuple[ImportBatch, Outcome]:
    """Import a file from disk (the `import_members` command, the benchmark). Runs in this
    process; `actor=None` is the system."""
    _check_import_perm(actor, organization)
    with open(path, "rb") as handle:
        file_format = detect_format(path, handle.read(8))
    size = os.path.getsize(path)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            organization=organization,
            uploader=actor,
            source=ImportSource.COMMAND,
            file_name=os.path.basename(path)[:200],
            file_format=file_format,
            file_size=size,
            keep_good_rows=keep_good_rows,
        )
        if not dry_run:
            batch.job = _queue_job(batch, actor, enqueue=False)
            batch.save(update_fields=["job"])
    with open(path, "rb") as stream:
        if not dry_run:
            return batch, _commit_here(
                batch, actor=actor, stream=stream, workers=workers, engine=engine, on_progress=on_progress
            )
        outcome = ImportRun(
            organization=organization,
            stream=stream,
            file_format=file_format,
            dry_run=True,
            keep_good_rows=keep_good_rows,
            actor_id=getattr(actor, "pk", None),
            view_paths=_view_paths(actor),
            engine=engine,
            workers=workers,
            progress=on_progress,
        ).execute()
    with transaction.atomic():
        _store_outcome(
            batch,
            actor,
            outcome,
            action="member.import_validate",
            **_planned(outcome),
        )
    batch.refresh_from_db()
    return batch, outcome


def _commit_here(batch: ImportBatch, *, actor: Any, stream: IO[bytes], **options: Any) -> Outcome:
    """Run a command's commit in this process as its job's one worker."""
    assert batch.job is not None
    job = jobs.job_claim(job_id=batch.job.pk)
    if job is None:
        raise Conflict("该批次的导入已由其他进程执行")
    try:
        outcome = commit_stream(batch, actor=actor, stream=stream, job=job, **options)
    except DomainError as exc:
        jobs.job_fail(job=job, error=exc.message)
        raise
    except BaseException:
        jobs.job_fail(job=job, error=IMPORT_CRASHED)
        raise
    jobs.job_succeed(job=job, result=outcome.as_json())
    batch.refresh_from_db()
    return outcome


# ---- reads for an actor --------------------------------------------------------------------


def import_batch_list_for_actor(*, actor: Any) -> QuerySet[ImportBatch]:
    return (
        ImportBatch.objects.filter(scope_q(actor, MemberPerm.MEMBER_IMPORT))
        .select_related("organization", "uploader", "job")
        .order_by("-id")
    )


def import_batch_get_for_actor(*, actor: Any, pk: int | str) -> ImportBatch:
    batch = import_batch_list_for_actor(actor=actor).filter(pk=pk).first()
    if batch is None:
        raise NotFound("导入批次不存在或无权访问")
    return batch
