"""The job lifecycle (gonghui/core/jobs.py): claim exactly once, heartbeats, cooperative
cancellation, resume from the checkpoint, recovery of a dead worker, expiry."""

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from gonghui.benefits.permissions import BenefitPerm
from gonghui.core import housekeeping, jobs, registry
from gonghui.core.errors import Conflict, PermissionDenied
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.core.permissions import Role
from gonghui.site.testing import grant, make_user

pytestmark = pytest.mark.django_db

KIND = "core.test_count"


class Script:
    """What the test runner does: counts `params["items"]` items from its checkpoint, one
    heartbeat per item, and runs `hook(job, item)` before each."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.hook: Any = None
        self.refusal: str | None = None
        self.expired: list[int] = []

    def run(self, job: Job) -> dict[str, Any]:
        items = job.params["items"]
        start = job.checkpoint.get("next", 0)
        jobs.job_heartbeat(job, total=items, message="开始计数")
        for item in range(start, items):
            if self.hook:
                self.hook(job, item)
            self.seen.append(item)
            jobs.job_heartbeat(job, done=item + 1, checkpoint={"next": item + 1})
        return {"counted": items - start}


@pytest.fixture
def script() -> Iterator[Script]:
    s = Script()
    jobs.register_job_kind(
        KIND,
        label="测试计数",
        run=s.run,
        perm=BenefitPerm.CAMPAIGN_MANAGE,
        stale_after=600,
        max_attempts=2,
        resumable=lambda job: s.refusal,
        on_expire=lambda job: s.expired.append(job.pk),
    )
    yield s
    jobs._kinds.pop(KIND, None)


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    queued: list[int] = []
    monkeypatch.setattr(jobs, "job_run_task", SimpleNamespace(enqueue=queued.append))
    return queued


def _create(world, items: int = 3, **kwargs: Any) -> Job:  # type: ignore[no-untyped-def]
    return jobs.job_create(
        kind=KIND, organization=world.union_a, created_by=world.staff_a, params={"items": items}, **kwargs
    )


def _actions(job: Job) -> list[str]:
    events = AuditEvent.objects.filter(object_type="core.job", object_id=str(job.pk)).order_by("id")
    return [e.action.removeprefix("job.%s." % KIND) for e in events]


def test_a_job_is_queued_on_commit_and_runs_to_success_once(
    world, script, enqueued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        job = _create(world)
    assert enqueued == [job.pk]
    assert (job.status, job.attempts, job.created_by, job.organization) == (
        JobStatus.QUEUED,
        0,
        world.staff_a,
        world.union_a,
    )
    done = jobs.job_execute(job_id=job.pk)
    assert done is not None
    assert (done.status, done.done, done.total, done.attempts, done.result) == (
        JobStatus.SUCCEEDED,
        3,
        3,
        1,
        {"counted": 3},
    )
    assert done.started_at is not None and done.finished_at is not None and done.percent == 100
    # A second delivery finds the job finished and does nothing.
    again = jobs.job_execute(job_id=job.pk)
    assert again is not None and (again.status, again.attempts) == (JobStatus.SUCCEEDED, 1)
    assert script.seen == [0, 1, 2]
    assert _actions(job) == ["queued", "started", "succeeded"]
    queued = AuditEvent.objects.get(action="job.%s.queued" % KIND)
    assert (queued.actor_id, queued.organization_id) == (world.staff_a.pk, world.union_a.pk)


def test_the_kind_labels_its_audit_actions_and_names_its_jobs(world, script) -> None:  # type: ignore[no-untyped-def]
    assert registry.audit_label("job.%s.failed" % KIND) == "测试计数：失败"
    assert registry.audit_label("job.%s.recovered" % KIND) == "测试计数：中断后重新排队"
    job = _create(world)
    assert registry.describe_objects("core.job", [str(job.pk), "x"]) == {str(job.pk): "测试计数 #%d" % job.pk}
    chores = {c.name for c in housekeeping.chores()}
    assert {"jobs_recover", "jobs_expire"} <= chores


def test_one_active_job_per_key(world, script) -> None:  # type: ignore[no-untyped-def]
    first = _create(world, key="campaign:1")
    with pytest.raises(Conflict, match="测试计数已有一项正在进行"):
        _create(world, key="campaign:1")
    assert Job.objects.count() == 1
    _create(world, key="campaign:2")
    jobs.job_execute(job_id=first.pk)
    _create(world, key="campaign:1")  # the first one has finished
    assert Job.objects.filter(key="campaign:1").count() == 2


def test_an_unknown_kind_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(jobs.NotFound):
        jobs.job_create(kind="nope", organization=world.union_a)
    assert Job.objects.count() == 0


def test_heartbeat_writes_progress_and_checkpoint_under_its_own_attempt(world, script) -> None:  # type: ignore[no-untyped-def]
    job = _create(world)
    claimed = jobs.job_claim(job_id=job.pk)
    assert claimed is not None and jobs.job_claim(job_id=job.pk) is None
    before = claimed.heartbeat_at
    jobs.job_heartbeat(claimed, done=2, total=10, message="第二行", checkpoint={"next": 2})
    stored = Job.objects.get(pk=job.pk)
    assert (stored.done, stored.total, stored.message, stored.checkpoint) == (2, 10, "第二行", {"next": 2})
    assert stored.heartbeat_at is not None and before is not None and stored.heartbeat_at >= before
    assert stored.percent == 20
    # More done than the announced total raises the total rather than breaking the constraint.
    jobs.job_heartbeat(claimed, done=12)
    assert Job.objects.values_list("done", "total").get(pk=job.pk) == (12, 12)
    # A worker whose job was handed to another attempt is told so and writes nothing.
    Job.objects.filter(pk=job.pk).update(attempts=2)
    with pytest.raises(jobs.JobLost):
        jobs.job_heartbeat(claimed, done=13)
    assert Job.objects.get(pk=job.pk).done == 12


def test_cancelling_a_running_job_stops_it_at_its_next_heartbeat(world, script) -> None:  # type: ignore[no-untyped-def]
    job = _create(world, items=5)

    def cancel_at_two(running: Job, item: int) -> None:
        if item == 2:
            jobs.job_cancel(actor=world.staff_a, job=running)

    script.hook = cancel_at_two
    stopped = jobs.job_execute(job_id=job.pk)
    assert stopped is not None
    # Item 2 was under way when the cancellation came: its heartbeat refused it.
    assert (stopped.status, stopped.done, stopped.checkpoint) == (JobStatus.CANCELLED, 2, {"next": 2})
    assert stopped.finished_at is not None
    assert _actions(job) == ["queued", "started", "cancelled"]
    cancel = AuditEvent.objects.get(action="job.%s.cancelled" % KIND)
    assert (cancel.actor_id, cancel.detail["previous_status"]) == (world.staff_a.pk, "running")
    with pytest.raises(Conflict, match="已结束"):
        jobs.job_cancel(actor=world.staff_a, job=stopped)
    # 重试 continues from the checkpoint: nothing is counted twice.
    script.hook = None
    jobs.job_resume(actor=world.staff_a, job=stopped)
    finished = jobs.job_execute(job_id=job.pk)
    assert finished is not None and (finished.status, finished.result) == (JobStatus.SUCCEEDED, {"counted": 3})
    assert script.seen == [0, 1, 2, 2, 3, 4]  # item 2 was rolled back with its refused heartbeat


def test_a_queued_job_cancelled_never_runs(world, script) -> None:  # type: ignore[no-untyped-def]
    job = _create(world)
    jobs.job_cancel(actor=world.staff_a, job=job)
    after = jobs.job_execute(job_id=job.pk)
    assert after is not None and (after.status, after.attempts) == (JobStatus.CANCELLED, 0)
    assert script.seen == []


def test_staff_of_another_union_may_neither_cancel_nor_resume(world, script) -> None:  # type: ignore[no-untyped-def]
    job = _create(world)
    with pytest.raises(PermissionDenied):
        jobs.job_cancel(actor=world.staff_b, job=job)
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    jobs.job_cancel(actor=world.staff_a, job=job)
    with pytest.raises(PermissionDenied):
        jobs.job_resume(actor=world.staff_b, job=job)
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert _actions(job) == ["queued", "cancelled"]


def test_a_crash_fails_the_job_and_is_raised_and_an_expected_failure_is_not(world, script) -> None:  # type: ignore[no-untyped-def]
    job = _create(world, items=4)

    def crash_at_one(running: Job, item: int) -> None:
        if item == 1:
            raise RuntimeError("disk full")

    script.hook = crash_at_one
    with pytest.raises(RuntimeError, match="disk full"):
        jobs.job_execute(job_id=job.pk)
    failed = Job.objects.get(pk=job.pk)
    assert (failed.status, failed.error, failed.done, failed.checkpoint) == (
        JobStatus.FAILED,
        jobs.CRASHED,
        1,
        {"next": 1},
    )
    event = AuditEvent.objects.get(action="job.%s.failed" % KIND)
    assert (event.result, event.detail["error"]) == ("failed", jobs.CRASHED)

    def refuse_at_two(running: Job, item: int) -> None:
        if item == 2:
            raise jobs.JobFailed("第3行无法处理")

    script.hook = refuse_at_two
    jobs.job_resume(actor=world.staff_a, job=failed)
    assert Job.objects.get(pk=job.pk).attempts == 0
    again = jobs.job_execute(job_id=job.pk)
    assert again is not None and (again.status, again.error, again.done) == (JobStatus.FAILED, "第3行无法处理", 2)
    script.hook = None
    jobs.job_resume(actor=world.staff_a, job=again)
    final = jobs.job_execute(job_id=job.pk)
    assert final is not None and final.status == JobStatus.SUCCEEDED
    assert script.seen == [0, 1, 2, 3]
    with pytest.raises(Conflict, match="只有失败或已取消"):
        jobs.job_resume(actor=world.staff_a, job=final)


def _age(job: Job, *, minutes: int, status: str = JobStatus.RUNNING, attempts: int = 1) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status,
        attempts=attempts,
        started_at=timezone.now() - dt.timedelta(hours=2),
        heartbeat_at=timezone.now() - dt.timedelta(minutes=minutes),
    )


def test_recovery_queues_a_dead_job_to_resume_and_leaves_a_live_one(
    world, script, enqueued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    dead, live = _create(world), _create(world)
    Job.objects.filter(pk=dead.pk).update(checkpoint={"next": 2}, done=2, total=3)
    _age(dead, minutes=11)
    _age(live, minutes=9)
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_recover() == 1
    assert enqueued == [dead.pk]
    requeued = Job.objects.get(pk=dead.pk)
    assert (requeued.status, requeued.attempts, requeued.done) == (JobStatus.QUEUED, 1, 2)
    assert AuditEvent.objects.get(action="job.%s.recovered" % KIND).object_id == str(dead.pk)
    # The queued delivery resumes after the checkpoint, as the second attempt.
    resumed = jobs.job_execute(job_id=dead.pk)
    assert resumed is not None and (resumed.status, resumed.attempts, resumed.result) == (
        JobStatus.SUCCEEDED,
        2,
        {"counted": 1},
    )
    assert script.seen == [2]
    assert Job.objects.get(pk=live.pk).status == JobStatus.RUNNING
    assert jobs.jobs_recover() == 0


def test_recovery_gives_up_after_max_attempts_or_when_the_kind_refuses(world, script) -> None:  # type: ignore[no-untyped-def]
    worn, refused = _create(world), _create(world)
    _age(worn, minutes=30, attempts=2)
    _age(refused, minutes=30, attempts=1)
    script.refusal = None
    assert jobs.jobs_recover(now=timezone.now()) == 2
    assert Job.objects.values_list("status", "error").get(pk=worn.pk) == (JobStatus.FAILED, jobs.GAVE_UP)
    assert Job.objects.get(pk=refused.pk).status == JobStatus.QUEUED
    _age(refused, minutes=30, attempts=1)
    script.refusal = "活动已结束，不再继续"
    assert jobs.jobs_recover() == 1
    assert Job.objects.values_list("status", "error").get(pk=refused.pk) == (JobStatus.FAILED, "活动已结束，不再继续")
    with pytest.raises(Conflict, match="活动已结束"):
        jobs.job_resume(actor=world.staff_a, job=Job.objects.get(pk=refused.pk))


def test_recovery_delivers_again_a_queued_job_whose_delivery_was_lost(
    world, script, enqueued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    lost = _create(world)
    _age(lost, minutes=30, status=JobStatus.QUEUED, attempts=0)
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_recover() == 1
    assert enqueued == [lost.pk]
    assert Job.objects.get(pk=lost.pk).status == JobStatus.QUEUED
    assert jobs.jobs_recover() == 0


def test_expiry_runs_the_kinds_hook_once_and_blocks_resuming(world, script) -> None:  # type: ignore[no-untyped-def]
    past = timezone.now() - dt.timedelta(minutes=1)
    waiting = _create(world, expires_at=past)
    failed = _create(world, expires_at=past)
    running = _create(world, expires_at=past)
    future = _create(world, expires_at=timezone.now() + dt.timedelta(hours=1))
    Job.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED)
    Job.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING, attempts=1)
    assert jobs.jobs_expire() == 2
    assert sorted(script.expired) == sorted([waiting.pk, failed.pk])
    assert Job.objects.values_list("status", "error").get(pk=waiting.pk) == (JobStatus.CANCELLED, jobs.EXPIRED)
    assert Job.objects.get(pk=failed.pk).status == JobStatus.FAILED
    assert Job.objects.get(pk=running.pk).expired_at is None
    assert Job.objects.get(pk=future.pk).expired_at is None
    assert AuditEvent.objects.filter(action="job.%s.expired" % KIND).count() == 2
    with pytest.raises(Conflict, match="已过期"):
        jobs.job_resume(actor=world.staff_a, job=Job.objects.get(pk=failed.pk))
    assert jobs.jobs_expire() == 0 and len(script.expired) == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_of_many_workers_given_the_same_job_exactly_one_claims_it(world, script) -> None:  # type: ignore[no-untyped-def]
    job = _create(world)
    barrier = threading.Barrier(6)
    claims: list[Job | None] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            claimed = jobs.job_claim(job_id=job.pk)
            with lock:
                claims.append(claimed)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claims) == 6 and sum(1 for c in claims if c is not None) == 1
    assert Job.objects.values_list("status", "attempts").get(pk=job.pk) == (JobStatus.RUNNING, 1)
    assert AuditEvent.objects.filter(action="job.%s.started" % KIND).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_cancelling_while_a_worker_commits_a_batch_says_so_instead_of_waiting(world, script) -> None:  # type: ignore[no-untyped-def]
    job = _create(world)
    claimed = jobs.job_claim(job_id=job.pk)
    assert claimed is not None
    holding, release = threading.Event(), threading.Event()

    def worker_mid_batch() -> None:
        try:
            with transaction.atomic():
                jobs.job_heartbeat(claimed, done=1)  # holds the job's row until the batch commits
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=worker_mid_batch)
    worker.start()
    try:
        assert holding.wait(10)
        with pytest.raises(Conflict, match="正在写入数据"):
            jobs.job_cancel(actor=world.staff_a, job=job)
    finally:
        release.set()
        worker.join()
    assert Job.objects.values_list("status", "done").get(pk=job.pk) == (JobStatus.RUNNING, 1)
    jobs.job_cancel(actor=world.staff_a, job=job)
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_a_job_created_without_enqueueing_is_left_for_its_caller(
    world, script, enqueued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        job = _create(world, enqueue=False)
    assert enqueued == []
    assert jobs.job_execute(job_id=job.pk).status == JobStatus.SUCCEEDED  # type: ignore[union-attr]


def test_a_personal_job_is_managed_by_its_creator_only(world) -> None:  # type: ignore[no-untyped-def]
    jobs.register_job_kind(
        "core.test_personal", label="测试导出", run=lambda job: {}, perm=BenefitPerm.CAMPAIGN_MANAGE, personal=True
    )
    try:
        job = jobs.job_create(kind="core.test_personal", organization=world.union_a, created_by=world.staff_a)
        # Another administrator of union A holds the permission, yet the job is not theirs.
        admin = grant(make_user("job_admin_a"), world.union_a, Role.ADMIN)
        with pytest.raises(PermissionDenied, match="只有发起人"):
            jobs.job_cancel(actor=admin, job=job)
        assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
        jobs.job_cancel(actor=world.staff_a, job=job)
        assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    finally:
        jobs._kinds.pop("core.test_personal", None)


def test_staff_resume_a_running_job_only_once_its_worker_is_dead_and_keep_its_attempts(
    world, script, enqueued, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    job = _create(world)
    claimed = jobs.job_claim(job_id=job.pk)
    assert claimed is not None
    with pytest.raises(Conflict, match="仍在运行"):
        jobs.job_resume(actor=world.staff_a, job=claimed)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=601))
    with django_capture_on_commit_callbacks(execute=True):
        resumed = jobs.job_resume(actor=world.staff_a, job=claimed)
    assert (resumed.status, resumed.attempts, enqueued) == (JobStatus.QUEUED, 1, [job.pk])
    # The dead attempt can never write again; the next claim is the second attempt.
    with pytest.raises(jobs.JobLost):
        jobs.job_heartbeat(claimed, done=1)
    again = jobs.job_claim(job_id=job.pk)
    assert again is not None and again.attempts == 2
    assert _actions(job) == ["queued", "started", "resumed", "started"]


def test_the_kind_hears_of_every_state_change_in_its_transaction(world, script) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, str]] = []
    kind = jobs.job_kind(KIND)
    jobs._kinds[KIND] = dataclasses.replace(kind, on_change=lambda j: seen.append((j.status, j.error)))
    job = _create(world, items=1)
    jobs.job_execute(job_id=job.pk)
    other = _create(world, items=1)
    jobs.job_cancel(actor=world.staff_a, job=other)
    assert seen == [
        (JobStatus.QUEUED, ""),
        (JobStatus.RUNNING, ""),
        (JobStatus.SUCCEEDED, ""),
        (JobStatus.QUEUED, ""),
        (JobStatus.CANCELLED, ""),
    ]
