from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "gonghui.benefits"
    label = "benefits"
    verbose_name = "普惠与惠工券"

    def ready(self) -> None:
        from gonghui.benefits.dashboard import register_cards
        from gonghui.benefits.redemption import prune_wrong_code_attempts
        from gonghui.core import housekeeping

        register_cards()
        housekeeping.register("wrong_code_attempts", "输错券码的记录", prune_wrong_code_attempts)
