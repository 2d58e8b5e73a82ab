import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Perm
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
    return qs.order_by("-seq")


def dashboard_stats(*, actor: Any) -> dict[str, Any]:
    from gonghui.members.models import Member, MembershipStatus
    from gonghui.organizations.models import Organization

    stats: dict[str, Any] = {}
    if scope_paths(actor, Perm.MEMBER_VIEW):
        members = Member.objects.filter(scope_q(actor, Perm.MEMBER_VIEW))
        stats["members_active"] = members.filter(status=MembershipStatus.ACTIVE).count()
        stats["members_transferring"] = members.filter(status=MembershipStatus.TRANSFERRING).count()
    if scope_paths(actor, Perm.ORG_VIEW):
        stats["organizations"] = Organization.objects.filter(scope_q(actor, Perm.ORG_VIEW, field="path")).count()
    return stats
