"""Benefit reads for an actor (staff narrowed to their sub-tree, members to their own
coupons), and the campaign report and settlement figures."""

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from gonghui.benefits.filters import RedemptionFilters, RedemptionState
from gonghui.benefits.models import (
    Campaign,
    CampaignStatus,
    CampaignTarget,
    Coupon,
    CouponStatus,
    IssueMode,
    IssueRun,
    Redemption,
    RedemptionPoint,
)
from gonghui.benefits.permissions import BenefitPerm
from gonghui.core.errors import NotFound
from gonghui.members.models import Member, MembershipStatus
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import scope_q

CAMPAIGN_PERMS = (BenefitPerm.CAMPAIGN_MANAGE, BenefitPerm.CAMPAIGN_PUBLISH, BenefitPerm.CAMPAIGN_REPORT)


def _any_scope(actor: Any, perms: tuple[str, ...], field: str = "organization__path") -> Q:
    condition = Q(pk__in=[])
    for perm in perms:
        condition |= scope_q(actor, perm, field)
    return condition


# ---- staff -------------------------------------------------------------------------------


def campaign_list_for_actor(
    *, actor: Any, status: str = "", kind: str = "", query: str = "", perms: tuple[str, ...] = CAMPAIGN_PERMS
) -> QuerySet[Campaign]:
    qs = Campaign.objects.filter(_any_scope(actor, perms)).select_related("organization", "target_org")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if query:
        qs = qs.filter(name__contains=query.strip())
    return qs.order_by("-id")


def campaign_get_for_actor(*, actor: Any, pk: int | str, perms: tuple[str, ...] = CAMPAIGN_PERMS) -> Campaign:
    campaign = (
        Campaign.objects.filter(_any_scope(actor, perms))
        .select_related("organization", "target_org", "created_by", "updated_by", "published_by", "closed_by")
        .filter(pk=pk)
        .first()
    )
    if campaign is None:
        raise NotFound("活动不存在或无权访问")
    return campaign


def issue_run_get_for_actor(*, actor: Any, pk: int | str) -> IssueRun:
    run = (
        IssueRun.objects.filter(_any_scope(actor, CAMPAIGN_PERMS))
        .select_related("campaign", "started_by", "job")
        .filter(pk=pk)
        .first()
    )
    if run is None:
        raise NotFound("发放记录不存在或无权访问")
    return run


def point_list_for_actor(*, actor: Any, perms: tuple[str, ...]) -> QuerySet[RedemptionPoint]:
    return RedemptionPoint.objects.filter(_any_scope(actor, perms)).select_related("organization").order_by("name")


def point_get_for_actor(*, actor: Any, pk: int | str, perms: tuple[str, ...]) -> RedemptionPoint:
    point = point_list_for_actor(actor=actor, perms=perms).filter(pk=pk).first()
    if point is None:
        raise NotFound("核销点不存在或无权访问")
    return point


def points_for_clerk(*, actor: Any) -> QuerySet[RedemptionPoint]:
    return point_list_for_actor(actor=actor, perms=(BenefitPerm.COUPON_REDEEM,)).filter(is_active=True)


def coupons_of_campaign(*, campaign: Campaign, status: str = "") -> QuerySet[Coupon]:
    qs = Coupon.objects.filter(campaign=campaign).select_related("member", "organization")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def redemption_list_for_actor(
    *, actor: Any, campaign_id: int | None = None, point_id: int | None = None, include_reversed: bool = True
) -> QuerySet[Redemption]:
    """Redemptions of campaigns the actor runs or reports on, or made at points in their scope."""
    perms = (BenefitPerm.COUPON_REVERSE, BenefitPerm.CAMPAIGN_REPORT)
    condition = _any_scope(actor, perms, "campaign__organization__path") | _any_scope(
        actor, perms, "point__organization__path"
    )
    qs = Redemption.objects.filter(condition).select_related(
        "campaign__organization", "point__organization", "coupon__member", "device", "clerk", "reversed_by"
    )
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    if point_id:
        qs = qs.filter(point_id=point_id)
    if not include_reversed:
        qs = qs.filter(reversed_at__isnull=True)
    return qs.order_by("-redeemed_at", "-id")


def redemption_search_for_actor(*, actor: Any, filters: RedemptionFilters) -> QuerySet[Redemption]:
    """The console's 核销记录 with its filters: dates are local (Asia/Shanghai) and inclusive;
    a code is found by its tail, a member by part of the name."""
    qs = redemption_list_for_actor(actor=actor, campaign_id=filters.campaign_id, point_id=filters.point_id)
    if filters.date_from:
        qs = qs.filter(redeemed_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(redeemed_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.state == RedemptionState.STANDING:
        qs = qs.filter(reversed_at__isnull=True)
    elif filters.state == RedemptionState.REVERSED:
        qs = qs.filter(reversed_at__isnull=False)
    if filters.code_tail:
        qs = qs.filter(coupon__code__endswith=filters.code_tail)
    if filters.member_name:
        qs = qs.filter(coupon__member__name__contains=filters.member_name)
    return qs


def redemption_get_for_actor(*, actor: Any, pk: int | str) -> Redemption:
    redemption = redemption_list_for_actor(actor=actor).filter(pk=pk).first()
    if redemption is None:
        raise NotFound("核销记录不存在或无权访问")
    return redemption


def recent_redemptions_at(*, point: RedemptionPoint, limit: int = 10) -> list[Redemption]:
    return list(
        Redemption.objects.filter(point=point)
        .select_related("campaign", "coupon__member")
        .order_by("-redeemed_at", "-id")[:limit]
    )


# ---- members -----------------------------------------------------------------------------

MEMBER_TABS = {
    "assigned": "待领取",
    "usable": "未使用",
    "redeemed": "已使用",
    "expired": "已过期",
}


def my_coupons(*, member: Member, tab: str = "usable", now: dt.datetime | None = None) -> QuerySet[Coupon]:
    now = now or timezone.now()
    qs = Coupon.objects.filter(member=member).select_related("campaign")
    live = Q(campaign__valid_until__gt=now) & ~Q(campaign__status=CampaignStatus.CLOSED)
    if tab == "assigned":
        qs = qs.filter(live, status=CouponStatus.ASSIGNED, campaign__claim_ends_at__gt=now)
    elif tab == "redeemed":
        qs = qs.filter(status=CouponStatus.REDEEMED)
    elif tab == "expired":
        qs = qs.exclude(status=CouponStatus.REDEEMED).exclude(live)
    else:
        qs = qs.filter(live, status=CouponStatus.CLAIMED)
    return qs.order_by("campaign__valid_until", "-id")


def my_tab_counts(*, member: Member, now: dt.datetime | None = None) -> dict[str, int]:
    return {tab: my_coupons(member=member, tab=tab, now=now).count() for tab in ("assigned", "usable")}


def my_coupon(*, member: Member, pk: int | str) -> Coupon:
    coupon = Coupon.objects.select_related("campaign").filter(member=member, pk=pk).first()
    if coupon is None:
        raise NotFound("券不存在")
    return coupon


def claimable_campaigns(*, member: Member, now: dt.datetime | None = None) -> list[Campaign]:
    """先到先得 campaigns open now whose target rule names this member."""
    now = now or timezone.now()
    if member.status != MembershipStatus.ACTIVE:
        return []
    org_path = member.organization.path
    candidates = (
        Campaign.objects.filter(
            status=CampaignStatus.PUBLISHED,
            mode=IssueMode.FIRST_COME,
            claim_starts_at__lte=now,
            claim_ends_at__gt=now,
        )
        .select_related("target_org")
        .annotate(
            listed=Exists(CampaignTarget.objects.filter(campaign=OuterRef("pk"), member=member)),
            held=Count("coupons", filter=Q(coupons__member=member)),
        )
        .order_by("claim_ends_at")
    )
    result: list[Campaign] = []
    for campaign in candidates[:50]:
        if not org_path.startswith(campaign.target_org.path):
            continue
        if campaign.target_tags and not member.tags & campaign.target_tags:
            continue
        if campaign.uses_target_list and not campaign.listed:
            continue
        result.append(campaign)
    return result


def campaign_for_member(*, member: Member, pk: int | str) -> Campaign:
    """A published or closed campaign aimed at the member's union (or a union above it), or
    one the member holds a coupon of (they may have transferred since): another union's
    campaign answers like one that does not exist."""
    campaign = (
        Campaign.objects.exclude(status=CampaignStatus.DRAFT)
        .select_related("target_org", "organization")
        .filter(pk=pk)
        .first()
    )
    if campaign is None or not (
        member.organization.path.startswith(campaign.target_org.path) or campaign.coupons.filter(member=member).exists()
    ):
        raise NotFound("活动不存在")
    return campaign


def redemption_points_of(campaign: Campaign) -> list[RedemptionPoint]:
    return list(campaign.allowed_points.filter(is_active=True).select_related("organization").order_by("kind", "name"))


# ---- reports -----------------------------------------------------------------------------


def _tz() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@dataclass
class CampaignReport:
    totals: dict[str, int]
    by_day: list[dict[str, Any]]
    by_org: list[dict[str, Any]]
    by_point: list[dict[str, Any]]

    def chart_data(self) -> dict[str, Any]:
        return {
            "days": [row["day"] for row in self.by_day],
            "issued": [row["issued"] for row in self.by_day],
            "claimed": [row["claimed"] for row in self.by_day],
            "redeemed": [row["redeemed"] for row in self.by_day],
            "points": [row["name"] for row in self.by_point],
            "point_redeemed": [row["redeemed"] for row in self.by_point],
            "orgs": [row["name"] for row in self.by_org[:15]],
            "org_issued": [row["issued"] for row in self.by_org[:15]],
            "org_claimed": [row["claimed"] for row in self.by_org[:15]],
            "org_redeemed": [row["redeemed"] for row in self.by_org[:15]],
        }


def campaign_report(*, campaign: Campaign) -> CampaignReport:
    """Issued / claimed / redeemed by day (Asia/Shanghai), by the members' organisation and
    by point. Reversed redemptions are not counted."""
    tz = _tz()
    coupons = Coupon.objects.filter(campaign=campaign)
    redemptions = Redemption.objects.filter(campaign=campaign, reversed_at__isnull=True)
    days: dict[dt.date, dict[str, int]] = defaultdict(lambda: {"issued": 0, "claimed": 0, "redeemed": 0})
    for row in coupons.annotate(day=TruncDate("issued_at", tzinfo=tz)).values("day").annotate(n=Count("id")):
        days[row["day"]]["issued"] += row["n"]
    claimed = coupons.filter(claimed_at__isnull=False)
    for row in claimed.annotate(day=TruncDate("claimed_at", tzinfo=tz)).values("day").annotate(n=Count("id")):
        days[row["day"]]["claimed"] += row["n"]
    for row in redemptions.annotate(day=TruncDate("redeemed_at", tzinfo=tz)).values("day").annotate(n=Count("id")):
        days[row["day"]]["redeemed"] += row["n"]
    by_day = [{"day": day.isoformat(), **counts} for day, counts in sorted(days.items())]

    org_rows: dict[int, dict[str, Any]] = {}
    for org_row in coupons.values("organization_id").annotate(
        issued=Count("id"),
        claimed=Count("id", filter=Q(claimed_at__isnull=False)),
        redeemed=Count("id", filter=Q(status=CouponStatus.REDEEMED)),
        value=Sum("face_value_fen", filter=Q(status=CouponStatus.REDEEMED)),
    ):
        org_rows[org_row["organization_id"]] = {**org_row, "value": org_row["value"] or 0}
    names = dict(Organization.objects.filter(pk__in=org_rows).values_list("pk", "name"))
    by_org = sorted(
        ({"name": names.get(org_id, ""), **row} for org_id, row in org_rows.items()),
        key=lambda row: (-row["issued"], row["name"]),
    )

    by_point = [
        {"point_id": row["point_id"], "name": row["point__name"], "redeemed": row["n"], "value": row["value"] or 0}
        for row in redemptions.values("point_id", "point__name")
        .annotate(n=Count("id"), value=Sum("face_value_fen"))
        .order_by("-n", "point__name")
    ]
    totals = {
        "stock_total": campaign.stock_total,
        "stock": campaign.stock,
        "issued": sum(r["issued"] for r in by_org),
        "claimed": sum(r["claimed"] for r in by_org),
        "redeemed": sum(r["redeemed"] for r in by_point),
        "redeemed_value": sum(r["value"] for r in by_point),
        "budget": campaign.budget_fen,
    }
    return CampaignReport(totals=totals, by_day=by_day, by_org=by_org, by_point=by_point)


@dataclass
class Settlement:
    point: RedemptionPoint
    date_from: dt.date
    date_to: dt.date
    summary: list[dict[str, Any]]
    details: list[Redemption]
    count: int
    value_fen: int
    reversed_count: int


def settlement(*, point: RedemptionPoint, date_from: dt.date, date_to: dt.date, detail_limit: int = 5000) -> Settlement:
    """结算对账 of one point: standing redemptions between two dates (inclusive, Asia/Shanghai),
    per campaign, with the detail lines; reversed ones are counted apart and not paid."""
    tz = _tz()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    in_range = Redemption.objects.filter(point=point, redeemed_at__gte=start, redeemed_at__lt=end)
    standing = in_range.filter(reversed_at__isnull=True)
    summary = [
        {
            "campaign_id": row["campaign_id"],
            "campaign": row["campaign__name"],
            "organization": row["campaign__organization__name"],
            "count": row["n"],
            "value_fen": row["value"] or 0,
        }
        for row in standing.values("campaign_id", "campaign__name", "campaign__organization__name")
        .annotate(n=Count("id"), value=Sum("face_value_fen"))
        .order_by("campaign_id")
    ]
    details = list(
        standing.select_related("campaign", "coupon__member", "device", "clerk").order_by("redeemed_at", "id")[
            :detail_limit
        ]
    )
    return Settlement(
        point=point,
        date_from=date_from,
        date_to=date_to,
        summary=summary,
        details=details,
        count=sum(r["count"] for r in summary),
        value_fen=sum(r["value_fen"] for r in summary),
        reversed_count=in_range.filter(reversed_at__isnull=False).count(),
    )


def campaign_counts(campaign: Campaign) -> dict[str, int]:
    agg = Coupon.objects.filter(campaign=campaign).aggregate(
        issued=Count("id"),
        claimed=Count("id", filter=Q(claimed_at__isnull=False)),
        redeemed=Count("id", filter=Q(status=CouponStatus.REDEEMED)),
    )
    return {k: v or 0 for k, v in agg.items()}


# ---- dashboard figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class PointTotal:
    point_id: int
    point_name: str
    count: int
    value_fen: int


@dataclass(frozen=True)
class SettlementDue:
    """Standing redemptions at the actor's points, per point: the previous calendar month (to
    settle now) and the current month so far (to settle at its end)."""

    last_month_from: dt.date
    last_month_to: dt.date
    last_month: list[PointTotal]
    month_to_date_count: int
    month_to_date_fen: int

    @property
    def last_month_count(self) -> int:
        return sum(p.count for p in self.last_month)

    @property
    def last_month_fen(self) -> int:
        return sum(p.value_fen for p in self.last_month)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=_tz())


def settlement_due_for_actor(*, actor: Any, today: dt.date) -> SettlementDue:
    """结算 figures for the console home: points the actor may reconcile (campaign.report)."""
    month_start = today.replace(day=1)
    last_month_to = month_start - dt.timedelta(days=1)
    last_month_from = last_month_to.replace(day=1)
    standing = Redemption.objects.filter(
        _any_scope(actor, (BenefitPerm.CAMPAIGN_REPORT,), "point__organization__path"), reversed_at__isnull=True
    )
    last_month = [
        PointTotal(row["point_id"], row["point__name"], row["n"], row["value"] or 0)
        for row in standing.filter(
            redeemed_at__gte=_day_start(last_month_from), redeemed_at__lt=_day_start(month_start)
        )
        .values("point_id", "point__name")
        .annotate(n=Count("id"), value=Sum("face_value_fen"))
        .order_by("-value", "point_id")
    ]
    to_date = standing.filter(
        redeemed_at__gte=_day_start(month_start), redeemed_at__lt=_day_start(today + dt.timedelta(days=1))
    ).aggregate(n=Count("id"), value=Sum("face_value_fen"))
    return SettlementDue(
        last_month_from=last_month_from,
        last_month_to=last_month_to,
        last_month=last_month,
        month_to_date_count=to_date["n"] or 0,
        month_to_date_fen=to_date["value"] or 0,
    )


@dataclass(frozen=True)
class ClerkDay:
    points: list[PointTotal]
    reversed_count: int

    @property
    def count(self) -> int:
        return sum(p.count for p in self.points)

    @property
    def value_fen(self) -> int:
        return sum(p.value_fen for p in self.points)


def clerk_day_for_actor(*, actor: Any, today: dt.date) -> ClerkDay:
    """Today's redemptions at the points where the actor is a 核销员, per point."""
    todays = Redemption.objects.filter(
        point__in=points_for_clerk(actor=actor),
        redeemed_at__gte=_day_start(today),
        redeemed_at__lt=_day_start(today + dt.timedelta(days=1)),
    )
    points = [
        PointTotal(row["point_id"], row["point__name"], row["n"], row["value"] or 0)
        for row in todays.filter(reversed_at__isnull=True)
        .values("point_id", "point__name")
        .annotate(n=Count("id"), value=Sum("face_value_fen"))
        .order_by("point__name", "point_id")
    ]
    return ClerkDay(points=points, reversed_count=todays.filter(reversed_at__isnull=False).count())
