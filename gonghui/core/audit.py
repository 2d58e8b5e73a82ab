"""The audit trail: `record` appends one hash-chained event in the caller's transaction.

The trail is `settings.AUDIT_CHAINS` parallel chains. An append locks the tip of a chain no
other transaction holds (`SELECT … FOR UPDATE SKIP LOCKED`), so links within a chain are
strictly ordered while concurrent transactions append side by side; the lock is held only
from the append to the caller's commit. A transaction that already holds a chain's tip can
always lock it again, so it never waits for a tip while holding one: appends cannot
deadlock. Only when every tip is busy does an append wait, for a random one.
"""

import contextvars
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from gonghui.core import sql
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
    # No savepoint of its own: an append that fails must fail the caller's transaction anyway
    # (no change without its audit event), and two round trips per event are saved.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        chain, seq, prev_hash = _lock_a_chain_tip(cursor)
        event = AuditEvent(
            chain=chain,
            seq=seq + 1,
            # Microsecond precision survives every database backend's datetime round trip.
            created_at=timezone.now(),
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
            prev_hash=prev_hash,
        )
        event.hash = compute_hash(prev_hash, event)
        sql.insert(cursor, event)
        cursor.execute(
            "UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = %s", [event.seq, event.hash, chain]
        )
    return event


def chain_count() -> int:
    return max(1, int(settings.AUDIT_CHAINS))


def ensure_chain_heads(*, using: str = "default") -> None:
    AuditChainHead.objects.using(using).bulk_create(
        [AuditChainHead(id=chain) for chain in range(1, chain_count() + 1)], ignore_conflicts=True
    )


A_CHAIN_TIP = "SELECT id, seq, hash FROM core_auditchainhead WHERE id <= %s ORDER BY random() LIMIT 1"


def _lock_a_chain_tip(cursor: CursorWrapper) -> tuple[int, int, str]:
    """(chain, seq, hash) of a chain tip now locked by this transaction."""
    chains = chain_count()
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    cursor.execute(A_CHAIN_TIP + skip_locked, [chains])
    row = cursor.fetchone()
    if row is None:  # every tip is busy (or AUDIT_CHAINS was raised without `migrate`)
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=secrets.randbelow(chains) + 1)
        return head.id, head.seq, head.hash
    return row[0], row[1], row[2]


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "系统"
    return str(getattr(actor, "display_name", None) or getattr(actor, "username", None) or actor)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_chain: int | None
    broken_seq: int | None
    reason: str


def verify_chain(*, batch_size: int = 5000) -> VerifyResult:
    """Walk every chain in order; report the first link whose hash or back-pointer is wrong."""
    checked = 0
    heads = dict(AuditChainHead.objects.values_list("id", "seq"))
    chains = sorted(set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct()))
    for chain in chains:
        walked, broken_seq, reason = _verify_one(chain, heads.get(chain), batch_size=batch_size)
        checked += walked
        if broken_seq is not None:
            return VerifyResult(checked, chain, broken_seq, reason)
    return VerifyResult(checked, None, None, "")


def _verify_one(chain: int, head_seq: int | None, *, batch_size: int) -> tuple[int, int | None, str]:
    prev_hash = "0" * 64
    checked = last_seq = 0
    events = AuditEvent.objects.filter(chain=chain).order_by("seq")
    while batch := list(events.filter(seq__gt=last_seq)[:batch_size]):
        for event in batch:
            if event.seq != last_seq + 1:
                return checked, last_seq + 1, f"缺少第 {last_seq + 1} 条记录（链条断裂）"
            if event.prev_hash != prev_hash:
                return checked, event.seq, "前序哈希与上一条记录不符"
            if compute_hash(prev_hash, event) != event.hash:
                return checked, event.seq, "记录内容与哈希不符（已被篡改）"
            prev_hash = event.hash
            last_seq = event.seq
            checked += 1
    if (head_seq or 0) != last_seq:
        return checked, last_seq + 1, "链头记录的序号与最后一条记录不符（末尾记录被删除）"
    return checked, None, ""
