"""How to build union A's object for each parameterised URL of the suggestions app (see
site/tests/test_url_access.py)."""

from typing import Any

from gonghui.site.testing import World
from gonghui.suggestions import services
from gonghui.suggestions.models import Attachment, Item, Notice
from gonghui.suggestions.tests.factories import EVIDENCE, contact_of, make_department, make_item, make_notice


def _item(world: World) -> Item:
    item = Item.objects.filter(organization=world.union_a, member=world.member_a).first()
    return item or make_item(world.union_a, member=world.member_a)


def _notice(world: World) -> Notice:
    notice = Notice.objects.filter(organization=world.union_a).first()
    if notice is None:
        dept = make_department(world.union_a, "后勤保障部", contact_of(world.union_a))
        notice = make_notice(make_item(world.union_a, title="交办的诉求"), [dept])
    return notice


def item_pk(world: World) -> dict[str, Any]:
    return {"pk": _item(world).pk}


def notice_pk(world: World) -> dict[str, Any]:
    return {"pk": _notice(world).pk}


def attachment_pk(world: World) -> dict[str, Any]:
    attachment = Attachment.objects.filter(item__organization=world.union_a, progress__isnull=False).first()
    if attachment is None:
        contact = contact_of(world.union_a)
        dept = make_department(world.union_a, "信息中心（附件）", contact)
        notice = make_notice(make_item(world.union_a, title="有附件的诉求"), [dept])
        progress = services.progress_post(
            actor=contact, notice=notice, department=dept, text="已整改", uploads=[EVIDENCE]
        )
        attachment = progress.evidence.get()
    return {"pk": attachment.pk}


def org_code(world: World) -> dict[str, Any]:
    return {"code": world.union_a.code}


URL_OBJECTS = {
    "suggestions:item": item_pk,
    "suggestions:item_action": item_pk,
    "suggestions:notice": notice_pk,
    "suggestions:notice_pdf": notice_pk,
    "suggestions:attachment": attachment_pk,
    "suggestions:contact_notice": notice_pk,
    "suggestions:h5_item": item_pk,
    "suggestions:public": org_code,
}
