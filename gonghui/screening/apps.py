from typing import Any

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "gonghui.screening"
    label = "screening"
    verbose_name = "筛查比对"

    def ready(self) -> None:
        from gonghui.core import export_jobs, housekeeping, jobs, registry
        from gonghui.organizations.selectors import PickerPurpose, register_picker_purpose
        from gonghui.screening import acceptance, audit_labels, exports, kinds, services, storage
        from gonghui.screening.dashboard import register_cards
        from gonghui.screening.permissions import GRANTS, LABELS, ScreeningPerm

        registry.permissions("screening", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by(
            "screening.dataset", lambda d: "比对数据：%s v%s" % (d.name, d.version), only=("name", "version")
        )
        registry.describe_by(
            "screening.rule", lambda r: "筛查规则：%s v%s" % (r.name, r.version), only=("name", "version")
        )
        registry.describe_by("screening.run", lambda r: "筛查 #%s" % r.pk, only=("id",))
        registry.describe_by(
            "screening.candidate",
            lambda c: "%s的筛查线索（%s）" % (c.member.name_masked, c.rule.name),
            related=("member", "rule"),
        )
        registry.nav(registry.NavItem("screening", "筛查比对", "search", "screening:home", (ScreeningPerm.VIEW,), 85))
        register_picker_purpose(
            kinds.PICKER, PickerPurpose(ScreeningPerm.DATASET_MANAGE, whole_federation=False, grassroots_only=False)
        )
        kinds.register_kind_columns()
        jobs.register_job_kind(
            services.INGEST_JOB,
            label="筛查数据读取",
            run=services.dataset_ingest_job,
            perm=ScreeningPerm.DATASET_MANAGE,
            crash_message=services.INGEST_CRASHED,
            resumable=services.dataset_ingest_resumable,
            on_change=services.dataset_job_changed,
        )
        jobs.register_job_kind(
            services.RUN_JOB,
            label="筛查比对",
            run=services.run_job,
            perm=ScreeningPerm.RUN,
            crash_message=services.RUN_CRASHED,
            on_change=services.run_job_changed,
        )
        export_jobs.register_export(
            exports.CANDIDATES_EXPORT,
            label="筛查线索导出",
            perm=ScreeningPerm.VIEW,
            action="screening.candidates_export",
            build=exports.candidates_export_plan,
        )
        # The agency files as uploaded hold ID numbers as sent: key rotation re-seals them.
        registry.sealed_files(
            "screening.Dataset.raw_file", purpose=storage.RAW_PURPOSE, paths=services.raw_uploads_kept
        )
        # Members an accepted 常态化慰问 candidate refers to a visit group, for relief's plans.
        registry.offer("screening.visit_referrals", acceptance.visit_referrals)
        housekeeping.register(
            "screening_dataset_files", "停用或被替换超过保存期限的比对数据文件", services.datasets_files_expire
        )
        registry.seeder("screening", order=60, run=_seed_demo, label="筛查比对")
        register_cards()


def _seed_demo(context: Any) -> None:
    """Demo agency datasets matched to some demo members, and one completed run."""
    from gonghui.screening import demo

    demo.seed(context)
