"""Pages of 临时救助 and 大病救助 cases: the console list, filing on a member's behalf, the case
with its workflow buttons and history, overdue paperwork; the member's H5 application."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import parsing
from gonghui.core.access import requires_perm
from gonghui.core.downloads import attachment_response
from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.core.pagination import paginate
from gonghui.core.workflow import workflow_case, workflow_history, workflow_options
from gonghui.funds.selectors import entries_for_reference
from gonghui.members.selectors import member_of_user
from gonghui.organizations.policies import policy_for
from gonghui.organizations.selectors import has_perm_on
from gonghui.relief import cases, policies, selectors, services
from gonghui.relief.models import CaseKind, CaseStatus, ReliefCase
from gonghui.relief.permissions import ReliefPerm
from gonghui.relief.workflows import CASE


def _case_filters(request: HttpRequest) -> selectors.CaseFilters:
    kind = request.GET.get("kind", "").strip()
    status = request.GET.get("status", "").strip()
    if kind and kind not in dict(CaseKind.choices):
        raise ValidationFailed("救助类型无效", fields={"kind": "请从列表中选择"})
    if status and status not in dict(CaseStatus.choices):
        raise ValidationFailed("状态无效", fields={"status": "请从列表中选择"})
    return selectors.CaseFilters(kind, status, request.GET.get("paperwork") == "1")


@require_GET
@requires_perm(ReliefPerm.VIEW)
def case_list(request: HttpRequest) -> HttpResponse:
    filters = _case_filters(request)
    today = timezone.localdate()
    qs = selectors.case_list_for_actor(actor=request.user, filters=filters, today=today)
    return render(
        request,
        "relief/case_list.html",
        {
            "page": paginate(request, qs),
            "filters": filters,
            "kinds": CaseKind.choices,
            "statuses": CaseStatus.choices,
            "today": today,
        },
    )


@require_GET
@requires_perm(ReliefPerm.VIEW)
def paperwork_overdue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    qs = selectors.paperwork_overdue_for_actor(actor=request.user, today=today)
    return render(request, "relief/paperwork.html", {"page": paginate(request, qs), "today": today})


def _case_data(request: HttpRequest) -> dict[str, Any]:
    return {key: request.POST.get(key, "") for key in request.POST}


@require_http_methods(["GET", "POST"])
@requires_perm(ReliefPerm.MANAGE)
def case_create(request: HttpRequest) -> HttpResponse:
    """File a 临时救助 (kind=temporary) or 大病救助 (kind=major_illness) on a member's behalf."""
    kind = (request.POST.get("kind") or request.GET.get("kind") or CaseKind.TEMPORARY).strip()
    if kind not in dict(CaseKind.choices):
        kind = CaseKind.TEMPORARY
    member_no = parsing.clean(request.POST.get("member_no") or request.GET.get("member_no"))[:20]
    error, errors, member = "", {}, None
    try:
        if member_no:
            member = selectors.member_for_filing(actor=request.user, member_no=member_no)
        if request.method == "POST":
            if member is None:
                raise ValidationFailed("请填写会员编号", fields={"member_no": "请填写会员编号"})
            submit = cases.illness_case_submit if kind == CaseKind.MAJOR_ILLNESS else cases.case_submit
            case = submit(actor=request.user, member=member, data=_case_data(request))
            messages.success(request, "已提交救助申请 %(no)s" % {"no": case.case_no})
            return redirect("relief:case_detail", pk=case.pk)
    except DomainError as exc:
        error, errors = exc.message, exc.fields
    situations = (
        policies.active_choices(
            policy_for(kind=policies.SITUATIONS, organization=member.organization).body, "situations"
        )
        if member
        else []
    )
    return render(
        request,
        "relief/case_form.html",
        {
            "kind": kind,
            "member": member,
            "member_no": member_no,
            "situations": situations,
            "values": request.POST,
            "error": error,
            "errors": errors,
            "today": timezone.localdate(),
        },
        status=422 if error else 200,
    )


def _case_page(request: HttpRequest, case: ReliefCase, *, status: int = 200, **extra: Any) -> HttpResponse:
    record = workflow_case(workflow=CASE, obj=case)
    options = workflow_options(actor=request.user, workflow=CASE, obj=case)
    return render(
        request,
        "relief/case_detail.html",
        {
            "case": case,
            "options": options,
            # A template would call a transition's `limits` callable: say here which steps take an amount.
            "amount_steps": {name for name, o in options.items() if o.transition.limits is not None},
            "budgets": cases.case_budgets(actor=request.user, case=case) if "pay" in options else [],
            "payments": entries_for_reference(actor=request.user, reference=cases.case_reference(case)),
            "history": workflow_history(workflow=CASE, obj=case),
            "documents": case.documents.all()[:50],
            "escalated_org": record.escalated_org_id if record else None,
            "can_manage": has_perm_on(request.user, ReliefPerm.MANAGE, case.organization),
            "can_reveal": has_perm_on(request.user, ReliefPerm.REVEAL, case.organization),
            "today": timezone.localdate(),
            **extra,
        },
        status=status,
    )


@require_GET
@requires_perm(ReliefPerm.VIEW)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_page(request, selectors.case_get_for_actor(actor=request.user, pk=pk))


@require_POST
@requires_perm(ReliefPerm.REVEAL)
def case_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, pk=pk)
    return _case_page(request, case, illness=cases.illness_reveal(actor=request.user, case=case))


@require_POST
@requires_perm(ReliefPerm.MANAGE, ReliefPerm.APPROVE)
def case_step(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, pk=pk)
    step = request.POST.get("step", "")
    reason = request.POST.get("reason", "")
    try:
        if step == "review":
            cases.case_review(actor=request.user, case=case, reason=reason)
            done = "已审核，待审批"
        elif step in ("approve", "approve_urgent"):
            amount = services.parse_money(request.POST.get("amount"), name="amount", label="批准金额", required=True)
            approved = cases.case_approve(actor=request.user, case=case, amount_fen=amount, reason=reason)
            done = "已上报上级工会审批（超出本级审批限额）" if approved.status == CaseStatus.ESCALATED else "已批准"
        elif step == "reject":
            cases.case_reject(actor=request.user, case=case, reason=reason)
            done = "已作出不予救助的决定"
        elif step == "pay":
            wanted = parsing.query_id(request.POST, "budget")
            budget = next((b for b in cases.case_budgets(actor=request.user, case=case) if b.pk == wanted), None)
            if budget is None:
                raise ValidationFailed("请选择列支的预算（资金来源与预算科目）", fields={"budget": "请选择预算"})
            cases.case_pay(actor=request.user, case=case, budget=budget)
            done = "已发放，救助金实名转入本人银行卡"
        elif step == "paperwork":
            cases.paperwork_complete(actor=request.user, case=case)
            done = "已确认手续补齐"
        else:
            raise ValidationFailed("未知的操作")
    except DomainError as exc:
        case = selectors.case_get_for_actor(actor=request.user, pk=pk)
        return _case_page(request, case, status=exc.status, error=exc.message, errors=exc.fields)
    messages.success(request, done)
    return redirect("relief:case_detail", pk=pk)


@require_POST
@requires_perm(ReliefPerm.MANAGE)
def case_document_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, pk=pk)
    try:
        cases.case_document_add(actor=request.user, case=case, upload=request.FILES.get("upload"))
    except DomainError as exc:
        return _case_page(request, case, status=exc.status, error=exc.message, errors=exc.fields)
    messages.success(request, "已上传材料")
    return redirect("relief:case_detail", pk=pk)


@require_GET
@requires_perm(ReliefPerm.REVEAL)
def case_document_download(request: HttpRequest, pk: int) -> HttpResponse:
    document = selectors.case_document_get_for_actor(actor=request.user, pk=pk)
    content = cases.case_document_read(actor=request.user, document=document)
    return attachment_response(content, document.filename, document.content_type)


# ---- member H5 ------------------------------------------------------------------------------------


def _me(request: HttpRequest) -> Any:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


@require_http_methods(["GET", "POST"])
def h5_apply(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    error, errors = "", {}
    if request.method == "POST":
        try:
            case = cases.case_submit(actor=request.user, member=member, data=_case_data(request))
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            messages.success(request, "已提交申请 %(no)s，请上传相关证明材料" % {"no": case.case_no})
            return redirect("relief:h5_home")
    situations = policies.active_choices(
        policy_for(kind=policies.SITUATIONS, organization=member.organization).body, "situations"
    )
    return render(
        request,
        "relief/h5/apply.html",
        {
            "situations": situations,
            "values": request.POST,
            "error": error,
            "errors": errors,
            "today": timezone.localdate(),
        },
        status=422 if error else 200,
    )


@require_POST
def h5_document(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    case = selectors.member_case_get(member, parsing.query_id(request.POST, "case"))
    try:
        cases.case_document_add(actor=request.user, case=case, upload=request.FILES.get("upload"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已上传材料")
    return redirect("relief:h5_home")
