from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gonghui.core"
    label = "core"
    verbose_name = "平台内核"

    def ready(self) -> None:
        from gonghui.core.crypto import register_encrypted_field
        from gonghui.core.signing import SECRET_PURPOSE

        register_encrypted_field("core.Device", "secret_encrypted", SECRET_PURPOSE)
