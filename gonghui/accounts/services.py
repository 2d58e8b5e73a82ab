import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.utils import timezone

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


def totp_verify(*, user: User, code: str) -> None:
    secret = totp_secret(user)
    if secret is None:
        raise ValidationFailed("尚未绑定动态口令")
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        audit.record(actor=user, action="auth.totp", result=AuditResult.DENIED)
        raise ValidationFailed("动态口令错误", fields={"code": "动态口令错误或已过期"})
    with transaction.atomic():
        if not user.totp_confirmed:
            user.totp_confirmed = True
            user.save(update_fields=["totp_confirmed"])
            audit.record(actor=user, action="auth.totp_enrol")
        audit.record(actor=user, action="auth.totp")


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
