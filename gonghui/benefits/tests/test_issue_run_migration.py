"""Migrations 0003–0005 carry every existing 定向发放 run onto a core.Job, and back."""

import datetime as dt

import pytest
from django.utils import timezone

from gonghui.benefits.models import IssueRun
from gonghui.benefits.tests.factories import make_campaign
from gonghui.core.models import Job, JobStatus
from gonghui.site.testing import migrate_all, migrate_app

BEFORE = ("benefits", "0002_issue_run_progressed_at")
AFTER = ("benefits", "0005_issue_run_lifecycle_fields_removed")


@pytest.mark.django_db(transaction=True)
def test_existing_runs_get_a_job_with_their_status_progress_and_times(world) -> None:  # type: ignore[no-untyped-def]
    done_campaign = make_campaign(world.union_a, world.staff_a, mode="targeted")
    live_campaign = make_campaign(world.union_a, world.staff_a, mode="targeted")
    try:
        old = migrate_app(*BEFORE)
        OldRun = old.get_model("benefits", "IssueRun")
        started = timezone.now() - dt.timedelta(hours=3)
        done = OldRun.objects.create(
            campaign_id=done_campaign.pk,
            organization_id=world.union_a.pk,
            started_by_id=world.staff_a.pk,
            status="done",
            started_at=started,
            progressed_at=started + dt.timedelta(minutes=5),
            finished_at=started + dt.timedelta(minutes=6),
            total=7,
            processed=7,
            issued=6,
            skipped=1,
            cursor=99,
        )
        failed = OldRun.objects.create(
            campaign_id=live_campaign.pk,
            organization_id=world.union_a.pk,
            started_by_id=world.staff_a.pk,
            status="failed",
            started_at=started,
            total=9,
            processed=4,
            issued=4,
            cursor=40,
            error="发放时发生系统错误",
        )
        running = OldRun.objects.create(
            campaign_id=live_campaign.pk,
            organization_id=world.union_a.pk,
            started_by_id=world.staff_a.pk,
            status="running",
            started_at=started,
            progressed_at=started + dt.timedelta(minutes=1),
            total=9,
            processed=2,
        )
        migrate_app(*AFTER)
        carried = {run.pk: run for run in IssueRun.objects.select_related("job")}
        a, b, c = carried[done.pk], carried[failed.pk], carried[running.pk]
        assert (a.job.kind, a.job.key, a.job.status, a.job.done, a.job.total) == (
            "benefits.issue_run",
            "campaign:%d" % done_campaign.pk,
            JobStatus.SUCCEEDED,
            7,
            7,
        )
        assert (a.issued, a.skipped, a.cursor, a.job.result) == (6, 1, 99, {"issued": 6, "skipped": 1})
        assert (a.job.started_at, a.job.finished_at, a.job.created_by_id) == (
            started,
            started + dt.timedelta(minutes=6),
            world.staff_a.pk,
        )
        assert (b.job.status, b.job.error, b.job.done, b.cursor) == (JobStatus.FAILED, "发放时发生系统错误", 4, 40)
        assert (c.job.status, c.job.attempts, c.job.heartbeat_at) == (
            JobStatus.RUNNING,
            1,
            started + dt.timedelta(minutes=1),
        )
        assert a.job.created_at == a.created_at
        assert Job.objects.count() == 3
        # And back: the runs get their status and progress again, the jobs are gone.
        old = migrate_app(*BEFORE)
        back = {r.pk: r for r in old.get_model("benefits", "IssueRun").objects.all()}
        assert (back[done.pk].status, back[done.pk].processed, back[done.pk].total) == ("done", 7, 7)
        assert (back[failed.pk].status, back[failed.pk].error) == ("failed", "发放时发生系统错误")
        assert (back[running.pk].status, back[running.pk].processed) == ("running", 2)
        assert old.get_model("core", "Job").objects.count() == 0
    finally:
        migrate_all()
