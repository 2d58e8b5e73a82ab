from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "gonghui.health"
    label = "health"
    verbose_name = "职工体检"

    def ready(self) -> None:
        from gonghui.core import housekeeping, registry
        from gonghui.core.policies import register_policy_kind
        from gonghui.health import audit_labels, devices
        from gonghui.health.dashboard import register_cards
        from gonghui.health.permissions import GRANTS, LABELS, HealthPerm
        from gonghui.health.policies import CRITICAL_DEFAULT, CRITICAL_POLICY, CriticalLimitsBody
        from gonghui.health.services import import_batches_recover

        registry.permissions("health", LABELS)
        registry.grants(GRANTS)
        for code, label in devices.DEVICE_KINDS.items():
            registry.device_kind(code, label)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("health.importbatch", lambda b: "体检导入：%s" % b.filename, only=("filename",))
        registry.nav(
            registry.NavItem("health", "职工体检", "heart-pulse", "/console/health/", (HealthPerm.HEALTH_VIEW,), 80)
        )
        registry.tile(registry.Tile("health", "体检报告", "heart-pulse", "/h5/health/", 30))
        register_cards()
        housekeeping.register(
            "health_import_recover", "后台中断的体检导入（标记失败并删除文件）", import_batches_recover
        )
        # Health staff set critical values for their sub-tree alone, as before versioning.
        register_policy_kind(
            CRITICAL_POLICY,
            label="体检危急值",
            schema=CriticalLimitsBody,
            default=CRITICAL_DEFAULT,
            manage_perm=HealthPerm.HEALTH_MANAGE,
            four_eyes=False,
        )
