from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "gonghui.members"
    label = "members"
    verbose_name = "会员"

    def ready(self) -> None:
        from gonghui.core.crypto import register_encrypted_field
        from gonghui.members.identity import ID_PURPOSE

        register_encrypted_field("members.Member", "id_number_encrypted", ID_PURPOSE)
