import datetime as dt
import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet

from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Perm
from gonghui.core.plans import custom_plans
from gonghui.organizations.models import PATH_STEP
from gonghui.organizations.selectors import scope_paths, scope_q


def audit_events_for_actor(
    *,
    actor: Any,
    action: str = "",
    actor_label: str = "",
    object_id: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events an auditor may read: those of organisations in their sub-tree, plus the
    events that belong to no organisation (logins, devices) for auditors of a root union."""
    paths = scope_paths(actor, Perm.AUDIT_READ)
    condition = scope_q(actor, Perm.AUDIT_READ, field="organization_path")
    if any(len(p) == PATH_STEP + 1 for p in paths):
        condition |= Q(organization_path="")
    qs = AuditEvent.objects.filter(condition)
    if action:
        qs = qs.filter(action__startswith=action)
    if actor_label:
        qs = qs.filter(actor_label=actor_label)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-id")


def _tag_counts(members: QuerySet[Any]) -> dict[int, int]:
    from gonghui.members.models import Tag

    annotated = members.annotate(**{f"bit{tag.value}": F("tags").bitand(tag.value) for tag in Tag})
    totals = annotated.aggregate(
        **{f"n{tag.value}": Count("id", filter=Q(**{f"bit{tag.value}": tag.value})) for tag in Tag}
    )
    return {tag.value: totals[f"n{tag.value}"] for tag in Tag}


def dashboard_stats(*, actor: Any) -> dict[str, Any]:
    """Figures for the console home, cached for five minutes per scope (they scan the sub-tree)."""
    key = (
        "dashboard:"
        + hashlib.sha256(
            "|".join([*scope_paths(actor, Perm.MEMBER_VIEW), "#", *scope_paths(actor, Perm.ORG_VIEW)]).encode()
        ).hexdigest()
    )
    stats = cache.get(key)
    if stats is None:
        with custom_plans():  # a province and a union want different plans (core.plans)
            stats = _dashboard_stats(actor)
        cache.set(key, stats, 300)
    return stats


def _dashboard_stats(actor: Any) -> dict[str, Any]:
    from gonghui.members.models import Member, MembershipStatus, Tag
    from gonghui.organizations.models import Organization

    stats: dict[str, Any] = {}
    if scope_paths(actor, Perm.MEMBER_VIEW):
        members = Member.objects.filter(scope_q(actor, Perm.MEMBER_VIEW))
        by_status = dict(members.values_list("status").annotate(n=Count("id")).order_by())
        stats["members_active"] = by_status.get(MembershipStatus.ACTIVE, 0)
        stats["members_transferring"] = by_status.get(MembershipStatus.TRANSFERRING, 0)
        stats["status_chart"] = [
            {"name": label, "value": by_status.get(value, 0)} for value, label in MembershipStatus.choices
        ]
        tag_counts = _tag_counts(members.filter(status=MembershipStatus.ACTIVE))
        stats["tag_chart"] = {"labels": [tag.label for tag in Tag], "values": [tag_counts[tag.value] for tag in Tag]}
    if scope_paths(actor, Perm.ORG_VIEW):
        stats["organizations"] = Organization.objects.filter(scope_q(actor, Perm.ORG_VIEW, field="path")).count()
    return stats


def recent_audit_events_for_actor(*, actor: Any, actions: tuple[str, ...], limit: int) -> list[AuditEvent]:
    """The newest events of the given actions the auditor may read (for the console home)."""
    return list(audit_events_for_actor(actor=actor).filter(action__in=actions)[:limit])
