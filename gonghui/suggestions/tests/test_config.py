"""Configuration in the console: an organisation's departments (rename, contacts who must be
staff of the organisation, retire and restore) and categories (create, rename, reorder,
retire and restore — an item filed under a retired category stays readable everywhere) and an
item's milestones (add and correct), each validated, scoped to the actor's organisations and
audited."""

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.core.errors import ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.site.testing import World
from gonghui.suggestions import services
from gonghui.suggestions.models import Category, Channel, Department, Item, Milestone, SubmitterKind
from gonghui.suggestions.tests.factories import (
    admin_of,
    contact_of,
    handler_of,
    make_department,
    make_item,
    make_notice,
)

pytestmark = pytest.mark.django_db

URL = "/console/suggestions/departments/"


def _names(org) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    return list(Category.objects.filter(organization=org).order_by("position", "id").values_list("name", "is_active"))


def _member_client(world: World) -> Client:
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return client


def test_an_administrator_creates_renames_reorders_retires_and_restores_categories(world: World) -> None:
    client = world.client_for(world.staff_a)
    org = world.union_a.pk
    for name in ("后勤保障", "薪酬福利", "信息化"):
        assert client.post(URL, {"kind": "category", "organization": org, "name": name}).status_code == 302
    assert _names(world.union_a) == [("后勤保障", True), ("薪酬福利", True), ("信息化", True)]
    it = Category.objects.get(name="信息化")
    assert client.post(URL, {"kind": "category_up", "category": it.pk}).status_code == 302
    assert client.post(URL, {"kind": "category_up", "category": it.pk}).status_code == 302
    assert client.post(URL, {"kind": "category_up", "category": it.pk}).status_code == 302  # already first
    assert [n for n, _ in _names(world.union_a)] == ["信息化", "后勤保障", "薪酬福利"]
    assert client.post(URL, {"kind": "category_down", "category": it.pk}).status_code == 302
    assert [n for n, _ in _names(world.union_a)] == ["后勤保障", "信息化", "薪酬福利"]
    assert client.post(URL, {"kind": "category_rename", "category": it.pk, "name": "信息化建设"}).status_code == 302
    assert client.post(URL, {"kind": "category_retire", "category": it.pk}).status_code == 302
    assert _names(world.union_a) == [("后勤保障", True), ("信息化建设", False), ("薪酬福利", True)]
    page = client.get(URL).content.decode()
    assert "信息化建设" in page and "已停用" in page and 'data-testid="category-restore"' in page
    assert client.post(URL, {"kind": "category_restore", "category": it.pk}).status_code == 302
    assert Category.objects.get(pk=it.pk).is_active
    actions = list(
        AuditEvent.objects.filter(action__startswith="suggestions.category")
        .order_by("id")
        .values_list("action", "detail")
    )
    assert [a for a, _ in actions] == [
        "suggestions.category_create",
        "suggestions.category_create",
        "suggestions.category_create",
        "suggestions.category_move",
        "suggestions.category_move",
        "suggestions.category_move",
        "suggestions.category_rename",
        "suggestions.category_retire",
        "suggestions.category_restore",
    ]
    assert actions[6][1] == {"before": "信息化", "after": "信息化建设"}


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"kind": "category", "name": ""}, "请填写分类名称"),
        ({"kind": "category", "name": "很" * 21}, "分类名称不能超过 20 字"),
        ({"kind": "category", "name": "后勤保障"}, "分类“后勤保障”已存在"),
        ({"kind": "category_rename", "name": "薪酬福利"}, "分类“薪酬福利”已停用，可在列表中恢复"),
        ({"kind": "category_rename", "name": "  "}, "请填写分类名称"),
        ({"kind": "category_sideways"}, "未知操作"),
    ],
)
def test_category_changes_are_validated_and_a_refusal_changes_nothing(world: World, post, message) -> None:  # type: ignore[no-untyped-def]
    admin = admin_of(world.union_a)
    first = services.category_create(actor=admin, organization=world.union_a, name="后勤保障")
    retired = services.category_create(actor=admin, organization=world.union_a, name="薪酬福利")
    services.category_set_active(actor=admin, category=retired, active=False)
    before = _names(world.union_a)
    response = world.client_for(world.staff_a).post(
        URL, {"organization": world.union_a.pk, "category": first.pk, **post}
    )
    assert response.status_code == 422 and message in response.content.decode()
    assert _names(world.union_a) == before


def test_staff_of_a_sibling_union_cannot_touch_union_a_s_categories_nor_see_them(world: World) -> None:
    category = services.category_create(actor=admin_of(world.union_a), organization=world.union_a, name="后勤保障")
    client = world.client_for(world.staff_b)
    for kind in ("category_rename", "category_up", "category_retire"):
        response = client.post(URL, {"kind": kind, "category": category.pk, "name": "越权"})
        assert response.status_code == 404
    assert "后勤保障" not in client.get(URL).content.decode()
    assert client.post(URL, {"kind": "category", "organization": world.union_a.pk, "name": "越权"}).status_code == 422
    assert _names(world.union_a) == [("后勤保障", True)] and not Category.objects.filter(name="越权").exists()
    # A handler (no 设置 permission) does not reach the page.
    assert world.client_for(handler_of(world.union_a)).get(URL).status_code == 403


def test_a_retired_category_is_no_longer_offered_but_its_items_stay_readable(world: World) -> None:
    admin = admin_of(world.union_a)
    old = services.category_create(actor=admin, organization=world.union_a, name="职工关爱")
    kept = services.category_create(actor=admin, organization=world.union_a, name="后勤保障")
    item, _ = services.item_submit(
        actor=world.member_a.user,
        organization=world.union_a,
        channel=Channel.ONLINE,
        title="母婴室",
        content="希望设立母婴室",
        kind=SubmitterKind.MEMBER,
        member=world.member_a,
        category=old,
    )
    old = services.category_set_active(actor=admin, category=old, active=False)
    member = _member_client(world)
    form = member.get("/h5/suggestions/new/").content.decode()
    assert "后勤保障" in form and "职工关爱" not in form
    refused = member.post("/h5/suggestions/new/", {"title": "再提一次", "content": "母婴室", "category": old.pk})
    assert refused.status_code == 422 and "该分类已停用" in refused.content.decode()
    assert not Item.objects.filter(title="再提一次").exists()
    with pytest.raises(ValidationFailed):
        services.item_submit(
            actor=world.member_a.user,
            organization=world.union_a,
            channel=Channel.ONLINE,
            title="再提一次",
            content="母婴室",
            kind=SubmitterKind.MEMBER,
            member=world.member_a,
            category=old,
        )
    ok = member.post("/h5/suggestions/new/", {"title": "食堂", "content": "加面食", "category": kept.pk})
    assert ok.status_code == 302 and Item.objects.get(title="食堂").category == kept
    staff = world.client_for(world.staff_a)
    page = staff.get("/console/suggestions/%d/" % item.pk).content.decode()
    assert "职工关爱（分类已停用）" in page
    sheet = load_workbook(io.BytesIO(staff.get("/console/suggestions/ledger/?export=xlsx&start=2020-01-01").content))
    rows = {r[5]: r[4] for r in list(sheet.active.iter_rows(values_only=True))[1:]}
    assert rows["母婴室"] == "职工关爱"


def test_staff_file_an_item_under_a_category_and_not_under_a_retired_one(world: World) -> None:
    admin = admin_of(world.union_a)
    category = services.category_create(actor=admin, organization=world.union_a, name="后勤保障")
    retired = services.category_create(actor=admin, organization=world.union_a, name="旧分类")
    services.category_set_active(actor=admin, category=retired, active=False)
    client = world.client_for(world.staff_a)
    form = client.get("/console/suggestions/new/").content.decode()
    assert "后勤保障" in form and "旧分类" not in form
    base = {"organization": world.union_a.pk, "channel": Channel.HOTLINE, "title": "停车难", "content": "早班停车难"}
    assert client.post("/console/suggestions/new/", {**base, "category": retired.pk}).status_code == 422
    assert client.post("/console/suggestions/new/", {**base, "category": category.pk}).status_code == 302
    assert Item.objects.get(title="停车难").category == category


# ---- milestones ------------------------------------------------------------------------------


def _long_item(world: World) -> Item:
    handler = handler_of(world.union_a)
    received = dt.datetime(2024, 2, 20, 10, 0, tzinfo=timezone.get_current_timezone())
    item = make_item(world.union_a, actor=handler, member=world.member_a, received_at=received)
    return services.item_accept(actor=handler, item=item)


def test_a_milestone_is_added_and_corrected_with_the_change_on_record(world: World) -> None:
    item = _long_item(world)
    url = "/console/suggestions/%d/action/" % item.pk
    client = world.client_for(world.staff_a)
    added = client.post(url, {"op": "milestone", "title": "立项", "reached_on": "2024-03-10", "note": "院办会"})
    assert added.status_code == 302
    milestone = item.milestones.get()
    fixed = {"op": "milestone_edit", "milestone_id": milestone.pk, "title": "小程序上线", "reached_on": "2025-03-15"}
    assert client.post(url, fixed).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.title, milestone.reached_on, milestone.note) == ("小程序上线", dt.date(2025, 3, 15), "")
    event = AuditEvent.objects.get(action="suggestions.milestone_update")
    assert event.detail == {
        "before": {"title": "立项", "reached_on": "2024-03-10", "note": "院办会"},
        "after": {"title": "小程序上线", "reached_on": "2025-03-15", "note": ""},
    }
    assert "2025-03-15 小程序上线" in client.get("/console/suggestions/%d/" % item.pk).content.decode()
    assert "节点：小程序上线" in _member_client(world).get("/h5/suggestions/%d/" % item.pk).content.decode()


@pytest.mark.parametrize(
    ("title", "reached_on", "message"),
    [
        ("", "2024-05-01", "请填写节点名称"),
        ("x" * 61, "2024-05-01", "节点名称不能超过 60 字"),
        ("立项", "2024-02-19", "节点日期须在收到诉求（2024-02-20）之后"),
        ("立项", "2099-01-01", "节点日期须在收到诉求"),
        ("立项", "明天", "日期"),
    ],
)
def test_a_milestone_edit_is_validated_and_a_refusal_changes_nothing(world: World, title, reached_on, message) -> None:  # type: ignore[no-untyped-def]
    item = _long_item(world)
    milestone = services.milestone_add(
        actor=handler_of(world.union_a), item=item, title="立项", reached_on=dt.date(2024, 3, 10)
    )
    response = world.client_for(world.staff_a).post(
        "/console/suggestions/%d/action/" % item.pk,
        {"op": "milestone_edit", "milestone_id": milestone.pk, "title": title, "reached_on": reached_on},
    )
    assert response.status_code == 422 and message in response.content.decode()
    assert Milestone.objects.values_list("title", "reached_on").get() == ("立项", dt.date(2024, 3, 10))
    assert not AuditEvent.objects.filter(action="suggestions.milestone_update").exists()


def test_a_milestone_is_edited_only_through_its_own_item_and_only_in_scope(world: World) -> None:
    item = _long_item(world)
    other = _long_item(world)
    milestone = services.milestone_add(
        actor=handler_of(world.union_a), item=item, title="立项", reached_on=dt.date(2024, 3, 10)
    )
    edit = {"op": "milestone_edit", "milestone_id": milestone.pk, "title": "改", "reached_on": "2024-04-01"}
    assert world.client_for(world.staff_a).post("/console/suggestions/%d/action/" % other.pk, edit).status_code == 404
    assert world.client_for(world.staff_b).post("/console/suggestions/%d/action/" % item.pk, edit).status_code == 404
    assert Milestone.objects.get(pk=milestone.pk).title == "立项"


# ---- departments -----------------------------------------------------------------------------


def test_a_department_is_renamed_its_contacts_changed_retired_and_restored(world: World) -> None:
    old_contact, new_contact = contact_of(world.union_a, "old_contact"), contact_of(world.union_a, "new_contact")
    dept = make_department(world.union_a, "体检中心", old_contact)
    notice = make_notice(make_item(world.union_a, title="体检报告上手机"), [dept])
    client = world.client_for(world.staff_a)
    edit = {"kind": "department_update", "department": dept.pk, "name": "健康管理中心", "contacts": "new_contact"}
    assert client.post(URL, edit).status_code == 302
    dept.refresh_from_db()
    assert dept.name == "健康管理中心" and list(dept.contacts.values_list("username", flat=True)) == ["new_contact"]
    event = AuditEvent.objects.get(action="suggestions.department_update")
    assert event.detail == {
        "before": {"name": "体检中心", "contacts": ["old_contact"]},
        "after": {"name": "健康管理中心", "contacts": ["new_contact"]},
    }
    # The new contact sees the department's notice; the old one no longer does.
    assert world.client_for(new_contact).get("/console/suggestions/contact/%d/" % notice.pk).status_code == 200
    assert world.client_for(old_contact).get("/console/suggestions/contact/%d/" % notice.pk).status_code == 404
    assert client.post(URL, {"kind": "department_retire", "department": dept.pk}).status_code == 302
    assert not Department.objects.get(pk=dept.pk).is_active
    item = services.item_accept(actor=handler_of(world.union_a), item=make_item(world.union_a))
    with pytest.raises(ValidationFailed):
        make_notice(item, [Department.objects.get(pk=dept.pk)])
    assert "健康管理中心" in client.get("/console/suggestions/notices/%d/" % notice.pk).content.decode()
    assert client.post(URL, {"kind": "department_restore", "department": dept.pk}).status_code == 302
    assert Department.objects.get(pk=dept.pk).is_active


@pytest.mark.parametrize(
    ("contacts", "message"),
    [
        ("nobody_here", "账号不存在：nobody_here"),
        ("b_clerk", "以下账号不是本组织可担任联络人的工作人员：b_clerk"),
        (",".join("u%d" % n for n in range(21)), "联络人最多 20 位"),
    ],
)
def test_department_contacts_must_be_staff_of_the_organisation(world: World, contacts, message) -> None:  # type: ignore[no-untyped-def]
    contact_of(world.union_b, "b_clerk")
    dept = make_department(world.union_a, "体检中心")
    client = world.client_for(world.staff_a)
    for post in (
        {"kind": "department_update", "department": dept.pk, "name": "体检中心", "contacts": contacts},
        {"kind": "department", "organization": world.union_a.pk, "name": "新部门", "contacts": contacts},
    ):
        response = client.post(URL, post)
        assert response.status_code == 422 and message in response.content.decode()
    assert not dept.contacts.exists() and not Department.objects.filter(name="新部门").exists()


def test_staff_of_a_sibling_union_cannot_edit_union_a_s_departments(world: World) -> None:
    dept = make_department(world.union_a, "体检中心")
    client = world.client_for(world.staff_b)
    assert "体检中心" not in client.get(URL).content.decode()
    for kind in ("department_update", "department_retire"):
        assert client.post(URL, {"kind": kind, "department": dept.pk, "name": "越权"}).status_code == 404
    dept.refresh_from_db()
    assert (dept.name, dept.is_active) == ("体检中心", True)
