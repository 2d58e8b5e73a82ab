from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gonghui.accounts"
    label = "accounts"
    verbose_name = "账号与登录"

    def ready(self) -> None:
        from gonghui.accounts.services import TOTP_PURPOSE, prune_sms_codes
        from gonghui.core import housekeeping
        from gonghui.core.crypto import register_encrypted_field

        register_encrypted_field("accounts.User", "totp_secret_encrypted", TOTP_PURPOSE)
        housekeeping.register("sms_codes", "过期的短信验证码", prune_sms_codes)
