import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from gonghui.core import registry
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent, JobStatus
from gonghui.mutual_aid import selectors, services
from gonghui.mutual_aid.models import (
    BatchStatus,
    Bill,
    BillStatus,
    Claim,
    ClaimStatus,
    Enrolment,
    EnrolmentBatch,
    EnrolmentStatus,
)
from gonghui.mutual_aid.tests.factories import (
    START,
    approver_of,
    bill_for,
    claim_input,
    commit_list,
    enrol,
    finance_of,
    list_csv,
    make_period,
    period_input,
    submit,
)
from gonghui.site.testing import World, make_member

pytestmark = pytest.mark.django_db


def test_period_validation_is_in_chinese_and_nothing_is_made(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.period_create(
            actor=world.federation_admin,
            organization=world.city,
            data=period_input(ends_on=START, premium_fen=0, min_age=70),
        )
    assert caught.value.fields == {
        "premium_fen": "每人互助金应大于 0",
        "ends_on": "保障结束日期应晚于开始日期",
        "enrol_closes_on": "参保截止日期不能晚于保障结束日期",
        "max_age": "年龄范围应在 0 到 120 岁之间，且最高年龄不低于最低年龄",
    }
    with pytest.raises(PermissionDenied):
        make_period(world.staff_a, world.city)
    period = make_period(world.federation_admin, world.city)
    with pytest.raises(ValidationFailed, match="第 7 期已存在"):
        make_period(world.federation_admin, world.city)
    assert period.premium_fen == 10_000


def test_enrolment_list_dry_run_refuses_the_whole_list_and_reports_rows(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    old = make_member(world.union_a, name="王五", birth=dt.date(1950, 3, 3))
    content = list_csv([world.member_a, old, world.member_b], extra=[("赵六", "12345"), ("张三", "")])
    batch = commit_list(world.staff_a, period, world.union_a, content)
    assert (batch.status, batch.rows, batch.refused, batch.bill_count) == (BatchStatus.FAILED, 5, 4, 0)
    assert "4 行未通过校验" in batch.error_message and batch.job.status == JobStatus.FAILED
    assert Bill.objects.count() == 0 and Enrolment.objects.count() == 0
    report = load_workbook(io.BytesIO(services.enrolment_batch_report(actor=world.staff_a, batch=batch).content))
    assert [row[-1] for row in report.worksheets[0].iter_rows(min_row=2, values_only=True)] == [
        "年龄不在 16 至 65 岁之间",
        "本单位没有该证件号码的会员",
        "身份证号码应为18位，前17位为数字，末位为数字或X",
        "证件号码为空",
    ]
    with pytest.raises(PermissionDenied):
        services.enrolment_batch_report(actor=world.staff_b, batch=batch)
    check = services.enrolment_list_check(
        period=period, unit=world.union_a, stream=io.BytesIO(content), filename="a.csv"
    )
    assert [(e.row_no, e.reason) for e in check.errors] == [
        (3, "年龄不在 16 至 65 岁之间"),
        (4, "本单位没有该证件号码的会员"),
        (5, "身份证号码应为18位，前17位为数字，末位为数字或X"),
        (6, "证件号码为空"),
    ]
    assert check.members == [(world.member_a.pk, False, world.union_a.pk)]


def test_enrolment_is_active_only_once_paid_and_a_member_cannot_enrol_twice(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    second = make_member(world.union_a, name="钱七")
    bill = bill_for(world.staff_a, period, world.union_a, [world.member_a, second])
    assert (bill.member_count, bill.amount_fen, bill.status) == (2, 20_000, BillStatus.UNPAID)
    assert set(Enrolment.objects.values_list("status", flat=True)) == {EnrolmentStatus.PENDING}
    enrolment = Enrolment.objects.get(member=world.member_a)
    with pytest.raises(Conflict, match="尚未参保生效"):
        submit(world.staff_a, enrolment)
    again = commit_list(world.staff_a, period, world.union_a, list_csv([world.member_a]))
    assert again.status == BatchStatus.FAILED and "1 行未通过校验" in again.error_message
    assert Enrolment.objects.filter(member=world.member_a).count() == 1
    paid = services.bill_pay(actor=world.staff_a, bill=bill, paid_on=dt.date(2026, 3, 5), payment_ref="回单 001")
    assert paid.status == BillStatus.PAID
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.enrolled_on, enrolment.first_enrolment) == (
        EnrolmentStatus.ACTIVE,
        dt.date(2026, 3, 5),
        True,
    )
    with pytest.raises(Conflict, match="状态为“已缴费”"):
        services.bill_pay(actor=world.staff_a, bill=bill, paid_on=dt.date(2026, 3, 5), payment_ref="x")


def test_enrolling_outside_the_window_or_another_unit_is_refused(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    with pytest.raises(Conflict, match="不在参保期内"):
        commit_list(world.staff_a, period, world.union_a, list_csv([world.member_a]), today=dt.date(2026, 12, 1))
    with pytest.raises(PermissionDenied):
        commit_list(world.staff_a, period, world.union_b, list_csv([world.member_b]))
    assert Bill.objects.count() == 0 and EnrolmentBatch.objects.count() == 0


def test_a_renewal_has_no_wait_and_a_first_enrolment_waits_90_days(world: World) -> None:
    p6 = make_period(
        world.federation_admin,
        world.city,
        number=6,
        name="第6期",
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2025, 12, 31),
        enrol_opens_on=dt.date(2024, 12, 1),
        enrol_closes_on=dt.date(2025, 11, 30),
    )
    enrol(world.staff_a, p6, world.union_a, [world.member_a], paid_on=dt.date(2025, 1, 1))
    p7 = make_period(world.federation_admin, world.city)
    newcomer = make_member(world.union_a, name="孙八")
    enrol(world.staff_a, p7, world.union_a, [world.member_a, newcomer])
    renewal = Enrolment.objects.get(period=p7, member=world.member_a)
    first = Enrolment.objects.get(period=p7, member=newcomer)
    assert (renewal.first_enrolment, first.first_enrolment) == (False, True)
    early = dict(admitted_on=dt.date(2026, 2, 1), discharged_on=dt.date(2026, 2, 5))
    a = services.claim_review(actor=world.staff_a, claim=submit(world.staff_a, renewal, **early))
    b = services.claim_review(actor=world.staff_a, claim=submit(world.staff_a, first, **early))
    assert (a.benefit_fen, b.benefit_fen) == (740_000, 0)
    assert services.claim_steps(b)[0]["step"] == "waiting"


def test_claim_journey_review_approve_pay_with_separation_of_duties(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    enrolment = Enrolment.objects.get(member=world.member_a)
    claim = submit(world.staff_a, enrolment)
    with pytest.raises(ValidationFailed):
        submit(world.staff_a, enrolment, total_fen=1)
    with pytest.raises(Conflict, match="已经申报过"):
        submit(world.staff_a, enrolment)
    reviewed = services.claim_review(actor=world.staff_a, claim=claim)
    assert reviewed.status == ClaimStatus.REVIEWED
    assert reviewed.benefit_fen == 740_000 and reviewed.policy_label == "系统默认"
    assert [s["amount_fen"] for s in services.claim_steps(reviewed)] == [
        0,
        1_500_000,
        1_400_000,
        500_000,
        240_000,
        740_000,
        740_000,
    ]
    enrolment.refresh_from_db()
    assert enrolment.committed_fen == 740_000
    with pytest.raises(PermissionDenied, match="提交人和初审人"):
        services.claim_approve(actor=world.staff_a, claim=reviewed)
    with pytest.raises(PermissionDenied):
        services.claim_approve(actor=world.staff_b, claim=reviewed)
    approved = services.claim_approve(actor=approver_of(world.union_a), claim=reviewed)
    assert approved.status == ClaimStatus.APPROVED
    assert selectors.paid_benefits_fen(member=world.member_a, year=2026) == 0
    paid = services.claim_pay(
        actor=finance_of(world.union_a), claim=approved, paid_on=dt.date(2026, 7, 1), payout_ref="ZF-1"
    )
    assert (paid.status, paid.payout_ref) == (ClaimStatus.PAID, "ZF-1")
    assert selectors.paid_benefits_fen(member=world.member_a, year=2026) == 740_000
    assert selectors.paid_benefits_fen(member=world.member_a, year=2025) == 0
    offered = registry.offered("mutual_aid.paid_benefits_fen")
    assert offered is not None and offered(member=world.member_a, year=2026) == 740_000
    actions = list(
        AuditEvent.objects.filter(action__startswith="mutual_aid_claim.").order_by("id").values_list("action", "result")
    )
    assert ("mutual_aid_claim.approve", "denied") in actions
    assert [a for a, r in actions if r == "ok"] == [
        "mutual_aid_claim.submit",
        "mutual_aid_claim.review",
        "mutual_aid_claim.approve",
        "mutual_aid_claim.pay",
    ]


def test_rejection_gives_the_allowance_back_and_an_appeal_reopens(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    enrolment = Enrolment.objects.get(member=world.member_a)
    claim = services.claim_review(actor=world.staff_a, claim=submit(world.staff_a, enrolment))
    approver = approver_of(world.union_a)
    with pytest.raises(ValidationFailed):
        services.claim_reject(actor=approver, claim=claim, code="nonsense", reason="x")
    with pytest.raises(ValidationFailed):
        services.claim_reject(actor=approver, claim=claim, code="documents", reason="  ")
    rejected = services.claim_reject(actor=approver, claim=claim, code="documents", reason="发票不清晰")
    assert (rejected.status, rejected.reject_code, rejected.benefit_fen) == (ClaimStatus.REJECTED, "documents", None)
    enrolment.refresh_from_db()
    assert (enrolment.committed_fen, enrolment.deductible_used_fen) == (0, 0)
    appealed = services.claim_appeal(actor=world.staff_a, claim=rejected, reason="已补交清晰发票")
    assert (appealed.status, appealed.appeals, appealed.reject_code) == (ClaimStatus.SUBMITTED, 1, "")
    again = services.claim_review(actor=world.staff_a, claim=appealed)
    assert again.benefit_fen == 740_000


def test_health_data_is_sealed_and_reveal_is_audited(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    claim = submit(world.staff_a, Enrolment.objects.get(member=world.member_a), diagnosis="急性阑尾炎")
    stored = Claim.objects.values_list("health_encrypted", flat=True).get(pk=claim.pk)
    assert "阑尾炎" not in stored and stored.startswith("v1:")
    with pytest.raises(PermissionDenied):
        services.claim_reveal(actor=world.staff_b, claim=claim)
    health, steps = services.claim_reveal(actor=world.staff_a, claim=claim)
    assert health["diagnosis"] == "急性阑尾炎" and steps == []
    assert AuditEvent.objects.filter(action="mutual_aid.claim_reveal", result="ok").count() == 1


def test_member_submits_own_claim_only(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    enrolment = Enrolment.objects.get(member=world.member_a)
    with pytest.raises(PermissionDenied):
        services.claim_submit(actor=world.member_b.user, enrolment=enrolment, data=claim_input(), on_behalf=False)
    photo = services.Upload("发票", "image/png", b"\x89PNG fake bytes")
    claim = services.claim_submit(
        actor=world.member_a.user, enrolment=enrolment, data=claim_input(), documents=[photo], on_behalf=False
    )
    document = claim.documents.get()
    assert document.size == len(b"\x89PNG fake bytes")
    with pytest.raises(ValidationFailed, match="JPG"):
        services.claim_submit(
            actor=world.member_a.user,
            enrolment=enrolment,
            data=claim_input(hospital="另一医院"),
            documents=[services.Upload("x", "text/html", b"<x>")],
            on_behalf=False,
        )
    assert Claim.objects.count() == 1


def test_fund_report_usage_rate_and_small_groups(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    a_members = [world.member_a] + [make_member(world.union_a, name="甲%s" % i) for i in range(11)]
    enrol(world.staff_a, period, world.union_a, a_members)
    enrol(world.staff_b, period, world.union_b, [world.member_b])
    claim = services.claim_review(
        actor=world.staff_a, claim=submit(world.staff_a, Enrolment.objects.get(member=world.member_a))
    )
    claim = services.claim_approve(actor=approver_of(world.union_a), claim=claim)
    services.claim_pay(actor=finance_of(world.union_a), claim=claim, paid_on=dt.date(2026, 7, 1), payout_ref="ZF")
    report = selectors.fund_report(actor=world.federation_admin, period=period, organization=world.city)
    total = report.total
    assert (total.members, total.collected_fen, total.paid_fen, total.claims) == (13, 130_000, 740_000, 1)
    assert total.usage == "569.23%"
    assert total.per_thousand == "76.92"
    assert total.average_fen == 740_000
    # union B has 1 member: hidden, and union A with it (else B = total − A)
    assert [u.hidden for u in report.by_unit] == [True, True]
    assert selectors.usage_rate(3_478_590_000 + 0, 3_360_660_000) == "103.51%"
    assert selectors.usage_rate(1, 0) == "—"
