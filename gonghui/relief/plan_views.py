"""Pages of 常态化慰问 plans: the list, a new plan for a group and occasion across a sub-tree,
and a plan with its target members and the visits made."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import parsing
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, ValidationFailed
from gonghui.core.pagination import paginate
from gonghui.organizations.policies import policy_for
from gonghui.organizations.selectors import (
    has_perm_on,
    organization_by_code_for_actor,
    organizations_for_actor,
    scope_root_for_actor,
)
from gonghui.relief import plans, policies, selectors
from gonghui.relief.models import Occasion
from gonghui.relief.permissions import ReliefPerm

ORG_CHOICES_MAX = 500


@require_GET
@requires_perm(ReliefPerm.VIEW)
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "relief/plan_list.html", {"page": paginate(request, selectors.plans_for_actor(actor=request.user))}
    )


@require_http_methods(["GET", "POST"])
@requires_perm(ReliefPerm.MANAGE)
def plan_create(request: HttpRequest) -> HttpResponse:
    orgs = organizations_for_actor(actor=request.user, perm=ReliefPerm.MANAGE).order_by("path")[:ORG_CHOICES_MAX]
    root = scope_root_for_actor(actor=request.user, perm=ReliefPerm.MANAGE)
    groups = (
        policies.active_choices(policy_for(kind=policies.VISIT_GROUPS, organization=root).body, "groups")
        if root
        else []
    )
    error, errors = "", {}
    if request.method == "POST":
        try:
            code = request.POST.get("organization", "").strip()
            if not code:
                raise ValidationFailed("请选择组织", fields={"organization": "请选择组织"})
            org = organization_by_code_for_actor(actor=request.user, perm=ReliefPerm.MANAGE, code=code)
            plan = plans.plan_create(actor=request.user, organization=org, data=request.POST)
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            messages.success(request, "已制定慰问计划")
            return redirect("relief:plan_detail", pk=plan.pk)
    return render(
        request,
        "relief/plan_form.html",
        {
            "orgs": orgs,
            "groups": groups,
            "occasions": Occasion.choices,
            "values": request.POST,
            "error": error,
            "errors": errors,
        },
        status=422 if error else 200,
    )


@require_GET
@requires_perm(ReliefPerm.VIEW)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get_for_actor(actor=request.user, pk=pk)
    targets = paginate(request, selectors.plan_targets(actor=request.user, plan=plan))
    return render(
        request,
        "relief/plan_detail.html",
        {
            "plan": plan,
            "targets": targets,
            "visited": selectors.plan_visited_ids(plan),
            "visits": plan.visits.select_related("member", "visitor")[:50],
            "can_manage": has_perm_on(request.user, ReliefPerm.MANAGE, plan.organization),
            "budgets": plans.plan_budgets(actor=request.user, plan=plan),
            "today": timezone.localdate(),
        },
    )


@require_POST
@requires_perm(ReliefPerm.MANAGE)
def plan_close(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get_for_actor(actor=request.user, pk=pk)
    plans.plan_close(actor=request.user, plan=plan)
    messages.success(request, "已结束慰问计划")
    return redirect("relief:plan_detail", pk=pk)


@require_POST
@requires_perm(ReliefPerm.MANAGE)
def plan_visit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get_for_actor(actor=request.user, pk=pk)
    try:
        member = (
            selectors.plan_targets(actor=request.user, plan=plan)
            .filter(pk=parsing.query_id(request.POST, "member") or 0)
            .first()
        )
        if member is None:
            raise ValidationFailed("该职工不在本次慰问对象范围内", fields={"member": "不在慰问对象范围内"})
        wanted = parsing.query_id(request.POST, "budget")
        budget = next((b for b in plans.plan_budgets(actor=request.user, plan=plan) if b.pk == wanted), None)
        plans.plan_visit_record(actor=request.user, plan=plan, member=member, data=request.POST, budget=budget)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记慰问")
    return redirect("relief:plan_detail", pk=pk)
