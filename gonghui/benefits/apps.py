from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "gonghui.benefits"
    label = "benefits"
    verbose_name = "普惠与惠工券"

    def ready(self) -> None:
        from gonghui.benefits import services
        from gonghui.benefits.dashboard import register_cards
        from gonghui.benefits.redemption import prune_wrong_code_attempts
        from gonghui.core import housekeeping, jobs
        from gonghui.core.permissions import Perm

        register_cards()
        housekeeping.register("wrong_code_attempts", "输错券码的记录", prune_wrong_code_attempts)
        # A dead run is queued again by the kernel's jobs_recover and continues after its cursor.
        jobs.register_job_kind(
            services.ISSUE_RUN_JOB,
            label="定向发放",
            run=services.issue_run_job,
            perm=Perm.CAMPAIGN_MANAGE,
            crash_message=services.ISSUE_RUN_CRASHED,
            resumable=services.issue_run_resumable,
        )
