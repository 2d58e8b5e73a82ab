"""医疗互助 console pages (periods, unit enrolment, bills, claims, the fund report) and the
member's H5 pages. Thin: parsing here, rules in services, reads through selectors."""

import io
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import parsing, tabular, workflow
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.pagination import paginate
from gonghui.members.selectors import member_of_user
from gonghui.mutual_aid import exports, selectors, services
from gonghui.mutual_aid.models import ClaimStatus, Enrolment, EnrolmentStatus, Period, PlanCode, RejectCode
from gonghui.mutual_aid.permissions import AidPerm
from gonghui.mutual_aid.workflows import CLAIM
from gonghui.organizations.selectors import has_perm_on

UPLOAD_MAX_BYTES = 30 * 1024 * 1024
MAX_DOCUMENTS = 10
BATCHES_SHOWN = 10


def _field(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={name: str(exc)}) from None


def _collect(post: Any, specs: list[tuple[str, Any, dict[str, Any]]]) -> dict[str, Any]:
    """Parse every field, gathering all their messages before refusing."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, parse, kwargs in specs:
        try:
            values[name] = parse(post.get(name), **kwargs)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationFailed("填写有误，请按提示修改", fields=errors)
    return values


# ---- periods ------------------------------------------------------------------------------------


def _period_input(request: HttpRequest) -> services.PeriodInput:
    v = _collect(
        request.POST,
        [
            ("number", parsing.parse_int, {"label": "期次", "minimum": 1, "maximum": 999}),
            ("premium", parsing.parse_yuan, {"label": "每人互助金", "allow_zero": False}),
            ("starts_on", parsing.parse_date, {"label": "保障开始日期"}),
            ("ends_on", parsing.parse_date, {"label": "保障结束日期"}),
            ("enrol_opens_on", parsing.parse_date, {"label": "参保开始日期"}),
            ("enrol_closes_on", parsing.parse_date, {"label": "参保截止日期"}),
            ("min_age", parsing.parse_int, {"label": "最低年龄", "maximum": 120}),
            ("max_age", parsing.parse_int, {"label": "最高年龄", "maximum": 120}),
        ],
    )
    return services.PeriodInput(
        plan=request.POST.get("plan", ""),
        number=v["number"],
        name=parsing.clean(request.POST.get("name"))[:61],
        premium_fen=v["premium"],
        starts_on=v["starts_on"],
        ends_on=v["ends_on"],
        enrol_opens_on=v["enrol_opens_on"],
        enrol_closes_on=v["enrol_closes_on"],
        min_age=v["min_age"],
        max_age=v["max_age"],
    )


@require_GET
@requires_perm(AidPerm.VIEW)
def home(request: HttpRequest) -> HttpResponse:
    return _home(request)


def _home(
    request: HttpRequest, *, error: str = "", errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    page = paginate(request, selectors.periods_for_actor(actor=request.user).order_by("-starts_on", "-id"))
    return render(
        request,
        "mutual_aid/home.html",
        {
            "page": page,
            "plans": PlanCode.choices,
            "manage_orgs": selectors.organizations_for_aid(actor=request.user, perm=AidPerm.MANAGE)[:200],
            "values": request.POST if request.method == "POST" else {"min_age": "16", "max_age": "65"},
            "error": error,
            "errors": errors or {},
        },
        status=status,
    )


@require_POST
@requires_perm(AidPerm.MANAGE)
def period_create(request: HttpRequest) -> HttpResponse:
    try:
        organization = selectors.organization_in_scope(
            actor=request.user, pk=parsing.query_id(request.POST, "organization"), perm=AidPerm.MANAGE
        )
        if organization is None:
            raise ValidationFailed("请选择主办工会", fields={"organization": "请选择主办工会"})
        period = services.period_create(actor=request.user, organization=organization, data=_period_input(request))
    except DomainError as exc:
        return _home(request, error=exc.message, errors=exc.fields, status=exc.status)
    messages.success(request, "已新建期次“%(name)s”" % {"name": period.name})
    return redirect("mutual_aid:period_detail", pk=period.pk)


def _period(request: HttpRequest, pk: int) -> Period:
    return selectors.period_get_for_actor(actor=request.user, pk=pk)


def _period_initial(period: Period) -> dict[str, str]:
    return {
        "plan": period.plan,
        "number": str(period.number),
        "name": period.name,
        "premium": parsing.format_yuan(period.premium_fen),
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "enrol_opens_on": period.enrol_opens_on.isoformat(),
        "enrol_closes_on": period.enrol_closes_on.isoformat(),
        "min_age": str(period.min_age),
        "max_age": str(period.max_age),
    }


def _detail(request: HttpRequest, period: Period, **extra: Any) -> HttpResponse:
    status = extra.pop("status", 200)
    context = {
        "period": period,
        "bills": paginate(request, selectors.bills_for_actor(actor=request.user, period=period)),
        **_batches(request, period),
        "units": selectors.organizations_for_aid(actor=request.user, perm=AidPerm.ENROL).filter(
            path__startswith=period.organization.path
        )[:500],
        "can_manage": has_perm_on(request.user, AidPerm.MANAGE, period.organization),
        "plans": PlanCode.choices,
        "values": request.POST if request.method == "POST" else _period_initial(period),
        "errors": {},
        "error": "",
        "today": timezone.localdate(),
        **extra,
    }
    return render(request, "mutual_aid/period_detail.html", context, status=status)


@require_GET
@requires_perm(AidPerm.VIEW)
def period_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _period(request, pk))


@require_POST
@requires_perm(AidPerm.MANAGE)
def period_edit(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period(request, pk)
    try:
        services.period_update(actor=request.user, period=period, data=_period_input(request))
    except DomainError as exc:
        return _detail(request, period, error=exc.message, errors=exc.fields, status=exc.status, editing=True)
    messages.success(request, "期次已保存")
    return redirect("mutual_aid:period_detail", pk=period.pk)


@require_POST
@requires_perm(AidPerm.ENROL)
def enrol_upload(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period(request, pk)
    upload = request.FILES.get("file")
    try:
        unit = selectors.organization_in_scope(
            actor=request.user, pk=parsing.query_id(request.POST, "unit"), perm=AidPerm.ENROL
        )
        if unit is None:
            raise ValidationFailed("请选择参保单位", fields={"unit": "请选择参保单位"})
        if not isinstance(upload, UploadedFile) or not upload.size:
            raise ValidationFailed("请选择名单文件（CSV 或 XLSX）", fields={"file": "请选择名单文件"})
        if upload.size > UPLOAD_MAX_BYTES:
            raise ValidationFailed("名单文件不能超过 30MB", fields={"file": "文件过大"})
        content = upload.read()
        filename = upload.name or "名单"
        if request.POST.get("mode") == "check":
            check = services.enrolment_list_check(
                period=period, unit=unit, stream=io.BytesIO(content), filename=filename
            )
            if check.errors:
                return download(
                    tabular.error_report(
                        actor=request.user,
                        action="mutual_aid.enrol_report",
                        filename="参保名单校验报告.xlsx",
                        header=check.header,
                        rows=check.errors,
                        organization=unit,
                    )
                )
            messages.success(
                request,
                "校验通过：%(n)s 人，应缴 ¥%(amount)s，可以提交参保"
                % {"n": len(check.members), "amount": parsing.format_yuan(len(check.members) * period.premium_fen)},
            )
            return redirect("mutual_aid:period_detail", pk=period.pk)
        batch = services.enrolment_list_submit(
            actor=request.user, period=period, unit=unit, content=content, filename=filename
        )
    except DomainError as exc:
        return _detail(request, period, error=exc.message, errors=exc.fields, status=exc.status)
    messages.success(
        request,
        "名单“%(file)s”已提交，正在后台校验并生成缴费单；完成后在下方“参保名单”中显示结果" % {"file": batch.filename},
    )
    return redirect("mutual_aid:period_detail", pk=period.pk)


def _batches(request: HttpRequest, period: Period) -> dict[str, Any]:
    batches = list(selectors.batches_for_actor(actor=request.user, period=period)[:BATCHES_SHOWN])
    return {"batches": batches, "batches_pending": any(b.job is not None and b.job.is_active for b in batches)}


@require_GET
@requires_perm(AidPerm.VIEW)
def batch_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The period's latest lists with their jobs' progress (polled by the page while one runs)."""
    period = _period(request, pk)
    context = _batches(request, period)
    response = render(request, "mutual_aid/_batches.html", {"period": period, "today": timezone.localdate(), **context})
    if request.headers.get("HX-Request") and not context["batches_pending"]:
        response["HX-Refresh"] = "true"  # the lists are done: the page shows their bills
    return response


@require_POST
@requires_perm(AidPerm.ENROL)
def batch_pay(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get_for_actor(actor=request.user, pk=pk)
    try:
        paid_on = _field("paid_on", parsing.parse_date, request.POST.get("paid_on"), label="缴费日期")
        count = services.batch_pay(
            actor=request.user, batch=batch, paid_on=paid_on, payment_ref=request.POST.get("payment_ref", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记缴费：%(n)s 张缴费单，参保生效" % {"n": count})
    return redirect("mutual_aid:period_detail", pk=batch.period_id)


@require_POST
@requires_perm(AidPerm.ENROL)
def batch_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get_for_actor(actor=request.user, pk=pk)
    try:
        return download(services.enrolment_batch_report(actor=request.user, batch=batch))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("mutual_aid:period_detail", pk=batch.period_id)


@require_POST
@requires_perm(AidPerm.ENROL)
def bill_pay(request: HttpRequest, pk: int) -> HttpResponse:
    bill = selectors.bill_get_for_actor(actor=request.user, pk=pk)
    try:
        paid_on = _field("paid_on", parsing.parse_date, request.POST.get("paid_on"), label="缴费日期")
        services.bill_pay(
            actor=request.user, bill=bill, paid_on=paid_on, payment_ref=request.POST.get("payment_ref", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记缴费，%(n)s 人参保生效" % {"n": bill.member_count})
    return redirect("mutual_aid:period_detail", pk=bill.period_id)


@require_GET
@requires_perm(AidPerm.VIEW)
def enrolment_list(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period(request, pk)
    rows = selectors.enrolments_for_actor(actor=request.user, period=period)
    query = parsing.clean(request.GET.get("q"))[:20]
    if query:
        rows = rows.filter(member__name__startswith=query)
    return render(
        request,
        "mutual_aid/enrolments.html",
        {"period": period, "page": paginate(request, rows), "q": query, "active": EnrolmentStatus.ACTIVE},
    )


# ---- claims -------------------------------------------------------------------------------------

_COSTS = [
    ("total", "总费用"),
    ("basic_insurance", "医保统筹支付"),
    ("serious_illness_insurance", "大病保险支付"),
    ("self_inside_catalogue", "个人自付（目录内）"),
    ("self_outside_catalogue", "个人自付（目录外）"),
]


def _claim_input(request: HttpRequest) -> services.ClaimInput:
    specs: list[tuple[str, Any, dict[str, Any]]] = [
        ("admitted_on", parsing.parse_date, {"label": "入院日期"}),
        ("discharged_on", parsing.parse_date, {"label": "出院日期"}),
        ("days", parsing.parse_int, {"label": "住院天数", "maximum": 3650}),
    ]
    specs += [(key, parsing.parse_yuan, {"label": label}) for key, label in _COSTS]
    v = _collect(request.POST, specs)
    return services.ClaimInput(
        hospital=parsing.clean(request.POST.get("hospital"))[:101],
        admitted_on=v["admitted_on"],
        discharged_on=v["discharged_on"],
        days=v["days"],
        diagnosis=parsing.clean(request.POST.get("diagnosis"))[:201],
        total_fen=v["total"],
        basic_insurance_fen=v["basic_insurance"],
        serious_illness_insurance_fen=v["serious_illness_insurance"],
        self_inside_catalogue_fen=v["self_inside_catalogue"],
        self_outside_catalogue_fen=v["self_outside_catalogue"],
    )


def _uploads(request: HttpRequest) -> list[services.Upload]:
    files = request.FILES.getlist("documents")
    if len(files) > MAX_DOCUMENTS:
        raise ValidationFailed("最多上传 %(n)s 份材料" % {"n": MAX_DOCUMENTS}, fields={"documents": "材料过多"})
    uploads = []
    for f in files:
        if f.size and f.size > services.DOCUMENT_MAX_BYTES:
            raise ValidationFailed("每份材料不能超过 5MB", fields={"documents": "文件过大"})
        uploads.append(services.Upload((f.name or "票据")[:60], f.content_type or "", f.read()))
    return uploads


@require_http_methods(["GET", "POST"])
@requires_perm(AidPerm.CLAIM_HANDLE)
def claim_create(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = selectors.enrolment_get_for_actor(actor=request.user, pk=pk)
    error, errors, status = "", {}, 200
    if request.method == "POST":
        try:
            claim = services.claim_submit(
                actor=request.user, enrolment=enrolment, data=_claim_input(request), documents=_uploads(request)
            )
        except DomainError as exc:
            error, errors, status = exc.message, exc.fields, exc.status
        else:
            messages.success(request, "结报已登记，待初审")
            return redirect("mutual_aid:claim_detail", pk=claim.pk)
    return render(
        request,
        "mutual_aid/claim_form.html",
        {"enrolment": enrolment, "costs": _COSTS, "values": request.POST, "error": error, "errors": errors},
        status=status,
    )


@require_GET
@requires_perm(AidPerm.VIEW)
def claim_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ClaimStatus.values:
        status = ""
    period_id = parsing.query_id(request.GET, "period")
    period = selectors.periods_for_actor(actor=request.user).filter(pk=period_id).first() if period_id else None
    rows = selectors.claims_for_actor(actor=request.user, period=period, status=status)
    page = paginate(request, rows)
    return render(
        request,
        "mutual_aid/claims.html",
        {
            "page": page,
            "status": status,
            "statuses": ClaimStatus.choices,
            "period": period,
            "can_review": any(c.status == ClaimStatus.SUBMITTED for c in page.items)
            and selectors.may_act(actor=request.user, perm=AidPerm.CLAIM_HANDLE),
        },
    )


@require_POST
@requires_perm(AidPerm.CLAIM_HANDLE)
def claims_review(request: HttpRequest) -> HttpResponse:
    """批量初审: the ticked claims of the list, adjudicated together (all or nothing)."""
    picked = []
    for raw in request.POST.getlist("claim")[: services.REVIEW_BATCH_MAX + 1]:
        try:
            picked.append(parsing.parse_int(raw, label="结报编号", minimum=1))
        except ValueError:
            messages.error(request, "结报编号有误")
            return redirect("mutual_aid:claim_list")
    claims = list(selectors.claims_for_actor(actor=request.user).filter(pk__in=picked)) if picked else []
    try:
        if not picked:
            raise ValidationFailed("请先勾选要初审的结报")
        if len(claims) != len(set(picked)):
            raise NotFound("所选结报不存在或不在您的管辖范围内")
        done = services.claims_review(actor=request.user, claims=claims)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "已初审 %(n)s 笔结报，核定互助金合计 ¥%(total)s"
            % {"n": len(done), "total": parsing.format_yuan(sum(c.benefit_fen or 0 for c in done))},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "mutual_aid:claim_list")


def _cost_rows(health: dict[str, Any]) -> list[tuple[str, int]]:
    return [(label, int(health.get(key + "_fen", 0))) for key, label in _COSTS] if health else []


def _claim_page(
    request: HttpRequest, claim: Any, *, revealed: bool = False, status: int = 200, error: str = ""
) -> HttpResponse:
    health, steps = services.claim_reveal(actor=request.user, claim=claim) if revealed else ({}, [])
    return render(
        request,
        "mutual_aid/claim_detail.html",
        {
            "claim": claim,
            "health": health,
            "steps": steps,
            "revealed": revealed,
            "cost_rows": _cost_rows(health),
            "options": workflow.workflow_options(actor=request.user, workflow=CLAIM, obj=claim),
            "history": workflow.workflow_history(workflow=CLAIM, obj=claim).select_related("actor"),
            "codes": RejectCode.choices,
            "can_reveal": has_perm_on(request.user, AidPerm.HEALTH_REVEAL, claim.organization),
            "today": timezone.localdate(),
            "error": error,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@requires_perm(AidPerm.VIEW)
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_get_for_actor(actor=request.user, pk=pk)
    try:
        return _claim_page(request, claim, revealed=request.method == "POST")
    except DomainError as exc:
        return _claim_page(request, claim, status=exc.status, error=exc.message)


@require_POST
@requires_perm(AidPerm.CLAIM_HANDLE, AidPerm.CLAIM_APPROVE, AidPerm.CLAIM_PAY)
def claim_act(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_get_for_actor(actor=request.user, pk=pk)
    action = request.POST.get("action", "")
    reason = parsing.clean(request.POST.get("reason"))[:200]
    try:
        if action == "review":
            services.claim_review(actor=request.user, claim=claim)
        elif action == "approve":
            services.claim_approve(actor=request.user, claim=claim)
        elif action == "pay":
            paid_on = _field("paid_on", parsing.parse_date, request.POST.get("paid_on"), label="支付日期")
            services.claim_pay(
                actor=request.user, claim=claim, paid_on=paid_on, payout_ref=request.POST.get("payout_ref", "")
            )
        elif action == "reject":
            services.claim_reject(actor=request.user, claim=claim, code=request.POST.get("code", ""), reason=reason)
        elif action == "appeal":
            services.claim_appeal(actor=request.user, claim=claim, reason=reason)
        else:
            raise ValidationFailed("未知的操作")
    except DomainError as exc:
        return _claim_page(request, claim, status=exc.status, error=exc.message)
    messages.success(request, "已办理")
    return redirect("mutual_aid:claim_detail", pk=claim.pk)


# ---- the fund report ----------------------------------------------------------------------------


@require_GET
@requires_perm(AidPerm.VIEW)
def fund_report(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period(request, pk)
    organization = selectors.report_organization(
        actor=request.user, period=period, pk=parsing.query_id(request.GET, "organization")
    )
    if organization is None:
        raise NotFound("没有可统计的组织")
    report = selectors.fund_report(actor=request.user, period=period, organization=organization)
    if request.GET.get("export") == "xlsx":
        return download(exports.fund_report_xlsx(actor=request.user, report=report))
    shown = [u for u in report.by_unit if not u.hidden][:30]
    chart = {
        "units": [u.label for u in shown],
        "collected_fen": [u.collected_fen for u in shown],
        "paid_fen": [u.paid_fen for u in shown],
    }
    return render(
        request,
        "mutual_aid/report.html",
        {
            "period": period,
            "report": report,
            "chart": chart,
            "orgs": selectors.organizations_for_aid(actor=request.user)[:200],
        },
    )


# ---- the member's H5 pages ------------------------------------------------------------------------


def _me(request: HttpRequest) -> Any:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


@require_GET
def h5_home(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    enrolments = list(selectors.my_enrolments(member=member)[:10])
    rows = [
        {
            "enrolment": e,
            "left_fen": selectors.allowance_left_fen(enrolment=e) if e.status == EnrolmentStatus.ACTIVE else None,
        }
        for e in enrolments
    ]
    return render(
        request,
        "mutual_aid/h5/home.html",
        {"rows": rows, "claims": selectors.my_claims(member=member)[:30], "active": EnrolmentStatus.ACTIVE},
    )


def _my_enrolment(request: HttpRequest, pk: int) -> Enrolment:
    member = _me(request)
    found = selectors.my_enrolments(member=member).filter(pk=pk).first()
    if found is None:
        raise NotFound("参保记录不存在")
    return found


@require_http_methods(["GET", "POST"])
def h5_claim_create(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _my_enrolment(request, pk)
    error, errors, status = "", {}, 200
    if request.method == "POST":
        try:
            claim = services.claim_submit(
                actor=request.user,
                enrolment=enrolment,
                data=_claim_input(request),
                documents=_uploads(request),
                on_behalf=False,
            )
        except DomainError as exc:
            error, errors, status = exc.message, exc.fields, exc.status
        else:
            messages.success(request, "已提交，工会将尽快审核")
            return redirect("mutual_aid:h5_claim", pk=claim.pk)
    return render(
        request,
        "mutual_aid/h5/claim_form.html",
        {"enrolment": enrolment, "costs": _COSTS, "values": request.POST, "error": error, "errors": errors},
        status=status,
    )


def _h5_claim_page(request: HttpRequest, claim: Any, *, error: str = "", status: int = 200) -> HttpResponse:
    options = workflow.workflow_options(actor=request.user, workflow=CLAIM, obj=claim)
    return render(
        request,
        "mutual_aid/h5/claim.html",
        {
            "claim": claim,
            "health": services.claim_health(claim),
            "steps": services.claim_steps(claim),
            "history": workflow.workflow_history(workflow=CLAIM, obj=claim),
            "can_appeal": "member_appeal" in options and options["member_appeal"].allowed,
            "error": error,
            "reason": request.POST.get("reason", "") if request.method == "POST" else "",
        },
        status=status,
    )


@require_GET
def h5_claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _h5_claim_page(request, selectors.my_claim(member=_me(request), pk=pk))


@require_POST
def h5_claim_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    """The member appeals their rejected claim: it goes back to 初审 with the reason."""
    claim = selectors.my_claim(member=_me(request), pk=pk)
    try:
        services.claim_appeal(
            actor=request.user, claim=claim, reason=parsing.clean(request.POST.get("reason"))[:201], by_member=True
        )
    except DomainError as exc:
        return _h5_claim_page(request, claim, error=exc.message, status=exc.status)
    messages.success(request, "申诉已提交，工会将重新审核")
    return redirect("mutual_aid:h5_claim", pk=claim.pk)
