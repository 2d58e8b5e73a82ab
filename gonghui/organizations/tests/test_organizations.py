import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghui.accounts.models import User
from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.members.permissions import MemberPerm
from gonghui.organizations import selectors, services
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.permissions import OrgPerm
from gonghui.site.testing import World


@pytest.mark.django_db
def test_paths_nest_and_subtrees_are_prefix_scans(world: World) -> None:
    assert world.union_a.path.startswith(world.street.path)
    assert world.union_a.depth == world.street.depth + 1 == 4
    assert set(selectors.subtree(world.street)) == {world.street, world.union_a, world.union_b}
    assert selectors.ancestors(world.union_a)[0] == world.province
    with CaptureQueriesContext(connection) as ctx:
        list(selectors.organizations_for_actor(actor=world.federation_admin, perm=OrgPerm.ORG_VIEW))
    sql = ctx.captured_queries[-1]["sql"]
    assert "LIKE" in sql
    assert "WITH RECURSIVE" not in sql.upper()


@pytest.mark.django_db
def test_scope_is_the_union_of_minimal_subtrees(world: World) -> None:
    assert selectors.scope_paths(world.staff_a, MemberPerm.MEMBER_VIEW) == [world.union_a.path]
    assert selectors.minimal_paths(["0001.0002.", "0001.", "0003."]) == ["0001.", "0003."]
    assert selectors.has_perm_on(world.federation_admin, OrgPerm.ORG_MANAGE, world.union_b)
    assert not selectors.has_perm_on(world.staff_a, OrgPerm.ORG_MANAGE, world.union_b)
    assert list(selectors.organizations_for_actor(actor=world.staff_a, perm=OrgPerm.ORG_VIEW)) == [world.union_a]


@pytest.mark.django_db
def test_create_child_validates_and_is_scoped(world: World) -> None:
    with pytest.raises(ValidationFailed) as info:
        services.organization_create(
            actor=world.federation_admin,
            parent=world.street,
            code=world.union_a.code,
            name="",
            level=Level.CITY,
            region_code="32050",
            credit_code="91320508MA1MXXXX00",
        )
    assert info.value.fields == {
        "code": "组织代码已存在",
        "name": "请填写工会名称",
        "level": "下级组织的层级必须低于上级组织",
        "region_code": "行政区划代码应为6位数字（GB/T 2260）",
        "credit_code": "统一社会信用代码校验位错误",
    }
    with pytest.raises(PermissionDenied):
        services.organization_create(
            actor=world.staff_b,
            parent=world.union_a,
            code="X1",
            name="越权工会",
            level=Level.GRASSROOTS,
            region_code="320508",
        )
    assert not Organization.objects.filter(code="X1").exists()
    child = services.organization_create(
        actor=world.federation_admin,
        parent=world.street,
        code="NEW01",
        name="新建工会",
        level=Level.GRASSROOTS,
        region_code="320508",
    )
    assert child.path == world.street.path + Organization.path_segment(child.pk)


@pytest.mark.django_db
def test_console_tree_pages(world: World) -> None:
    client = world.client_for(world.federation_admin)
    top = client.get("/console/organizations/")
    assert "江苏省总工会" in top.content.decode()
    detail = client.get(f"/console/organizations/{world.street.pk}/")
    body = detail.content.decode()
    assert "苏州甲公司工会" in body and "苏州乙公司工会" in body
    created = client.post(
        f"/console/organizations/{world.street.pk}/new-child/",
        {"code": "WEB01", "name": "网页新建工会", "level": str(Level.GRASSROOTS), "region_code": "320508"},
    )
    assert created.status_code == 302
    assert Organization.objects.get(code="WEB01").parent == world.street


@pytest.mark.django_db
def test_admin_adds_a_staff_account_with_a_role(world: World) -> None:
    client = world.client_for(world.staff_a)
    weak = client.post(
        f"/console/organizations/{world.union_a.pk}/staff/",
        {"username": "new_clerk", "display_name": "新核销员", "password": "123", "role": "redeemer"},
    )
    assert weak.status_code == 302
    assert not User.objects.filter(username="new_clerk").exists()
    client.post(
        f"/console/organizations/{world.union_a.pk}/staff/",
        {"username": "new_clerk", "display_name": "新核销员", "password": "Strong-pass-2026", "role": "redeemer"},
    )
    user = User.objects.get(username="new_clerk")
    assert user.check_password("Strong-pass-2026")
    assert list(user.role_assignments.values_list("organization_id", "role")) == [(world.union_a.pk, "redeemer")]
    assert AuditEvent.objects.filter(action="staff.create", organization_path=world.union_a.path).count() == 1
