import pytest
from django.core.management import call_command
from django.db.models import Count

from gonghui.benefits import services
from gonghui.benefits.models import Campaign, Coupon, CouponStatus, IssueRun, IssueSkip, SkipReason
from gonghui.benefits.tests.factories import make_campaign
from gonghui.core import jobs
from gonghui.core.errors import Conflict
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.members.models import MembershipStatus, Tag
from gonghui.site.testing import make_member

pytestmark = pytest.mark.django_db


def _targeted(world, point, *, stock=100, limit=1):
    return make_campaign(
        world.union_a,
        world.staff_b,  # created by someone else; staff_a only starts the run
        points=[point],
        mode="targeted",
        stock=stock,
        limit=limit,
        target_tags=Tag.OUTDOOR,
    )


def _outdoor_members(world, n, **fields):
    return [make_member(world.union_a, name="户外%d" % i, tags=Tag.OUTDOOR | Tag.MIGRANT, **fields) for i in range(n)]


def test_issue_assigns_codes_to_every_eligible_member_and_reports_the_skipped(
    world, point_a, django_capture_on_commit_callbacks
):
    campaign = _targeted(world, point_a, stock=100, limit=2)
    served = _outdoor_members(world, 3)
    withdrawn = make_member(world.union_a, tags=Tag.OUTDOOR, status=MembershipStatus.WITHDRAWN)
    make_member(world.union_a, tags=Tag.COURIER)  # not targeted at all
    make_member(world.union_b, tags=Tag.OUTDOOR)  # outside the target organisation
    with django_capture_on_commit_callbacks() as callbacks:
        run = services.issue_run_start(actor=world.staff_a, campaign=campaign)
    assert len(callbacks) == 1  # the task is enqueued after commit
    run = services.issue_run_execute(run_id=run.pk)
    assert (run.job.status, run.job.total, run.job.done, run.issued, run.skipped) == (JobStatus.SUCCEEDED, 4, 4, 3, 1)
    assert run.job.percent == 100
    coupons = Coupon.objects.filter(campaign=campaign)
    assert coupons.count() == 6
    assert set(coupons.values_list("member_id", flat=True)) == {m.pk for m in served}
    assert set(coupons.values_list("status", flat=True)) == {CouponStatus.ASSIGNED}
    assert sorted(coupons.filter(member=served[0]).values_list("seq", flat=True)) == [1, 2]
    assert Campaign.objects.get(pk=campaign.pk).stock == 94
    skip = IssueSkip.objects.get(run=run)
    assert (skip.member_id, skip.reason) == (withdrawn.pk, SkipReason.NOT_ACTIVE)
    queued = AuditEvent.objects.get(action="job.benefits.issue_run.queued")
    assert (queued.actor_id, queued.object_id, queued.detail["key"]) == (
        world.staff_a.pk,
        str(run.job_id),
        "campaign:%d" % campaign.pk,
    )
    assert AuditEvent.objects.get(action="job.benefits.issue_run.succeeded").detail["issued"] == 3


def test_running_issuance_twice_issues_nothing_new(world, point_a):
    campaign = _targeted(world, point_a)
    _outdoor_members(world, 5)
    first = services.issue_run_execute(run_id=services.issue_run_start(actor=world.staff_a, campaign=campaign).pk)
    codes_before = set(Coupon.objects.filter(campaign=campaign).values_list("code", flat=True))
    second = services.issue_run_execute(run_id=services.issue_run_start(actor=world.staff_a, campaign=campaign).pk)
    assert (first.issued, second.issued, second.skipped) == (5, 0, 5)
    assert set(IssueSkip.objects.filter(run=second).values_list("reason", flat=True)) == {SkipReason.ALREADY_ISSUED}
    assert set(Coupon.objects.filter(campaign=campaign).values_list("code", flat=True)) == codes_before
    assert Campaign.objects.get(pk=campaign.pk).stock == 95
    # Executing a finished run again is a no-op.
    again = services.issue_run_execute(run_id=first.pk)
    assert (again.job.status, again.job.attempts, again.issued) == (JobStatus.SUCCEEDED, 1, 5)
    assert Coupon.objects.filter(campaign=campaign).count() == 5


def test_stock_runs_out_and_the_rest_are_skipped_for_stock(world, point_a):
    campaign = _targeted(world, point_a, stock=5, limit=2)
    members = _outdoor_members(world, 4)
    run = services.issue_run_execute(run_id=services.issue_run_start(actor=world.staff_a, campaign=campaign).pk)
    assert (run.issued, run.skipped) == (2, 2)
    assert Campaign.objects.get(pk=campaign.pk).stock == 1
    assert set(IssueSkip.objects.filter(run=run).values_list("member_id", "reason")) == {
        (members[2].pk, SkipReason.OUT_OF_STOCK),
        (members[3].pk, SkipReason.OUT_OF_STOCK),
    }


def test_batches_resume_after_the_cursor(world, point_a, monkeypatch):
    monkeypatch.setattr(services, "ISSUE_BATCH", 2)
    campaign = _targeted(world, point_a)
    _outdoor_members(world, 5)
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)
    job = jobs.job_claim(job_id=run.job_id)
    assert job is not None
    jobs.job_heartbeat(job, total=5)
    # One batch done, then the worker failed.
    assert services._issue_batch(run_id=run.pk, campaign=campaign, job=job) is True
    assert (Job.objects.get(pk=job.pk).done, IssueRun.objects.get(pk=run.pk).issued) == (2, 2)
    jobs.job_fail(job=job, error="worker lost")
    services.issue_run_resume(actor=world.staff_a, run=IssueRun.objects.get(pk=run.pk))
    run = services.issue_run_execute(run_id=run.pk)
    assert (run.job.status, run.job.done, run.issued, run.skipped) == (JobStatus.SUCCEEDED, 5, 5, 0)
    per_member = Coupon.objects.filter(campaign=campaign).values("member").annotate(n=Count("id"))
    assert {row["n"] for row in per_member} == {1}


def test_only_one_active_run_and_only_for_published_targeted_campaigns(world, point_a):
    campaign = _targeted(world, point_a)
    services.issue_run_start(actor=world.staff_a, campaign=campaign)
    with pytest.raises(Conflict, match="正在进行"):
        services.issue_run_start(actor=world.staff_a, campaign=campaign)
    first_come = make_campaign(world.union_a, world.staff_b, points=[point_a])
    with pytest.raises(Conflict, match="先到先得"):
        services.issue_run_start(actor=world.staff_a, campaign=first_come)
    draft = make_campaign(world.union_a, world.staff_b, points=[point_a], mode="targeted", status="draft")
    with pytest.raises(Conflict, match="发布后"):
        services.issue_run_start(actor=world.staff_a, campaign=draft)
    assert IssueRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_task_is_enqueued_on_commit_and_runs_in_the_database_worker(world, point_a):
    campaign = _targeted(world, point_a)
    _outdoor_members(world, 3)
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)
    assert IssueRun.objects.get(pk=run.pk).job.status == JobStatus.QUEUED
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    run.refresh_from_db()
    run.job.refresh_from_db()
    assert (run.job.status, run.issued) == (JobStatus.SUCCEEDED, 3)


def test_progress_page_polls_while_running_and_stops_when_done(world, point_a):
    campaign = _targeted(world, point_a)
    _outdoor_members(world, 2)
    run = services.issue_run_start(actor=world.staff_a, campaign=campaign)
    client = world.client_for(world.staff_a)
    fragment = client.get("/console/benefits/runs/%d/progress/" % run.pk).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert 'data-status="queued"' in fragment
    services.issue_run_execute(run_id=run.pk)
    fragment = client.get("/console/benefits/runs/%d/progress/" % run.pk).content.decode()
    assert "hx-trigger" not in fragment
    assert 'data-status="succeeded"' in fragment
    assert "100%" in fragment
    page = client.get("/console/benefits/runs/%d/" % run.pk)
    assert page.status_code == 200
    assert "没有被跳过的会员" in page.content.decode()
