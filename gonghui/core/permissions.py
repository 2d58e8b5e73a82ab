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
    ORG_VIEW = "org.view"
    ORG_MANAGE = "org.manage"
    STAFF_MANAGE = "staff.manage"
    MEMBER_VIEW = "member.view"
    MEMBER_EDIT = "member.edit"
    MEMBER_IMPORT = "member.import"
    MEMBER_REVEAL_ID = "member.reveal_id"
    TRANSFER_SUBMIT = "transfer.submit"
    TRANSFER_APPROVE = "transfer.approve"
    CAMPAIGN_MANAGE = "campaign.manage"
    CAMPAIGN_PUBLISH = "campaign.publish"
    CAMPAIGN_REPORT = "campaign.report"
    COUPON_REDEEM = "coupon.redeem"
    COUPON_REVERSE = "coupon.reverse"
    DEVICE_MANAGE = "device.manage"
    HEALTH_VIEW = "health.view"
    HEALTH_MANAGE = "health.manage"
    AUDIT_READ = "audit.read"
    POLICY_VIEW = "policy.view"
    POLICY_MANAGE = "policy.manage"
    POLICY_APPROVE = "policy.approve"


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {
            Perm.ORG_VIEW,
            Perm.ORG_MANAGE,
            Perm.STAFF_MANAGE,
            Perm.MEMBER_VIEW,
            Perm.MEMBER_EDIT,
            Perm.MEMBER_IMPORT,
            Perm.MEMBER_REVEAL_ID,
            Perm.TRANSFER_SUBMIT,
            Perm.TRANSFER_APPROVE,
            Perm.CAMPAIGN_MANAGE,
            Perm.CAMPAIGN_PUBLISH,
            Perm.CAMPAIGN_REPORT,
            Perm.COUPON_REVERSE,
            Perm.DEVICE_MANAGE,
            Perm.POLICY_VIEW,
            Perm.POLICY_MANAGE,
            Perm.POLICY_APPROVE,
        }
    ),
    Role.HANDLER: frozenset(
        {
            Perm.ORG_VIEW,
            Perm.MEMBER_VIEW,
            Perm.MEMBER_EDIT,
            Perm.MEMBER_IMPORT,
            Perm.TRANSFER_SUBMIT,
            Perm.CAMPAIGN_MANAGE,
            Perm.CAMPAIGN_REPORT,
        }
    ),
    Role.REVIEWER: frozenset(
        {
            Perm.ORG_VIEW,
            Perm.MEMBER_VIEW,
            Perm.TRANSFER_APPROVE,
            Perm.CAMPAIGN_PUBLISH,
            Perm.CAMPAIGN_REPORT,
            Perm.POLICY_VIEW,
            Perm.POLICY_APPROVE,
        }
    ),
    Role.FINANCE: frozenset({Perm.ORG_VIEW, Perm.CAMPAIGN_REPORT, Perm.COUPON_REVERSE}),
    Role.REDEEMER: frozenset({Perm.COUPON_REDEEM}),
    Role.HEALTH: frozenset({Perm.ORG_VIEW, Perm.MEMBER_VIEW, Perm.HEALTH_VIEW, Perm.HEALTH_MANAGE, Perm.POLICY_VIEW}),
    Role.AUDITOR: frozenset({Perm.AUDIT_READ}),
}

# Roles whose holders must pass a TOTP second factor before the console opens.
ROLES_REQUIRING_TOTP = frozenset({Role.ADMIN, Role.AUDITOR})
