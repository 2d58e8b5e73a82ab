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
def test_chain_links_each_event_to_the_previous_one() -> None:
    events = _events(3)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash
    assert audit.verify_chain().broken_seq is None


@pytest.mark.django_db
def test_audit_verify_reports_the_first_tampered_link(capsys) -> None:  # type: ignore[no-untyped-def]
    _events(5)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
        cursor.execute("UPDATE core_auditevent SET detail = '{\"i\": 99}' WHERE seq = 3")
        cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")
    with pytest.raises(CommandError, match="第 3 条"):
        call_command("audit_verify")
    assert '"first_broken_seq": 3' in capsys.readouterr().out


@pytest.mark.django_db
def test_a_deleted_link_is_reported() -> None:
    _events(4)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
        cursor.execute("DELETE FROM core_auditevent WHERE seq = 2")
        cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")
    result = audit.verify_chain()
    assert result.broken_seq == 2


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
