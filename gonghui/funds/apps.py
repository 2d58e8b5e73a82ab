from typing import Any

from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "gonghui.funds"
    label = "funds"
    verbose_name = "帮扶资金"

    def ready(self) -> None:
        from gonghui.core import registry
        from gonghui.funds import audit_labels, services
        from gonghui.funds.categories import register_category
        from gonghui.funds.dashboard import register_cards
        from gonghui.funds.permissions import GRANTS, LABELS, FundPerm

        registry.permissions("funds", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by(
            "funds.budget",
            lambda b: "帮扶资金预算：%(org)s %(budget)s" % {"org": b.organization.name, "budget": b},
            related=("organization",),
        )
        register_category(services.OTHER_CATEGORY, services.OTHER_CATEGORY_LABEL)
        registry.nav(registry.NavItem("funds", "帮扶资金", "cash-coin", "funds:budget_list", (FundPerm.FUND_VIEW,), 85))
        registry.seeder("funds", order=40, run=_seed_demo, label="帮扶资金")
        register_cards()


def _seed_demo(context: Any) -> None:
    """The demo's budgets and a few entries (loaded only when seeding)."""
    from gonghui.funds import demo

    demo.seed(rng=context.rng, stdout=context.stdout, today=context.today)
