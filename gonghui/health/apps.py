from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "gonghui.health"
    label = "health"
    verbose_name = "职工体检"

    def ready(self) -> None:
        from gonghui.core import housekeeping
        from gonghui.health.dashboard import register_cards
        from gonghui.health.services import import_batches_recover

        register_cards()
        housekeeping.register(
            "health_import_recover", "后台中断的体检导入（标记失败并删除文件）", import_batches_recover
        )
