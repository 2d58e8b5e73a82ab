"""Roles and the permissions they grant. A role held on an organisation applies to that
organisation and its whole sub-tree (see `gonghui.organizations.selectors.scope_paths`)."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "管理员"
    HANDLER = "handler", "经办人"
    REVIEWER = "reviewer", "审核人"
    FINANCE = "finance", "财务"
    REDEEMER = "redeemer", "核销员"
    HEALTH = "health", "健康管理员"
    AUDITOR = "auditor", "审计员"


class Perm:
    """The kernel's own permissions; each app declares its own in its AppConfig.ready()."""

    DEVICE_MANAGE = "device.manage"
    AUDIT_READ = "audit.read"
    POLICY_VIEW = "policy.view"
    POLICY_MANAGE = "policy.manage"
    POLICY_APPROVE = "policy.approve"


PERM_LABELS = {
    Perm.DEVICE_MANAGE: "管理终端设备",
    Perm.AUDIT_READ: "查阅审计日志",
    Perm.POLICY_VIEW: "查看政策与参数",
    Perm.POLICY_MANAGE: "起草政策与参数",
    Perm.POLICY_APPROVE: "审批政策与参数",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({Perm.DEVICE_MANAGE, Perm.POLICY_VIEW, Perm.POLICY_MANAGE, Perm.POLICY_APPROVE}),
    Role.REVIEWER: frozenset({Perm.POLICY_VIEW, Perm.POLICY_APPROVE}),
    Role.HEALTH: frozenset({Perm.POLICY_VIEW}),
    Role.AUDITOR: frozenset({Perm.AUDIT_READ}),
}

# Roles whose holders must pass a TOTP second factor before the console opens.
ROLES_REQUIRING_TOTP = frozenset({Role.ADMIN, Role.AUDITOR})
