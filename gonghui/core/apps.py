from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "gonghui.core"
    label = "core"
    verbose_name = "平台内核"

    def ready(self) -> None:
        from gonghui.core import audit_labels, cards, housekeeping, jobs, registry
        from gonghui.core.aggregates import SMALL_GROUP_DEFAULT, SMALL_GROUP_POLICY, SmallGroupBody
        from gonghui.core.permissions import PERM_LABELS, ROLE_PERMISSIONS, ROLES_REQUIRING_TOTP, Perm, Role
        from gonghui.core.policies import register_policy_kind
        from gonghui.core.signing import prune_nonces
        from gonghui.core.workdays import WORKDAYS_DEFAULT, WORKDAYS_POLICY, WorkdaysBody

        cards.register_cards()
        # The roles staff are granted, and the kernel's own permissions; each app adds its own.
        for role in Role:
            registry.role(role.value, role.label, requires_totp=role in ROLES_REQUIRING_TOTP)
        registry.permissions("core", PERM_LABELS)
        for role_code, perms in ROLE_PERMISSIONS.items():
            registry.grant(role_code, *perms)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("core.device", lambda d: "终端：%s" % d.name, only=("name",))
        registry.nav(registry.NavItem("exports", "我的导出", "file-earmark-arrow-down", "core:export_list", (), 990))
        registry.nav(registry.NavItem("audit", "审计日志", "shield-check", "core:audit_list", (Perm.AUDIT_READ,), 1000))
        post_migrate.connect(_create_audit_chain_heads, sender=self)
        housekeeping.register("device_nonces", "设备请求随机数（已过时效）", prune_nonces)
        housekeeping.register("idempotent_responses", "幂等请求的存档应答", housekeeping.prune_idempotent_responses)
        housekeeping.register(
            "jobs_recover", "后台中断的任务（从中断处重新排队，多次中断则标记失败）", jobs.jobs_recover
        )
        housekeeping.register("jobs_expire", "过期的后台任务（删除未确认的上传和过期的下载文件）", jobs.jobs_expire)
        registry.describe_by("core.job", jobs.job_name, only=("kind",))
        register_policy_kind(
            SMALL_GROUP_POLICY, label="统计小组抑制阈值", schema=SmallGroupBody, default=SMALL_GROUP_DEFAULT
        )
        register_policy_kind(
            WORKDAYS_POLICY,
            label="本地节假日调整（在国家法定节假日安排之外）",
            schema=WorkdaysBody,
            default=WORKDAYS_DEFAULT,
            four_eyes=False,
        )


def _create_audit_chain_heads(using: str = "default", **_: Any) -> None:
    """Every chain's tip exists before the first append, so appends never wait on one another's
    insert of a tip (runs after `migrate` and after a test flush)."""
    from gonghui.core.audit import ensure_chain_heads

    ensure_chain_heads(using=using)
