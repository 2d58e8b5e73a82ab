"""Writes of 常态化慰问 plans: a plan for a group and an occasion across an organisation's
sub-tree (the group's members are its targets, see `selectors.plan_targets`)."""

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.core import audit, parsing
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.funds.models import Budget
from gonghui.funds.selectors import budgets_for_spending
from gonghui.funds.services import fund_spend
from gonghui.members.models import Member
from gonghui.organizations.models import Organization
from gonghui.organizations.policies import policy_for
from gonghui.organizations.selectors import ancestors, has_perm_on
from gonghui.relief import policies, selectors
from gonghui.relief.models import Occasion, PlanStatus, PlanVisit, VisitPlan
from gonghui.relief.permissions import ReliefPerm

PLAN_CASH_MAX_FEN = 10_000_000  # ¥10 万 per visit at most
PLAN_DAYS_MAX = 366
VISIT_CATEGORY = "relief.visit"


def _field(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={name: str(exc)}) from None


def plan_create(*, actor: Any, organization: Organization, data: Mapping[str, Any]) -> VisitPlan:
    if not has_perm_on(actor, ReliefPerm.MANAGE, organization):
        raise PermissionDenied("您无权为该组织制定慰问计划")
    title = parsing.clean(data.get("title"))
    if not title or len(title) > 80:
        raise ValidationFailed("请填写慰问活动名称（80 字以内）", fields={"title": "请填写活动名称"})
    occasion = parsing.clean(data.get("occasion"))
    if occasion not in dict(Occasion.choices):
        raise ValidationFailed("请选择慰问时机", fields={"occasion": "请选择节日、极端天气或突发灾害"})
    groups = policy_for(kind=policies.VISIT_GROUPS, organization=organization)
    group = parsing.clean(data.get("group"))
    choices = dict(policies.active_choices(groups.body, "groups"))
    if group not in choices:
        raise ValidationFailed("请选择慰问对象类别", fields={"group": "请从列表中选择"})
    today = timezone.localdate()
    starts = _field("starts_on", parsing.parse_date, data.get("starts_on"), label="开始日期")
    ends = _field("ends_on", parsing.parse_date, data.get("ends_on"), label="结束日期")
    if ends < starts:
        raise ValidationFailed("结束日期不能早于开始日期", fields={"ends_on": "不能早于开始日期"})
    if (ends - starts).days > PLAN_DAYS_MAX:
        raise ValidationFailed("慰问计划不能超过一年", fields={"ends_on": "不能超过一年"})
    if ends < today:
        raise ValidationFailed("结束日期不能早于今天", fields={"ends_on": "不能早于今天"})
    raw_cash = data.get("cash") or "0"
    cash = _field("cash", parsing.parse_yuan, raw_cash, label="每户慰问金", maximum_fen=PLAN_CASH_MAX_FEN)
    goods = parsing.clean(data.get("goods"))
    if len(goods) > 120:
        raise ValidationFailed("慰问品不能超过 120 字", fields={"goods": "不能超过 120 字"})
    if cash == 0 and not goods:
        raise ValidationFailed("请填写每户慰问金或慰问品", fields={"cash": "请填写慰问金或慰问品"})
    with transaction.atomic():
        plan = VisitPlan.objects.create(
            organization=organization,
            title=title,
            occasion=occasion,
            group=group,
            group_label=choices[group],
            groups_policy=groups.version,
            starts_on=starts,
            ends_on=ends,
            cash_fen=cash,
            goods=goods,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="relief.plan_create",
            obj=plan,
            organization=organization,
            detail={"group": group, "occasion": occasion, "cash_fen": cash},
        )
    return plan


def plan_close(*, actor: Any, plan: VisitPlan) -> VisitPlan:
    if not has_perm_on(actor, ReliefPerm.MANAGE, plan.organization):
        raise PermissionDenied("您无权结束该慰问计划")
    with transaction.atomic():
        locked = VisitPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != PlanStatus.OPEN:
            raise Conflict("该慰问计划已结束")
        locked.status = PlanStatus.CLOSED
        locked.save(update_fields=["status"])
        audit.record(actor=actor, action="relief.plan_close", obj=locked, organization=locked.organization)
    return locked


def plan_budgets(*, actor: Any, plan: VisitPlan) -> list[Budget]:
    """The budgets the actor may pay this plan's cash from: the plan's union's and those above."""
    year = timezone.localdate().year
    found: list[Budget] = []
    for organization in reversed([*ancestors(plan.organization), plan.organization]):
        found += list(budgets_for_spending(user=actor, organization=organization, year=year, category=VISIT_CATEGORY))
    return found


def plan_visit_record(
    *, actor: Any, plan: VisitPlan, member: Member, data: Mapping[str, Any], budget: Budget | None
) -> PlanVisit:
    """A visit under the plan: date, visitor (the actor), cash and goods; cash is paid out of
    `budget` (of the plan's union or above) in the same transaction, so every yuan is on a ledger."""
    if not has_perm_on(actor, ReliefPerm.MANAGE, plan.organization) and not has_perm_on(
        actor, ReliefPerm.MANAGE, member.organization
    ):
        raise PermissionDenied("您无权登记该慰问计划的走访")
    if plan.status != PlanStatus.OPEN:
        raise Conflict("该慰问计划已结束")
    if not selectors.plan_targets(actor=actor, plan=plan).filter(pk=member.pk).exists():
        raise ValidationFailed("该职工不在本次慰问对象范围内", fields={"member": "不在慰问对象范围内"})
    today = timezone.localdate()
    visited_on = _field(
        "visited_on",
        parsing.parse_date,
        data.get("visited_on"),
        label="慰问日期",
        earliest=plan.starts_on,
        latest=min(plan.ends_on, today),
    )
    cash = _field("cash", parsing.parse_yuan, data.get("cash") or "0", label="慰问金", maximum_fen=PLAN_CASH_MAX_FEN)
    goods = parsing.clean(data.get("goods"))[:120]
    if cash == 0 and not goods:
        raise ValidationFailed("请填写慰问金或慰问品", fields={"cash": "请填写慰问金或慰问品"})
    if cash and budget is None:
        raise ValidationFailed("发放慰问金须选择列支的预算", fields={"budget": "请选择预算"})
    if budget is not None and budget.organization_id not in {o.pk for o in ancestors(plan.organization)} | {
        plan.organization_id
    }:
        raise ValidationFailed("只能从计划所在工会或其上级的预算中列支", fields={"budget": "请选择计划所在工会的预算"})
    with transaction.atomic():
        if PlanVisit.objects.filter(plan=plan, member=member).exists():
            raise Conflict("该职工已在本计划中慰问过")
        entry = None
        if cash:
            assert budget is not None
            entry = fund_spend(
                actor=actor,
                budget=budget,
                amount_fen=cash,
                category=VISIT_CATEGORY,
                reference="relief.plan:%d" % plan.pk,
                memo="%(plan)s %(name)s" % {"plan": plan.title, "name": member.name_masked},
            )
        try:
            with transaction.atomic():
                visit = PlanVisit.objects.create(
                    plan=plan,
                    member=member,
                    organization=member.organization,
                    visited_on=visited_on,
                    visitor=actor,
                    cash_fen=cash,
                    goods=goods,
                    ledger_entry=entry,
                )
        except IntegrityError:
            raise Conflict("该职工已在本计划中慰问过") from None
        audit.record(
            actor=actor,
            action="relief.plan_visit",
            obj=plan,
            organization=member.organization,
            detail={"member": member.pk, "cash_fen": cash, "visited_on": visited_on.isoformat()},
        )
    return visit
