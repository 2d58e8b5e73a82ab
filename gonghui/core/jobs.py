"""Background jobs: one lifecycle for every kind of long-running work.

A job is queued, claimed by exactly one worker (queued → running, one more attempt), reports
its progress with cheap heartbeats, and ends succeeded, failed or cancelled. Housekeeping
(`jobs_recover`) queues again a running job whose heartbeat has stopped — its worker died —
so that it resumes from its checkpoint, until the kind's attempts are used up; `jobs_expire`
deletes what an unconfirmed upload or a downloadable output left behind once it expires.
Every state change writes one audit event, `job.<kind>.<event>` (`job.benefits.issue_run.failed`).

The kernel knows no domain: an app registers each kind it runs in its `AppConfig.ready()`::

    jobs.register_job_kind(
        "benefits.issue_run",
        label="定向发放",
        run=issue_run_job,            # run(job) -> result dict; calls jobs.job_heartbeat(...)
        perm=BenefitPerm.CAMPAIGN_MANAGE,  # who may cancel or retry it in the job's organisation
        stale_after=None,             # seconds without a heartbeat (None: settings.JOB_STALE_SECONDS)
        max_attempts=3,               # claims before housekeeping gives up on a dying job
    )

The runner writes its domain rows and calls `job_heartbeat(job, done=…, total=…,
checkpoint=…)` in the same transaction; the heartbeat raises `JobCancelled` once someone
cancelled the job (or `JobLost` once another worker took it over), so the batch that was being
written is rolled back and the runner stops. A runner raises `JobFailed("中文原因")` for an
expected failure; any other exception fails the job with the kind's `crash_message` and is
raised again for the worker's log.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from gonghui.core import audit, registry
from gonghui.core.errors import Conflict, NotFound, PermissionDenied
from gonghui.core.models import AuditResult, Job, JobStatus
from gonghui.core.workflow import authorizer

Runner = Callable[[Job], Mapping[str, Any] | None]

CRASHED = "后台任务发生系统错误，已完成的部分保持有效；可点击“继续”从中断处重试，如再次出现请联系管理员"
GAVE_UP = "后台任务多次中断，已停止；可点击“继续”从中断处重试"
EXPIRED = "已过期，相关文件已删除"

# The events of a job's life, their audit action suffix and Chinese label.
EVENTS = {
    "queued": "排队",
    "started": "开始运行",
    "succeeded": "完成",
    "failed": "失败",
    "cancelled": "取消",
    "resumed": "继续",
    "recovered": "中断后重新排队",
    "expired": "过期清理",
}
DETAIL_LABELS = {
    "key": "处理对象",
    "attempt": "第几次运行",
    "attempts": "已运行次数",
    "done": "已处理",
    "total": "总数",
    "error": "原因",
    "previous_status": "原状态",
}


class JobStopped(Exception):
    """The job is no longer running under this worker's attempt: stop and write nothing more."""

    def __init__(self, job_id: int, status: str):
        super().__init__("job %(id)s is %(status)s" % {"id": job_id, "status": status})
        self.job_id = job_id
        self.status = status


class JobCancelled(JobStopped):
    """Someone cancelled the job; the runner sees it at its next heartbeat."""


class JobLost(JobStopped):
    """The job was given up for dead and handed to another worker (or finished elsewhere)."""


class JobFailed(Exception):
    """An expected failure of a runner, with the reason shown to staff (Chinese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    label: str
    run: Runner
    perm: str
    # Seconds without a heartbeat before a running job counts as dead (or a callable that reads
    # them from the settings each time).
    stale_after: int | Callable[[], int] | None = None
    max_attempts: int = 3
    crash_message: str = CRASHED
    # A reason (Chinese) why a job may not continue now — then recovery fails it instead.
    resumable: Callable[[Job], str | None] | None = None
    # Deletes what an expired job left behind (an upload, an output file).
    on_expire: Callable[[Job], None] | None = None
    # A personal job (an export for the person who asked) is seen and managed by its creator only.
    personal: bool = False
    # Called in the transaction of every state change (queued, started, succeeded, failed,
    # cancelled, resumed, recovered, expired) with the job as it now stands, so that a domain
    # row that shows its job's state in its own lists follows it.
    on_change: Callable[[Job], None] | None = None

    @property
    def stale_seconds(self) -> int:
        if self.stale_after is None:
            return settings.JOB_STALE_SECONDS
        return self.stale_after() if callable(self.stale_after) else self.stale_after

    def action(self, event: str) -> str:
        return "job.%(kind)s.%(event)s" % {"kind": self.name, "event": event}


_kinds: dict[str, JobKind] = {}


def register_job_kind(
    name: str,
    *,
    label: str,
    run: Runner,
    perm: str,
    stale_after: int | Callable[[], int] | None = None,
    max_attempts: int = 3,
    crash_message: str = CRASHED,
    resumable: Callable[[Job], str | None] | None = None,
    on_expire: Callable[[Job], None] | None = None,
    personal: bool = False,
    on_change: Callable[[Job], None] | None = None,
) -> JobKind:
    """Declare a job kind (registering it again replaces it, as `ready()` may run twice) and
    the Chinese labels of its audit actions."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    kind = JobKind(
        name, label, run, perm, stale_after, max_attempts, crash_message, resumable, on_expire, personal, on_change
    )
    _kinds[name] = kind
    registry.audit_labels(
        {kind.action(event): "%(kind)s：%(event)s" % {"kind": label, "event": text} for event, text in EVENTS.items()},
        details=DETAIL_LABELS,
    )
    return kind


def job_kind(name: str) -> JobKind:
    try:
        return _kinds[name]
    except KeyError:
        raise NotFound("未知的后台任务类型") from None


def job_kinds() -> list[JobKind]:
    return sorted(_kinds.values(), key=lambda k: k.name)


def job_kind_label(name: str) -> str:
    kind = _kinds.get(name)
    return kind.label if kind else name


def job_name(job: Job) -> str:
    """A job's name for the audit page: "定向发放 #12"."""
    return "%(kind)s #%(id)s" % {"kind": job_kind_label(job.kind), "id": job.pk}


# ---- the task every job runs in ------------------------------------------------------------


@task()
def job_run_task(job_id: int) -> None:
    """Run one job (a second delivery of the same job finds it claimed and does nothing)."""
    job_execute(job_id=job_id)


def _enqueue(job_id: int) -> None:
    job_run_task.enqueue(job_id)


def _enqueue_on_commit(job_id: int) -> None:
    transaction.on_commit(lambda: _enqueue(job_id))


# ---- writes ------------------------------------------------------------------------------


def _record(job: Job, event: str, *, actor: Any = None, result: str = AuditResult.OK, **detail: Any) -> None:
    """Audit a state change of `job` (saved by the caller, in its transaction) and tell its kind."""
    kind = job_kind(job.kind)
    if kind.on_change is not None:
        kind.on_change(job)
    audit.record(
        actor=actor,
        action=kind.action(event),
        obj=job,
        organization=job.organization,
        result=result,
        detail={**({"key": job.key} if job.key else {}), "done": job.done, "total": job.total, **detail},
    )


def _may_manage(actor: Any, job: Job) -> None:
    kind = job_kind(job.kind)
    if kind.personal and job.created_by_id != getattr(actor, "pk", None):
        raise PermissionDenied("只有发起人可以管理该后台任务")
    if not authorizer().has_perm(actor, kind.perm, job.organization):
        raise PermissionDenied("无权管理该后台任务")


def _lock(job_id: int, *, skip_locked: bool = False) -> Job | None:
    return (
        Job.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .select_related("organization")
        .filter(pk=job_id)
        .first()
    )


def _lock_for_staff(job_id: int) -> Job:
    """Lock a job for a request: a worker holds its row only while it commits a batch, so a
    request that finds it held says so rather than waiting for the batch."""
    try:
        job = (
            Job.objects.select_for_update(nowait=True, of=("self",))
            .select_related("organization")
            .filter(pk=job_id)
            .first()
        )
    except DatabaseError:
        raise Conflict("该任务正在写入数据，请稍后再试") from None
    if job is None:
        raise NotFound("后台任务不存在")
    return job


def job_create(
    *,
    kind: str,
    organization: Any,
    created_by: Any = None,
    key: str = "",
    params: Mapping[str, Any] | None = None,
    total: int = 0,
    expires_at: dt.datetime | None = None,
    enqueue: bool = True,
) -> Job:
    """Queue a job; its task is enqueued when the caller's transaction commits (unless the
    caller runs it itself, `enqueue=False`, as a command does). Raises `Conflict` if a job of
    this kind with this `key` is already queued or running."""
    declared = job_kind(kind)
    now = timezone.now()
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=declared.name,
                key=key,
                organization=organization,
                created_by=created_by,
                params=dict(params or {}),
                total=total,
                heartbeat_at=now,
                expires_at=expires_at,
            )
            _record(job, "queued", actor=created_by)
    except IntegrityError:
        raise Conflict("%(kind)s已有一项正在进行" % {"kind": declared.label}) from None
    if enqueue:
        _enqueue_on_commit(job.pk)
    return job


def job_claim(*, job_id: int) -> Job | None:
    """Take a queued job for this worker (queued → running, one more attempt). Exactly one of
    several workers given the same job gets it; the others get None."""
    with transaction.atomic():
        job = _lock(job_id)
        if job is None or job.status != JobStatus.QUEUED:
            return None
        now = timezone.now()
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.finished_at = None
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "finished_at"])
        _record(job, "started", attempt=job.attempts)
    return job


def _stopped(job: Job) -> JobStopped:
    status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first() or ""
    if status == JobStatus.CANCELLED:
        return JobCancelled(job.pk, status)
    return JobLost(job.pk, status)


def job_heartbeat(
    job: Job,
    *,
    done: int | None = None,
    total: int | None = None,
    message: str | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> None:
    """Write progress (one UPDATE) while the job still runs under this worker's attempt;
    raise `JobCancelled` / `JobLost` otherwise. Call it in the transaction that writes the
    work it reports, so that the work and its checkpoint commit, or roll back, together."""
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    new_total = job.total if total is None else total
    if done is not None:
        new_total = max(new_total, done) if new_total else new_total
        fields["done"] = done
    if new_total != job.total:
        fields["total"] = new_total
    if message is not None:
        fields["message"] = message[:200]
    if checkpoint is not None:
        fields["checkpoint"] = dict(checkpoint)
    updated = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(**fields)
    if not updated:
        raise _stopped(job)
    for name, value in fields.items():
        setattr(job, name, value)


def job_succeed(*, job: Job, result: Mapping[str, Any] | None = None) -> Job:
    """Finish a running job (a no-op if it was cancelled or taken over meanwhile)."""
    with transaction.atomic():
        locked = _lock(job.pk)
        if locked is None or locked.status != JobStatus.RUNNING or locked.attempts != job.attempts:
            return locked or job
        locked.status = JobStatus.SUCCEEDED
        locked.finished_at = locked.heartbeat_at = timezone.now()
        if locked.total:
            locked.done = locked.total
        locked.result = dict(result or {})
        locked.error = ""
        locked.save(update_fields=["status", "finished_at", "heartbeat_at", "done", "result", "error"])
        _record(locked, "succeeded", **locked.result)
    return locked


def job_fail(*, job: Job, error: str, actor: Any = None) -> Job:
    """Fail a queued or running job with a reason for staff. Its checkpoint is kept, so
    `job_resume` continues where it stopped."""
    with transaction.atomic():
        locked = _lock(job.pk)
        if locked is None or locked.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return locked or job
        return _fail_locked(locked, error, actor=actor)


def _fail_locked(job: Job, error: str, *, actor: Any = None) -> Job:
    job.status = JobStatus.FAILED
    job.error = error[:500]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    _record(job, "failed", actor=actor, result=AuditResult.FAILED, error=job.error, attempts=job.attempts)
    return job


def job_execute(*, job_id: int) -> Job | None:
    """Claim the job and run its kind's runner to the end. A job already claimed, finished or
    gone is left alone (and returned as it stands)."""
    job = job_claim(job_id=job_id)
    if job is None:
        return Job.objects.filter(pk=job_id).first()
    kind = job_kind(job.kind)
    try:
        result = kind.run(job)
    except JobStopped:
        return Job.objects.get(pk=job.pk)
    except JobFailed as exc:
        return job_fail(job=job, error=exc.message)
    except Exception:
        job_fail(job=job, error=kind.crash_message)
        raise
    return job_succeed(job=job, result=result)


def job_cancel(*, actor: Any, job: Job) -> Job:
    """Cancel a queued or running job. A running one stops at its runner's next heartbeat;
    what it finished before stays done."""
    _may_manage(actor, job)
    with transaction.atomic():
        locked = _lock_for_staff(job.pk)
        if not locked.is_active:
            raise Conflict("该任务已结束，不能取消")
        previous = locked.status
        locked.status = JobStatus.CANCELLED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        _record(locked, "cancelled", actor=actor, previous_status=previous)
    return locked


def job_resume(*, actor: Any, job: Job) -> Job:
    """Queue a failed or cancelled job again; its runner continues from the checkpoint. The
    automatic attempts start again from zero. A running job whose worker died (no heartbeat
    for its kind's stale-after, and no live run holding its row) is queued again at once,
    without waiting for housekeeping; it keeps its attempt count, so that the dead attempt
    could never write again."""
    _may_manage(actor, job)
    kind = job_kind(job.kind)
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = _lock_for_staff(job.pk)
            dead = locked.status == JobStatus.RUNNING and (
                locked.heartbeat_at is None or locked.heartbeat_at < now - dt.timedelta(seconds=kind.stale_seconds)
            )
            if locked.status == JobStatus.RUNNING and not dead:
                raise Conflict("该任务仍在运行，无需继续")
            if locked.status not in (JobStatus.FAILED, JobStatus.CANCELLED) and not dead:
                raise Conflict("只有失败或已取消的任务可以继续")
            if locked.expired_at is not None:
                raise Conflict("该任务已过期，相关文件已删除，不能继续")
            refusal = kind.resumable(locked) if kind.resumable else None
            if refusal:
                raise Conflict(refusal)
            previous = locked.status
            locked.status = JobStatus.QUEUED
            locked.error = ""
            locked.finished_at = None
            if not dead:
                locked.attempts = 0
            locked.heartbeat_at = now
            locked.save(update_fields=["status", "error", "finished_at", "attempts", "heartbeat_at"])
            _record(locked, "resumed", actor=actor, previous_status=previous)
            _enqueue_on_commit(locked.pk)
    except IntegrityError:
        raise Conflict("%(kind)s已有一项正在进行" % {"kind": kind.label}) from None
    return locked


# ---- housekeeping ----------------------------------------------------------------------------


def jobs_recover(*, now: dt.datetime | None = None) -> int:
    """Running jobs whose heartbeat is older than their kind's `stale_after` lost their
    worker: queue them again to resume from their checkpoint, or fail them once their
    attempts are used up (or their kind says they may not continue). Queued jobs that waited
    that long are delivered again (a delivery lost with a crash). Returns how many."""
    now = now or timezone.now()
    handled = 0
    for kind in job_kinds():
        cutoff = now - dt.timedelta(seconds=kind.stale_seconds)
        stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
        candidates = Job.objects.filter(stale, kind=kind.name, status__in=[JobStatus.RUNNING, JobStatus.QUEUED])
        for job_id in candidates.order_by("pk").values_list("pk", flat=True):
            with transaction.atomic():
                job = _lock(job_id, skip_locked=True)
                # Finished meanwhile, being written to right now, or it just beat again.
                if job is None or not job.is_active or (job.heartbeat_at and job.heartbeat_at >= cutoff):
                    continue
                refusal = kind.resumable(job) if kind.resumable else None
                if refusal:
                    _fail_locked(job, refusal)
                elif job.status == JobStatus.QUEUED:
                    job.heartbeat_at = now
                    job.save(update_fields=["heartbeat_at"])
                    _enqueue_on_commit(job.pk)
                elif job.attempts >= kind.max_attempts:
                    _fail_locked(job, GAVE_UP)
                else:
                    job.status = JobStatus.QUEUED
                    job.heartbeat_at = now
                    job.save(update_fields=["status", "heartbeat_at"])
                    _record(job, "recovered", attempts=job.attempts)
                    _enqueue_on_commit(job.pk)
            handled += 1
    return handled


def jobs_expire(*, now: dt.datetime | None = None) -> int:
    """Jobs past `expires_at` (and not running): their kind deletes what they left behind, a
    queued one is cancelled, and they can no longer be resumed. Returns how many."""
    now = now or timezone.now()
    due = Job.objects.filter(expires_at__lte=now, expired_at__isnull=True, kind__in=list(_kinds)).exclude(
        status=JobStatus.RUNNING
    )
    expired = 0
    for job_id in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            job = _lock(job_id, skip_locked=True)
            if job is None or job.status == JobStatus.RUNNING or job.expired_at is not None:
                continue
            kind = job_kind(job.kind)
            if kind.on_expire:
                kind.on_expire(job)
            fields = ["expired_at"]
            previous = job.status
            if job.status == JobStatus.QUEUED:
                job.status = JobStatus.CANCELLED
                job.finished_at = now
                job.error = EXPIRED
                fields += ["status", "finished_at", "error"]
            job.expired_at = now
            job.save(update_fields=fields)
            _record(job, "expired", previous_status=previous)
        expired += 1
    return expired
