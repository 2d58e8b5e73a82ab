from typing import Any

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "gonghui.health"
    label = "health"
    verbose_name = "职工体检"

    def ready(self) -> None:
        from gonghui.core import jobs, registry
        from gonghui.core.policies import register_policy_kind
        from gonghui.health import audit_labels, devices, services, tasks
        from gonghui.health.dashboard import register_cards
        from gonghui.health.permissions import GRANTS, LABELS, HealthPerm
        from gonghui.health.policies import CRITICAL_DEFAULT, CRITICAL_POLICY, CriticalLimitsBody

        registry.permissions("health", LABELS)
        registry.grants(GRANTS)
        for code, label in devices.DEVICE_KINDS.items():
            registry.device_kind(code, label)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("health.programme", lambda p: "体检项目：%s" % p.name, only=("name",))
        registry.describe_by("health.package", lambda p: "体检套餐：%s" % p.name, only=("name",))
        registry.describe_by("health.checkupcentre", lambda c: "体检机构：%s" % c.name, only=("name",))
        registry.describe_by("health.quota", lambda q: "体检名额：%s" % q.programme.name, related=("programme",))
        registry.describe_by(
            "health.appointment",
            lambda a: "%s的体检预约（%s）" % (a.member.name_masked, a.programme.name),
            related=("member", "programme"),
        )
        registry.describe_by("health.importbatch", lambda b: "体检导入：%s" % b.filename, only=("filename",))
        registry.nav(
            registry.NavItem("health", "职工体检", "heart-pulse", "/console/health/", (HealthPerm.HEALTH_VIEW,), 80)
        )
        registry.seeder("health", order=30, run=_seed_demo, label="职工体检")
        registry.tile(registry.Tile("health", "体检报告", "heart-pulse", "/h5/health/", 30))
        services.on_checkups_imported(tasks.queue_summaries)
        register_cards()
        # An import is all or nothing in one transaction: one whose worker died stored nothing and
        # is queued again by the kernel's jobs_recover (failed after 3 attempts); its file is
        # deleted once imported, refused, or expired.
        jobs.register_job_kind(
            services.IMPORT_JOB,
            label="体检结果导入",
            run=services.import_batch_job,
            perm=HealthPerm.HEALTH_MANAGE,
            crash_message=services.IMPORT_CRASHED,
            resumable=services.import_batch_resumable,
            on_expire=services.import_batch_expire,
        )
        # Health staff set critical values for their sub-tree alone, as before versioning.
        register_policy_kind(
            CRITICAL_POLICY,
            label="体检危急值",
            schema=CriticalLimitsBody,
            default=CRITICAL_DEFAULT,
            manage_perm=HealthPerm.HEALTH_MANAGE,
            four_eyes=False,
        )


def _seed_demo(context: Any) -> None:
    """The demo's check-up programme, imported reports and kiosk (loaded only when seeding)."""
    from gonghui.health import demo

    demo.seed(rng=context.rng, stdout=context.stdout)
