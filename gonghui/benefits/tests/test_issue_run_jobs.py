"""定向发放 runs are `benefits.issue_run` jobs (gonghui/core/jobs.py): they always end
succeeded, failed or cancelled; an unexpected error fails the run with a reason (it can still
be resumed after its cursor), and housekeeping's jobs_recover queues again a run whose worker
died (issue 9 item 12, issue 11 item 4)."""

import datetime as dt
import threading
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from gonghui.benefits import services
from gonghui.benefits.models import Campaign, CampaignStatus, Coupon, IssueRun
from gonghui.benefits.tests.test_issuance import _outdoor_members, _targeted
from gonghui.core import housekeeping, jobs
from gonghui.core.errors import Conflict, PermissionDenied
from gonghui.core.models import AuditEvent, Job, JobStatus

pytestmark = pytest.mark.django_db


def _chore() -> housekeeping.Registered:
    return {c.name: c for c in housekeeping.chores()}["jobs_recover"]


def test_an_unexpected_error_fails_the_run_with_a_reason_and_is_raised(world, point_a, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    campaign = _targeted(world, point_a)
    _outdoor_members(world, 3)
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)

    def broken(coupons: list[Coupon], *, attempts: int = 5) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_insert_with_fresh_codes", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        services.issue_run_execute(run_id=run.pk)
    job = Job.objects.get(pk=run.job_id)
    assert (job.status, job.error, job.done) == (JobStatus.FAILED, services.ISSUE_RUN_CRASHED, 0)
    assert job.finished_at is not None and Coupon.objects.count() == 0
    event = AuditEvent.objects.get(action="job.benefits.issue_run.failed")
    assert (event.result, event.detail["error"]) == ("failed", services.ISSUE_RUN_CRASHED)
    # A second delivery leaves the failed run alone; resuming it issues everything.
    assert services.issue_run_execute(run_id=run.pk).job.status == JobStatus.FAILED
    monkeypatch.undo()
    services.issue_run_resume(actor=world.staff_a, run=run)
    assert (services.issue_run_execute(run_id=run.pk).job.status, Coupon.objects.count()) == (
        JobStatus.SUCCEEDED,
        3,
    )


def _running(run: IssueRun, *, heartbeat: dt.datetime) -> None:
    Job.objects.filter(pk=run.job_id).update(
        status=JobStatus.RUNNING, attempts=1, started_at=heartbeat - dt.timedelta(hours=1), heartbeat_at=heartbeat
    )


def test_housekeeping_queues_again_a_run_whose_worker_died_and_leaves_a_live_one(
    world, point_a, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    now = timezone.now()
    dead_campaign, live_campaign = _targeted(world, point_a), _targeted(world, point_a)
    _outdoor_members(world, 2)
    dead = services.issue_run_start(actor=world.staff_a, campaign=dead_campaign)
    live = services.issue_run_start(actor=world.staff_a, campaign=live_campaign)
    _running(dead, heartbeat=now - dt.timedelta(hours=1))
    _running(live, heartbeat=now - dt.timedelta(minutes=5))
    queued: list[int] = []
    monkeypatch.setattr(jobs, "job_run_task", SimpleNamespace(enqueue=queued.append))
    with django_capture_on_commit_callbacks(execute=True):
        assert _chore().run() == 1
    assert queued == [dead.job_id]
    job = Job.objects.get(pk=dead.job_id)
    assert job.status == JobStatus.QUEUED and job.heartbeat_at is not None and job.heartbeat_at >= now
    assert AuditEvent.objects.get(action="job.benefits.issue_run.recovered").object_id == str(dead.job_id)
    # The queued delivery resumes the run after its cursor; the live run was not touched.
    resumed = services.issue_run_execute(run_id=dead.pk)
    assert (resumed.job.status, resumed.job.attempts, dead_campaign.coupons.count()) == (JobStatus.SUCCEEDED, 2, 2)
    assert Job.objects.get(pk=live.job_id).heartbeat_at == now - dt.timedelta(minutes=5)
    assert _chore().run() == 0


def test_housekeeping_fails_a_dead_run_whose_campaign_was_closed(world, point_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    campaign = _targeted(world, point_a)
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)
    _running(run, heartbeat=timezone.now() - dt.timedelta(hours=1))
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED)
    assert _chore().run() == 1
    job = Job.objects.get(pk=run.job_id)
    assert (job.status, job.error) == (JobStatus.FAILED, services.ISSUE_RUN_STOPPED)


def test_housekeeping_gives_up_on_a_run_that_keeps_dying(world, point_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    run = services.issue_run_start(actor=world.staff_a, campaign=_targeted(world, point_a))
    _running(run, heartbeat=timezone.now() - dt.timedelta(hours=1))
    Job.objects.filter(pk=run.job_id).update(attempts=3)
    assert _chore().run() == 1
    assert Job.objects.values_list("status", "error").get(pk=run.job_id) == (JobStatus.FAILED, jobs.GAVE_UP)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection cancels while a batch is written")
def test_a_cancelled_run_stops_before_its_next_batch_and_resumes_after_its_cursor(world, point_a, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "ISSUE_BATCH", 2)
    campaign = _targeted(world, point_a)
    members = sorted(m.pk for m in _outdoor_members(world, 5))
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)
    original = services._insert_with_fresh_codes
    calls: list[int] = []

    def cancel_during_second_batch(coupons: list[Coupon], *, attempts: int = 5) -> None:
        calls.append(len(coupons))
        original(coupons, attempts=attempts)
        if len(calls) == 2:  # staff cancel on the page while the second batch is being written
            cancel = threading.Thread(target=cancel_elsewhere)
            cancel.start()
            cancel.join()

    def cancel_elsewhere() -> None:
        try:
            services.issue_run_cancel(actor=world.staff_a, run=IssueRun.objects.select_related("job").get(pk=run.pk))
        finally:
            connection.close()

    monkeypatch.setattr(services, "_insert_with_fresh_codes", cancel_during_second_batch)
    stopped = services.issue_run_execute(run_id=run.pk)
    # The second batch was being written when the run was cancelled: it was rolled back.
    assert (stopped.job.status, stopped.job.done, stopped.issued, stopped.cursor) == (
        JobStatus.CANCELLED,
        2,
        2,
        members[1],
    )
    assert Coupon.objects.count() == 2
    assert Campaign.objects.get(pk=campaign.pk).stock == 98
    with pytest.raises(Conflict, match="已结束"):
        services.issue_run_cancel(actor=world.staff_a, run=stopped)
    with pytest.raises(PermissionDenied):
        services.issue_run_resume(actor=world.staff_b, run=stopped)
    monkeypatch.setattr(services, "_insert_with_fresh_codes", original)
    services.issue_run_resume(actor=world.staff_a, run=stopped)
    finished = services.issue_run_execute(run_id=run.pk)
    assert (finished.job.status, finished.job.done, finished.issued, Coupon.objects.count()) == (
        JobStatus.SUCCEEDED,
        5,
        5,
        5,
    )


def test_the_run_page_offers_cancel_while_active_and_resume_after(world, point_a) -> None:  # type: ignore[no-untyped-def]
    run = services.issue_run_start(actor=world.staff_a, campaign=_targeted(world, point_a))
    client = world.client_for(world.staff_a)
    page = client.get("/console/benefits/runs/%d/" % run.pk).content.decode()
    assert 'data-testid="run-cancel"' in page and 'data-testid="run-resume"' not in page
    assert world.client_for(world.staff_b).post("/console/benefits/runs/%d/cancel/" % run.pk).status_code == 404
    assert Job.objects.get(pk=run.job_id).status == JobStatus.QUEUED
    client.post("/console/benefits/runs/%d/cancel/" % run.pk)
    assert Job.objects.get(pk=run.job_id).status == JobStatus.CANCELLED
    page = client.get("/console/benefits/runs/%d/" % run.pk).content.decode()
    assert 'data-testid="run-resume"' in page and 'data-testid="run-cancel"' not in page
    assert 'data-status="cancelled"' in page
