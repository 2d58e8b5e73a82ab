from typing import Any

from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "gonghui.suggestions"
    label = "suggestions"
    verbose_name = "诉求建议"

    def ready(self) -> None:
        from gonghui.core import housekeeping, registry
        from gonghui.core.policies import register_policy_kind
        from gonghui.suggestions import audit_labels, services, sla
        from gonghui.suggestions.dashboard import register_cards
        from gonghui.suggestions.permissions import GRANTS, LABELS, SuggestionPerm

        registry.permissions("suggestions", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("suggestions.item", lambda i: "诉求 %s" % i.number, only=("number",))
        registry.describe_by("suggestions.department", lambda d: "责任部门：%s" % d.name, only=("name",))
        registry.describe_by("suggestions.category", lambda c: "诉求分类：%s" % c.name, only=("name",))
        registry.describe_by("suggestions.notification", lambda n: "诉求消息 #%d" % n.pk, only=("id",))
        register_policy_kind(sla.SLA_POLICY, label="诉求办理时限", schema=sla.SlaBody, default=sla.SLA_DEFAULT)
        registry.nav(
            registry.NavItem(
                "suggestions",
                "职工诉求",
                "envelope-paper",
                "suggestions:inbox",
                (SuggestionPerm.VIEW,),
                75,
            )
        )
        registry.nav(
            registry.NavItem(
                "suggestion_notices",
                "整改通知单",
                "clipboard-check",
                "suggestions:contact_notices",
                (SuggestionPerm.RESPOND,),
                76,
            )
        )
        registry.tile(registry.Tile("suggestions", "诉求建议", "envelope-paper", "/h5/suggestions/", 40))
        registry.seeder("suggestions", order=60, run=_seed_demo, label="职工诉求台账")
        register_cards()
        housekeeping.register("suggestions_escalate", "超时诉求上报督办", services.escalate_breaches)


def _seed_demo(context: Any) -> None:
    from gonghui.suggestions import demo

    demo.seed(rng=context.rng, stdout=context.stdout, today=context.today)
