"""Messages (消息) have a read state: a user marks one read (by opening it) or all of them, only
their own; the member's H5 and the staff console show the unread count where messages are
shown, unread first."""

import pytest
from django.test import Client

from gonghui.core.errors import NotFound
from gonghui.core.models import AuditEvent
from gonghui.site.testing import World
from gonghui.suggestions import selectors, services
from gonghui.suggestions.models import Notification
from gonghui.suggestions.tests.factories import contact_of, make_department, make_item, make_notice

pytestmark = pytest.mark.django_db


def _messages(user, item, *texts: str) -> list[Notification]:  # type: ignore[no-untyped-def]
    return [Notification.objects.create(user=user, item=item, text=t) for t in texts]


def _member_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return client


def test_a_user_marks_their_own_message_read_and_not_someone_else_s(world: World) -> None:
    item = make_item(world.union_a, member=world.member_a)
    mine, theirs = _messages(world.member_a.user, item, "一"), _messages(world.member_b.user, item, "二")
    with pytest.raises(NotFound):
        services.notification_mark_read(actor=world.member_a.user, notification_id=theirs[0].pk)
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None
    read = services.notification_mark_read(actor=world.member_a.user, notification_id=mine[0].pk)
    first_read = read.read_at
    assert first_read is not None
    again = services.notification_mark_read(actor=world.member_a.user, notification_id=mine[0].pk)
    assert again.read_at == first_read
    assert AuditEvent.objects.filter(action="suggestions.notification_read").count() == 1


def test_mark_all_counts_only_the_user_s_unread_messages(world: World) -> None:
    item = make_item(world.union_a, member=world.member_a)
    a, *_ = _messages(world.member_a.user, item, "一", "二", "三")
    other = _messages(world.member_b.user, item, "四")[0]
    services.notification_mark_read(actor=world.member_a.user, notification_id=a.pk)
    assert selectors.unread_count(user=world.member_a.user) == 2
    assert services.notifications_mark_all_read(actor=world.member_a.user) == 2
    assert services.notifications_mark_all_read(actor=world.member_a.user) == 0
    assert selectors.unread_count(user=world.member_a.user) == 0
    assert Notification.objects.get(pk=other.pk).read_at is None
    event = AuditEvent.objects.get(action="suggestions.notification_read_all")
    assert (event.actor_id, event.detail) == (world.member_a.user.pk, {"count": 2})


def test_the_member_sees_the_unread_count_opens_a_message_and_marks_all_read(world: World) -> None:
    item = make_item(world.union_a, member=world.member_a, title="体检报告上手机")
    old, new = _messages(world.member_a.user, item, "您的诉求有新的答复", "您的诉求已办结，请确认并评价")
    client = _member_client(world.member_a.user)
    body = client.get("/h5/suggestions/").content.decode()
    assert 'data-testid="h5-unread">2</span>' in body
    # Unread first, newest first; a read one moves below.
    services.notification_mark_read(actor=world.member_a.user, notification_id=new.pk)
    assert [n.pk for n in selectors.inbox_for(user=world.member_a.user)] == [old.pk, new.pk]
    opened = client.post("/h5/suggestions/messages/read/", {"id": old.pk})
    assert opened.status_code == 302 and opened["Location"] == "/h5/suggestions/%d/" % item.pk
    body = client.get("/h5/suggestions/").content.decode()
    assert 'data-testid="h5-unread"' not in body and "已读" in body
    assert client.post("/h5/suggestions/messages/read/", {"id": "x"}).status_code == 404
    _messages(world.member_a.user, item, "三", "四")
    assert client.post("/h5/suggestions/messages/read/", {"all": "1"}).status_code == 302
    assert selectors.unread_count(user=world.member_a.user) == 0
    # Another member cannot mark the member's message read.
    fresh = _messages(world.member_a.user, item, "五")[0]
    assert (
        _member_client(world.member_b.user).post("/h5/suggestions/messages/read/", {"id": fresh.pk}).status_code == 404
    )
    assert Notification.objects.get(pk=fresh.pk).read_at is None


def test_staff_see_the_unread_count_on_the_ledger_s_pages_and_open_a_message_at_its_item(world: World) -> None:
    item = make_item(world.union_a, title="停车位紧张")
    first, _ = _messages(world.staff_a, item, "新诉求一", "新诉求二")
    client = world.client_for(world.staff_a)
    inbox = client.get("/console/suggestions/").content.decode()
    assert 'data-testid="nav-unread">2</span>' in inbox
    messages = client.get("/console/suggestions/inbox/").content.decode()
    assert "2</span> 条未读" in messages and messages.count('data-unread="1"') == 2
    opened = client.post("/console/suggestions/inbox/read/", {"id": first.pk, "open": "1"})
    assert opened.status_code == 302 and opened["Location"] == "/console/suggestions/%d/" % item.pk
    assert 'data-testid="nav-unread">1</span>' in client.get("/console/suggestions/").content.decode()
    assert client.post("/console/suggestions/inbox/read/", {"all": "1"}).status_code == 302
    page = client.get("/console/suggestions/inbox/").content.decode()
    assert "没有未读消息" in page and 'data-testid="nav-unread"' not in page


def test_a_department_contact_s_message_opens_their_notice_and_shows_on_their_page(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    contact = contact_of(world.union_a, "tijian")
    dept = make_department(world.union_a, "体检中心", contact)
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice(make_item(world.union_a), [dept])
    client = world.client_for(contact)
    listing = client.get("/console/suggestions/contact/").content.decode()
    assert 'data-testid="nav-unread">1</span>' in listing
    message = Notification.objects.get(user=contact)
    opened = client.post("/console/suggestions/inbox/read/", {"id": message.pk, "open": "1"})
    assert opened["Location"] == "/console/suggestions/contact/%d/" % notice.pk
    assert Notification.objects.get(pk=message.pk).read_at is not None
    # Staff of sibling union B cannot read, or mark, the contact's message.
    assert (
        world.client_for(world.staff_b).post("/console/suggestions/inbox/read/", {"id": message.pk}).status_code == 404
    )
