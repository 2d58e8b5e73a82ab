import datetime as dt

import pytest
from django.urls import reverse

from gonghui.core.models import AuditEvent
from gonghui.mutual_aid import services
from gonghui.mutual_aid.models import Bill, Claim, ClaimStatus, Enrolment, EnrolmentBatch, Period
from gonghui.mutual_aid.tests.factories import START, approver_of, enrol, finance_of, list_csv, make_period, submit
from gonghui.site.testing import World, make_member

pytestmark = pytest.mark.django_db

PERIOD_FORM = {
    "plan": "standard",
    "number": "7",
    "name": "第7期",
    "premium": "100",
    "starts_on": "2026-01-01",
    "ends_on": "2026-12-31",
    "enrol_opens_on": "2025-12-01",
    "enrol_closes_on": "2026-11-30",
    "min_age": "16",
    "max_age": "65",
}


def test_period_create_page_validates_in_chinese(world: World) -> None:
    client = world.client_for(world.federation_admin)
    assert client.get(reverse("mutual_aid:home")).status_code == 200
    bad = client.post(
        reverse("mutual_aid:period_create"),
        {**PERIOD_FORM, "organization": world.city.pk, "premium": "abc", "ends_on": "2026-13-01"},
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "每人互助金" in text and "保障结束日期格式应为 YYYY-MM-DD" in text
    assert Period.objects.count() == 0
    ok = client.post(reverse("mutual_aid:period_create"), {**PERIOD_FORM, "organization": world.city.pk})
    period = Period.objects.get()
    assert ok.status_code == 302 and period.premium_fen == 10_000
    assert client.get(reverse("mutual_aid:period_detail", args=[period.pk])).status_code == 200
    assert "第7期 · 第7期" in client.get(reverse("mutual_aid:home")).content.decode()


def test_staff_of_another_union_cannot_see_claims(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    claim = submit(world.staff_a, Enrolment.objects.get(member=world.member_a))
    b = world.client_for(world.staff_b)
    assert b.get(reverse("mutual_aid:claim_detail", args=[claim.pk])).status_code == 404
    assert b.post(reverse("mutual_aid:claim_act", args=[claim.pk]), {"action": "review"}).status_code == 404
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


def test_upload_dry_run_report_then_commit_pay_claim_and_report(world: World) -> None:
    period = make_period(
        world.federation_admin,
        world.city,
        enrol_opens_on=dt.date(2025, 1, 1),
        enrol_closes_on=dt.date(2026, 12, 30),
        ends_on=dt.date(2026, 12, 31),
    )
    client = world.client_for(world.staff_a)
    url = reverse("mutual_aid:enrol_upload", args=[period.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = list_csv([world.member_a], extra=[("赵六", "12345")])
    report = client.post(url, {"unit": world.union_a.pk, "mode": "check", "file": SimpleUploadedFile("a.csv", bad)})
    assert report.status_code == 200
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    refused = client.post(url, {"unit": world.union_a.pk, "mode": "commit", "file": SimpleUploadedFile("a.csv", bad)})
    assert refused.status_code == 302
    batch = EnrolmentBatch.objects.get()
    status = reverse("mutual_aid:batch_status", args=[period.pk])
    polled = client.get(status, headers={"HX-Request": "true"})
    assert 'data-status="queued"' in polled.content.decode() and "HX-Refresh" not in polled
    services.enrolment_batch_run(batch=batch)
    polled = client.get(status, headers={"HX-Request": "true"})
    assert "1 行未通过校验" in polled.content.decode() and polled["HX-Refresh"] == "true"
    assert Bill.objects.count() == 0
    again = client.post(reverse("mutual_aid:batch_report", args=[batch.pk]))
    assert again["Content-Type"].startswith("application/vnd.openxmlformats")
    assert world.client_for(world.staff_b).post(reverse("mutual_aid:batch_report", args=[batch.pk])).status_code == 404
    members = [world.member_a] + [make_member(world.union_a, name="钱%s" % i) for i in range(11)]
    ok = client.post(
        url, {"unit": world.union_a.pk, "mode": "commit", "file": SimpleUploadedFile("a.csv", list_csv(members))}
    )
    assert ok.status_code == 302
    services.enrolment_batch_run(batch=EnrolmentBatch.objects.latest("id"))
    bill = Bill.objects.get()
    page = client.get(reverse("mutual_aid:period_detail", args=[period.pk])).content.decode()
    assert "12 人，应缴 ¥1200.00" in page
    client.post(reverse("mutual_aid:bill_pay", args=[bill.pk]), {"paid_on": "2026-01-01", "payment_ref": "HD-1"})
    enrolment = Enrolment.objects.get(member=world.member_a)
    assert enrolment.status == "active"
    form = {
        "hospital": "苏州市立医院",
        "diagnosis": "肺炎",
        "admitted_on": "2026-06-01",
        "discharged_on": "2026-06-10",
        "days": "9",
        "total": "20000",
        "basic_insurance": "4000",
        "serious_illness_insurance": "500",
        "self_inside_catalogue": "15000",
        "self_outside_catalogue": "500",
    }
    bad_claim = client.post(
        reverse("mutual_aid:claim_create", args=[enrolment.pk]), {**form, "total": "-1", "days": "x"}
    )
    assert bad_claim.status_code == 422 and "住院天数应为整数" in bad_claim.content.decode()
    created = client.post(reverse("mutual_aid:claim_create", args=[enrolment.pk]), form)
    claim = Claim.objects.get()
    assert created.status_code == 302
    detail = client.get(reverse("mutual_aid:claim_detail", args=[claim.pk])).content.decode()
    assert "肺炎" not in detail
    client.post(reverse("mutual_aid:claim_act", args=[claim.pk]), {"action": "review"})
    revealed = client.post(reverse("mutual_aid:claim_detail", args=[claim.pk])).content.decode()
    assert "肺炎" in revealed and "7400.00" in revealed and "比例分段" in revealed
    assert AuditEvent.objects.filter(action="mutual_aid.claim_reveal").count() == 1
    denied = client.post(reverse("mutual_aid:claim_act", args=[claim.pk]), {"action": "approve"})
    assert denied.status_code == 403 and "提交人和初审人" in denied.content.decode()
    approver = world.client_for(approver_of(world.union_a))
    approver.post(reverse("mutual_aid:claim_act", args=[claim.pk]), {"action": "approve"})
    payer = world.client_for(finance_of(world.union_a))
    payer.post(
        reverse("mutual_aid:claim_act", args=[claim.pk]),
        {"action": "pay", "paid_on": "2026-07-01", "payout_ref": "ZF-9"},
    )
    assert Claim.objects.get().status == ClaimStatus.PAID
    listed = client.get(reverse("mutual_aid:claim_list"), {"status": "paid"}).content.decode()
    assert "#%s" % claim.pk in listed and "¥7400.00" in listed
    members_page = client.get(reverse("mutual_aid:enrolment_list", args=[period.pk])).content.decode()
    assert (
        "登记结报" in members_page
        and "HD-1" in client.get(reverse("mutual_aid:period_detail", args=[period.pk])).content.decode()
    )
    admin = world.client_for(world.federation_admin)
    page = admin.get(reverse("mutual_aid:fund_report", args=[period.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "616.67%" in text and "¥1200.00" in text and "¥7400.00" in text
    xlsx = admin.get(reverse("mutual_aid:fund_report", args=[period.pk]), {"export": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_member_h5_enrolment_claim_and_computation(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a], paid_on=START)
    enrolment = Enrolment.objects.get(member=world.member_a)
    from django.test import Client

    client = Client()
    client.force_login(world.member_a.user)
    home = client.get(reverse("mutual_aid:h5_home")).content.decode()
    assert "本期剩余额度 ¥200000.00" in home
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {
        "hospital": "苏州市立医院",
        "diagnosis": "肺炎",
        "admitted_on": "2026-06-01",
        "discharged_on": "2026-06-10",
        "days": "9",
        "total": "20000",
        "basic_insurance": "4000",
        "serious_illness_insurance": "500",
        "self_inside_catalogue": "15000",
        "self_outside_catalogue": "500",
        "documents": SimpleUploadedFile("发票.png", b"\x89PNG", content_type="image/png"),
    }
    done = client.post(reverse("mutual_aid:h5_claim_create", args=[enrolment.pk]), form)
    claim = Claim.objects.get()
    assert done.status_code == 302 and claim.documents.count() == 1
    other = Client()
    other.force_login(world.member_b.user)
    assert other.get(reverse("mutual_aid:h5_claim", args=[claim.pk])).status_code == 404
    assert other.get(reverse("mutual_aid:h5_claim_create", args=[enrolment.pk])).status_code == 404
    services.claim_review(actor=world.staff_a, claim=claim)
    page = client.get(reverse("mutual_aid:h5_claim", args=[claim.pk])).content.decode()
    assert "核算过程" in page and "¥7400.00" in page
    home = client.get(reverse("mutual_aid:h5_home")).content.decode()
    assert "本期剩余额度 ¥192600.00" in home


def test_dashboard_card_counts_waiting_claims_of_the_sub_tree(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    submit(world.staff_a, Enrolment.objects.get(member=world.member_a))
    cards = {c.key: c for c in world.client_for(world.staff_a).get(reverse("site:dashboard")).context["cards"]}
    assert {f.label: f.value for f in cards["mutual_aid.claims"].figures} == {
        "待初审": "1",
        "待审批": "0",
        "待支付": "0",
    }
    cards_b = {c.key: c for c in world.client_for(world.staff_b).get(reverse("site:dashboard")).context["cards"]}
    assert {f.label: f.value for f in cards_b["mutual_aid.claims"].figures} == {
        "待初审": "0",
        "待审批": "0",
        "待支付": "0",
    }


def test_batch_review_from_the_claim_list(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    members = [world.member_a, make_member(world.union_a, name="孙一"), make_member(world.union_a, name="孙二")]
    enrol(world.staff_a, period, world.union_a, members)
    claims = [submit(world.staff_a, Enrolment.objects.get(member=m)) for m in members]
    client = world.client_for(world.staff_a)
    listed = client.get(reverse("mutual_aid:claim_list")).content.decode()
    assert 'data-testid="batch-review"' in listed and 'name="claim" value="%s"' % claims[0].pk in listed
    url = reverse("mutual_aid:claims_review")
    refused = world.client_for(world.staff_b).post(url, {"claim": [claims[0].pk]}, follow=True)
    assert "不存在或不在您的管辖范围内" in refused.content.decode()
    assert Claim.objects.filter(status=ClaimStatus.SUBMITTED).count() == 3
    bad = client.post(url, {"claim": ["x"]}, follow=True)
    assert "结报编号有误" in bad.content.decode()
    done = client.post(url, {"claim": [c.pk for c in claims[:2]], "next": "/console/mutual-aid/claims/"}, follow=True)
    assert "已初审 2 笔结报，核定互助金合计 ¥14800.00" in done.content.decode()
    assert sorted(Claim.objects.values_list("status", flat=True)) == ["reviewed", "reviewed", "submitted"]
    assert AuditEvent.objects.filter(action="mutual_aid_claim.review").count() == 2
    again = client.post(url, {"claim": [claims[0].pk, claims[2].pk]}, follow=True)
    assert "不能初审并核算" in again.content.decode()
    assert Claim.objects.get(pk=claims[2].pk).status == ClaimStatus.SUBMITTED
