import datetime as dt
import re
import time

import pyotp
import pytest
from django.db.models import F
from django.test import Client

from gonghui.accounts.models import SmsCode, User
from gonghui.accounts.services import totp_secret
from gonghui.accounts.sms import ConsoleSmsSender
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_user

PASSWORD = "Gonghui-test-2026"


def _login(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.mark.django_db
def test_handler_logs_in_with_password_and_reaches_the_console(world: World) -> None:
    handler = grant(make_user("handler1"), world.union_a, Role.HANDLER)
    client = Client()
    response = _login(client, handler.username)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    assert client.get("/console/members/").status_code == 200


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LOGIN_MAX_FAILURES = 5
    handler = grant(make_user("handler2"), world.union_a, Role.HANDLER)
    client = Client()
    for _ in range(5):
        response = _login(client, handler.username, "wrong-password")
        assert response.status_code == 401
    response = _login(client, handler.username)
    assert response.status_code == 401
    assert "账号已锁定" in response.content.decode()
    handler.refresh_from_db()
    assert handler.locked_until is not None
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login", result="denied", actor_id=handler.pk).count() == 6


@pytest.mark.django_db
def test_admin_must_enrol_and_pass_totp_before_the_console_opens(world: World) -> None:
    admin = grant(make_user("admin1"), world.union_a, Role.ADMIN)
    client = Client()
    response = _login(client, admin.username)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/otp/")
    assert client.get("/console/members/").headers["Location"].startswith("/accounts/otp/")
    page = client.get("/accounts/otp/")
    assert "totp-secret" in page.content.decode()
    admin.refresh_from_db()
    secret = totp_secret(admin)
    assert secret is not None
    bad = client.post("/accounts/otp/", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert bad.status_code == 422
    # A wrong code makes the next attempt wait a second (a person retyping takes longer).
    User.objects.filter(pk=admin.pk).update(totp_failed_at=F("totp_failed_at") - dt.timedelta(seconds=1))
    good = client.post("/accounts/otp/", {"code": pyotp.TOTP(secret).now()})
    assert good.status_code == 302
    assert client.get("/console/members/").status_code == 200
    admin.refresh_from_db()
    assert admin.totp_confirmed


@pytest.mark.django_db
def test_idle_session_is_signed_out(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 60
    handler = grant(make_user("handler3"), world.union_a, Role.HANDLER)
    client = Client()
    _login(client, handler.username)
    assert client.get("/console/").status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - 61
    session.save()
    response = client.get("/console/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def _last_code(phone: str) -> str:
    sent = [message for to, message in ConsoleSmsSender.outbox if to == phone]
    match = re.search(r"验证码为 (\d{6})", sent[-1])
    assert match is not None
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_member_logs_in_with_phone_and_single_use_sms_code(world: World) -> None:
    client = Client()
    assert client.post("/h5/login/send-code/", {"phone": "13900000001"}).status_code == 200
    code = _last_code("13900000001")
    wrong = client.post("/h5/login/", {"phone": "13900000001", "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422
    assert "验证码错误" in wrong.content.decode()
    response = client.post("/h5/login/", {"phone": "13900000001", "code": code})
    assert response.status_code == 302
    home = client.get("/h5/")
    assert "张三" in home.content.decode()
    replay = Client().post("/h5/login/", {"phone": "13900000001", "code": code})
    assert replay.status_code == 422
    assert "验证码已失效" in replay.content.decode()


@pytest.mark.django_db
def test_sms_codes_are_rate_limited(world: World) -> None:
    client = Client()
    assert client.post("/h5/login/send-code/", {"phone": "13900000001"}).status_code == 200
    again = client.post("/h5/login/send-code/", {"phone": "13900000001"})
    assert again.status_code == 429
    assert "60秒" in again.content.decode()
    assert SmsCode.objects.filter(phone="13900000001").count() == 1


@pytest.mark.django_db
def test_unknown_phone_cannot_sign_in(world: World) -> None:
    client = Client()
    client.post("/h5/login/send-code/", {"phone": "13711112222"})
    code = SmsCode.objects.get(phone="13711112222")
    assert code is not None
    response = client.post("/h5/login/", {"phone": "13711112222", "code": "123456"})
    assert response.status_code == 422
    assert not User.objects.filter(phone="13711112222").exists()


@pytest.mark.django_db
def test_security_headers_are_set(world: World) -> None:
    response = Client().get("/accounts/login/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
