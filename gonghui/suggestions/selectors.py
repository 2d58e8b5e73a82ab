"""Reads of the suggestions ledger, narrowed to what the acting user may see."""

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core.aggregates import SMALL_GROUP_POLICY, suppress_groups
from gonghui.core.errors import NotFound
from gonghui.organizations.models import Organization
from gonghui.organizations.policies import policy_for
from gonghui.organizations.selectors import organizations_for_actor, scope_paths, scope_q
from gonghui.suggestions import services, sla
from gonghui.suggestions.models import (
    OPEN_STATUSES,
    Category,
    Department,
    Item,
    ItemStatus,
    Notice,
    Notification,
    Satisfaction,
)
from gonghui.suggestions.permissions import SuggestionPerm
from gonghui.suggestions.scrub import scrub


def items_for_actor(*, actor: Any, perm: str = SuggestionPerm.VIEW) -> QuerySet[Item]:
    return Item.objects.filter(scope_q(actor, perm)).select_related("organization", "category")


def item_get_for_actor(*, actor: Any, pk: int, perm: str = SuggestionPerm.VIEW) -> Item:
    item = items_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if item is None:
        raise NotFound("诉求不存在或不在您的管辖范围内")
    return item


def orgs_for_actor(*, actor: Any, perm: str = SuggestionPerm.VIEW) -> QuerySet[Organization]:
    return organizations_for_actor(actor=actor, perm=perm).order_by("path")


def public_organization(code: str) -> Organization | None:
    """An active organisation by its code, for the pages without a login (院务公开, anonymous submission)."""
    code = (code or "").strip()[:32]
    return Organization.objects.filter(code=code, is_active=True).first() if code else None


def departments_of(organization: Organization) -> QuerySet[Department]:
    return Department.objects.filter(organization=organization, is_active=True).prefetch_related("contacts")


def departments_for_actor(*, actor: Any) -> QuerySet[Department]:
    return Department.objects.filter(scope_q(actor, SuggestionPerm.VIEW)).select_related("organization")


def departments_for_configure(*, actor: Any) -> QuerySet[Department]:
    """Every department (retired ones too) of the organisations the actor configures."""
    return (
        Department.objects.filter(scope_q(actor, SuggestionPerm.CONFIGURE))
        .select_related("organization")
        .order_by("organization__path", "name")
    )


def department_get_for_configure(*, actor: Any, pk: int | None) -> Department:
    department = departments_for_configure(actor=actor).filter(pk=pk or 0).first()
    if department is None:
        raise NotFound("责任部门不存在或不在您的管辖范围内")
    return department


def users_by_username(names: list[str]) -> tuple[list[Any], list[str]]:
    """The accounts named, and the names no account has."""
    wanted = list(dict.fromkeys(n for n in names if n))
    found = list(User.objects.filter(username__in=wanted))
    known = {u.username for u in found}
    return found, [n for n in wanted if n not in known]


def categories_for(organization: Organization) -> QuerySet[Category]:
    """The categories in use that the organisation offers: its ancestors' first (from the
    root down), then its own, each in its organisation's order."""
    prefixes = [organization.path[:i] for i in range(1, len(organization.path) + 1)]
    return (
        Category.objects.filter(organization__path__in=prefixes, is_active=True)
        .select_related("organization")
        .order_by("organization__path", "position", "id")
    )


def categories_for_actor(*, actor: Any) -> QuerySet[Category]:
    """Every category (retired ones too) of the organisations the actor configures."""
    return (
        Category.objects.filter(scope_q(actor, SuggestionPerm.CONFIGURE))
        .select_related("organization")
        .order_by("organization__path", "position", "id")
    )


def category_get_for_actor(*, actor: Any, pk: int | None) -> Category:
    category = categories_for_actor(actor=actor).filter(pk=pk or 0).first()
    if category is None:
        raise NotFound("诉求分类不存在或不在您的管辖范围内")
    return category


def staff_categories(*, actor: Any) -> list[Category]:
    """The categories in use that staff may file an item under: those of the organisations
    they handle and of those organisations' ancestors."""
    roots = scope_paths(actor, SuggestionPerm.HANDLE)
    above = {path[:i] for path in roots for i in range(1, len(path))}
    return list(
        Category.objects.filter(scope_q(actor, SuggestionPerm.HANDLE) | Q(organization__path__in=above), is_active=True)
        .select_related("organization")
        .order_by("organization__path", "position", "id")[:500]
    )


@dataclass(frozen=True)
class Row:
    item: Item
    clock: sla.Clock | None

    @property
    def sla_label(self) -> str:
        return sla.SLA_LABELS[self.clock.state] if self.clock else "—"

    @property
    def sla_css(self) -> str:
        if self.clock is None:
            return "secondary"
        return {"on_track": "success", "at_risk": "warning", "breached": "danger"}[self.clock.state]


def with_clocks(items: Any, *, now: dt.datetime | None = None) -> list[Row]:
    items = list(items)
    clocks = services.clocks_of([i for i in items if i.status in OPEN_STATUSES or i.resolved_at], now=now)
    return [Row(i, clocks.get(i.pk)) for i in items]


def notices_for_contact(*, actor: Any) -> QuerySet[Notice]:
    """The notices addressed to a department the actor is a contact of — nothing else."""
    return (
        Notice.objects.filter(departments__contacts=actor)
        .distinct()
        .select_related("item", "organization")
        .prefetch_related("departments")
    )


def notice_get_for_contact(*, actor: Any, pk: int) -> Notice:
    notice = notices_for_contact(actor=actor).filter(pk=pk).first()
    if notice is None:
        raise NotFound("通知单不存在或未交办给您所在的部门")
    return notice


def notice_get_for_actor(*, actor: Any, pk: int) -> Notice:
    notice = (
        Notice.objects.filter(scope_q(actor, SuggestionPerm.VIEW))
        .select_related("item", "organization", "issued_by")
        .prefetch_related("departments")
        .filter(pk=pk)
        .first()
    )
    if notice is None:
        raise NotFound("通知单不存在或不在您的管辖范围内")
    return notice


def member_items(member: Any) -> QuerySet[Item]:
    return Item.objects.filter(member=member).select_related("organization")


def item_by_tracking_code(code: str) -> Item | None:
    if not code.strip():
        return None
    return Item.objects.filter(tracking_hash=services.tracking_hash(code)).select_related("organization").first()


def inbox_for(*, user: Any) -> QuerySet[Notification]:
    """The user's own messages, unread first, newest first."""
    return (
        Notification.objects.filter(user=user)
        .select_related("item")
        .order_by(F("read_at").desc(nulls_first=True), "-created_at", "-id")
    )


def unread_count(*, user: Any) -> int:
    if getattr(user, "pk", None) is None:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_target(*, actor: Any, notification: Notification) -> str:
    """Where a staff user's message leads: the item in their scope, else the notice addressed
    to their department, else nowhere (the inbox)."""
    if items_for_actor(actor=actor).filter(pk=notification.item_id).exists():
        return reverse("suggestions:item", args=[notification.item_id])
    notice = notices_for_contact(actor=actor).filter(item_id=notification.item_id).first()
    if notice is not None:
        return reverse("suggestions:contact_notice", args=[notice.pk])
    return reverse("suggestions:my_inbox")


# ---- metrics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentMetrics:
    department: Department
    notices: int
    median_response_hours: float | None
    closed: int
    closure_rate: int | None
    overdue: int
    satisfaction: float | None


def department_metrics(*, actor: Any, start: dt.date, end: dt.date) -> list[DepartmentMetrics]:
    """Per department over notices issued in [start, end]: median hours from notice to the
    department's first progress post, closure rate, overdue notices, mean satisfaction."""
    today = timezone.localdate()
    out = []
    for dept in departments_for_actor(actor=actor).order_by("organization__path", "name"):
        notices = list(
            Notice.objects.filter(departments=dept, issued_at__date__gte=start, issued_at__date__lte=end)
            .select_related("item")
            .prefetch_related("progress")
        )
        if not notices:
            out.append(DepartmentMetrics(dept, 0, None, 0, None, 0, None))
            continue
        hours = []
        for n in notices:
            firsts = [p.created_at for p in n.progress.all() if p.department_id == dept.pk]
            if firsts:
                hours.append((min(firsts) - n.issued_at).total_seconds() / 3600)
        closed = sum(1 for n in notices if n.item.status == ItemStatus.CLOSED)
        overdue = sum(1 for n in notices if n.item.is_open and n.deadline < today)
        scores = list(
            Satisfaction.objects.filter(item__in=[n.item_id for n in notices]).values_list("score", flat=True)
        )
        out.append(
            DepartmentMetrics(
                dept,
                len(notices),
                round(statistics.median(hours), 1) if hours else None,
                closed,
                round(100 * closed / len(notices)),
                overdue,
                round(sum(scores) / len(scores), 2) if scores else None,
            )
        )
    return out


def ledger_for_actor(
    *, actor: Any, start: dt.date, end: dt.date, organization: Organization | None = None
) -> QuerySet[Item]:
    qs = items_for_actor(actor=actor).filter(received_at__date__gte=start, received_at__date__lte=end)
    if organization is not None:
        qs = qs.filter(organization__path__startswith=organization.path)
    return qs.order_by("received_at", "id")


def still_open_at(*, actor: Any, month_end: dt.date) -> QuerySet[Item]:
    """The monthly 销账 review: items received by the month's end that are still open."""
    return (
        items_for_actor(actor=actor)
        .filter(status__in=OPEN_STATUSES, received_at__date__lte=month_end)
        .order_by("received_at")
    )


# ---- 院务公开 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicItem:
    number: str
    channel: str
    category: str
    title: str
    content: str
    outcome: str
    closed_on: dt.date | None


@dataclass(frozen=True)
class PublicFigures:
    rows: list[tuple[str, int | None]]
    total: int | None
    min_group: int


def _known_names(item: Item) -> list[str]:
    names = []
    if item.member_id and item.member:
        names.append(item.member.name)
    return names


def public_items(organization: Organization) -> list[PublicItem]:
    items = (
        Item.objects.filter(organization=organization, status=ItemStatus.CLOSED, publishable=True)
        .select_related("category", "member")
        .order_by("-resolved_at")[:50]
    )
    out = []
    for i in items:
        names = _known_names(i)
        out.append(
            PublicItem(
                number=i.number,
                channel=i.get_channel_display(),
                category=i.category.name if i.category else "",
                title=scrub(i.title, names=names),
                content=scrub(i.content, names=names),
                outcome=scrub(i.public_outcome, names=names),
                closed_on=timezone.localdate(i.resolved_at) if i.resolved_at else None,
            )
        )
    return out


def public_figures(organization: Organization) -> PublicFigures:
    """Items received this year by channel, small groups suppressed (with complementary suppression)."""
    min_group = int(policy_for(kind=SMALL_GROUP_POLICY, organization=organization).body["min_group"])
    year = timezone.localdate().year
    counts = dict(
        Item.objects.filter(organization=organization, received_at__year=year)
        .exclude(status=ItemStatus.MERGED)
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    labels = [(value, label) for value, label in Item._meta.get_field("channel").choices if counts.get(value)]  # type: ignore[union-attr]
    shown = suppress_groups([counts[v] for v, _ in labels], min_group=min_group)
    return PublicFigures(
        rows=[(str(label), shown.counts[i]) for i, (_, label) in enumerate(labels)],
        total=shown.total,
        min_group=min_group,
    )


def public_closed_figures(organization: Organization) -> tuple[int | None, int | None, int]:
    """(closed this year, with satisfaction ≥ 4), each hidden under the small-group threshold."""
    min_group = int(policy_for(kind=SMALL_GROUP_POLICY, organization=organization).body["min_group"])
    year = timezone.localdate().year
    closed = Item.objects.filter(organization=organization, status=ItemStatus.CLOSED, resolved_at__year=year)
    agg = closed.aggregate(n=Count("id"), good=Count("ratings", filter=Q(ratings__score__gte=4), distinct=True))
    n, good = agg["n"], agg["good"]
    shown = suppress_groups([good, n - good], min_group=min_group, total=n)
    return shown.total, shown.counts[0], min_group
