from typing import Any

from django.apps import AppConfig


class MutualAidConfig(AppConfig):
    name = "gonghui.mutual_aid"
    label = "mutual_aid"
    verbose_name = "医疗互助"

    def ready(self) -> None:
        from gonghui.core import jobs, registry
        from gonghui.core.policies import register_policy_kind
        from gonghui.mutual_aid import audit_labels, selectors, services
        from gonghui.mutual_aid.dashboard import register_cards
        from gonghui.mutual_aid.permissions import GRANTS, LABELS, AidPerm
        from gonghui.mutual_aid.policies import PLAN_LABELS, rules_kind
        from gonghui.mutual_aid.rules import SHIPPED_PLANS, PlanRules
        from gonghui.organizations.selectors import PickerPurpose, register_picker_purpose

        registry.permissions("mutual_aid", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by(
            "mutual_aid.enrolmentbatch",
            lambda b: "医疗互助参保名单：%s（%s）" % (b.organization.name, b.filename),
            related=("organization",),
        )
        registry.describe_by("mutual_aid.period", lambda p: "医疗互助期次：%s" % p.name, only=("name",))
        registry.describe_by(
            "mutual_aid.bill",
            lambda b: "医疗互助缴费单：%s（%s人）" % (b.organization.name, b.member_count),
            related=("organization",),
        )
        registry.describe_by(
            "mutual_aid.claim",
            lambda c: "%s的医疗互助结报（%s）" % (c.member.name_masked, c.admitted_on.isoformat()),
            related=("member",),
        )
        registry.nav(registry.NavItem("mutual_aid", "医疗互助", "hospital", "mutual_aid:home", (AidPerm.VIEW,), 85))
        registry.tile(registry.Tile("mutual_aid", "医疗互助", "hospital", "/h5/mutual-aid/", 41))
        register_picker_purpose(
            "mutual_aid_enrol", PickerPurpose(AidPerm.ENROL, whole_federation=False, grassroots_only=False)
        )
        for code, body in SHIPPED_PLANS.items():
            register_policy_kind(
                rules_kind(code), label=PLAN_LABELS[code], schema=PlanRules, default=body, manage_perm=AidPerm.MANAGE
            )
        registry.offer("mutual_aid.paid_benefits_fen", selectors.paid_benefits_fen)
        jobs.register_job_kind(
            services.ENROL_JOB,
            label="医疗互助参保名单",
            run=services.enrol_batch_job,
            perm=AidPerm.ENROL,
            crash_message=services.ENROL_CRASHED,
            resumable=services.enrol_job_resumable,
            on_expire=services.enrol_job_expired,
            on_change=services.enrol_job_changed,
        )
        register_cards()
        registry.seeder("mutual_aid", order=50, run=_seed_demo, label="医疗互助")


def _seed_demo(context: Any) -> None:
    from gonghui.mutual_aid import demo

    demo.seed(context)
