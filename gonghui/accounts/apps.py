from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gonghui.accounts"
    label = "accounts"
    verbose_name = "账号与登录"

    def ready(self) -> None:
        from gonghui.accounts.services import TOTP_PURPOSE
        from gonghui.core.crypto import register_encrypted_field

        register_encrypted_field("accounts.User", "totp_secret_encrypted", TOTP_PURPOSE)
