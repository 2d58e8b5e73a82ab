from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from gonghui.accounts.models import User
from gonghui.core import audit
from gonghui.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.core.identifiers import IdentifierError, validate_phone, validate_region_code, validate_uscc
from gonghui.core.permissions import Role
from gonghui.organizations.models import Level, Organization, RoleAssignment
from gonghui.organizations.permissions import OrgPerm
from gonghui.organizations.selectors import forget_roles, has_perm_on


def _place(org: Organization, parent: Organization | None) -> None:
    """Give a saved organisation its materialised path under `parent`."""
    org.path = (parent.path if parent else "") + Organization.path_segment(org.pk)
    org.depth = parent.depth + 1 if parent else 0
    Organization.objects.filter(pk=org.pk).update(path=org.path, depth=org.depth)


def organization_create(
    *,
    actor: Any,
    parent: Organization | None,
    code: str,
    name: str,
    level: int,
    region_code: str,
    unit_name: str = "",
    credit_code: str = "",
    unit_type: str = "",
    industry: str = "",
    address: str = "",
) -> Organization:
    """Create a union under `parent`. Only a federation root may be created without a parent,
    and only by the system (actor None) — the seed or an installer's command."""
    if parent is None and actor is not None:
        raise PermissionDenied("只有系统可以创建顶级组织")
    if parent is not None and actor is not None and not has_perm_on(actor, OrgPerm.ORG_MANAGE, parent):
        raise PermissionDenied("无权在该组织下创建下级组织")
    errors: dict[str, str] = {}
    code = code.strip()
    name = name.strip()
    if not code:
        errors["code"] = "请填写组织代码"
    elif Organization.objects.filter(code=code).exists():
        errors["code"] = "组织代码已存在"
    if not name:
        errors["name"] = "请填写工会名称"
    if parent is not None and level <= parent.level:
        errors["level"] = "下级组织的层级必须低于上级组织"
    if level not in Level.values:
        errors["level"] = "层级无效"
    try:
        region_code = validate_region_code(region_code)
    except IdentifierError as exc:
        errors["region_code"] = str(exc)
    if credit_code:
        try:
            credit_code = validate_uscc(credit_code)
        except IdentifierError as exc:
            errors["credit_code"] = str(exc)
    if errors:
        raise ValidationFailed("组织信息有误，请检查标红的字段", fields=errors)
    with transaction.atomic():
        org = Organization.objects.create(
            code=code,
            name=name,
            level=level,
            parent=parent,
            path=f"~{code}.",  # replaced by _place once the id is known
            region_code=region_code,
            unit_name=unit_name,
            credit_code=credit_code,
            unit_type=unit_type,
            industry=industry,
            address=address,
        )
        _place(org, parent)
        audit.record(actor=actor, action="organization.create", obj=org, organization=org, detail={"name": name})
    return org


def role_grant(*, actor: Any, user: Any, organization: Organization, role: str) -> RoleAssignment:
    """Give `user` a role on `organization`. Only a staff account may hold a role (a member's
    SMS account never does). An actor (not the system) may grant only where they manage
    staff, and only to a staff account none of whose roles lies outside that scope: a
    colleague of another union stays that union's, and a role held higher up is not
    extended from below. A staff account holding no role may be given one."""
    if role not in Role.values:
        raise ValidationFailed("角色无效", fields={"role": "角色无效"})
    if actor is not None and not has_perm_on(actor, OrgPerm.STAFF_MANAGE, organization):
        raise PermissionDenied("无权为该组织分配角色")
    if not user.is_staff_account or getattr(user, "member_profile", None) is not None:
        raise ValidationFailed(
            "%(username)s 不是工作人员账号，不能授予角色" % {"username": user.username},
            fields={"username": "不是工作人员账号"},
        )
    with transaction.atomic():
        held = list(
            RoleAssignment.objects.select_for_update(of=("self",))
            .filter(user=user)
            .select_related("organization")
            .order_by("pk")
        )
        if actor is not None and any(not has_perm_on(actor, OrgPerm.STAFF_MANAGE, a.organization) for a in held):
            raise PermissionDenied(
                "%(username)s 在您管理范围以外的组织任职，不能由您授予角色" % {"username": user.username}
            )
        assignment, created = RoleAssignment.objects.get_or_create(user=user, organization=organization, role=role)
        if created:
            audit.record(
                actor=actor,
                action="role.grant",
                obj=assignment,
                organization=organization,
                detail={"user": user.username, "role": role},
            )
    forget_roles(user)
    return assignment


def role_revoke(*, actor: Any, assignment: RoleAssignment) -> None:
    """Take a role away. The actor must manage staff on the role's organisation, and cannot
    take away their own role (nobody locks themselves out)."""
    if not has_perm_on(actor, OrgPerm.STAFF_MANAGE, assignment.organization):
        raise PermissionDenied("无权撤销该角色")
    if assignment.user_id == actor.pk:
        raise PermissionDenied("不能撤销自己的角色，请由上级管理员办理")
    with transaction.atomic():
        locked = RoleAssignment.objects.select_for_update().select_related("user").filter(pk=assignment.pk).first()
        if locked is None:
            raise NotFound("该角色已撤销")
        audit.record(
            actor=actor,
            action="role.revoke",
            obj=locked,
            organization=assignment.organization,
            detail={"user": locked.user.username, "role": locked.role},
        )
        locked.delete()
    forget_roles(locked.user)


def staff_create(
    *, actor: Any, organization: Organization, username: str, display_name: str, phone: str, password: str, role: str
) -> RoleAssignment:
    """Open a staff account on `organization` with a first role. The password must pass the
    configured validators; the new user changes nothing about anyone else's rights."""

    if not has_perm_on(actor, OrgPerm.STAFF_MANAGE, organization):
        raise PermissionDenied("无权为该组织添加工作人员")
    errors: dict[str, str] = {}
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("_", "").isalnum() or not username.isascii():
        errors["username"] = "用户名只能包含英文字母、数字和下划线"
    elif User.objects.filter(username=username).exists():
        errors["username"] = "用户名已存在"
    if not display_name.strip():
        errors["display_name"] = "请填写姓名"
    if phone.strip():
        try:
            phone = validate_phone(phone)
        except IdentifierError as exc:
            errors["phone"] = str(exc)
    if role not in Role.values:
        errors["role"] = "角色无效"
    try:
        validate_password(password)
    except ValidationError as exc:
        errors["password"] = "；".join(exc.messages)
    if errors:
        raise ValidationFailed("工作人员信息有误，请检查标红的字段", fields=errors)
    with transaction.atomic():
        user = User.objects.create_staff_user(
            username=username, password=password, display_name=display_name.strip(), phone=phone.strip()
        )
        audit.record(
            actor=actor, action="staff.create", obj=user, organization=organization, detail={"username": username}
        )
        return role_grant(actor=actor, user=user, organization=organization, role=role)
