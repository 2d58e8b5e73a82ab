"""Enrolment commits run as `mutual_aid.enrol` kernel jobs: the batch's status follows its job,
a federation's list gets a bill per union and one payment, a job whose worker died is taken
over by housekeeping and written once, and a list raced by another one enrols nobody."""

import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from gonghui.core import jobs
from gonghui.core.errors import Conflict, PermissionDenied
from gonghui.core.models import AuditEvent, Job, JobStatus
from gonghui.mutual_aid import services
from gonghui.mutual_aid.models import BatchStatus, Bill, BillStatus, Enrolment, EnrolmentBatch, EnrolmentStatus
from gonghui.mutual_aid.tests.factories import START, commit_list, list_csv, make_period
from gonghui.site.testing import World, make_member

pytestmark = pytest.mark.django_db


def _submit(world: World, period, unit, members) -> EnrolmentBatch:  # type: ignore[no-untyped-def]
    return services.enrolment_list_submit(
        actor=world.federation_admin,
        period=period,
        unit=unit,
        content=list_csv(members),
        filename="名单.csv",
        today=START,
        enqueue=False,
    )


def test_a_federation_list_gets_a_bill_per_union_and_one_payment(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    a = [world.member_a, make_member(world.union_a, name="钱一")]
    b = [world.member_b]
    batch = _submit(world, period, world.street, a + b)
    assert batch.status == BatchStatus.QUEUED and batch.job.status == JobStatus.QUEUED and batch.upload_encrypted
    batch = services.enrolment_batch_run(batch=batch)
    assert (batch.status, batch.bill_count, batch.member_count, batch.amount_fen) == (
        BatchStatus.SUCCEEDED,
        2,
        3,
        30_000,
    )
    assert batch.upload_encrypted == "" and batch.job.status == JobStatus.SUCCEEDED
    bills = {bill.organization_id: bill for bill in Bill.objects.filter(batch=batch)}
    assert {k: (v.member_count, v.amount_fen) for k, v in bills.items()} == {
        world.union_a.pk: (2, 20_000),
        world.union_b.pk: (1, 10_000),
    }
    assert dict(Enrolment.objects.values_list("member_id", "organization_id")) == {
        a[0].pk: world.union_a.pk,
        a[1].pk: world.union_a.pk,
        world.member_b.pk: world.union_b.pk,
    }
    events = AuditEvent.objects.filter(action="mutual_aid.enrol_list").order_by("seq")
    assert sorted(e.object_id for e in events) == sorted(str(pk) for pk in (b.pk for b in bills.values()))
    with pytest.raises(PermissionDenied):
        services.batch_pay(actor=world.staff_a, batch=batch, paid_on=START, payment_ref="X")
    assert services.batch_pay(actor=world.federation_admin, batch=batch, paid_on=START, payment_ref="HD-9") == 2
    assert set(Bill.objects.values_list("status", "payment_ref")) == {(BillStatus.PAID, "HD-9")}
    assert set(Enrolment.objects.values_list("status", "enrolled_on")) == {(EnrolmentStatus.ACTIVE, START)}
    assert AuditEvent.objects.filter(action="mutual_aid.bill_pay").count() == 2
    with pytest.raises(Conflict, match="没有待缴费"):
        services.batch_pay(actor=world.federation_admin, batch=batch, paid_on=START, payment_ref="HD-9")


def test_a_job_whose_worker_died_is_taken_over_and_written_once(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    batch = _submit(world, period, world.union_a, [world.member_a])
    job = jobs.job_claim(job_id=batch.job_id)
    assert job is not None
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RUNNING
    # The worker dies: no heartbeat for longer than the kind's stale-after.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=2))
    assert jobs.jobs_recover() == 1
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUEUED and batch.job.status == JobStatus.QUEUED
    with pytest.raises(jobs.JobLost):  # the dead attempt can no longer write
        services.enrol_batch_job(job)
    batch = services.enrolment_batch_run(batch=batch)
    assert batch.status == BatchStatus.SUCCEEDED and batch.job.attempts == 2
    assert Enrolment.objects.filter(member=world.member_a).count() == 1
    assert services.enrol_batch_job(Job.objects.get(pk=job.pk)) == {"batch": batch.pk, "bills": 1}


def test_a_list_raced_by_another_enrols_nobody_and_a_failed_one_can_be_cancelled_or_resumed(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    first = _submit(world, period, world.union_a, [world.member_a])
    second = _submit(world, period, world.union_a, [world.member_a])
    # Both were checked before either wrote (the check finds nobody enrolled); the unique
    # constraint stops the second.
    check = services.enrolment_list_check(
        period=period, unit=world.union_a, stream=services._upload(second), filename="名单.csv"
    )
    assert services.enrolment_batch_run(batch=first).status == BatchStatus.SUCCEEDED
    job = jobs.job_claim(job_id=second.job_id)
    assert job is not None
    with pytest.raises(IntegrityError, match="aid_enrol_once_per_period"):
        services._write_bills(job, EnrolmentBatch.objects.select_related("period").get(pk=second.pk), check)
    jobs.job_fail(job=job, error=services.ENROL_RACED)
    second.refresh_from_db()
    assert second.status == BatchStatus.FAILED and second.error_message == services.ENROL_RACED
    assert Enrolment.objects.filter(member=world.member_a).count() == 1 and Bill.objects.count() == 1
    resumed = jobs.job_resume(actor=world.federation_admin, job=second.job)
    assert resumed.status == JobStatus.QUEUED
    second.refresh_from_db()
    assert second.status == BatchStatus.QUEUED and second.error_message == ""
    second = services.enrolment_batch_run(batch=second)
    assert second.status == BatchStatus.FAILED and "1 行未通过校验" in second.error_message
    third = commit_list(world.staff_a, period, world.union_a, list_csv([make_member(world.union_a, name="孙二")]))
    assert third.status == BatchStatus.SUCCEEDED
    queued = _submit(world, period, world.union_a, [make_member(world.union_a, name="周三")])
    jobs.job_cancel(actor=world.staff_a, job=queued.job)
    queued.refresh_from_db()
    assert queued.status == BatchStatus.CANCELLED and queued.error_message == services.ENROL_CANCELLED
    jobs.jobs_expire(now=timezone.now() + dt.timedelta(hours=services.UPLOAD_KEEP_HOURS + 1))
    queued.refresh_from_db()
    assert queued.upload_encrypted == ""
    with pytest.raises(Conflict, match="已过期"):
        jobs.job_resume(actor=world.staff_a, job=queued.job)
