from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "gonghui.members"
    label = "members"
    verbose_name = "会员"

    def ready(self) -> None:
        from gonghui.core import housekeeping
        from gonghui.members.dashboard import register_cards
        from gonghui.members.imports import import_batches_expire

        register_cards()
        housekeeping.register("member_import_uploads", "超时未确认的会员导入批次", import_batches_expire)
