import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from gonghui.core import registry
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Perm
from gonghui.core.workflow import authorizer


def audit_events_for_actor(
    *,
    actor: Any,
    query: str = "",
    action: str = "",
    actor_label: str = "",
    object_id: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events an auditor may read: those of organisations in their sub-tree, plus the
    events that belong to no organisation (logins, devices) for auditors of a root union.

    `query` is what an auditor types: words of an action's Chinese label (登录, 导入 …), an
    action code, or an operator's name; `action` narrows to one action or a prefix ("member.")."""
    tenant = authorizer()
    condition = tenant.scope_q(actor, Perm.AUDIT_READ, field="organization_path")
    if tenant.holds_at_root(actor, Perm.AUDIT_READ):
        condition |= Q(organization_path="")
    qs = AuditEvent.objects.filter(condition)
    if query:
        qs = qs.filter(_matching(query))
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


def _matching(query: str) -> Q:
    """Every word must match an action (by label or code) or the operator's name."""
    condition = Q()
    for word in query.split():
        actions = [code for code, label in registry.audit_actions().items() if word in label]
        condition &= Q(action__in=actions) | Q(action__startswith=word) | Q(actor_label__icontains=word)
    return condition


def recent_audit_events_for_actor(*, actor: Any, actions: tuple[str, ...], limit: int) -> list[AuditEvent]:
    """The newest events of the given actions the auditor may read (for the console home)."""
    return list(audit_events_for_actor(actor=actor).filter(action__in=actions)[:limit])
