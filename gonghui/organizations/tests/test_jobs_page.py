"""后台任务: the console list of background jobs, scoped to the actor's sub-tree per job kind's
permission, with 取消 and 重试."""

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghui.benefits.permissions import BenefitPerm
from gonghui.core import jobs
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_user

pytestmark = pytest.mark.django_db

URL = "/console/organizations/jobs/"
ISSUE, IMPORT = "benefits.issue_run", "health.import"


def _job(org, kind: str = ISSUE, **fields) -> Job:  # type: ignore[no-untyped-def]
    return Job.objects.create(kind=kind, organization=org, **fields)


def _shown(client) -> set[int]:  # type: ignore[no-untyped-def]
    html = client.get(URL).content.decode()
    return {job.pk for job in Job.objects.all() if 'data-testid="job-%d"' % job.pk in html}


def test_each_actor_sees_the_jobs_of_their_sub_tree_and_kinds(world: World) -> None:
    a_issue, a_import = _job(world.union_a), _job(world.union_a, IMPORT)
    b_issue = _job(world.union_b)
    health_a = grant(make_user("health_only_a"), world.union_a, Role.HEALTH)
    assert _shown(world.client_for(world.staff_a)) == {a_issue.pk, a_import.pk}
    assert _shown(world.client_for(world.staff_b)) == {b_issue.pk}
    assert _shown(world.client_for(world.federation_admin)) == {a_issue.pk, b_issue.pk}  # no health role
    assert _shown(world.client_for(health_a)) == {a_import.pk}
    assert _shown(world.client_for(world.auditor_b)) == set()


def test_status_filter_and_the_buttons_follow_the_status(world: World) -> None:
    queued = _job(world.union_a)
    failed = _job(world.union_a, status=JobStatus.FAILED, error="发放时发生系统错误")
    done = _job(world.union_a, status=JobStatus.SUCCEEDED)
    html = world.client_for(world.staff_a).get(URL).content.decode()
    assert 'data-testid="job-cancel-%d"' % queued.pk in html and 'data-testid="job-retry-%d"' % queued.pk not in html
    assert 'data-testid="job-retry-%d"' % failed.pk in html and "发放时发生系统错误" in html
    assert 'data-testid="job-cancel-%d"' % done.pk not in html and 'data-testid="job-retry-%d"' % done.pk not in html
    filtered = world.client_for(world.staff_a).get(URL, {"status": "failed"}).content.decode()
    assert 'data-testid="job-%d"' % failed.pk in filtered and 'data-testid="job-%d"' % queued.pk not in filtered
    assert world.client_for(world.staff_a).get(URL, {"status": "<bad>"}).status_code == 200


@pytest.fixture
def plain_kind() -> Iterator[str]:
    """A kind with no domain row behind it (定向发放 would refuse a retry of a run it cannot find)."""
    jobs.register_job_kind(
        "organizations.test_plain", label="测试任务", run=lambda job: {}, perm=BenefitPerm.CAMPAIGN_MANAGE
    )
    yield "organizations.test_plain"
    jobs._kinds.pop("organizations.test_plain", None)


def test_cancel_and_retry_from_the_page(world: World, plain_kind: str) -> None:
    job = jobs.job_create(kind=plain_kind, organization=world.union_a, created_by=world.staff_a, enqueue=False)
    client = world.client_for(world.staff_a)
    assert client.post(URL + "%d/cancel/" % job.pk)["Location"] == URL
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    client.post(URL + "%d/retry/" % job.pk)
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert AuditEvent.objects.filter(action="job.%s.resumed" % plain_kind, actor_id=world.staff_a.pk).count() == 1
    # Cancelling twice says why, in Chinese, and changes nothing.
    client.post(URL + "%d/cancel/" % job.pk)
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    page = client.post(URL + "%d/cancel/" % job.pk, follow=True).content.decode()
    assert "该任务已结束，不能取消" in page


def test_staff_of_a_sibling_union_can_neither_cancel_nor_retry(world: World) -> None:
    job = _job(world.union_a)
    client = world.client_for(world.staff_b)
    assert client.post(URL + "%d/cancel/" % job.pk).status_code == 404
    failed = _job(world.union_a, status=JobStatus.FAILED)
    assert client.post(URL + "%d/retry/" % failed.pk).status_code == 404
    assert list(Job.objects.order_by("pk").values_list("status", flat=True)) == [JobStatus.QUEUED, JobStatus.FAILED]
    assert not AuditEvent.objects.filter(action__startswith="job.").exists()


def test_the_list_runs_a_fixed_number_of_queries(world: World) -> None:
    client = world.client_for(world.staff_a)
    _job(world.union_a)
    client.get(URL)
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for _ in range(10):
        _job(world.union_a, created_by=world.staff_a)
        _job(world.union_a, IMPORT, status=JobStatus.FAILED)
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(one)


def test_a_personal_job_shows_to_its_creator_only(world: World) -> None:
    jobs.register_job_kind(
        "organizations.test_personal",
        label="测试导出",
        run=lambda job: {},
        perm=BenefitPerm.CAMPAIGN_MANAGE,
        personal=True,
    )
    try:
        mine = _job(world.union_a, "organizations.test_personal", created_by=world.staff_a)
        colleague = grant(make_user("colleague_a"), world.union_a, Role.ADMIN, Role.HANDLER)
        assert mine.pk in _shown(world.client_for(world.staff_a))
        assert mine.pk not in _shown(world.client_for(colleague))
        assert world.client_for(colleague).post(URL + "%d/cancel/" % mine.pk).status_code == 404
        assert Job.objects.get(pk=mine.pk).status == JobStatus.QUEUED
    finally:
        jobs._kinds.pop("organizations.test_personal", None)
