"""Guessing and flooding SMS login codes (issue 9, item 3): wrong guesses are counted even
though they are refused, and sending is capped per client address and for the whole site."""

import datetime as dt
import re

import pytest
from django.db.models import F
from django.test import Client

from gonghui.accounts.models import SmsCode
from gonghui.accounts.sms import ConsoleSmsSender
from gonghui.core.models import AuditEvent
from gonghui.site.testing import World

PHONE = "13900000001"  # member_a's phone


def _send(client: Client, phone: str = PHONE):  # type: ignore[no-untyped-def]
    return client.post("/h5/login/send-code/", {"phone": phone})


def _sent_code(phone: str = PHONE) -> str:
    message = [m for to, m in ConsoleSmsSender.outbox if to == phone][-1]
    match = re.search(r"验证码为 (\d{6})", message)
    assert match is not None
    return match.group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.django_db(transaction=True)
def test_wrong_sms_guesses_burn_the_code_and_the_right_one_is_then_refused(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_CODE_MAX_ATTEMPTS = 5
    client = Client()
    assert _send(client).status_code == 200
    code = _sent_code()
    for _ in range(4):
        response = client.post("/h5/login/", {"phone": PHONE, "code": _wrong(code)})
        assert response.status_code == 422
        assert "验证码错误" in response.content.decode()
    fifth = client.post("/h5/login/", {"phone": PHONE, "code": _wrong(code)})
    assert fifth.status_code == 422
    assert "验证码错误次数过多" in fifth.content.decode()
    right = client.post("/h5/login/", {"phone": PHONE, "code": code})
    assert right.status_code == 422
    assert "验证码已失效" in right.content.decode()
    assert "_auth_user_id" not in client.session
    sms = SmsCode.objects.get(phone=PHONE)
    assert sms.attempts == 5
    assert sms.used_at is not None
    assert not AuditEvent.objects.filter(action="auth.member_login").exists()


@pytest.mark.django_db
def test_a_refused_sms_guess_is_counted_in_the_database(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(client).status_code == 200
    response = client.post("/h5/login/", {"phone": PHONE, "code": _wrong(_sent_code())})
    assert response.status_code == 422
    assert list(SmsCode.objects.values_list("attempts", "used_at")) == [(1, None)]


@pytest.mark.django_db
def test_sending_is_capped_per_client_address(world: World, settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_CODE_MAX_PER_IP_PER_MINUTE = 3
    settings.SMS_CODE_MAX_PER_IP_PER_HOUR = 5
    client = Client(REMOTE_ADDR="203.0.113.7")
    phones = [f"1370000{i:04d}" for i in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        for phone in phones[:3]:
            assert _send(client, phone).status_code == 200
    outbox = list(ConsoleSmsSender.outbox)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = _send(client, phones[3])
    assert refused.status_code == 429
    assert "本网络获取验证码过于频繁" in refused.content.decode()
    assert callbacks == []
    assert ConsoleSmsSender.outbox == outbox
    assert SmsCode.objects.count() == 3
    # Another address is not held back; the first one gets its minute back but not its hour.
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(Client(REMOTE_ADDR="198.51.100.9"), phones[3]).status_code == 200
    SmsCode.objects.update(created_at=F("created_at") - dt.timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(client, phones[4]).status_code == 200
        assert _send(client, phones[5]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = _send(client, phones[6])
    assert refused.status_code == 429
    assert callbacks == []
    assert not SmsCode.objects.filter(phone=phones[6]).exists()


@pytest.mark.django_db
def test_sending_is_capped_for_the_whole_site(world: World, settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_CODE_MAX_PER_MINUTE = 2
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(Client(REMOTE_ADDR="203.0.113.1"), "13700000001").status_code == 200
        assert _send(Client(REMOTE_ADDR="203.0.113.2"), "13700000002").status_code == 200
    outbox = list(ConsoleSmsSender.outbox)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = _send(Client(REMOTE_ADDR="203.0.113.3"), "13700000003")
    assert refused.status_code == 429
    assert "短信发送繁忙" in refused.content.decode()
    assert callbacks == []
    assert ConsoleSmsSender.outbox == outbox
    assert sorted(SmsCode.objects.values_list("phone", flat=True)) == ["13700000001", "13700000002"]


@pytest.mark.django_db
def test_behind_the_proxy_a_client_cannot_choose_its_address(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SMS_CODE_MAX_PER_IP_PER_MINUTE = 2
    statuses = [
        _send(Client(HTTP_X_FORWARDED_FOR=f"10.0.0.{i}, 203.0.113.7"), f"1370000{i:04d}").status_code for i in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert set(SmsCode.objects.values_list("ip", flat=True)) == {"203.0.113.7"}
