from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "gonghui.benefits"
    label = "benefits"
    verbose_name = "普惠与惠工券"

    def ready(self) -> None:
        from gonghui.benefits.dashboard import register_cards
        from gonghui.benefits.redemption import prune_wrong_code_attempts
        from gonghui.benefits.services import issue_runs_recover
        from gonghui.core import housekeeping

        register_cards()
        housekeeping.register("wrong_code_attempts", "输错券码的记录", prune_wrong_code_attempts)
        housekeeping.register("issue_run_recover", "后台中断的定向发放（从中断处重新排队）", issue_runs_recover)
