import base64
import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.oath import TOTP

from gonghui.accounts.models import SmsCode, User
from gonghui.accounts.sms import get_sender
from gonghui.core import audit, crypto, housekeeping
from gonghui.core.errors import DomainError, PermissionDenied, RateLimited, ValidationFailed
from gonghui.core.identifiers import IdentifierError, validate_phone
from gonghui.core.models import AuditResult

TOTP_PURPOSE = "user.totp"


class LoginFailed(PermissionDenied):
    code = "login_failed"
    status = 401


def staff_authenticate(*, username: str, password: str) -> User:
    """Check a staff password. After `LOGIN_MAX_FAILURES` wrong passwords in a row the account
    is locked for `LOGIN_LOCKOUT_SECONDS`; each failure and each lock is audited."""
    now = timezone.now()
    user = User.objects.filter(username=username.strip()).first()
    if user is not None and user.locked_until and user.locked_until > now:
        audit.record(actor=user, action="auth.login", result=AuditResult.DENIED, detail={"reason": "locked"})
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise LoginFailed("密码错误次数过多，账号已锁定，请 %(m)d 分钟后再试" % {"m": minutes})
    authenticated = authenticate(username=username.strip(), password=password)
    if authenticated is None:
        if user is not None:
            with transaction.atomic():
                User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
                user.refresh_from_db(fields=["failed_logins"])
                detail: dict[str, Any] = {"reason": "bad_password", "failures": user.failed_logins}
                if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
                    user.locked_until = now + dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
                    user.failed_logins = 0
                    user.save(update_fields=["locked_until", "failed_logins"])
                    detail["locked_until"] = user.locked_until.isoformat()
                audit.record(actor=user, action="auth.login", result=AuditResult.DENIED, detail=detail)
        raise LoginFailed("用户名或密码错误")
    with transaction.atomic():
        User.objects.filter(pk=authenticated.pk).update(failed_logins=0, locked_until=None)
        audit.record(actor=authenticated, action="auth.login")
    return authenticated  # type: ignore[return-value]


def totp_secret(user: User) -> str | None:
    if not user.totp_secret_encrypted:
        return None
    return crypto.decrypt(user.totp_secret_encrypted, purpose=TOTP_PURPOSE)


def totp_begin_enrolment(*, user: User) -> str:
    """Give an unconfirmed user a fresh secret to scan; returns the secret."""
    if user.totp_confirmed:
        raise PermissionDenied("已绑定动态口令")
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = crypto.encrypt(secret, purpose=TOTP_PURPOSE)
    user.save(update_fields=["totp_secret_encrypted"])
    return secret


def totp_provisioning_uri(*, user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.TOTP_ISSUER)


def _oath_totp(secret: str, *, at: dt.datetime) -> TOTP:
    """django-otp's RFC 6238 TOTP (30-second steps, 6 digits) for a base32 secret, at `at`."""
    totp = TOTP(base64.b32decode(secret.upper() + "=" * (-len(secret) % 8)), step=30, digits=6)
    totp.time = at.timestamp()
    return totp


def totp_current_code(*, user: User) -> tuple[str, bool]:
    """The code an authenticator shows now, and whether it has been used already (it will
    then be refused until the next 30-second step)."""
    secret = totp_secret(user)
    if secret is None:
        raise ValidationFailed("尚未绑定动态口令")
    totp = _oath_totp(secret, at=timezone.now())
    return f"{totp.token():06d}", totp.t() <= user.totp_last_t


def totp_throttle_wait(user: User, *, now: dt.datetime) -> int:
    """Seconds before the next code may be tried: TOTP_THROTTLE_FACTOR_SECONDS times
    2^(failures-1) after the last wrong code (as django-otp's `ThrottlingMixin`), capped at
    2^12 times the factor."""
    if user.totp_failures == 0 or user.totp_failed_at is None:
        return 0
    delay = settings.TOTP_THROTTLE_FACTOR_SECONDS * 2 ** min(user.totp_failures - 1, 12)
    remaining = (user.totp_failed_at + dt.timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))


def totp_verify(*, user: User, code: str) -> None:
    """Check a TOTP code (one step of clock drift either way). A code is accepted once: the
    accepted time step is recorded and no code of that step or an earlier one passes again.
    Each wrong code is counted, and after it the next attempt waits (`totp_throttle_wait`),
    even with the right code. Failures are committed before the refusal is raised."""
    now = timezone.now()
    refusal: DomainError | None = None
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        secret = totp_secret(locked)
        if secret is None:
            raise ValidationFailed("尚未绑定动态口令")
        wait = totp_throttle_wait(locked, now=now)
        token = code.strip()
        if wait:
            audit.record(
                actor=locked,
                action="auth.totp",
                result=AuditResult.DENIED,
                detail={"reason": "throttled", "wait": wait},
            )
            refusal = RateLimited("动态口令错误次数过多，请 %(seconds)d 秒后再试" % {"seconds": wait})
        else:
            totp = _oath_totp(secret, at=now)
            valid = re.fullmatch(r"[0-9]{6}", token) is not None
            if valid and totp.verify(int(token), tolerance=1, min_t=locked.totp_last_t + 1):
                locked.totp_last_t = totp.t()
                locked.totp_failures = 0
                locked.totp_failed_at = None
                fields = ["totp_last_t", "totp_failures", "totp_failed_at"]
                if not locked.totp_confirmed:
                    locked.totp_confirmed = True
                    fields.append("totp_confirmed")
                    audit.record(actor=locked, action="auth.totp_enrol")
                locked.save(update_fields=fields)
                audit.record(actor=locked, action="auth.totp")
            else:
                replayed = valid and totp.verify(int(token), tolerance=1)
                locked.totp_failures += 1
                locked.totp_failed_at = now
                locked.save(update_fields=["totp_failures", "totp_failed_at"])
                audit.record(
                    actor=locked,
                    action="auth.totp",
                    result=AuditResult.DENIED,
                    detail={"reason": "replayed" if replayed else "wrong_code", "failures": locked.totp_failures},
                )
                message = "该动态口令已使用过，请等待下一个口令" if replayed else "动态口令错误或已过期"
                refusal = ValidationFailed("动态口令错误", fields={"code": message})
    for field in ("totp_confirmed", "totp_last_t", "totp_failures", "totp_failed_at"):
        setattr(user, field, getattr(locked, field))
    # Raised only now: inside the block the failure count would be rolled back with it.
    if refusal is not None:
        raise refusal


def _hash_code(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def sms_code_send(*, phone: str, ip: str | None) -> None:
    """Send a 6-digit login code. At most `SMS_CODE_MAX_PER_HOUR` codes per phone per hour
    and one per minute, at most `SMS_CODE_MAX_PER_IP_PER_MINUTE`/`_PER_HOUR` to any phones
    for one client address, and `SMS_CODE_MAX_PER_MINUTE` for the whole site (the counts
    are read, not locked: concurrent requests may pass a cap by a few). An earlier unused
    code stops working when a new one is sent."""
    try:
        phone = validate_phone(phone)
    except IdentifierError as exc:
        raise ValidationFailed(str(exc), fields={"phone": str(exc)}) from None
    now = timezone.now()
    minute_ago = now - dt.timedelta(seconds=60)
    hour_ago = now - dt.timedelta(hours=1)
    if SmsCode.objects.filter(created_at__gte=minute_ago).count() >= settings.SMS_CODE_MAX_PER_MINUTE:
        raise RateLimited("短信发送繁忙，请稍后再试")
    if ip:
        from_ip = SmsCode.objects.filter(ip=ip, created_at__gte=hour_ago)
        if (
            from_ip.count() >= settings.SMS_CODE_MAX_PER_IP_PER_HOUR
            or from_ip.filter(created_at__gte=minute_ago).count() >= settings.SMS_CODE_MAX_PER_IP_PER_MINUTE
        ):
            raise RateLimited("本网络获取验证码过于频繁，请稍后再试")
    recent = SmsCode.objects.filter(phone=phone, created_at__gte=hour_ago)
    if recent.count() >= settings.SMS_CODE_MAX_PER_HOUR:
        raise RateLimited("验证码发送过于频繁，请一小时后再试")
    if recent.filter(created_at__gte=minute_ago).exists():
        raise RateLimited("验证码已发送，请60秒后再试")
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        SmsCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
        SmsCode.objects.create(
            phone=phone,
            code_hash=_hash_code(phone, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
            ip=ip,
        )
        transaction.on_commit(
            lambda: get_sender().send(phone, "【工会】您的登录验证码为 %(code)s，5分钟内有效。" % {"code": code})
        )


def sms_code_consume(*, phone: str, code: str) -> str:
    """Use up a login code; returns the normalised phone. Wrong guesses count against the
    code, which dies after `SMS_CODE_MAX_ATTEMPTS`. The count is committed before the
    refusal is raised, so callers must not wrap this in a transaction of their own."""
    try:
        phone = validate_phone(phone)
    except IdentifierError as exc:
        raise ValidationFailed(str(exc), fields={"phone": str(exc)}) from None
    now = timezone.now()
    refusal: DomainError | None = None
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if sms is None:
            raise ValidationFailed("验证码已失效，请重新获取", fields={"code": "验证码已失效"})
        if hmac.compare_digest(sms.code_hash, _hash_code(phone, code.strip())):
            sms.used_at = now
            sms.save(update_fields=["used_at"])
        else:
            sms.attempts += 1
            if sms.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
                sms.used_at = now
                refusal = ValidationFailed("验证码错误次数过多，请重新获取", fields={"code": "验证码已失效"})
            else:
                refusal = ValidationFailed("验证码错误", fields={"code": "验证码错误"})
            sms.save(update_fields=["attempts", "used_at"])
    # Raised only now: inside the block the wrong guess would be rolled back with it.
    if refusal is not None:
        raise refusal
    return phone


def prune_sms_codes() -> int:
    """Codes are good for minutes and rate-limit for an hour; nothing needs them after
    SMS_CODE_KEEP_DAYS."""
    cutoff = timezone.now() - dt.timedelta(days=settings.SMS_CODE_KEEP_DAYS)
    return housekeeping.delete_in_batches(SmsCode.objects.filter(created_at__lt=cutoff))
