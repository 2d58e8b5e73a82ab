"""The second factor (issue 9, item 4): a TOTP code is good once, wrong codes are throttled
(the right code waits too), and the JSON API applies the console's login policy."""

import datetime as dt
import json
import re

import pyotp
import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import Client

from gonghui.accounts.models import User
from gonghui.accounts.services import TOTP_PURPOSE
from gonghui.core import crypto
from gonghui.core.middleware import SESSION_OTP_OK
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.members import card
from gonghui.site.testing import World, grant, make_user

PASSWORD = "Gonghui-test-2026"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _admin(world: World, username: str = "otp_admin") -> tuple[User, str]:
    """A 管理员+核销员 of union A with a confirmed authenticator."""
    user = grant(make_user(username), world.union_a, Role.ADMIN, Role.REDEEMER)
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = crypto.encrypt(secret, purpose=TOTP_PURPOSE)
    user.totp_confirmed = True
    user.save(update_fields=["totp_secret_encrypted", "totp_confirmed"])
    return user, secret


def _password_step(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/otp/")
    return client


@pytest.mark.django_db
def test_a_totp_code_is_accepted_once_and_refused_in_a_second_login(world: World) -> None:
    admin, secret = _admin(world)
    code = pyotp.TOTP(secret).now()
    first = _password_step(admin.username)
    assert first.post("/accounts/otp/", {"code": code}).status_code == 302
    assert first.get("/console/members/").status_code == 200
    admin.refresh_from_db()
    accepted_step = admin.totp_last_t
    assert accepted_step > 0

    second = _password_step(admin.username)
    replay = second.post("/accounts/otp/", {"code": code})
    assert replay.status_code == 422
    assert "该动态口令已使用过" in replay.content.decode()
    assert second.session[SESSION_OTP_OK] is False
    assert second.get("/console/members/").headers["Location"].startswith("/accounts/otp/")
    admin.refresh_from_db()
    assert (admin.totp_last_t, admin.totp_failures) == (accepted_step, 1)
    assert AuditEvent.objects.filter(
        action="auth.totp", result="denied", actor_id=admin.pk, detail__reason="replayed"
    ).exists()


@pytest.mark.django_db
def test_after_wrong_totp_codes_even_the_right_code_waits(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TOTP_THROTTLE_FACTOR_SECONDS = 60
    admin, secret = _admin(world)
    client = _password_step(admin.username)
    for failures in (1, 2, 3):
        wrong = client.post("/accounts/otp/", {"code": _wrong(pyotp.TOTP(secret).now())})
        assert wrong.status_code == 422
        admin.refresh_from_db()
        assert admin.totp_failures == failures
        if failures < 3:  # let the back-off after this failure (60 s, then 120 s) pass
            User.objects.filter(pk=admin.pk).update(
                totp_failed_at=F("totp_failed_at") - dt.timedelta(seconds=60 * 2 ** (failures - 1))
            )
    # Three wrong codes: the next attempt waits 4 minutes, whatever the code.
    throttled = client.post("/accounts/otp/", {"code": pyotp.TOTP(secret).now()})
    assert throttled.status_code == 429
    assert "动态口令错误次数过多，请 240 秒后再试" in throttled.content.decode()
    assert client.session[SESSION_OTP_OK] is False
    admin.refresh_from_db()
    assert (admin.totp_failures, admin.totp_last_t) == (3, -1)

    User.objects.filter(pk=admin.pk).update(totp_failed_at=F("totp_failed_at") - dt.timedelta(seconds=240))
    assert client.post("/accounts/otp/", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    admin.refresh_from_db()
    assert (admin.totp_failures, admin.totp_failed_at) == (0, None)
    assert client.get("/console/members/").status_code == 200


@pytest.mark.django_db
def test_the_api_refuses_a_password_only_session_of_an_admin_until_totp(world: World) -> None:
    admin, secret = _admin(world)
    client = _password_step(admin.username)

    def verify():  # type: ignore[no-untyped-def]
        token = card.card_token_issue(member=world.member_a).token
        return client.post("/api/members/card/verify", json.dumps({"token": token}), content_type="application/json")

    refused = verify()
    assert refused.status_code == 401
    assert refused.json() == {"code": "otp_required", "message": "请先完成动态口令验证", "fields": {}}

    assert client.post("/accounts/otp/", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    allowed = verify()
    assert allowed.status_code == 200
    assert allowed.json()["member_no"] == world.member_a.member_no


@pytest.mark.django_db
def test_the_api_applies_the_member_and_staff_areas_of_the_login_policy(world: World) -> None:
    anonymous = Client().get("/api/members/me")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"code": "unauthenticated", "message": "请先登录", "fields": {}}

    member = Client()
    member.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")  # type: ignore[arg-type]
    assert member.get("/api/members/me").json()["member_no"] == world.member_a.member_no
    token = card.card_token_issue(member=world.member_a).token
    staff_only = member.post("/api/members/card/verify", json.dumps({"token": token}), content_type="application/json")
    assert staff_only.status_code == 403
    assert staff_only.json() == {"code": "permission_denied", "message": "该账号没有工作人员权限", "fields": {}}

    # A handler needs no TOTP, in the console or the API; a staff account is no member.
    handler = grant(make_user("api_handler"), world.union_a, Role.HANDLER)
    staff = Client()
    staff.post("/accounts/login/", {"username": handler.username, "password": PASSWORD})
    not_member = staff.get("/api/members/me")
    assert not_member.status_code == 403
    assert not_member.json()["message"] == "该账号不是会员，请使用会员手机号登录"


@pytest.mark.django_db
def test_totp_code_command_prints_the_current_code(world: World, capsys) -> None:  # type: ignore[no-untyped-def]
    admin, secret = _admin(world)
    call_command("totp_code", admin.username)
    printed = capsys.readouterr().out.strip()
    assert printed in {
        pyotp.TOTP(secret).now(),
        pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)),
    }
    assert re.fullmatch(r"[0-9]{6}", printed)
