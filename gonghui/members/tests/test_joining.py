"""网上申请入会: apply on the phone page with an SMS-proved phone, the grassroots union approves
(the member is registered) or declines with a reason."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from gonghui.accounts.models import SmsCode
from gonghui.accounts.sms import ConsoleSmsSender
from gonghui.core.identifiers import make_resident_id
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import ApplicationStatus, JoinApplication, JoinMethod, Member, Tag
from gonghui.site.testing import World, grant, make_user

PHONE = "13700000021"
NUMBER = make_resident_id("320508", dt.date(1995, 3, 9), 21, "M")


def _send_code(client: Client, phone: str = PHONE) -> str:
    assert client.post("/h5/login/send-code/", {"phone": phone}).status_code == 200
    message = [m for to, m in ConsoleSmsSender.outbox if to == phone][-1]
    match = re.search(r"验证码为 (\d{6})", message)
    assert match is not None
    return match.group(1)


def _form(world: World, code: str, **overrides: Any) -> dict[str, Any]:
    form = {
        "name": "赵骑手",
        "id_number": NUMBER,
        "ethnicity": "汉族",
        "education": "",
        "household_type": "",
        "work_unit": "美团配送苏州站",
        "union_code": world.union_a.code,
        "tags": [str(Tag.FOOD_DELIVERY.value), str(Tag.NEW_FORM.value)],
        "phone": PHONE,
        "code": code,
        "consent": "1",
    }
    form.update(overrides)
    return form


@pytest.mark.django_db(transaction=True)
def test_a_worker_applies_on_the_phone_and_the_union_approves_and_the_member_signs_in(world: World) -> None:
    applicant = Client()
    assert "申请加入工会" in applicant.get("/h5/login/").content.decode()
    assert applicant.get("/h5/join/").status_code == 200
    done = applicant.post("/h5/join/", _form(world, _send_code(applicant)))
    assert done.status_code == 200
    assert 'data-testid="join-done"' in done.content.decode()
    application = JoinApplication.objects.get()
    assert (application.status, application.organization_id, application.name) == (
        ApplicationStatus.PENDING,
        world.union_a.pk,
        "赵骑手",
    )
    assert NUMBER not in application.id_number_encrypted
    assert decrypt_id_number(application.id_number_encrypted) == NUMBER
    assert AuditEvent.objects.filter(action="join_application.submit", object_id=str(application.pk)).exists()

    # The sibling union sees nothing and cannot decide; union A's handler sees it masked.
    other = world.client_for(world.staff_b)
    assert "赵骑手" not in other.get("/console/join-applications/").content.decode()
    assert (
        other.post(f"/console/join-applications/{application.pk}/decide/", {"decision": "approve"}).status_code == 404
    )
    staff = world.client_for(world.staff_a)
    listing = staff.get("/console/join-applications/").content.decode()
    assert "赵骑手" in listing and application.id_masked in listing and NUMBER not in listing
    url = f"/console/join-applications/{application.pk}/decide/"
    staff.post(url, {"decision": "approve"})  # not before the 初审
    assert JoinApplication.objects.get().status == ApplicationStatus.PENDING
    staff.post(url, {"decision": "check"})
    assert JoinApplication.objects.get().status == ApplicationStatus.CHECKED
    # Separation of duties: whoever checked it cannot also approve it.
    listing = staff.get("/console/join-applications/?status=checked").content.decode()
    assert 'data-testid="application-approve-blocked"' in listing and 'data-testid="application-approve"' not in listing
    staff.post(url, {"decision": "approve"})
    assert JoinApplication.objects.get().status == ApplicationStatus.CHECKED
    assert not Member.objects.filter(phone=PHONE).exists()
    second = grant(make_user("handler_a2"), world.union_a, Role.HANDLER)
    world.client_for(second).post(url, {"decision": "approve"})

    application.refresh_from_db()
    member = Member.objects.get(pk=application.member_id)
    assert application.status == ApplicationStatus.APPROVED
    assert (member.organization_id, member.phone, member.join_method, member.work_unit) == (
        world.union_a.pk,
        PHONE,
        JoinMethod.ONLINE,
        "美团配送苏州站",
    )
    assert member.tags == Tag.FOOD_DELIVERY | Tag.NEW_FORM
    assert member.birth_date == dt.date(1995, 3, 9)
    approved = AuditEvent.objects.get(action="join_application.approve", result="ok")
    assert (approved.object_id, approved.actor_id) == (str(application.pk), second.pk)
    assert AuditEvent.objects.get(action="join_application.approve", result="denied").actor_id == world.staff_a.pk
    assert AuditEvent.objects.filter(action="member.create", object_id=str(member.pk)).exists()

    # A few minutes later the new member signs in with the phone they applied with.
    SmsCode.objects.filter(phone=PHONE).update(created_at=F("created_at") - dt.timedelta(minutes=5))
    phone = Client()
    signed_in = phone.post("/h5/login/", {"phone": PHONE, "code": _send_code(phone)})
    assert signed_in.status_code == 302
    assert "赵骑手" in phone.get("/h5/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_bad_applications_get_chinese_messages_and_keep_the_sms_code(world: World) -> None:
    applicant = Client()
    code = _send_code(applicant)
    bad_digit = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    refused = applicant.post(
        "/h5/join/", _form(world, code, id_number=bad_digit, union_code="NOPE", consent="", name="")
    )
    assert refused.status_code == 422
    body = refused.content.decode()
    for message in ("校验", "未找到该基层工会", "请阅读并同意", "请填写姓名"):
        assert message in body
    assert 'value="美团配送苏州站"' in body  # what was typed stays
    assert not JoinApplication.objects.exists()
    # The code was not spent on a form with mistakes.
    assert applicant.post("/h5/join/", _form(world, code)).status_code == 200
    assert JoinApplication.objects.count() == 1
    # A higher-level union's code is not a grassroots union to join.
    again = Client()
    refused = again.post("/h5/join/", _form(world, _send_code(again, "13700000022"), union_code=world.province.code))
    assert "未找到该基层工会" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_applicant_under_16_is_refused_and_one_who_turned_16_today_may_apply(world: World) -> None:
    today = timezone.localdate()
    birthday = (
        today.replace(year=today.year - 16) if (today.month, today.day) != (2, 29) else dt.date(today.year - 16, 3, 1)
    )
    too_young = make_resident_id("320508", birthday + dt.timedelta(days=1), 31, "F")
    applicant = Client()
    refused = applicant.post("/h5/join/", _form(world, _send_code(applicant), id_number=too_young))
    assert refused.status_code == 422
    assert "未满16周岁，暂不能申请入会" in refused.content.decode()
    assert not JoinApplication.objects.exists()
    sixteen = make_resident_id("320508", birthday, 32, "F")
    other = Client()
    accepted = other.post(
        "/h5/join/", _form(world, _send_code(other, "13700000023"), id_number=sixteen, phone="13700000023")
    )
    assert accepted.status_code == 200
    assert JoinApplication.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_members_and_second_applications_are_refused(world: World) -> None:
    member_number = decrypt_id_number(world.member_a.id_number_encrypted)
    client = Client()
    # Without a proved phone the form says nothing about who is a member.
    probe = client.post("/h5/join/", _form(world, "000000", id_number=member_number))
    assert probe.status_code == 422
    assert "已是工会会员" not in probe.content.decode()
    member = client.post("/h5/join/", _form(world, _send_code(client), id_number=member_number))
    assert member.status_code == 409
    assert "已是工会会员" in member.content.decode()
    client.post("/h5/join/", _form(world, _send_code(client, "13700000023"), phone="13700000023"))
    twice = client.post("/h5/join/", _form(world, _send_code(client, "13700000024"), phone="13700000024"))
    assert twice.status_code == 409
    assert "已提交过入会申请" in twice.content.decode()
    assert JoinApplication.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_declining_needs_a_reason_is_final_and_the_worker_may_apply_again(world: World) -> None:
    client = Client()
    client.post("/h5/join/", _form(world, _send_code(client)))
    application = JoinApplication.objects.get()
    staff = world.client_for(world.staff_a)
    url = f"/console/join-applications/{application.pk}/decide/"
    staff.post(url, {"decision": "reject"})
    assert JoinApplication.objects.get().status == ApplicationStatus.PENDING  # no reason, no decision
    staff.post(url, {"decision": "reject", "reason": "非本单位职工，请向所在单位工会申请"})
    application.refresh_from_db()
    assert (application.status, application.member_id) == (ApplicationStatus.REJECTED, None)
    staff.post(url, {"decision": "approve"})
    assert JoinApplication.objects.get().status == ApplicationStatus.REJECTED
    assert not Member.objects.filter(phone=PHONE).exists()
    listing = staff.get("/console/join-applications/?status=rejected").content.decode()
    assert "非本单位职工" in listing
    # Declined is not barred: a new application can be made (a few minutes later).
    SmsCode.objects.filter(phone=PHONE).update(created_at=F("created_at") - dt.timedelta(minutes=5))
    again = Client()
    assert again.post("/h5/join/", _form(world, _send_code(again))).status_code == 200
    assert JoinApplication.objects.filter(status=ApplicationStatus.PENDING).count() == 1


@pytest.mark.django_db
def test_only_staff_who_may_register_members_review_applications(world: World) -> None:
    reviewer = grant(make_user("reviewer_only"), world.union_a, Role.REVIEWER)
    assert world.client_for(reviewer).get("/console/join-applications/").status_code == 403
    assert world.client_for(world.staff_a).get("/console/join-applications/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_wrong_sms_guesses_on_the_join_form_burn_the_code(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_CODE_MAX_ATTEMPTS = 3
    applicant = Client()
    code = _send_code(applicant)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        assert applicant.post("/h5/join/", _form(world, wrong)).status_code == 422
    sms = SmsCode.objects.get(phone=PHONE)
    assert (sms.attempts, sms.used_at is not None) == (3, True)
    right = applicant.post("/h5/join/", _form(world, code))
    assert right.status_code == 422
    assert "验证码已失效" in right.content.decode()
    assert not JoinApplication.objects.exists()
    assert not AuditEvent.objects.filter(action="join_application.submit").exists()
