"""The audit trail: `record` appends one hash-chained event in the caller's transaction.

The chain head row is locked (`SELECT … FOR UPDATE`) while the link is appended, so links are
strictly ordered; the lock is held only from the append to the caller's commit.
"""

import contextvars
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from gonghui.core.models import AuditChainHead, AuditEvent, AuditResult

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_request_ip", default=None)


def set_request_ip(ip: str | None) -> contextvars.Token[str | None]:
    return _request_ip.set(ip)


def reset_request_ip(token: contextvars.Token[str | None]) -> None:
    _request_ip.reset(token)


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "seq": event.seq,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "organization_id": event.organization_id,
        "organization_path": event.organization_path,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "ip": event.ip,
        "result": event.result,
        "detail": event.detail,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\x1e" + _canonical(event)).hexdigest()


def record(
    *,
    actor: Any,
    action: str,
    obj: Any = None,
    organization: Any = None,
    result: str = AuditResult.OK,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append an audit event. `actor` is a user (or None for the system / a device, named in
    `detail`); `organization` anything with `id` and `path`."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        # Microsecond precision survives every database backend's datetime round trip.
        now = timezone.now()
        event = AuditEvent(
            seq=head.seq + 1,
            created_at=now,
            actor_id=getattr(actor, "pk", None),
            actor_label=_actor_label(actor),
            organization_id=getattr(organization, "pk", None),
            organization_path=getattr(organization, "path", "") or "",
            action=action,
            object_type=object_type,
            object_id=object_id,
            ip=_request_ip.get(),
            result=result,
            detail=json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str)),
            prev_hash=head.hash,
        )
        event.hash = compute_hash(head.hash, event)
        event.save()
        head.seq = event.seq
        head.hash = event.hash
        head.save(update_fields=["seq", "hash"])
    return event


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "系统"
    return str(getattr(actor, "display_name", None) or getattr(actor, "username", None) or actor)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None
    reason: str


def verify_chain(*, batch_size: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first link whose hash or back-pointer is wrong."""
    prev_hash = "0" * 64
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return VerifyResult(checked, expected_seq, f"缺少第 {expected_seq} 条记录（链条断裂）")
            if event.prev_hash != prev_hash:
                return VerifyResult(checked, event.seq, "前序哈希与上一条记录不符")
            if compute_hash(prev_hash, event) != event.hash:
                return VerifyResult(checked, event.seq, "记录内容与哈希不符（已被篡改）")
            prev_hash = event.hash
            expected_seq += 1
            checked += 1
            last_seq = event.seq
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.seq != last_seq:
        return VerifyResult(checked, last_seq + 1, "链头记录的序号与最后一条记录不符（末尾记录被删除）")
    return VerifyResult(checked, None, "")
