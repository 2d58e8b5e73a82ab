"""Signed device requests (vending machines, clerk terminals, 健康小屋 kiosks).

A device sends headers `X-Device-Key`, `X-Timestamp` (unix seconds), `X-Nonce` and
`X-Signature = hex(HMAC-SHA256(secret, METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n sha256(body)))`.
A timestamp more than `MAX_SKEW_SECONDS` away from now, or a nonce seen before, is refused.
"""

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from gonghui.core import audit, crypto, housekeeping, registry, sql
from gonghui.core.errors import DomainError, PermissionDenied
from gonghui.core.models import AuditResult, Device, DeviceNonce

MAX_SKEW_SECONDS = 300
SECRET_PURPOSE = "device.secret"  # noqa: S105 - AEAD associated data, not a secret


class SignatureRefused(PermissionDenied):
    code = "signature_refused"
    status = 401


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def signed_headers(*, key_id: str, secret: str, method: str, path: str, body: bytes) -> dict[str, str]:
    """What a device sends; used by device simulators, benchmarks and tests."""
    timestamp = str(int(timezone.now().timestamp()))
    nonce = secrets.token_hex(16)
    return {
        "X-Device-Key": key_id,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": sign(secret, method, path, timestamp, nonce, body),
    }


def device_register(*, actor: object, organization: object, name: str, kind: str) -> tuple[Device, str]:
    """Create a device and return it with its secret, shown once to the installer."""
    if kind not in dict(registry.device_kind_choices()):
        raise DomainError("设备类型无效")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        device = Device.objects.create(
            key_id="dev_" + secrets.token_hex(8),
            name=name,
            kind=kind,
            organization_id=organization.pk,  # type: ignore[attr-defined]
            organization_path=organization.path,  # type: ignore[attr-defined]
            secret_encrypted=crypto.encrypt(secret, purpose=SECRET_PURPOSE),
        )
        audit.record(
            actor=actor, action="device.register", obj=device, organization=organization, detail={"name": name}
        )
    return device, secret


def active_device(key_id: str) -> Device | None:
    return Device.objects.filter(key_id=key_id, is_active=True).first()


def verify_request(
    *,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    now: dt.datetime | None = None,
    load_device: Callable[[str], Device | None] | None = None,
) -> Device:
    """Return the device that signed this request, or raise `SignatureRefused`. `load_device`
    (the active device with a key id, or None) lets the caller fetch what it needs with the
    device, its redemption point say, in the same statement.

    The nonce goes in under its unique key (`INSERT … ON CONFLICT DO NOTHING`), so a replay is
    refused even when two copies of one request arrive at once."""
    key_id = headers.get("X-Device-Key", "")
    timestamp = headers.get("X-Timestamp", "")
    nonce = headers.get("X-Nonce", "")
    signature = headers.get("X-Signature", "")
    if not (key_id and timestamp and nonce and signature) or len(nonce) > 64:
        raise SignatureRefused("缺少设备签名")
    device = (load_device or active_device)(key_id)
    if device is None:
        raise SignatureRefused("设备未登记或已停用")
    secret = crypto.decrypt(device.secret_encrypted, purpose=SECRET_PURPOSE)
    expected = sign(secret, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, signature):
        _refuse(device, "signature", "签名错误")
    now = now or timezone.now()
    try:
        sent = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    except (ValueError, OverflowError):
        _refuse(device, "timestamp", "时间戳无效")
    if abs((now - sent).total_seconds()) > MAX_SKEW_SECONDS:
        _refuse(device, "stale", "请求已过期（时间戳超出5分钟）")
    with connection.cursor() as cursor:
        fresh = sql.insert_unless_exists(
            cursor, DeviceNonce, {"device": device.pk, "nonce": nonce, "seen_at": now}, unique=("device", "nonce")
        )
    if not fresh:
        _refuse(device, "replay", "重复的请求（随机数已使用）")
    return device


def _refuse(device: Device, reason: str, message: str) -> None:
    audit.record(
        actor=None,
        action="device.request_refused",
        obj=device,
        result=AuditResult.DENIED,
        detail={"reason": reason, "device": device.key_id},
    )
    raise SignatureRefused(message)


def prune_nonces(*, older_than_seconds: int = 2 * MAX_SKEW_SECONDS) -> int:
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return housekeeping.delete_in_batches(DeviceNonce.objects.filter(seen_at__lt=cutoff))
