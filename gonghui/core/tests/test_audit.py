import itertools
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from gonghui.core import audit
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.core.testing import World, grant, make_user


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

    from gonghui.core.selectors import dashboard_stats
    from gonghui.core.testing import make_member
    from gonghui.members.models import Tag

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
