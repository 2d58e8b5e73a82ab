from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "gonghui.members"
    label = "members"
    verbose_name = "会员"

    def ready(self) -> None:
        from gonghui.core import housekeeping
        from gonghui.core.crypto import register_encrypted_field
        from gonghui.members.identity import ID_PURPOSE
        from gonghui.members.imports import import_batches_expire

        register_encrypted_field("members.Member", "id_number_encrypted", ID_PURPOSE)
        register_encrypted_field("members.JoinApplication", "id_number_encrypted", ID_PURPOSE)
        housekeeping.register("member_import_uploads", "超时未确认的会员导入批次", import_batches_expire)
