"""Role grants and revocations (issue 9, item 5): only staff accounts hold roles, an admin
grants only to staff who work within their scope, and revoking a role is a confirmed,
audited POST open only to those who manage staff on that organisation."""

import pytest
from django.test import Client

from gonghui.accounts.models import User
from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.core.middleware import SESSION_OTP_OK
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.organizations import selectors, services
from gonghui.organizations.models import RoleAssignment
from gonghui.site.testing import World, grant, make_user


def _assignments() -> list[tuple[int, int, str]]:
    return sorted(RoleAssignment.objects.values_list("user_id", "organization_id", "role"))


@pytest.mark.django_db
def test_a_members_sms_account_can_never_hold_a_role(world: World) -> None:
    member_user = world.member_a.user
    before = _assignments()
    client = world.client_for(world.staff_a)
    response = client.post(
        f"/console/organizations/{world.union_a.pk}/roles/", {"username": member_user.username, "role": "handler"}
    )
    assert response.status_code == 302
    assert "member_a_user 不是工作人员账号，不能授予角色" in client.get(response.headers["Location"]).content.decode()
    for actor in (world.staff_a, world.federation_admin, None):
        with pytest.raises(ValidationFailed):
            services.role_grant(actor=actor, user=member_user, organization=world.union_a, role=Role.HANDLER)
    assert _assignments() == before
    assert not AuditEvent.objects.filter(action="role.grant", detail__user=member_user.username).exists()


@pytest.mark.django_db
def test_a_stray_role_row_gives_a_member_account_nothing(world: World) -> None:
    member_user = world.member_a.user
    RoleAssignment.objects.create(user=member_user, organization=world.union_a, role=Role.HANDLER)
    assert not selectors.is_staff_user(member_user)
    client = Client()
    client.force_login(member_user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    assert client.get("/console/members/").status_code == 403


@pytest.mark.django_db
def test_an_admin_cannot_grant_a_role_to_staff_working_outside_their_scope(world: World) -> None:
    before = _assignments()
    client = world.client_for(world.staff_a)
    response = client.post(
        f"/console/organizations/{world.union_a.pk}/roles/", {"username": world.staff_b.username, "role": "handler"}
    )
    assert response.status_code == 302
    assert "在您管理范围以外的组织任职" in client.get(response.headers["Location"]).content.decode()
    for grantee in (world.staff_b, world.federation_admin):
        with pytest.raises(PermissionDenied):
            services.role_grant(actor=world.staff_a, user=grantee, organization=world.union_a, role=Role.HANDLER)
    assert _assignments() == before
    assert not AuditEvent.objects.filter(action="role.grant", actor_id=world.staff_a.pk).exists()


@pytest.mark.django_db
def test_an_admin_grants_roles_to_staff_of_their_own_scope(world: World) -> None:
    clerk = grant(make_user("clerk_a"), world.union_a, Role.REDEEMER)
    client = world.client_for(world.staff_a)
    client.post(f"/console/organizations/{world.union_a.pk}/roles/", {"username": "clerk_a", "role": "handler"})
    assert sorted(clerk.role_assignments.values_list("role", flat=True)) == ["handler", "redeemer"]
    # The federation's admin reaches union A's staff from above; a role-less staff account
    # (every role taken away) may be given one anywhere.
    services.role_grant(actor=world.federation_admin, user=world.staff_a, organization=world.union_b, role="auditor")
    idle = make_user("idle_staff")
    services.role_grant(actor=world.staff_a, user=idle, organization=world.union_a, role=Role.HANDLER)
    assert AuditEvent.objects.filter(action="role.grant", detail__user="idle_staff").count() == 1


def _clerk_role(world: World) -> RoleAssignment:
    clerk = grant(make_user("clerk_a"), world.union_a, Role.REDEEMER)
    return clerk.role_assignments.get()


@pytest.mark.django_db
def test_an_admin_revokes_a_role_after_confirming(world: World) -> None:
    assignment = _clerk_role(world)
    client = world.client_for(world.staff_a)
    url = f"/console/organizations/{world.union_a.pk}/roles/{assignment.pk}/revoke/"
    detail = client.get(f"/console/organizations/{world.union_a.pk}/").content.decode()
    assert url in detail
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "确认撤销" in confirm.content.decode() and "核销员" in confirm.content.decode()
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    done = client.post(url)
    assert done.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(action="role.revoke")
    assert (event.actor_id, event.organization_path, event.detail) == (
        world.staff_a.pk,
        world.union_a.path,
        {"user": "clerk_a", "role": "redeemer"},
    )
    assert "已撤销" in client.get(done.headers["Location"]).content.decode()


@pytest.mark.django_db
def test_sibling_union_staff_cannot_revoke_a_role_of_union_a(world: World) -> None:
    assignment = _clerk_role(world)
    before = _assignments()
    client = world.client_for(world.staff_b)
    for org in (world.union_a, world.union_b):
        url = f"/console/organizations/{org.pk}/roles/{assignment.pk}/revoke/"
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    with pytest.raises(PermissionDenied):
        services.role_revoke(actor=world.staff_b, assignment=assignment)
    assert _assignments() == before
    assert not AuditEvent.objects.filter(action="role.revoke").exists()


@pytest.mark.django_db
def test_revoking_needs_the_csrf_token_and_nobody_revokes_their_own_role(world: World) -> None:
    assignment = _clerk_role(world)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.staff_a, backend="gonghui.accounts.backends.StaffPasswordBackend")
    session = strict.session
    session[SESSION_OTP_OK] = True
    session.save()
    url = f"/console/organizations/{world.union_a.pk}/roles/{assignment.pk}/revoke/"
    assert strict.post(url).status_code == 403
    own = world.staff_a.role_assignments.get(role=Role.ADMIN)
    before = _assignments()
    client = world.client_for(world.staff_a)
    detail = client.get(f"/console/organizations/{world.union_a.pk}/").content.decode()
    assert f"/roles/{own.pk}/revoke/" not in detail
    response = client.post(f"/console/organizations/{world.union_a.pk}/roles/{own.pk}/revoke/")
    assert response.status_code == 302
    assert "不能撤销自己的角色" in client.get(response.headers["Location"]).content.decode()
    assert _assignments() == before
    assert not AuditEvent.objects.filter(action="role.revoke").exists()


@pytest.mark.django_db
def test_staff_created_in_the_console_is_a_staff_account(world: World) -> None:
    services.staff_create(
        actor=world.staff_a,
        organization=world.union_a,
        username="new_clerk",
        display_name="新核销员",
        phone="",
        password="Strong-pass-2026",
        role=Role.REDEEMER,
    )
    assert User.objects.get(username="new_clerk").is_staff_account
