from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "gonghui.health"
    label = "health"
    verbose_name = "职工体检"

    def ready(self) -> None:
        from gonghui.core import housekeeping
        from gonghui.core.permissions import Perm
        from gonghui.core.policies import register_policy_kind
        from gonghui.health.dashboard import register_cards
        from gonghui.health.policies import CRITICAL_DEFAULT, CRITICAL_POLICY, CriticalLimitsBody
        from gonghui.health.services import import_batches_recover

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
            manage_perm=Perm.HEALTH_MANAGE,
            four_eyes=False,
        )
