from typing import Any

from django.apps import AppConfig


class ReliefConfig(AppConfig):
    name = "gonghui.relief"
    label = "relief"
    verbose_name = "困难帮扶"

    def ready(self) -> None:
        from gonghui.core import registry
        from gonghui.core.policies import register_policy_kind
        from gonghui.funds.categories import register_category
        from gonghui.relief import audit_labels
        from gonghui.relief.dashboard import register_cards
        from gonghui.relief.permissions import GRANTS, LABELS, ReliefPerm
        from gonghui.relief.policies import KINDS

        registry.permissions("relief", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by(
            "relief.hardshipfile",
            lambda f: "困难职工档案：%s（%s）" % (f.member.name_masked, f.file_no),
            related=("member",),
        )
        registry.describe_by(
            "relief.reliefcase",
            lambda c: "%s：%s（%s）" % (c.get_kind_display(), c.member.name_masked, c.case_no),
            related=("member",),
        )
        registry.describe_by("relief.visitplan", lambda p: "慰问计划：%s" % p.title, only=("title",))
        registry.nav(registry.NavItem("relief", "困难帮扶", "house-heart", "relief:home", (ReliefPerm.VIEW,), 85))
        registry.tile(registry.Tile("relief", "困难帮扶", "house-heart", "/h5/relief/", 40))
        registry.seeder("relief", order=45, run=_seed_demo, label="困难帮扶")
        register_cards()
        register_category("relief.visit", "常态化慰问")
        register_category("relief.temporary", "临时救助")
        register_category("relief.major_illness", "大病救助")
        # Relief staff keep their own parameters (a 低保 standard changes every year); the
        # amounts an approver decides and the 大病 tiers are money rules: a second person approves.
        for kind, label, schema, default in KINDS:
            register_policy_kind(
                kind,
                label=label,
                schema=schema,
                default=default,
                manage_perm=ReliefPerm.MANAGE,
                four_eyes=kind in _FOUR_EYES,
            )


_FOUR_EYES = {"relief.approval_limits", "relief.major_illness", "relief.classes"}


def _seed_demo(context: Any) -> None:
    """The demo's hardship files (loaded only when seeding)."""
    from gonghui.relief import demo

    demo.seed(context)
