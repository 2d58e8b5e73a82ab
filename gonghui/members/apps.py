from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "gonghui.members"
    label = "members"
    verbose_name = "会员"

    def ready(self) -> None:
        from gonghui.core import housekeeping
        from gonghui.members.dashboard import register_cards
        from gonghui.members.imports import import_batches_expire, import_batches_recover

        register_cards()
        housekeeping.register("member_import_uploads", "超时未确认的会员导入批次", import_batches_expire)
        housekeeping.register(
            "member_import_recover",
            "后台中断的会员导入（重新排队，多次中断则标记失败并删除文件）",
            import_batches_recover,
        )
