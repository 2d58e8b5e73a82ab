import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet

from gonghui.core.plans import custom_plans
from gonghui.members.models import Member, MembershipStatus, Tag
from gonghui.members.permissions import MemberPerm
from gonghui.organizations.models import Organization
from gonghui.organizations.permissions import OrgPerm
from gonghui.organizations.selectors import scope_paths, scope_q


def dashboard_stats(*, actor: Any) -> dict[str, Any]:
    """Figures for the console home, cached for five minutes per scope (they scan the sub-tree)."""
    key = (
        "dashboard:"
        + hashlib.sha256(
            "|".join([*scope_paths(actor, MemberPerm.MEMBER_VIEW), "#", *scope_paths(actor, OrgPerm.ORG_VIEW)]).encode()
        ).hexdigest()
    )
    stats = cache.get(key)
    if stats is None:
        with custom_plans():  # a province and a union want different plans (core.plans)
            stats = _dashboard_stats(actor)
        cache.set(key, stats, 300)
    return stats


def _tag_counts(members: QuerySet[Member]) -> dict[int, int]:
    annotated = members.annotate(**{f"bit{tag.value}": F("tags").bitand(tag.value) for tag in Tag})
    totals = annotated.aggregate(
        **{f"n{tag.value}": Count("id", filter=Q(**{f"bit{tag.value}": tag.value})) for tag in Tag}
    )
    return {tag.value: totals[f"n{tag.value}"] for tag in Tag}


def _dashboard_stats(actor: Any) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    if scope_paths(actor, MemberPerm.MEMBER_VIEW):
        members = Member.objects.filter(scope_q(actor, MemberPerm.MEMBER_VIEW))
        by_status = dict(members.values_list("status").annotate(n=Count("id")).order_by())
        stats["members_active"] = by_status.get(MembershipStatus.ACTIVE, 0)
        stats["members_transferring"] = by_status.get(MembershipStatus.TRANSFERRING, 0)
        stats["status_chart"] = [
            {"name": label, "value": by_status.get(value, 0)} for value, label in MembershipStatus.choices
        ]
        tag_counts = _tag_counts(members.filter(status=MembershipStatus.ACTIVE))
        stats["tag_chart"] = {"labels": [tag.label for tag in Tag], "values": [tag_counts[tag.value] for tag in Tag]}
    if scope_paths(actor, OrgPerm.ORG_VIEW):
        stats["organizations"] = Organization.objects.filter(scope_q(actor, OrgPerm.ORG_VIEW, field="path")).count()
    return stats
