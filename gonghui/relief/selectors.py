"""Reads of the relief domain for an acting user: only files of organisations where the actor
holds the permission (their sub-tree); a sibling union's files are never returned."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from gonghui.core import registry
from gonghui.core.errors import NotFound
from gonghui.members.models import Member
from gonghui.organizations.policies import ResolvedPolicy, policy_explain, policy_for
from gonghui.organizations.selectors import scope_q, scope_root_for_actor
from gonghui.relief.models import (
    Attachment,
    CaseDocument,
    CaseStatus,
    FileStatus,
    HardshipFile,
    PlanVisit,
    ReliefCase,
    VisitPlan,
)
from gonghui.relief.permissions import ReliefPerm
from gonghui.relief.policies import MAJOR_ILLNESS, MAJOR_ILLNESS_DEFAULT, VISIT_GROUPS, group_tags
from gonghui.relief.rules import HardshipClass

OPEN_STATUSES = (FileStatus.ACTIVE, FileStatus.NOTICE)


def files_for_actor(*, actor: Any, perm: str = ReliefPerm.VIEW) -> QuerySet[HardshipFile]:
    return HardshipFile.objects.filter(scope_q(actor, perm)).select_related("member", "organization", "contact_user")


@dataclass(frozen=True)
class FileFilters:
    hardship_class: str = ""
    status: str = ""
    overdue: bool = False
    query: str = ""


def file_list_for_actor(
    *, actor: Any, filters: FileFilters, today: dt.date, perm: str = ReliefPerm.VIEW
) -> QuerySet[HardshipFile]:
    qs = files_for_actor(actor=actor, perm=perm)
    if filters.hardship_class:
        qs = qs.filter(hardship_class=filters.hardship_class)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, next_visit_due__lt=today)
    if filters.query:
        text = filters.query.strip()
        qs = qs.filter(Q(file_no=text.upper()) | Q(member__member_no=text.upper()) | Q(member__name__startswith=text))
    return qs.order_by("-id")


def overdue_visits_for_actor(*, actor: Any, today: dt.date) -> QuerySet[HardshipFile]:
    return (
        files_for_actor(actor=actor)
        .filter(status__in=OPEN_STATUSES, next_visit_due__lt=today)
        .order_by("next_visit_due", "id")
    )


def file_get_for_actor(*, actor: Any, pk: int | str, perm: str = ReliefPerm.VIEW) -> HardshipFile:
    file = (
        files_for_actor(actor=actor, perm=perm).select_related("classes_policy", "dibao_policy").filter(pk=pk).first()
    )
    if file is None:
        raise NotFound("困难职工档案不存在或无权访问")
    return file


def attachment_get_for_actor(*, actor: Any, pk: int | str) -> Attachment:
    attachment = (
        Attachment.objects.filter(scope_q(actor, ReliefPerm.VIEW, field="file__organization__path"))
        .select_related("file__organization")
        .filter(pk=pk)
        .first()
    )
    if attachment is None:
        raise NotFound("材料不存在或无权访问")
    return attachment


def member_for_filing(*, actor: Any, member_no: str) -> Member:
    """A member of the actor's sub-tree (where they may file), by 会员编号."""
    text = member_no.strip().upper()
    member = (
        Member.objects.filter(scope_q(actor, ReliefPerm.MANAGE))
        .select_related("organization")
        .filter(member_no=text)
        .first()
        if text
        else None
    )
    if member is None:
        raise NotFound("未找到该会员编号，或该会员不在您管理的组织内")
    return member


def notices_awaiting_decision_for_actor(*, actor: Any) -> QuerySet[HardshipFile]:
    """Files in 退档公示 whose decision lies with an organisation the actor approves for: the
    parent of the file's union (or the root federation for its own files)."""
    scope = scope_q(actor, ReliefPerm.APPROVE, field="organization__parent__path") | (
        Q(organization__parent__isnull=True) & scope_q(actor, ReliefPerm.APPROVE)
    )
    return (
        HardshipFile.objects.filter(status=FileStatus.NOTICE)
        .filter(scope)
        .select_related("member", "organization")
        .order_by("notice_ends_on", "id")
    )


@dataclass(frozen=True)
class Counts:
    by_class: dict[str, int]
    open_total: int
    overdue: int
    notice: int


def counts_for_actor(*, actor: Any, today: dt.date) -> Counts:
    qs = files_for_actor(actor=actor)
    rows = qs.filter(status__in=OPEN_STATUSES).values("hardship_class").annotate(n=Count("id"))
    by_class = {c.value: 0 for c in HardshipClass if c != HardshipClass.NONE}
    for row in rows:
        by_class[row["hardship_class"]] = row["n"]
    figures = qs.aggregate(
        overdue=Count("id", filter=Q(status__in=OPEN_STATUSES, next_visit_due__lt=today)),
        notice=Count("id", filter=Q(status=FileStatus.NOTICE)),
    )
    return Counts(by_class, sum(by_class.values()), figures["overdue"], figures["notice"])


def file_of_member(member: Member) -> HardshipFile | None:
    """The member's own file (the H5 page shows its status, never the figures)."""
    return HardshipFile.objects.filter(member=member).select_related("contact_user").first()


def major_illness_policy_for_actor(*, actor: Any) -> ResolvedPolicy:
    """The 大病救助 tiers in force at the top of the actor's relief scope (the shipped default
    for an actor with no scope)."""
    root = scope_root_for_actor(actor=actor, perm=ReliefPerm.VIEW)
    if root is None:
        return ResolvedPolicy(kind=MAJOR_ILLNESS, body=dict(MAJOR_ILLNESS_DEFAULT), version=None)
    return policy_for(kind=MAJOR_ILLNESS, organization=root)


# ---- cases ------------------------------------------------------------------------------------


def cases_for_actor(*, actor: Any, perm: str = ReliefPerm.VIEW) -> QuerySet[ReliefCase]:
    return ReliefCase.objects.filter(scope_q(actor, perm)).select_related("member", "organization")


@dataclass(frozen=True)
class CaseFilters:
    kind: str = ""
    status: str = ""
    paperwork_overdue: bool = False


def case_list_for_actor(*, actor: Any, filters: CaseFilters, today: dt.date) -> QuerySet[ReliefCase]:
    qs = cases_for_actor(actor=actor)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.paperwork_overdue:
        qs = qs.filter(paperwork_overdue_q(today))
    return qs.order_by("-id")


def paperwork_overdue_q(today: dt.date) -> Q:
    """Fast-track cases whose papers are past their deadline and still missing."""
    return Q(fast_track=True, paperwork_done_at__isnull=True, paperwork_due__lt=today) & ~Q(status=CaseStatus.REJECTED)


def paperwork_overdue_for_actor(*, actor: Any, today: dt.date) -> QuerySet[ReliefCase]:
    """Overdue papers, seen by the case's union and every level above it (the escalation)."""
    return cases_for_actor(actor=actor).filter(paperwork_overdue_q(today)).order_by("paperwork_due", "id")


def case_get_for_actor(*, actor: Any, pk: int | str) -> ReliefCase:
    """A case of the actor's sub-tree, or one escalated to an organisation of it."""
    scope = scope_q(actor, ReliefPerm.VIEW)
    case = (
        ReliefCase.objects.filter(scope)
        .select_related("member", "organization", "file", "illness_policy", "situations_policy")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise NotFound("救助申请不存在或无权访问")
    return case


def case_document_get_for_actor(*, actor: Any, pk: int | str) -> CaseDocument:
    document = (
        CaseDocument.objects.filter(scope_q(actor, ReliefPerm.VIEW, field="case__organization__path"))
        .select_related("case__organization", "case__member")
        .filter(pk=pk)
        .first()
    )
    if document is None:
        raise NotFound("材料不存在或无权访问")
    return document


def member_cases(member: Member) -> QuerySet[ReliefCase]:
    return ReliefCase.objects.filter(member=member).order_by("-id")


def member_case_get(member: Member, pk: int | None) -> ReliefCase:
    case = (
        ReliefCase.objects.filter(member=member, pk=pk).select_related("member", "organization").first() if pk else None
    )
    if case is None:
        raise NotFound("救助申请不存在")
    return case


# ---- 常态化慰问 ----------------------------------------------------------------------------------


def plans_for_actor(*, actor: Any) -> QuerySet[VisitPlan]:
    return VisitPlan.objects.filter(scope_q(actor, ReliefPerm.VIEW)).select_related("organization").order_by("-id")


def plan_get_for_actor(*, actor: Any, pk: int | str) -> VisitPlan:
    plan = plans_for_actor(actor=actor).filter(pk=pk).first()
    if plan is None:
        raise NotFound("慰问计划不存在或无权访问")
    return plan


def plan_targets(*, actor: Any, plan: VisitPlan) -> QuerySet[Member]:
    """The plan's group within its sub-tree (and the actor's): members carrying one of the
    group's tags, members whose open hardship file is filed under the group, and members
    another app refers to the group (screening's accepted 常态化慰问 candidates, offered as
    `screening.visit_referrals`)."""
    groups = policy_explain(kind=VISIT_GROUPS, version=plan.groups_policy_id)
    tags = group_tags(groups, plan.group)
    filed = HardshipFile.objects.filter(status__in=OPEN_STATUSES, visit_group=plan.group).values("member_id")
    condition = Q(pk__in=filed)
    referrals = registry.offered("screening.visit_referrals")
    if referrals is not None:
        condition |= Q(pk__in=referrals(group=plan.group, group_label=plan.group_label))
    qs = Member.objects.filter(scope_q(actor, ReliefPerm.VIEW), organization__path__startswith=plan.organization.path)
    if tags:
        qs = qs.annotate(group_hit=F("tags").bitand(tags))
        condition |= Q(group_hit__gt=0)
    return qs.filter(condition).select_related("organization").order_by("organization__path", "id")


def plan_visited_ids(plan: VisitPlan) -> set[int]:
    return set(PlanVisit.objects.filter(plan=plan).values_list("member_id", flat=True))
