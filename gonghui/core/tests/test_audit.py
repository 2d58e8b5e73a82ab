import hashlib
import importlib
import itertools
import json
import sqlite3
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from gonghui.core import audit
from gonghui.core.models import AuditChainHead, AuditEvent
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_user


def _events(n: int) -> list[AuditEvent]:
    return [audit.record(actor=None, action="test.event", detail={"i": i}) for i in range(n)]


@pytest.mark.django_db
def test_chain_links_each_event_to_the_previous_one(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    events = _events(3)
    assert [(e.chain, e.seq) for e in events] == [(1, 1), (1, 2), (1, 3)]
    assert events[1].prev_hash == events[0].hash
    assert audit.verify_chain().broken_seq is None


@pytest.mark.django_db
def test_every_parallel_chain_is_gap_free_and_verifies(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 4
    events = _events(40)
    by_chain: dict[int, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain, []).append(event)
    assert set(by_chain) <= {1, 2, 3, 4}
    for chain_events in by_chain.values():
        assert [e.seq for e in chain_events] == list(range(1, len(chain_events) + 1))
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain_events))
    assert audit.verify_chain() == audit.VerifyResult(40, None, None, "")


@pytest.mark.django_db
def test_record_many_appends_consecutive_links_of_one_chain_that_verify(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 2
    first = _events(1)[0]
    user = make_user()
    entries = [audit.Entry("test.many", obj=user, detail={"i": i}) for i in range(5)]
    events = audit.record_many(actor=user, entries=entries)
    assert len({e.chain for e in events}) == 1
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 5))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    stored = AuditEvent.objects.filter(action="test.many").order_by("seq")
    assert [(e.object_id, e.detail, e.actor_id) for e in stored] == [
        (str(user.pk), {"i": i}, user.pk) for i in range(5)
    ]
    head = AuditChainHead.objects.get(id=events[0].chain)
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    assert audit.record_many(actor=None, entries=[]) == []
    assert audit.verify_chain() == audit.VerifyResult(6, None, None, "") and first.seq == 1


def _tamper(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")


@pytest.mark.django_db
def test_audit_verify_reports_the_first_tampered_link(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 3
    events = _events(12)
    victim = events[-1]
    _tamper("UPDATE core_auditevent SET detail = '{\"i\": 99}' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=f"第 {victim.chain} 条审计链在第 {victim.seq} 条"):
        call_command("audit_verify")
    out = capsys.readouterr().out
    assert f'"broken_chain": {victim.chain}' in out
    assert f'"first_broken_seq": {victim.seq}' in out


@pytest.mark.django_db
def test_a_deleted_link_is_reported(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    _events(4)
    _tamper("DELETE FROM core_auditevent WHERE seq = 2")
    result = audit.verify_chain()
    assert (result.broken_chain, result.broken_seq) == (1, 2)


@pytest.mark.django_db
def test_a_deleted_last_link_is_reported_by_its_chain_head(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 2
    events = _events(10)
    last = max((e for e in events if e.chain == events[0].chain), key=lambda e: e.seq)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [last.pk])
    result = audit.verify_chain()
    assert (result.broken_chain, result.broken_seq) == (last.chain, last.seq)
    assert "末尾记录被删除" in result.reason


@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_append_without_waiting_for_each_other(settings) -> None:  # type: ignore[no-untyped-def]
    """A transaction holding a chain tip until it commits does not hold up another's append;
    a transaction that appends twice never waits either, even with every other tip busy."""
    settings.AUDIT_CHAINS = 2
    holding, release = threading.Event(), threading.Event()
    held: list[AuditEvent] = []

    def hold_a_tip() -> None:
        try:
            with transaction.atomic():
                held.append(audit.record(actor=None, action="test.slow"))
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    slow = threading.Thread(target=hold_a_tip)
    slow.start()
    try:
        assert holding.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting for the held tip would fail here
        with transaction.atomic():
            first = audit.record(actor=None, action="test.fast")
            second = audit.record(actor=None, action="test.fast")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        slow.join(30)
    assert first.chain == second.chain != held[0].chain
    assert audit.verify_chain() == audit.VerifyResult(3, None, None, "")


@pytest.mark.django_db
def test_nobody_can_edit_or_delete_an_event() -> None:
    event = _events(1)[0]
    event.action = "changed"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


@pytest.mark.django_db
def test_an_event_rolls_back_with_its_change() -> None:
    with pytest.raises(ValueError), transaction.atomic():
        audit.record(actor=None, action="test.rolled_back")
        raise ValueError
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    assert audit.verify_chain().broken_seq is None


@pytest.mark.django_db
def test_auditors_read_their_subtree_only_and_others_cannot_read(world: World) -> None:
    auditor_b = grant(make_user("auditor_b"), world.union_b, Role.AUDITOR)
    audit.record(actor=world.staff_a, action="test.in_a", organization=world.union_a)
    audit.record(actor=world.staff_b, action="test.in_b", organization=world.union_b)
    page = world.client_for(auditor_b).get("/console/audit/?action=test.")
    assert page.status_code == 200
    body = page.content.decode()
    assert "test.in_b" in body
    assert "test.in_a" not in body
    assert world.client_for(world.staff_a).get("/console/audit/").status_code == 403


@pytest.mark.django_db
def test_dashboard_counts_only_the_actors_subtree(world: World) -> None:
    from django.core.cache import cache

    from gonghui.members.models import Tag
    from gonghui.site.selectors import dashboard_stats
    from gonghui.site.testing import make_member

    cache.clear()
    make_member(world.union_b, name="骑手", tags=Tag.FOOD_DELIVERY | Tag.NEW_FORM)
    stats_b = dashboard_stats(actor=world.staff_b)
    assert stats_b["members_active"] == 2
    assert dict(zip(stats_b["tag_chart"]["labels"], stats_b["tag_chart"]["values"], strict=True))["外卖骑手"] == 1
    stats_a = dashboard_stats(actor=world.staff_a)
    assert stats_a["members_active"] == 1
    assert sum(stats_a["tag_chart"]["values"]) == 0


@pytest.mark.django_db
def test_dashboard_page_renders_its_charts(world: World) -> None:
    body = world.client_for(world.staff_a).get("/console/").content.decode()
    assert 'id="chart-status"' in body
    assert "js/dashboard.js" in body


# ---- keyed hashes, signed chain heads and anchors (issue 9 item 7) -------------------------


def _plain_hash(prev_hash: str, event: AuditEvent) -> str:
    """What someone with database access but without AUDIT_HMAC_KEY can compute."""
    return hashlib.sha256(prev_hash.encode() + b"\x1e" + audit._canonical(event)).hexdigest()


def _rewrite_newest(*, version: int) -> AuditEvent:
    """Rewrite the newest event's detail and recompute its hash (plain, as an attacker can),
    moving the chain head onto it like `record` does."""
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    event.detail = {"i": 99}
    event.hash_version = version
    event.hash = _plain_hash(event.prev_hash, event)
    _tamper(
        "UPDATE core_auditevent SET detail = %s, hash_version = %s, hash = %s WHERE id = %s",
        ['{"i": 99}', version, event.hash, event.pk],
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditchainhead SET hash = %s WHERE id = %s", [event.hash, event.chain])
    return event


def _heads() -> list[tuple[int, int, str, str]]:
    return list(AuditChainHead.objects.order_by("id").values_list("id", "seq", "hash", "mac"))


@pytest.mark.django_db
def test_events_are_keyed_and_every_append_signs_its_chain_head(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    events = _events(2)
    assert [e.hash_version for e in events] == [audit.KEYED, audit.KEYED]
    assert events[1].hash != _plain_hash(events[0].hash, events[1])
    assert _heads()[0] == (1, 2, events[1].hash, audit.head_mac(1, 2, events[1].hash))


@pytest.mark.django_db
def test_rewriting_the_newest_event_with_a_recomputed_hash_is_detected(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    _events(3)
    _rewrite_newest(version=audit.KEYED)
    assert audit.verify_chain() == audit.VerifyResult(2, 1, 3, "记录内容与哈希不符（已被篡改）")
    with pytest.raises(CommandError, match="第 1 条审计链在第 3 条记录处断裂：记录内容与哈希不符"):
        call_command("audit_verify")
    assert '"first_broken_seq": 3' in capsys.readouterr().out


@pytest.mark.django_db
def test_passing_a_rewritten_event_off_as_an_unkeyed_one_is_detected(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    _events(3)
    _rewrite_newest(version=audit.PLAIN)
    assert audit.verify_chain() == audit.VerifyResult(2, 1, 3, "记录的哈希版本倒退（带密钥的哈希被替换为无密钥哈希）")


@pytest.mark.django_db
def test_rewriting_the_only_event_as_unkeyed_is_detected_by_the_head_signature(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    _events(1)
    _rewrite_newest(version=audit.PLAIN)
    assert audit.verify_chain() == audit.VerifyResult(1, 1, 1, "链头签名无效（链头或末尾记录被改写）")


@pytest.mark.django_db
def test_deleting_the_newest_event_and_lowering_the_head_is_detected(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    events = _events(3)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[2].pk])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditchainhead SET seq = 2, hash = %s WHERE id = 1", [events[1].hash])
    assert audit.verify_chain() == audit.VerifyResult(2, 1, 2, "链头签名无效（链头或末尾记录被改写）")


@pytest.mark.django_db
def test_deleting_the_newest_event_and_lowering_only_the_head_seq_is_detected(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    events = _events(3)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[2].pk])
    AuditChainHead.objects.filter(id=1).update(seq=2)
    assert audit.verify_chain() == audit.VerifyResult(2, 1, 2, "链头哈希与最后一条记录不符（末尾记录被改写）")


@pytest.mark.django_db
def test_a_rewritten_head_is_detected(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    events = _events(2)
    AuditChainHead.objects.filter(id=1).update(mac="0" * 64)
    assert audit.verify_chain() == audit.VerifyResult(2, 1, 2, "链头签名无效（链头或末尾记录被改写）")
    AuditChainHead.objects.filter(id=1).update(hash="f" * 64, mac=audit.head_mac(1, 2, events[1].hash))
    assert audit.verify_chain() == audit.VerifyResult(2, 1, 2, "链头哈希与最后一条记录不符（末尾记录被改写）")


def _insert_legacy_events(n: int, *, after: AuditEvent | None = None) -> list[AuditEvent]:
    """Events as recorded before keyed hashes: plain SHA-256, version 1, unsigned head."""
    from django.utils import timezone

    prev, events = (after.hash, []) if after else ("0" * 64, [])
    first = after.seq + 1 if after else 1
    for seq in range(first, first + n):
        event = AuditEvent(
            chain=1, seq=seq, created_at=timezone.now(), action="test.legacy", prev_hash=prev, hash_version=1
        )
        event.hash = _plain_hash(prev, event)
        event.save()
        events.append(event)
        prev = event.hash
    AuditChainHead.objects.filter(id=1).update(seq=events[-1].seq, hash=prev, mac="")
    return events


@pytest.mark.django_db
def test_unkeyed_events_still_verify_and_are_reported_until_a_keyed_append(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    _insert_legacy_events(3)
    assert audit.verify_chain() == audit.VerifyResult(3, None, None, "", (1,))
    keyed = audit.record(actor=None, action="test.after_upgrade")
    assert (keyed.seq, keyed.hash_version) == (4, audit.KEYED)
    assert audit.verify_chain() == audit.VerifyResult(4, None, None, "")


@pytest.mark.django_db
def test_anchors_detect_a_chain_recomputed_wholesale_without_the_key(settings, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Without the key, someone with database access can still recompute a whole chain as
    unkeyed; the signed anchor kept outside the database shows it."""
    settings.AUDIT_CHAINS = 1
    events = _events(3)
    anchors = tmp_path / "anchors.jsonl"
    call_command("audit_anchor", "--output", str(anchors))
    call_command("audit_verify", "--anchors", str(anchors))
    assert '"ok": true' in capsys.readouterr().out
    prev = "0" * 64
    for event in events:
        event.prev_hash, event.hash_version = prev, audit.PLAIN
        if event.seq == 2:
            event.detail = {"i": 99}
        event.hash = _plain_hash(prev, event)
        _tamper(
            "UPDATE core_auditevent SET detail = %s, hash_version = 1, prev_hash = %s, hash = %s WHERE id = %s",
            [json.dumps(event.detail), event.prev_hash, event.hash, event.pk],
        )
        prev = event.hash
    AuditChainHead.objects.filter(id=1).update(hash=prev, mac="")
    assert audit.verify_chain() == audit.VerifyResult(3, None, None, "", (1,))  # only a warning
    with pytest.raises(CommandError, match=r"与 .* 的签名锚点不符"):
        call_command("audit_verify", "--anchors", str(anchors))
    assert '"first_broken_seq": 3' in capsys.readouterr().out


@pytest.mark.django_db
def test_anchors_cover_unkeyed_events_only_up_to_the_anchored_seq(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    legacy = _insert_legacy_events(2)
    anchors = tmp_path / "anchors.jsonl"
    audit.anchor_append(anchors, audit.anchor_take())
    assert audit.verify_anchors(audit.anchors_read(anchors)) == audit.VerifyResult(16, None, None, "")
    _insert_legacy_events(1, after=legacy[-1])  # unkeyed events past the anchor: not protected
    assert audit.verify_anchors(audit.anchors_read(anchors)).reason == (
        "无密钥哈希的记录不在任何签名锚点之内（可能被整体重算）"
    )


@pytest.mark.django_db
def test_a_forged_anchor_is_refused(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.AUDIT_CHAINS = 1
    _events(2)
    anchors = tmp_path / "anchors.jsonl"
    audit.anchor_append(anchors, audit.anchor_take())
    line = json.loads(anchors.read_text())
    line["heads"][0][1] = 1
    anchors.write_text(json.dumps(line) + "\n")
    with pytest.raises(CommandError, match="审计锚点校验失败：第 1 个锚点签名无效"):
        call_command("audit_verify", "--anchors", str(anchors))


def test_the_sqlite_trigger_refuses_update_and_delete() -> None:
    trigger = importlib.import_module("gonghui.core.migrations.0005_audit_append_only_trigger_sqlite")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE core_auditevent (id INTEGER PRIMARY KEY, action TEXT)")
    for statement in trigger.CREATE:
        db.execute(statement)
    db.execute("INSERT INTO core_auditevent (action) VALUES ('test.event')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE refused"):
        db.execute("UPDATE core_auditevent SET action = 'changed'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
        db.execute("DELETE FROM core_auditevent")
    assert db.execute("SELECT action FROM core_auditevent").fetchall() == [("test.event",)]


def test_audit_detail_reads_as_lines_not_as_a_python_dict() -> None:
    event = AuditEvent(detail={"fields": ["phone", "work_unit"], "dry_run": False, "reason": None, "rows": 3})
    assert event.detail_pairs == [("fields", "phone、work_unit"), ("dry_run", "否"), ("reason", "—"), ("rows", "3")]
