from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gonghui.accounts"
    label = "accounts"
    verbose_name = "账号与登录"

    def ready(self) -> None:
        from gonghui.accounts.services import prune_sms_codes
        from gonghui.core import housekeeping

        housekeeping.register("sms_codes", "过期的短信验证码", prune_sms_codes)
