"""Items, departments and notices for the suggestions tests, made through the services."""

import datetime as dt
from typing import Any

from django.utils import timezone

from gonghui.core.permissions import Role
from gonghui.site.testing import grant, make_user
from gonghui.suggestions import services
from gonghui.suggestions.models import Channel, Department, Item, Notice, SubmitterKind

EVIDENCE = services.Upload("整改照片.png", "image/png", b"\x89PNG fake evidence")


def handler_of(org: Any, username: str | None = None) -> Any:
    return grant(make_user(username), org, Role.HANDLER)


def admin_of(org: Any, username: str | None = None) -> Any:
    return grant(make_user(username), org, Role.ADMIN)


def contact_of(org: Any, username: str | None = None) -> Any:
    """A staff account with the least role (核销员), named as a department's contact."""
    return grant(make_user(username), org, Role.REDEEMER)


def make_department(org: Any, name: str, *contacts: Any) -> Department:
    return services.department_create(actor=admin_of(org), organization=org, name=name, contacts=list(contacts))


def make_item(
    org: Any,
    *,
    actor: Any = None,
    member: Any = None,
    title: str = "食堂晚餐品种太少",
    content: str = "希望增加面食",
    channel: str = Channel.LETTER,
    received_at: dt.datetime | None = None,
) -> Item:
    actor = actor or handler_of(org)
    kind = SubmitterKind.MEMBER if member is not None else SubmitterKind.STAFF
    item, _ = services.item_submit(
        actor=actor,
        organization=org,
        channel=channel,
        title=title,
        content=content,
        kind=kind,
        member=member,
        received_at=received_at,
    )
    return item


def make_notice(item: Item, departments: list[Department], *, actor: Any = None) -> Notice:
    actor = actor or handler_of(item.organization)
    if item.status == "submitted":
        item = services.item_accept(actor=actor, item=item)
    return services.notice_issue(
        actor=actor,
        item=item,
        departments=departments,
        requirement="请核实并整改",
        deadline=timezone.localdate() + dt.timedelta(days=10),
    )
