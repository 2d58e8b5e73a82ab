"""定向发放 runs always end done or failed: an unexpected error fails the run with a reason
(it can still be resumed after its cursor), and housekeeping queues again a run whose worker
died (issue 9 item 12)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from gonghui.benefits import services, tasks
from gonghui.benefits.models import Campaign, CampaignStatus, Coupon, IssueRun, RunStatus
from gonghui.benefits.tests.test_issuance import _outdoor_members, _targeted
from gonghui.core import housekeeping
from gonghui.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _chore() -> housekeeping.Registered:
    return {c.name: c for c in housekeeping.chores()}["issue_run_recover"]


def test_an_unexpected_error_fails_the_run_with_a_reason_and_is_raised(world, point_a, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    campaign = _targeted(world, point_a)
    _outdoor_members(world, 3)
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)

    def broken(coupons: list[Coupon], *, attempts: int = 5) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_insert_with_fresh_codes", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        services.issue_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error, run.processed) == (RunStatus.FAILED, services.ISSUE_RUN_CRASHED, 0)
    assert run.finished_at is not None and Coupon.objects.count() == 0
    event = AuditEvent.objects.get(action="campaign.issue_fail")
    assert (event.result, event.detail["error"]) == ("failed", services.ISSUE_RUN_CRASHED)
    # A second delivery leaves the failed run alone; resuming it issues everything.
    assert services.issue_run_execute(run_id=run.pk).status == RunStatus.FAILED
    monkeypatch.undo()
    services.issue_run_resume(actor=world.staff_a, run=run)
    assert (services.issue_run_execute(run_id=run.pk).status, Coupon.objects.count()) == (RunStatus.DONE, 3)


def test_housekeeping_queues_again_a_run_whose_worker_died_and_leaves_a_live_one(
    world, point_a, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    now = timezone.now()
    dead_campaign, live_campaign = _targeted(world, point_a), _targeted(world, point_a)
    _outdoor_members(world, 2)
    dead = services.issue_run_start(actor=world.staff_a, campaign=dead_campaign)
    live = services.issue_run_start(actor=world.staff_a, campaign=live_campaign)
    IssueRun.objects.filter(pk=dead.pk).update(
        status=RunStatus.RUNNING, started_at=now - dt.timedelta(hours=2), progressed_at=now - dt.timedelta(hours=1)
    )
    IssueRun.objects.filter(pk=live.pk).update(
        status=RunStatus.RUNNING, started_at=now - dt.timedelta(hours=2), progressed_at=now - dt.timedelta(minutes=5)
    )
    queued: list[int] = []
    monkeypatch.setattr(tasks, "issue_run_task", SimpleNamespace(enqueue=queued.append))
    with django_capture_on_commit_callbacks(execute=True):
        assert _chore().run() == 1
    assert queued == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == RunStatus.RUNNING and dead.progressed_at >= now
    assert AuditEvent.objects.get(action="campaign.issue_recover").object_id == str(dead.pk)
    # The queued delivery resumes the run after its cursor; the live run was not touched.
    assert (services.issue_run_execute(run_id=dead.pk).status, dead_campaign.coupons.count()) == (RunStatus.DONE, 2)
    assert IssueRun.objects.get(pk=live.pk).progressed_at == now - dt.timedelta(minutes=5)
    assert _chore().run() == 0


def test_housekeeping_fails_a_dead_run_whose_campaign_was_closed(world, point_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    campaign = _targeted(world, point_a)
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)
    IssueRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED)
    assert _chore().run() == 1
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, services.ISSUE_RUN_STOPPED)
