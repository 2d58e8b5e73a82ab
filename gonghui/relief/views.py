"""Relief pages: the console's 困难职工档案 (list, filing, detail with the class arithmetic,
audited reveal, visits, attachments, 退档), the 大病救助 calculator, and the member's H5 page."""

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
from gonghui.core.exports import csv_export, download
from gonghui.core.pagination import paginate
from gonghui.core.workflow import workflow_history, workflow_options
from gonghui.members.selectors import member_of_user
from gonghui.organizations.selectors import has_perm_anywhere, has_perm_on
from gonghui.relief import policies, selectors, services
from gonghui.relief.models import Cause, FileStatus, HardshipFile, Relation, Schooling
from gonghui.relief.permissions import ReliefPerm
from gonghui.relief.rules import HardshipClass, IllnessParams, major_illness, yuan
from gonghui.relief.workflows import WITHDRAWAL

CLASS_CHOICES = [(c.value, c.label) for c in HardshipClass if c != HardshipClass.NONE]


def _filters(request: HttpRequest) -> selectors.FileFilters:
    klass = request.GET.get("class", "").strip()
    status = request.GET.get("status", "").strip()
    if klass and klass not in dict(CLASS_CHOICES):
        raise ValidationFailed("困难类别无效", fields={"class": "请从列表中选择"})
    if status and status not in dict(FileStatus.choices):
        raise ValidationFailed("档案状态无效", fields={"status": "请从列表中选择"})
    query = parsing.clean(request.GET.get("q"))[:30]
    return selectors.FileFilters(klass, status, request.GET.get("overdue") == "1", query)


def _form_context(file: HardshipFile | None, organization: Any) -> dict[str, Any]:
    groups = policies.resolved(policies.VISIT_GROUPS, organization).body
    return {
        "causes": Cause.choices,
        "groups": policies.active_choices(groups, "groups"),
        "file": file,
    }


def _form_data(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {key: request.POST.get(key, "") for key in request.POST}
    data["secondary_causes"] = request.POST.getlist("secondary_causes")
    data["contact_user"] = request.user if request.POST.get("contact_self") == "1" else None
    return data


def _abilities(request: HttpRequest) -> dict[str, bool]:
    return {
        "can_file": has_perm_anywhere(request.user, ReliefPerm.MANAGE),
        "can_export": has_perm_anywhere(request.user, ReliefPerm.EXPORT),
    }


@require_GET
@requires_perm(ReliefPerm.VIEW)
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    counts = selectors.counts_for_actor(actor=request.user, today=today)
    return render(
        request,
        "relief/home.html",
        {
            "counts": counts,
            "classes": [(value, label, counts.by_class[value]) for value, label in CLASS_CHOICES],
            "notices": selectors.notices_awaiting_decision_for_actor(actor=request.user)[:10],
            "overdue": selectors.overdue_visits_for_actor(actor=request.user, today=today)[:10],
            **_abilities(request),
        },
    )


@require_GET
@requires_perm(ReliefPerm.VIEW)
def file_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    today = timezone.localdate()
    qs = selectors.file_list_for_actor(actor=request.user, filters=filters, today=today)
    return render(
        request,
        "relief/file_list.html",
        {
            "page": paginate(request, qs),
            "filters": filters,
            "classes": CLASS_CHOICES,
            "statuses": FileStatus.choices,
            "today": today,
            **_abilities(request),
        },
    )


@require_GET
@requires_perm(ReliefPerm.EXPORT)
def files_export(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    today = timezone.localdate()
    qs = selectors.file_list_for_actor(actor=request.user, filters=filters, today=today, perm=ReliefPerm.EXPORT)
    rows = (
        (
            f.file_no,
            f.member.name_masked,
            f.member.member_no,
            f.organization.name,
            f.get_hardship_class_display(),
            f.get_status_display(),
            f.get_main_cause_display(),
            f.household_size,
            f.filed_on,
            f.next_visit_due,
        )
        for f in qs.iterator(chunk_size=500)
    )
    export = csv_export(
        actor=request.user,
        action="relief.files_export",
        filename="困难职工档案_%s.csv" % today.strftime("%Y%m%d"),
        header=(
            "档案编号",
            "姓名",
            "会员编号",
            "所属工会",
            "困难类别",
            "状态",
            "主要致困原因",
            "共同生活人口",
            "建档日期",
            "下次走访截止",
        ),
        rows=rows,
        detail={"class": filters.hardship_class, "status": filters.status},
    )
    return download(export)


@require_GET
@requires_perm(ReliefPerm.VIEW)
def overdue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    qs = selectors.overdue_visits_for_actor(actor=request.user, today=today)
    return render(request, "relief/overdue.html", {"page": paginate(request, qs), "today": today})


@require_GET
@requires_perm(ReliefPerm.VIEW)
def notices(request: HttpRequest) -> HttpResponse:
    qs = selectors.notices_awaiting_decision_for_actor(actor=request.user)
    return render(request, "relief/notices.html", {"page": paginate(request, qs), "today": timezone.localdate()})


@require_http_methods(["GET", "POST"])
@requires_perm(ReliefPerm.MANAGE)
def file_create(request: HttpRequest) -> HttpResponse:
    error, errors = "", {}
    member = None
    member_no = parsing.clean(request.POST.get("member_no") or request.GET.get("member_no"))[:20]
    try:
        if member_no:
            member = selectors.member_for_filing(actor=request.user, member_no=member_no)
        if request.method == "POST":
            if member is None:
                raise ValidationFailed("请填写会员编号", fields={"member_no": "请填写会员编号"})
            file = services.hardship_file_create(actor=request.user, member=member, data=_form_data(request))
            messages.success(request, "已建档，认定为%(label)s" % {"label": file.get_hardship_class_display()})
            return redirect("relief:file_detail", pk=file.pk)
    except DomainError as exc:
        error, errors = exc.message, exc.fields
    context = _form_context(None, member.organization if member else None) if member else {"causes": Cause.choices}
    return render(
        request,
        "relief/file_form.html",
        {**context, "member": member, "member_no": member_no, "values": request.POST, "error": error, "errors": errors},
        status=422 if error else 200,
    )


def _detail(
    request: HttpRequest, file: HardshipFile, revealed: Any = None, status: int = 200, **extra: Any
) -> HttpResponse:
    options = workflow_options(actor=request.user, workflow=WITHDRAWAL, obj=file)
    groups = policies.resolved(policies.VISIT_GROUPS, file.organization).body
    return render(
        request,
        "relief/file_detail.html",
        {
            "file": file,
            "revealed": revealed,
            "today": timezone.localdate(),
            "options": options,
            "history": workflow_history(workflow=WITHDRAWAL, obj=file),
            "visits": file.visits.select_related("visitor")[:20],
            "attachments": file.attachments.all()[:50],
            "household": file.household.all(),
            "group_label": policies.choice_label(groups, "groups", file.visit_group) if file.visit_group else "",
            "classes_label": "v%s" % file.classes_policy.version if file.classes_policy else "系统默认",
            "can_manage": has_perm_on(request.user, ReliefPerm.MANAGE, file.organization),
            "can_reveal": has_perm_on(request.user, ReliefPerm.REVEAL, file.organization),
            "relations": Relation.choices,
            "schoolings": Schooling.choices,
            **extra,
        },
        status=status,
    )


@require_GET
@requires_perm(ReliefPerm.VIEW)
def file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.file_get_for_actor(actor=request.user, pk=pk))


@require_POST
@requires_perm(ReliefPerm.REVEAL)
def file_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    file = selectors.file_get_for_actor(actor=request.user, pk=pk)
    return _detail(request, file, services.hardship_file_reveal(actor=request.user, file=file))


@require_http_methods(["GET", "POST"])
@requires_perm(ReliefPerm.MANAGE)
def file_edit(request: HttpRequest, pk: int) -> HttpResponse:
    file = selectors.file_get_for_actor(actor=request.user, pk=pk, perm=ReliefPerm.MANAGE)
    refile = file.status in (FileStatus.WITHDRAWN, FileStatus.ENDED)
    error, errors = "", {}
    if request.method == "POST":
        try:
            if refile:
                file = services.hardship_file_refile(actor=request.user, file=file, data=_form_data(request))
                messages.success(request, "已重新建档，认定为%(label)s" % {"label": file.get_hardship_class_display()})
            else:
                file = services.hardship_file_update(actor=request.user, file=file, data=_form_data(request))
                messages.success(request, "已保存，认定为%(label)s" % {"label": file.get_hardship_class_display()})
            return redirect("relief:file_detail", pk=file.pk)
        except DomainError as exc:
            error, errors = exc.message, exc.fields
    values: Any = request.POST
    if request.method == "GET":
        figures = services.figures_open(file)
        values = {
            "annual_income": parsing.format_yuan(figures.annual_income_fen),
            "rigid_spending": parsing.format_yuan(figures.rigid_spending_fen),
            "hardship_costs": parsing.format_yuan(figures.hardship_costs_fen),
            "household_size": str(file.household_size),
            "disaster": "1" if file.disaster else "",
            "main_cause": file.main_cause,
            "visit_group": file.visit_group,
            "labour_since": file.labour_since.isoformat() if file.labour_since else "",
            "contact_name": file.contact_name,
            "contact_phone": file.contact_phone,
            "contact_self": "1" if file.contact_user_id == request.user.pk else "",
        }
    return render(
        request,
        "relief/file_form.html",
        {
            **_form_context(file, file.organization),
            "member": file.member,
            "refile": refile,
            "values": values,
            "secondary": request.POST.getlist("secondary_causes")
            if request.method == "POST"
            else file.secondary_causes,
            "error": error,
            "errors": errors,
        },
        status=422 if error else 200,
    )


def _act(request: HttpRequest, pk: int, act: Any, done: str) -> HttpResponse:
    file = selectors.file_get_for_actor(actor=request.user, pk=pk)
    try:
        act(file)
    except DomainError as exc:
        file = selectors.file_get_for_actor(actor=request.user, pk=pk)
        return _detail(request, file, status=exc.status, error=exc.message, errors=exc.fields)
    messages.success(request, done)
    return redirect("relief:file_detail", pk=pk)


@require_POST
@requires_perm(ReliefPerm.MANAGE)
def household_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda f: services.household_member_add(actor=request.user, file=f, data=request.POST),
        "已添加家庭成员",
    )


@require_POST
@requires_perm(ReliefPerm.MANAGE)
def household_remove(request: HttpRequest, pk: int) -> HttpResponse:
    person = parsing.query_id(request.POST, "person")

    def act(f: HardshipFile) -> None:
        if person is None:
            raise NotFound("家庭成员不存在")
        services.household_member_remove(actor=request.user, file=f, person_id=person)

    return _act(request, pk, act, "已删除家庭成员")


@require_POST
@requires_perm(ReliefPerm.MANAGE)
def visit_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, lambda f: services.visit_record(actor=request.user, file=f, data=request.POST), "已登记走访"
    )


@require_POST
@requires_perm(ReliefPerm.MANAGE)
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda f: services.attachment_add(actor=request.user, file=f, upload=request.FILES.get("upload")),
        "已上传材料",
    )


@require_GET
@requires_perm(ReliefPerm.REVEAL)
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = selectors.attachment_get_for_actor(actor=request.user, pk=pk)
    content = services.attachment_read(actor=request.user, attachment=attachment)
    return attachment_response(content, attachment.filename, attachment.content_type)


@require_POST
@requires_perm(ReliefPerm.MANAGE, ReliefPerm.APPROVE)
def withdrawal(request: HttpRequest, pk: int) -> HttpResponse:
    step = request.POST.get("step", "")
    reason = request.POST.get("reason", "")
    actions = {
        "notice": (lambda f: services.withdrawal_notice(actor=request.user, file=f, reason=reason), "已发起退档公示"),
        "withdraw": (lambda f: services.withdrawal_decide(actor=request.user, file=f, approve=True), "已批准退档"),
        "keep": (
            lambda f: services.withdrawal_decide(actor=request.user, file=f, approve=False, reason=reason),
            "已驳回退档，档案继续在档",
        ),
        "end_follow_up": (lambda f: services.follow_up_end(actor=request.user, file=f), "已结束跟踪"),
    }
    if step not in actions:
        selectors.file_get_for_actor(actor=request.user, pk=pk)
        raise ValidationFailed("未知的操作")
    act, done = actions[step]
    return _act(request, pk, act, done)


# ---- 大病救助 calculator --------------------------------------------------------------------------


@require_GET
@requires_perm(ReliefPerm.VIEW)
def calculator(request: HttpRequest) -> HttpResponse:
    result, error, errors = None, "", {}
    policy = selectors.major_illness_policy_for_actor(actor=request.user)
    if "total" in request.GET:  # the form was submitted (other query parameters are not figures)
        try:
            values = {
                name: services.parse_money(request.GET.get(name), name=name, label=label, required=name == "total")
                for name, label in (
                    ("total", "医疗总费用"),
                    ("medical_insurance", "医保统筹支付"),
                    ("other_insurance", "其他保险赔付"),
                    ("mutual_aid", "医疗互助金"),
                    ("paid_this_year", "本年已获大病救助"),
                )
            }
            result = major_illness(
                total_fen=values["total"],
                medical_insurance_fen=values["medical_insurance"],
                other_insurance_fen=values["other_insurance"],
                mutual_aid_fen=values["mutual_aid"],
                paid_this_year_fen=values["paid_this_year"],
                params=IllnessParams.of(policy.body),
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
    tiers = IllnessParams.of(policy.body).tiers
    return render(
        request,
        "relief/calculator.html",
        {
            "result": result,
            "amount_yuan": yuan(result.amount_fen) if result else "",
            "net_yuan": yuan(result.net_personal_fen) if result else "",
            "tiers": [(t.describe(), yuan(t.amount_fen)) for t in tiers],
            "cap_yuan": yuan(IllnessParams.of(policy.body).yearly_cap_fen),
            "policy": policy,
            "values": request.GET,
            "error": error,
            "errors": errors,
        },
        status=422 if error else 200,
    )


# ---- member H5 ------------------------------------------------------------------------------------


@require_GET
def h5_home(request: HttpRequest) -> HttpResponse:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return render(
        request,
        "relief/h5/home.html",
        {"member": member, "file": selectors.file_of_member(member), "cases": selectors.member_cases(member)[:20]},
    )
