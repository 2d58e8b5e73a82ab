from typing import Any

from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "gonghui.benefits"
    label = "benefits"
    verbose_name = "普惠与惠工券"

    def ready(self) -> None:
        from gonghui.benefits import audit_labels, devices, services
        from gonghui.benefits.dashboard import register_cards
        from gonghui.benefits.permissions import GRANTS, LABELS, BenefitPerm
        from gonghui.benefits.redemption import prune_wrong_code_attempts
        from gonghui.core import housekeeping, jobs, registry

        registry.permissions("benefits", LABELS)
        registry.grants(GRANTS)
        for code, label in devices.DEVICE_KINDS.items():
            registry.device_kind(code, label)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("benefits.campaign", lambda c: "活动：%s" % c.name, only=("name",))
        # A coupon's code is what a clerk redeems: its name never shows it.
        registry.describe_by(
            "benefits.coupon",
            lambda c: "%s的券（%s）" % (c.member.name_masked, c.campaign.name),
            related=("member", "campaign"),
        )
        registry.describe_by("benefits.redemption", lambda r: "核销：%s" % r.campaign.name, related=("campaign",))
        registry.describe_by("benefits.redemptionpoint", lambda p: "核销点：%s" % p.name, only=("name",))
        campaign_perms = (BenefitPerm.CAMPAIGN_MANAGE, BenefitPerm.CAMPAIGN_REPORT)
        registry.nav(
            registry.NavItem("campaigns", "惠工活动", "ticket-perforated", "/console/benefits/", campaign_perms, 60)
        )
        redeem_perms = (BenefitPerm.COUPON_REDEEM,)
        registry.nav(registry.NavItem("redeem", "扫码核销", "qr-code-scan", "/clerk/redeem/", redeem_perms, 70))
        registry.seeder("benefits", order=20, run=_seed_demo, label="普惠与惠工券")
        registry.tile(registry.Tile("coupons", "我的券", "ticket-perforated", "/h5/coupons/", 20))
        register_cards()
        housekeeping.register("wrong_code_attempts", "输错券码的记录", prune_wrong_code_attempts)
        # A dead run is queued again by the kernel's jobs_recover and continues after its cursor.
        jobs.register_job_kind(
            services.ISSUE_RUN_JOB,
            label="定向发放",
            run=services.issue_run_job,
            perm=BenefitPerm.CAMPAIGN_MANAGE,
            crash_message=services.ISSUE_RUN_CRASHED,
            resumable=services.issue_run_resumable,
        )


def _seed_demo(context: Any) -> None:
    """The demo's campaigns, redemption points and devices (loaded only when seeding)."""
    from gonghui.benefits import demo

    demo.seed(rng=context.rng, stdout=context.stdout)
