"""Reads of the mutual-aid domain, scoped to what the acting user may see."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from gonghui.core.aggregates import SMALL_GROUP_POLICY, suppress_groups
from gonghui.core.errors import NotFound
from gonghui.members.models import Member
from gonghui.mutual_aid.models import (
    Bill,
    BillStatus,
    Claim,
    ClaimStatus,
    Enrolment,
    EnrolmentBatch,
    EnrolmentStatus,
    Period,
)
from gonghui.mutual_aid.permissions import AidPerm
from gonghui.mutual_aid.policies import rules_for
from gonghui.organizations.models import PATH_STEP, Organization
from gonghui.organizations.policies import policy_for
from gonghui.organizations.selectors import organizations_for_actor, scope_paths, scope_q, scope_root_for_actor


def paid_benefits_fen(*, member: Member, year: int) -> int:
    """Mutual-aid benefits paid to `member` in calendar `year` (by the payout date), in fen.
    Offered to other apps as ``"mutual_aid.paid_benefits_fen"`` (`core.registry.offered`)."""
    total = (
        Claim.objects.filter(member=member, status=ClaimStatus.PAID, paid_on__year=year)
        .aggregate(total=Sum("benefit_fen"))
        .get("total")
    )
    return int(total or 0)


def _prefixes(path: str) -> list[str]:
    step = PATH_STEP + 1
    return [path[:i] for i in range(step, len(path) + 1, step)]


def periods_for_actor(*, actor: Any) -> QuerySet[Period]:
    """Periods the actor may see: run by an organisation of their sub-tree, or by one of its
    ancestors (a unit enrols in its federation's period)."""
    paths = scope_paths(actor, AidPerm.VIEW)
    if not paths:
        return Period.objects.none()
    above = {prefix for path in paths for prefix in _prefixes(path)}
    return Period.objects.select_related("organization").filter(
        scope_q(actor, AidPerm.VIEW) | Q(organization__path__in=above)
    )


def period_get_for_actor(*, actor: Any, pk: int) -> Period:
    found = periods_for_actor(actor=actor).filter(pk=pk).first()
    if found is None:
        raise NotFound("期次不存在或不在您的管辖范围内")
    return found


def bills_for_actor(*, actor: Any, period: Period) -> QuerySet[Bill]:
    return (
        Bill.objects.filter(scope_q(actor, AidPerm.VIEW), period=period).select_related("organization").order_by("-id")
    )


def bill_get_for_actor(*, actor: Any, pk: int) -> Bill:
    found = Bill.objects.filter(scope_q(actor, AidPerm.VIEW), pk=pk).select_related("period", "organization").first()
    if found is None:
        raise NotFound("缴费单不存在或不在您的管辖范围内")
    return found


def batches_for_actor(*, actor: Any, period: Period) -> QuerySet[EnrolmentBatch]:
    """The lists submitted for `period` by units of the actor's sub-tree, newest first."""
    return (
        EnrolmentBatch.objects.filter(scope_q(actor, AidPerm.VIEW), period=period)
        .select_related("organization", "job")
        .defer("upload_encrypted")
        .order_by("-id")
    )


def batch_get_for_actor(*, actor: Any, pk: int) -> EnrolmentBatch:
    found = (
        EnrolmentBatch.objects.filter(scope_q(actor, AidPerm.VIEW), pk=pk)
        .select_related("period", "period__organization", "organization", "job")
        .first()
    )
    if found is None:
        raise NotFound("参保名单不存在或不在您的管辖范围内")
    return found


def enrolments_for_actor(*, actor: Any, period: Period) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(scope_q(actor, AidPerm.VIEW), period=period)
        .exclude(status=EnrolmentStatus.CANCELLED)
        .select_related("member", "organization")
        .order_by("-id")
    )


def enrolment_get_for_actor(*, actor: Any, pk: int) -> Enrolment:
    found = (
        Enrolment.objects.filter(scope_q(actor, AidPerm.VIEW), pk=pk)
        .select_related("member", "organization", "period", "period__organization")
        .first()
    )
    if found is None:
        raise NotFound("参保记录不存在或不在您的管辖范围内")
    return found


def claims_for_actor(*, actor: Any, period: Period | None = None, status: str = "") -> QuerySet[Claim]:
    rows = Claim.objects.filter(scope_q(actor, AidPerm.VIEW)).select_related("member", "organization", "period")
    if period is not None:
        rows = rows.filter(period=period)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-id")


def claim_get_for_actor(*, actor: Any, pk: int) -> Claim:
    found = (
        Claim.objects.filter(scope_q(actor, AidPerm.VIEW), pk=pk)
        .select_related("member", "organization", "period", "period__organization", "enrolment", "policy_version")
        .first()
    )
    if found is None:
        raise NotFound("结报不存在或不在您的管辖范围内")
    return found


# ---- the member's own side ----------------------------------------------------------------------


def my_enrolments(*, member: Member) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(member=member)
        .exclude(status=EnrolmentStatus.CANCELLED)
        .select_related("period", "period__organization", "organization")
        .order_by("-period__starts_on")
    )


def my_claims(*, member: Member) -> QuerySet[Claim]:
    return Claim.objects.filter(member=member).select_related("period").order_by("-id")


def my_claim(*, member: Member, pk: int) -> Claim:
    found = my_claims(member=member).filter(pk=pk).select_related("enrolment").first()
    if found is None:
        raise NotFound("结报不存在")
    return found


# ---- the fund report ----------------------------------------------------------------------------


def usage_rate(paid_fen: int, collected_fen: int) -> str:
    """Paid ÷ collected as "103.51%" (half-up to the hundredth of a percent); "—" with nothing in."""
    if collected_fen <= 0:
        return "—"
    rate = (Decimal(paid_fen) * 100 / Decimal(collected_fen)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return "%s%%" % rate


@dataclass
class FundLine:
    """One line of the fund report; every figure None when it is about too few members."""

    key: str
    label: str
    members: int | None
    collected_fen: int | None
    paid_fen: int | None
    claims: int | None
    organization_id: int | None = None

    @property
    def hidden(self) -> bool:
        return self.members is None

    @property
    def usage(self) -> str:
        if self.collected_fen is None or self.paid_fen is None:
            return "—"
        return usage_rate(self.paid_fen, self.collected_fen)

    @property
    def per_thousand(self) -> str:
        if not self.members or self.claims is None:
            return "—"
        value = (Decimal(self.claims) * 1000 / Decimal(self.members)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return str(value)

    @property
    def average_fen(self) -> int | None:
        if not self.claims or self.paid_fen is None:
            return None
        return int((Decimal(self.paid_fen) / self.claims).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class FundReport:
    period: Period
    organization: Organization
    total: FundLine
    by_subtree: list[FundLine] = field(default_factory=list)
    by_unit: list[FundLine] = field(default_factory=list)
    min_group: int = 10


def _suppressed(lines: list[FundLine], *, min_group: int, total: int) -> list[FundLine]:
    shown = suppress_groups([line.members or 0 for line in lines], min_group=min_group, total=total)
    out = []
    for i, line in enumerate(lines):
        if shown.hidden(i):
            out.append(FundLine(line.key, line.label, None, None, None, None, line.organization_id))
        else:
            out.append(line)
    return out


def fund_report(*, actor: Any, period: Period, organization: Organization) -> FundReport:
    """Premiums in, benefits out, usage rate, claims per 1,000 members and the average benefit of
    `period` within `organization`'s sub-tree (which the caller has checked the actor may view):
    the whole, each child union's sub-tree, each enrolled unit. Two grouped queries on the
    (period, organisation, status) indexes, each unit's name and path grouped with its
    figures; units of fewer than the small-group threshold are suppressed (and, with them, whatever would let them be worked out)."""
    within = {"period": period, "organization__path__startswith": organization.path}
    unit_fields = ("organization_id", "organization__name", "organization__path")
    bills = (
        Bill.objects.filter(status=BillStatus.PAID, **within)
        .values(*unit_fields)
        .annotate(members=Sum("member_count"), collected=Sum("amount_fen"))
    )
    claims: dict[int, dict[str, Any]] = {
        row["organization_id"]: dict(row)
        for row in Claim.objects.filter(status=ClaimStatus.PAID, **within)
        .values(*unit_fields)
        .annotate(n=Count("id"), paid=Sum("benefit_fen"))
    }
    # The units' names and paths come with their figures: no third query over thousands of ids.
    names: dict[int, str] = {}
    paths: dict[int, str] = {}
    by_org: dict[int, dict[str, int]] = {}
    for row in [*bills, *claims.values()]:
        names[row["organization_id"]] = row["organization__name"]
        paths[row["organization_id"]] = row["organization__path"]
    for row in bills:
        by_org[row["organization_id"]] = {"members": int(row["members"]), "collected": int(row["collected"])}
    for org_id in claims:
        by_org.setdefault(org_id, {"members": 0, "collected": 0})
    units: list[FundLine] = []
    for org_id, figures in sorted(by_org.items(), key=lambda kv: paths[kv[0]]):
        claim = claims.get(org_id, {})
        units.append(
            FundLine(
                key=str(org_id),
                label=names[org_id],
                members=figures["members"],
                collected_fen=figures["collected"],
                paid_fen=int(claim.get("paid") or 0),
                claims=int(claim.get("n") or 0),
                organization_id=org_id,
            )
        )
    total = FundLine(
        key="total",
        label=organization.name,
        members=sum(u.members or 0 for u in units),
        collected_fen=sum(u.collected_fen or 0 for u in units),
        paid_fen=sum(u.paid_fen or 0 for u in units),
        claims=sum(u.claims or 0 for u in units),
        organization_id=organization.pk,
    )
    children = list(Organization.objects.filter(parent=organization).only("id", "name", "path").order_by("path"))
    subtrees: list[FundLine] = []
    for child in children:
        inside = [u for u in units if paths[int(u.key)].startswith(child.path)]
        if not inside:
            continue
        subtrees.append(
            FundLine(
                key="sub-%s" % child.pk,
                label=child.name,
                members=sum(u.members or 0 for u in inside),
                collected_fen=sum(u.collected_fen or 0 for u in inside),
                paid_fen=sum(u.paid_fen or 0 for u in inside),
                claims=sum(u.claims or 0 for u in inside),
                organization_id=child.pk,
            )
        )
    min_group = int(policy_for(kind=SMALL_GROUP_POLICY, organization=organization).body["min_group"])
    members_total = total.members or 0
    if members_total < min_group:
        total = FundLine(total.key, total.label, None, None, None, None, total.organization_id)
    return FundReport(
        period=period,
        organization=organization,
        total=total,
        by_subtree=_suppressed(subtrees, min_group=min_group, total=members_total),
        by_unit=_suppressed(units, min_group=min_group, total=members_total),
        min_group=min_group,
    )


# ---- organisations ------------------------------------------------------------------------------


def organizations_for_aid(*, actor: Any, perm: str = AidPerm.VIEW) -> QuerySet[Organization]:
    return organizations_for_actor(actor=actor, perm=perm).order_by("path")


def organization_in_scope(*, actor: Any, pk: int | None, perm: str = AidPerm.VIEW) -> Organization | None:
    if pk is None:
        return None
    return organizations_for_actor(actor=actor, perm=perm).filter(pk=pk).first()


def may_act(*, actor: Any, perm: str) -> bool:
    """Does the actor hold `perm` anywhere (a page shows the button that needs it)?"""
    return bool(scope_paths(actor, perm))


def home_organization(*, actor: Any, perm: str = AidPerm.VIEW) -> Organization | None:
    return scope_root_for_actor(actor=actor, perm=perm)


def report_organization(*, actor: Any, period: Period, pk: int | None) -> Organization | None:
    """The organisation whose sub-tree the report covers: the one asked for if the actor may see
    it, else the actor's own; never above the period's organiser."""
    chosen = organization_in_scope(actor=actor, pk=pk) or home_organization(actor=actor)
    if chosen is None:
        return None
    if period.organization.path.startswith(chosen.path):
        return period.organization
    return chosen


def allowance_left_fen(*, enrolment: Enrolment, on: Any = None) -> int | None:
    """What is left of the member's per-period cap (None: the plan sets none)."""
    period = enrolment.period
    rules, _ = rules_for(plan_code=period.plan, organization=period.organization, on=on or period.starts_on)
    if rules.per_period_cap_fen is None:
        return None
    return max(0, rules.per_period_cap_fen - enrolment.committed_fen)


def claim_counts_for_actor(*, actor: Any) -> dict[str, int]:
    """Open claims in the actor's sub-tree by state, in one grouped query."""
    rows = (
        Claim.objects.filter(scope_q(actor, AidPerm.VIEW))
        .filter(status__in=(ClaimStatus.SUBMITTED, ClaimStatus.REVIEWED, ClaimStatus.APPROVED))
        .values("status")
        .annotate(n=Count("id"))
    )
    return {row["status"]: int(row["n"]) for row in rows}
