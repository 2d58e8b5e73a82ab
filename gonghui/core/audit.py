"""The audit trail: `record` appends one hash-chained event in the caller's transaction.

The trail is `settings.AUDIT_CHAINS` parallel chains. An append locks the tip of a chain no
other transaction holds (`SELECT … FOR UPDATE SKIP LOCKED`), so links within a chain are
strictly ordered while concurrent transactions append side by side; the lock is held only
from the append to the caller's commit. A transaction that already holds a chain's tip can
always lock it again, so it never waits for a tip while holding one: appends cannot
deadlock. Only when every tip is busy does an append wait, for a random one.

Hashes are keyed (HMAC under settings.AUDIT_HMAC_KEY, which is not in the database) and every
append signs its chain tip, so whoever can write the database still cannot rewrite, drop or
append an event unnoticed by `verify_chain`. Signed anchors (`anchor_take`, written to a file
outside the database by `manage.py audit_anchor`) pin the tips at a moment, against a tip
moved back to an older, once valid state and against chains recomputed before keyed hashes.
"""

import contextvars
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
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


PLAIN, KEYED = 1, 2  # AuditEvent.hash_version


@lru_cache(maxsize=1)
def _hmac_key() -> bytes:
    key = settings.AUDIT_HMAC_KEY
    if len(key) < 32:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be at least 32 characters")
    return key.encode()


def reset_key_cache() -> None:
    _hmac_key.cache_clear()


def _mac(message: bytes) -> str:
    return hmac.new(_hmac_key(), message, hashlib.sha256).hexdigest()


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    """The event's link hash under its `hash_version`: keyed (HMAC) or, for events recorded
    before keyed hashes, plain SHA-256."""
    message = prev_hash.encode() + b"\x1e" + _canonical(event)
    if event.hash_version == PLAIN:
        return hashlib.sha256(message).hexdigest()
    return _mac(message)


def head_mac(chain: int, seq: int, hash_: str) -> str:
    """Signature of a chain tip: only a holder of the key can move a tip."""
    return _mac(b"head\x1f%d\x1f%d\x1f%s" % (chain, seq, hash_.encode()))


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
            hash_version=KEYED,
        )
        event.hash = compute_hash(prev_hash, event)
        # The event and its chain's new head in one round trip (the head row is ours, locked).
        sql.insert_and_update(
            cursor, event, ADVANCE_CHAIN_HEAD, [event.seq, event.hash, head_mac(chain, event.seq, event.hash), chain]
        )
    return event


@dataclass(frozen=True)
class Entry:
    """One event of `record_many`: what `record` takes, for one object of a set-based write."""

    action: str
    obj: Any = None
    organization: Any = None
    detail: dict[str, Any] | None = None
    result: str = AuditResult.OK


def record_many(*, actor: Any, entries: Iterable[Entry]) -> list[AuditEvent]:
    """Append one event per entry, by one actor, in the caller's transaction: the events are
    consecutive links of one chain (its tip locked once), inserted in one multi-row INSERT,
    and the chain head advanced once — what a set-based write (a list's hundreds of bills)
    records, in four round trips instead of two per event."""
    items = list(entries)
    if not items:
        return []
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        chain, seq, prev_hash = _lock_a_chain_tip(cursor)
        now = timezone.now()
        ip = _request_ip.get()
        label = _actor_label(actor)
        events = []
        for item in items:
            seq += 1
            event = AuditEvent(
                chain=chain,
                seq=seq,
                created_at=now,
                actor_id=getattr(actor, "pk", None),
                actor_label=label,
                organization_id=getattr(item.organization, "pk", None),
                organization_path=getattr(item.organization, "path", "") or "",
                action=item.action,
                object_type=item.obj._meta.label_lower if item.obj is not None else "",
                object_id=str(item.obj.pk) if item.obj is not None else "",
                ip=ip,
                result=item.result,
                detail=json.loads(json.dumps(item.detail or {}, ensure_ascii=False, default=str)),
                prev_hash=prev_hash,
                hash_version=KEYED,
            )
            event.hash = prev_hash = compute_hash(prev_hash, event)
            events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=1000)
        cursor.execute(ADVANCE_CHAIN_HEAD, [seq, prev_hash, head_mac(chain, seq, prev_hash), chain])
    return events


def chain_count() -> int:
    return max(1, int(settings.AUDIT_CHAINS))


def ensure_chain_heads(*, using: str = "default") -> None:
    AuditChainHead.objects.using(using).bulk_create(
        [AuditChainHead(id=chain) for chain in range(1, chain_count() + 1)], ignore_conflicts=True
    )


ADVANCE_CHAIN_HEAD = "UPDATE %s SET seq = %%s, hash = %%s, mac = %%s WHERE id = %%s" % sql.table(AuditChainHead)  # noqa: S608
A_CHAIN_TIP = "SELECT id, seq, hash FROM %s WHERE id <= %%s ORDER BY random() LIMIT 1" % sql.table(AuditChainHead)  # noqa: S608


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
    # Chains with no event since keyed hashes were introduced: their plain hashes can be
    # recomputed by anyone with database access, so only a signed anchor protects them.
    unkeyed_chains: tuple[int, ...] = ()


def verify_chain(*, batch_size: int = 5000) -> VerifyResult:
    """Walk every chain in order; report the first link whose hash or back-pointer is wrong,
    and a chain head that does not match its last event or whose signature is wrong."""
    checked = 0
    unkeyed: list[int] = []
    heads = {head.id: head for head in AuditChainHead.objects.all()}
    chains = sorted(set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct()))
    for chain in chains:
        walk = _verify_one(chain, heads.get(chain), batch_size=batch_size)
        checked += walk.checked
        if walk.broken_seq is not None:
            return VerifyResult(checked, chain, walk.broken_seq, walk.reason, tuple(unkeyed))
        if walk.unkeyed:
            unkeyed.append(chain)
    return VerifyResult(checked, None, None, "", tuple(unkeyed))


@dataclass(frozen=True)
class _Walk:
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    unkeyed: bool = False


def _verify_one(chain: int, head: AuditChainHead | None, *, batch_size: int) -> _Walk:
    prev_hash = "0" * 64
    checked = last_seq = 0
    version = PLAIN
    events = AuditEvent.objects.filter(chain=chain).order_by("seq")
    while batch := list(events.filter(seq__gt=last_seq)[:batch_size]):
        for event in batch:
            if event.seq != last_seq + 1:
                return _Walk(checked, last_seq + 1, f"缺少第 {last_seq + 1} 条记录（链条断裂）")
            if event.prev_hash != prev_hash:
                return _Walk(checked, event.seq, "前序哈希与上一条记录不符")
            if event.hash_version not in (PLAIN, KEYED) or event.hash_version < version:
                return _Walk(checked, event.seq, "记录的哈希版本倒退（带密钥的哈希被替换为无密钥哈希）")
            if not hmac.compare_digest(compute_hash(prev_hash, event), event.hash):
                return _Walk(checked, event.seq, "记录内容与哈希不符（已被篡改）")
            version = event.hash_version
            prev_hash = event.hash
            last_seq = event.seq
            checked += 1
    head_seq, head_hash, mac = (head.seq, head.hash, head.mac) if head else (0, "0" * 64, "")
    if head_seq != last_seq:
        return _Walk(checked, last_seq + 1, "链头记录的序号与最后一条记录不符（末尾记录被删除）")
    if head_hash != prev_hash:
        return _Walk(checked, last_seq, "链头哈希与最后一条记录不符（末尾记录被改写）")
    if not mac and version == PLAIN:
        return _Walk(checked, unkeyed=last_seq > 0)
    if not hmac.compare_digest(mac, head_mac(chain, head_seq, head_hash)):
        return _Walk(checked, last_seq, "链头签名无效（链头或末尾记录被改写）")
    return _Walk(checked)


# ---- signed anchors: the chain tips, written outside the database on a schedule -------------


@dataclass(frozen=True)
class Anchor:
    at: str
    heads: tuple[tuple[int, int, str], ...]  # (chain, seq, hash)
    mac: str

    def as_line(self) -> str:
        return json.dumps({"at": self.at, "heads": [list(h) for h in self.heads], "mac": self.mac}) + "\n"


def _anchor_mac(at: str, heads: Iterable[tuple[int, int, str]]) -> str:
    body = json.dumps({"at": at, "heads": [list(h) for h in heads]}, sort_keys=True, separators=(",", ":"))
    return _mac(b"anchor\x1f" + body.encode())


def anchor_take(*, now: dt.datetime | None = None) -> Anchor:
    """The current chain tips, signed. A tip is read as committed, with its event."""
    at = (now or timezone.now()).isoformat()
    heads = tuple(AuditChainHead.objects.order_by("id").values_list("id", "seq", "hash"))
    return Anchor(at, heads, _anchor_mac(at, heads))


def anchor_append(path: Path, anchor: Anchor) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(anchor.as_line())


def anchors_read(path: Path) -> list[Anchor | None]:
    """Every anchor in the file, in order; None for a line that is not an anchor at all."""
    anchors: list[Anchor | None] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            heads = tuple((int(c), int(s), str(h)) for c, s, h in data["heads"])
            anchors.append(Anchor(str(data["at"]), heads, str(data["mac"])))
        except (ValueError, KeyError, TypeError):
            anchors.append(None)
    return anchors


def verify_anchors(anchors: list[Anchor | None]) -> VerifyResult:
    """Every anchored tip must still be in the trail with the hash it had: a trail rewritten or
    cut back past an anchor, even with every hash recomputed, no longer matches it."""
    checked = 0
    for number, anchor in enumerate(anchors, start=1):
        if anchor is None or not hmac.compare_digest(anchor.mac, _anchor_mac(anchor.at, anchor.heads)):
            return VerifyResult(checked, None, None, f"第 {number} 个锚点签名无效（锚点文件被改动）")
        stored = _anchored_hashes(anchor.heads)
        for chain, seq, hash_ in anchor.heads:
            if seq and stored.get((chain, seq)) != hash_:
                return VerifyResult(
                    checked,
                    chain,
                    seq,
                    "与 %(at)s 的签名锚点不符（锚点之前的记录被改写或删除）" % {"at": anchor.at},
                )
            checked += 1
    covered: dict[int, int] = {}
    for anchor in anchors:
        for chain, seq, _ in anchor.heads if anchor else ():
            covered[chain] = max(covered.get(chain, 0), seq)
    plain = AuditEvent.objects.filter(hash_version=PLAIN).values_list("chain").annotate(last=Max("seq"))
    for chain, last in plain.order_by("chain"):
        if covered.get(chain, 0) < last:
            return VerifyResult(checked, chain, last, "无密钥哈希的记录不在任何签名锚点之内（可能被整体重算）")
    return VerifyResult(checked, None, None, "")


def _anchored_hashes(heads: tuple[tuple[int, int, str], ...]) -> dict[tuple[int, int], str]:
    if not heads:
        return {}
    wanted = Q()
    for chain, seq, _ in heads:
        wanted |= Q(chain=chain, seq=seq)
    return {(c, s): h for c, s, h in AuditEvent.objects.filter(wanted).values_list("chain", "seq", "hash")}


# ---- the bounded check of the auditor's console home -------------------------------------------


@dataclass(frozen=True)
class TailCheck:
    """The newest links of every chain, checked: what the auditor's home shows."""

    checked: int
    broken_chain: int | None
    broken_seq: int | None
    reason: str


def verify_chain_tail(*, per_chain: int = 200) -> TailCheck:
    """Recompute the hashes of the newest `per_chain` links of each chain, check they follow
    one another and end at the chain's head (sequence, hash, signature). Two queries, whatever
    the size of the trail; the full walk is `manage.py audit_verify`."""
    heads = {head.id: head for head in AuditChainHead.objects.all()}
    newest = (
        AuditEvent.objects.annotate(rank=Window(RowNumber(), partition_by=F("chain"), order_by=F("seq").desc()))
        .filter(rank__lte=per_chain)
        .order_by("chain", "seq")
    )
    by_chain: dict[int, list[AuditEvent]] = {}
    for newest_event in newest:
        by_chain.setdefault(newest_event.chain, []).append(newest_event)
    checked = 0
    for chain in sorted(set(heads) | set(by_chain)):
        previous: AuditEvent | None = None
        for event in by_chain.get(chain, []):
            if previous is not None and event.seq != previous.seq + 1:
                reason = "缺少第 %(seq)s 条记录（链条断裂）" % {"seq": previous.seq + 1}
                return TailCheck(checked, chain, previous.seq + 1, reason)
            if previous is not None and event.prev_hash != previous.hash:
                return TailCheck(checked, chain, event.seq, "前序哈希与上一条记录不符")
            if not hmac.compare_digest(compute_hash(event.prev_hash, event), event.hash):
                return TailCheck(checked, chain, event.seq, "记录内容与哈希不符（已被篡改）")
            previous = event
            checked += 1
        head = heads.get(chain)
        last_seq, last_hash = (previous.seq, previous.hash) if previous else (0, "0" * 64)
        if (head.seq if head else 0) != last_seq:
            return TailCheck(checked, chain, last_seq + 1, "链头记录的序号与最后一条记录不符（末尾记录被删除）")
        if head is not None and head.hash != last_hash:
            return TailCheck(checked, chain, last_seq, "链头哈希与最后一条记录不符（末尾记录被改写）")
        if head is not None and head.mac and not hmac.compare_digest(head.mac, head_mac(chain, head.seq, head.hash)):
            return TailCheck(checked, chain, last_seq, "链头签名无效（链头或末尾记录被改写）")
    return TailCheck(checked, None, None, "")


LAST_VERIFICATION_KEY = "audit:last_verification"


def remember_verification(result: VerifyResult) -> None:
    """Keep the outcome of the last full walk (`audit_verify`) for the auditor's home."""
    cache.set(
        LAST_VERIFICATION_KEY,
        {
            "at": timezone.now().isoformat(),
            "checked": result.checked,
            "ok": result.broken_seq is None,
            "reason": result.reason,
        },
        None,
    )


def last_verification() -> dict[str, Any] | None:
    value = cache.get(LAST_VERIFICATION_KEY)
    return value if isinstance(value, dict) else None
