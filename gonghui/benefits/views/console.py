"""Console pages of the benefits domain: campaigns, 定向发放 runs, reports, settlement,
redemption points with their devices, and redemptions with 冲正."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.benefits import devices, exports, selectors, services
from gonghui.benefits.filters import RedemptionState, parse_redemption_filters
from gonghui.benefits.forms import (
    MAX_ITEMS,
    campaign_form_values,
    campaign_input_from_post,
    fen_to_yuan,
    point_input_from_post,
    submit,
)
from gonghui.benefits.models import (
    CampaignKind,
    CampaignStatus,
    CouponStatus,
    IssueMode,
    PointKind,
    SkipReason,
)
from gonghui.benefits.permissions import BenefitPerm
from gonghui.benefits.redemption import redemption_reverse
from gonghui.benefits.workflows import CAMPAIGN
from gonghui.core import parsing, workflow
from gonghui.core.access import requires_perm
from gonghui.core.actions import button
from gonghui.core.errors import DomainError, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.models import JobStatus
from gonghui.core.pagination import paginate
from gonghui.core.permissions import Perm
from gonghui.members.models import Tag
from gonghui.organizations.selectors import has_perm_on, organizations_for_actor

CAMPAIGN_PERMS = selectors.CAMPAIGN_PERMS
POINT_PERMS = (BenefitPerm.CAMPAIGN_MANAGE, Perm.DEVICE_MANAGE, BenefitPerm.CAMPAIGN_REPORT)


def _date(params: Any, name: str, default: dt.date) -> dt.date:
    return parsing.query_date(params, name, default) or default


# ---- campaigns ---------------------------------------------------------------------------


@require_GET
@requires_perm(*CAMPAIGN_PERMS)
def campaign_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.campaign_list_for_actor(
        actor=request.user,
        status=request.GET.get("status", ""),
        kind=request.GET.get("kind", ""),
        query=request.GET.get("q", ""),
    )
    return render(
        request,
        "benefits/campaign_list.html",
        {
            "page": paginate(request, qs),
            "filters": request.GET,
            "statuses": CampaignStatus.choices,
            "kinds": CampaignKind.choices,
            "can_create": organizations_for_actor(actor=request.user, perm=BenefitPerm.CAMPAIGN_MANAGE).exists(),
        },
    )


def _campaign_form_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    values = extra.get("values") or {}
    items = extra.pop("items", None)
    if items is None:
        names = request.POST.getlist("item_name") if request.method == "POST" else []
        prices = request.POST.getlist("item_value_yuan") if request.method == "POST" else []
        quantities = request.POST.getlist("item_quantity") if request.method == "POST" else []
        items = [
            {
                "name": names[i] if i < len(names) else "",
                "value": prices[i] if i < len(prices) else "",
                "quantity": quantities[i] if i < len(quantities) else "1",
            }
            for i in range(len(names))
        ]
    items = items + [{"name": "", "value": "", "quantity": "1"}] * (MAX_ITEMS - len(items))
    errors = extra.get("errors") or {}
    # Each row's own error beside it; "items" alone is about the list as a whole.
    items = [{**item, "error": errors.get("items.%(row)d" % {"row": row}, "")} for row, item in enumerate(items)]
    if request.method == "POST":
        selected_tags = parsing.query_ids(request.POST, "target_tags")
        selected_points = parsing.query_ids(request.POST, "points")
    else:
        selected_tags = extra.pop("selected_tags", [])
        selected_points = extra.pop("selected_points", [])
    return {
        "orgs": organizations_for_actor(actor=request.user, perm=BenefitPerm.CAMPAIGN_MANAGE).order_by("path")[:500],
        "points": selectors.point_list_for_actor(actor=request.user, perms=(BenefitPerm.CAMPAIGN_MANAGE,)).filter(
            is_active=True
        )[:300],
        "kinds": CampaignKind.choices,
        "modes": IssueMode.choices,
        "all_tags": Tag.choices,
        "items": items[:MAX_ITEMS],
        "items_error": errors.get("items", ""),
        "selected_tags": selected_tags,
        "selected_points": selected_points,
        "values": values,
        **extra,
    }


@require_http_methods(["GET", "POST"])
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def campaign_create(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        sent = submit(
            request.POST,
            campaign_input_from_post,
            lambda data: services.campaign_create(actor=request.user, data=data),
            check=lambda data: services.campaign_check(actor=request.user, data=data),
        )
        if sent.result is not None:
            messages.success(request, "活动已创建为草稿，请由另一位审核人发布")
            return redirect("benefits:campaign_detail", pk=sent.result.pk)
        errors, error = sent.errors, sent.error
    now = timezone.localtime()
    # Windows open at 08:00 today, or at once when the campaign is drafted before 08:00.
    opens = now.strftime("%Y-%m-%dT08:00" if now.hour >= 8 else "%Y-%m-%dT%H:%M")
    defaults = {
        "per_member_limit": 1,
        "reversal_window_minutes": 24 * 60,
        "claim_starts_at": opens,
        "claim_ends_at": (now + dt.timedelta(days=30)).strftime("%Y-%m-%dT20:00"),
        "valid_from": opens,
        "valid_until": (now + dt.timedelta(days=60)).strftime("%Y-%m-%dT20:00"),
    }
    return render(
        request,
        "benefits/campaign_form.html",
        _campaign_form_context(
            request, campaign=None, errors=errors, error=error, values=request.POST if request.POST else defaults
        ),
        status=422 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_MANAGE,))
    errors: dict[str, str] = {}
    error = None
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, "只有草稿状态的活动可以修改")
        return redirect("benefits:campaign_detail", pk=campaign.pk)
    if request.method == "POST":
        sent = submit(
            request.POST,
            campaign_input_from_post,
            lambda data: services.campaign_update(actor=request.user, campaign=campaign, data=data),
            check=lambda data: services.campaign_check(actor=request.user, data=data),
        )
        if sent.ok:
            messages.success(request, "已保存")
            return redirect("benefits:campaign_detail", pk=campaign.pk)
        errors, error = sent.errors, sent.error
        context = _campaign_form_context(request, campaign=campaign, errors=errors, error=error, values=request.POST)
    else:
        context = _campaign_form_context(
            request,
            campaign=campaign,
            errors=errors,
            error=error,
            values=campaign_form_values(campaign),
            items=[
                {"name": i.name, "value": fen_to_yuan(i.face_value_fen), "quantity": str(i.quantity)}
                for i in campaign.items.all()
            ],
            selected_tags=[t.value for t in Tag if campaign.target_tags & t.value],
            selected_points=list(campaign.allowed_points.values_list("pk", flat=True)),
        )
    return render(request, "benefits/campaign_form.html", context, status=422 if error else 200)


@require_GET
@requires_perm(*CAMPAIGN_PERMS)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(actor=request.user, pk=pk)
    user = request.user
    org = campaign.organization
    can_manage = has_perm_on(user, BenefitPerm.CAMPAIGN_MANAGE, org)
    can_publish_role = has_perm_on(user, BenefitPerm.CAMPAIGN_PUBLISH, org)
    publish = workflow.workflow_options(actor=user, workflow=CAMPAIGN, obj=campaign).get("publish")
    runs = list(campaign.issue_runs.select_related("started_by", "job")[:10])
    return render(
        request,
        "benefits/campaign_detail.html",
        {
            "campaign": campaign,
            "items": list(campaign.items.all()),
            "points": selectors.redemption_points_of(campaign),
            "tags": [t.label for t in Tag if campaign.target_tags & t.value],
            "counts": selectors.campaign_counts(campaign),
            "runs": runs,
            "active_run": next((r for r in runs if r.is_active), None),
            "is_draft": campaign.status == CampaignStatus.DRAFT,
            "is_published": campaign.status == CampaignStatus.PUBLISHED,
            "is_targeted": campaign.mode == IssueMode.TARGETED,
            "can_manage": can_manage,
            "publish": publish,
            "history": workflow.workflow_history(workflow=CAMPAIGN, obj=campaign),
            "can_close": can_manage or can_publish_role,
            "can_report": has_perm_on(user, BenefitPerm.CAMPAIGN_REPORT, org),
            "target_list_count": campaign.target_entries.count() if campaign.uses_target_list else None,
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def campaign_targets(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_MANAGE,))
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "clear":
                services.campaign_target_list_clear(actor=request.user, campaign=campaign)
                messages.success(request, "已取消名单限定")
                return redirect("benefits:campaign_detail", pk=campaign.pk)
            rows = _uploaded_rows(request)
            report = services.campaign_target_list_upload(actor=request.user, campaign=campaign, rows=rows)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                "名单已导入：共 %(rows)d 行，匹配 %(matched)d 人，未匹配 %(unmatched)d 行"
                % {"rows": report["rows"], "matched": report["matched"], "unmatched": report["unmatched_count"]},
            )
            return redirect("benefits:campaign_targets", pk=campaign.pk)
    return render(
        request,
        "benefits/campaign_targets.html",
        {"campaign": campaign, "report": campaign.target_list_report, "error": error},
        status=422 if error else 200,
    )


def _uploaded_rows(request: HttpRequest) -> list[str]:
    upload = request.FILES.get("file")
    if upload is None:
        return (request.POST.get("text") or "").splitlines()
    return services.target_list_read(file_name=upload.name or "", stream=upload)


@require_POST
@requires_perm(BenefitPerm.CAMPAIGN_PUBLISH)
def campaign_publish(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_PUBLISH,))
    try:
        services.campaign_publish(actor=request.user, campaign=campaign)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "活动已发布")
    return redirect("benefits:campaign_detail", pk=campaign.pk)


@require_POST
@requires_perm(BenefitPerm.CAMPAIGN_PUBLISH, BenefitPerm.CAMPAIGN_MANAGE)
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(
        actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_PUBLISH, BenefitPerm.CAMPAIGN_MANAGE)
    )
    try:
        services.campaign_close(actor=request.user, campaign=campaign, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "活动已结束")
    return redirect("benefits:campaign_detail", pk=campaign.pk)


@require_POST
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def campaign_issue(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_MANAGE,))
    try:
        run = services.issue_run_start(actor=request.user, campaign=campaign)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("benefits:campaign_detail", pk=campaign.pk)
    return redirect("benefits:run_detail", pk=run.pk)


@require_GET
@requires_perm(*CAMPAIGN_PERMS)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.issue_run_get_for_actor(actor=request.user, pk=pk)
    can_manage = has_perm_on(request.user, BenefitPerm.CAMPAIGN_MANAGE, run.campaign.organization)
    skips = run.skips.select_related("member__organization").order_by("id")
    reason = request.GET.get("reason", "")
    if reason:
        skips = skips.filter(reason=reason)
    return render(
        request,
        "benefits/run_detail.html",
        {
            "run": run,
            "campaign": run.campaign,
            "page": paginate(request, skips, per_page=50),
            "reason": reason,
            "reasons": SkipReason.choices,
            "list_report": run.campaign.target_list_report,
            "can_resume": can_manage and run.job.status in (JobStatus.FAILED, JobStatus.CANCELLED),
            "can_cancel": can_manage and run.job.is_active,
        },
    )


@require_GET
@requires_perm(*CAMPAIGN_PERMS)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.issue_run_get_for_actor(actor=request.user, pk=pk)
    response = render(request, "benefits/_run_progress.html", {"run": run})
    if not run.is_active and request.headers.get("HX-Request"):
        # The run finished while the page was polling: reload it to show the skip report.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def run_resume(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.issue_run_get_for_actor(actor=request.user, pk=pk)
    return button(
        request,
        lambda: services.issue_run_resume(actor=request.user, run=run),
        done="已重新排队，发放将从中断处继续",
        then="benefits:run_detail",
        pk=run.pk,
    )


@require_POST
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.issue_run_get_for_actor(actor=request.user, pk=pk)
    return button(
        request,
        lambda: services.issue_run_cancel(actor=request.user, run=run),
        done="已取消发放，已发放的券照常有效；可从中断处继续发放",
        then="benefits:run_detail",
        pk=run.pk,
    )


@require_GET
@requires_perm(BenefitPerm.CAMPAIGN_REPORT, BenefitPerm.CAMPAIGN_MANAGE)
def campaign_coupons(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(
        actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_REPORT, BenefitPerm.CAMPAIGN_MANAGE)
    )
    status = request.GET.get("status", "")
    qs = selectors.coupons_of_campaign(campaign=campaign, status=status if status in CouponStatus.values else "")
    return render(
        request,
        "benefits/campaign_coupons.html",
        {
            "campaign": campaign,
            "page": paginate(request, qs, per_page=50),
            "status": status,
            "statuses": CouponStatus.choices,
        },
    )


@require_GET
@requires_perm(BenefitPerm.CAMPAIGN_REPORT)
def campaign_report(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_REPORT,))
    report = selectors.campaign_report(campaign=campaign)
    return render(
        request,
        "benefits/campaign_report.html",
        {"campaign": campaign, "report": report, "chart": report.chart_data()},
    )


@require_GET
@requires_perm(BenefitPerm.CAMPAIGN_REPORT)
def campaign_report_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_actor(actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_REPORT,))
    report = selectors.campaign_report(campaign=campaign)
    return download(exports.campaign_report_xlsx(actor=request.user, campaign=campaign, report=report))


@require_GET
@requires_perm(BenefitPerm.CAMPAIGN_REPORT)
def settlement(request: HttpRequest) -> HttpResponse:
    points = selectors.point_list_for_actor(actor=request.user, perms=(BenefitPerm.CAMPAIGN_REPORT,))
    today = timezone.localdate()
    date_from = _date(request.GET, "from", today.replace(day=1))
    date_to = _date(request.GET, "to", today)
    statement = None
    error = None
    point_id = parsing.query_id(request.GET, "point")
    if point_id is not None:
        point = selectors.point_get_for_actor(actor=request.user, pk=point_id, perms=(BenefitPerm.CAMPAIGN_REPORT,))
        if date_to < date_from:
            error = "结束日期不能早于开始日期"
        elif (date_to - date_from).days > 366:
            error = "对账区间不能超过一年"
        else:
            statement = selectors.settlement(point=point, date_from=date_from, date_to=date_to)
            if request.GET.get("format") == "xlsx":
                return download(exports.settlement_xlsx(actor=request.user, statement=statement))
    return render(
        request,
        "benefits/settlement.html",
        {
            "points": points[:500],
            "point_id": point_id,
            "date_from": date_from,
            "date_to": date_to,
            "statement": statement,
            "details": statement.details[:200] if statement else [],
            "error": error,
        },
        status=422 if error else 200,
    )


# ---- redemption points and devices -------------------------------------------------------------


@require_GET
@requires_perm(*POINT_PERMS)
def point_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.point_list_for_actor(actor=request.user, perms=POINT_PERMS)
    kind = request.GET.get("kind", "")
    if kind in PointKind.values:
        qs = qs.filter(kind=kind)
    return render(
        request,
        "benefits/point_list.html",
        {
            "page": paginate(request, qs),
            "kind": kind,
            "kinds": PointKind.choices,
            "can_create": organizations_for_actor(actor=request.user, perm=BenefitPerm.CAMPAIGN_MANAGE).exists(),
            "now": timezone.now(),
        },
    )


def _point_form(
    request: HttpRequest, point: Any, values: Any, errors: dict[str, str], error: str | None
) -> HttpResponse:
    return render(
        request,
        "benefits/point_form.html",
        {
            "point": point,
            "values": values,
            "errors": errors,
            "error": error,
            "kinds": PointKind.choices,
            "orgs": organizations_for_actor(actor=request.user, perm=BenefitPerm.CAMPAIGN_MANAGE).order_by("path")[
                :500
            ],
        },
        status=422 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def point_create(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        sent = submit(
            request.POST, point_input_from_post, lambda data: services.point_create(actor=request.user, data=data)
        )
        if sent.result is not None:
            messages.success(request, "核销点已登记")
            return redirect("benefits:point_detail", pk=sent.result.pk)
        errors, error = sent.errors, sent.error
    return _point_form(request, None, request.POST if request.POST else {"is_active": "on"}, errors, error)


@require_http_methods(["GET", "POST"])
@requires_perm(BenefitPerm.CAMPAIGN_MANAGE)
def point_edit(request: HttpRequest, pk: int) -> HttpResponse:
    point = selectors.point_get_for_actor(actor=request.user, pk=pk, perms=(BenefitPerm.CAMPAIGN_MANAGE,))
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        sent = submit(
            request.POST,
            point_input_from_post,
            lambda data: services.point_update(actor=request.user, point=point, data=data),
        )
        if sent.ok:
            messages.success(request, "已保存")
            return redirect("benefits:point_detail", pk=point.pk)
        errors, error = sent.errors, sent.error
        values: Any = request.POST
    else:
        values = {
            "name": point.name,
            "kind": point.kind,
            "address": point.address,
            "organization": str(point.organization_id),
            "latitude": point.latitude if point.latitude is not None else "",
            "longitude": point.longitude if point.longitude is not None else "",
            "contact_phone": point.contact_phone,
            "is_active": "on" if point.is_active else "",
        }
    return _point_form(request, point, values, errors, error)


@require_GET
@requires_perm(*POINT_PERMS)
def point_detail(request: HttpRequest, pk: int) -> HttpResponse:
    point = selectors.point_get_for_actor(actor=request.user, pk=pk, perms=POINT_PERMS)
    return _point_detail(request, point)


def _point_detail(request: HttpRequest, point: Any, *, secret: str | None = None, device: Any = None) -> HttpResponse:
    now = timezone.now()
    bindings = list(point.device_bindings.select_related("device").order_by("-bound_at"))
    return render(
        request,
        "benefits/point_detail.html",
        {
            "point": point,
            "bindings": bindings,
            "campaigns": point.campaigns.exclude(status=CampaignStatus.DRAFT).order_by("-id")[:20],
            "recent": selectors.recent_redemptions_at(point=point, limit=20),
            "can_edit": has_perm_on(request.user, BenefitPerm.CAMPAIGN_MANAGE, point.organization),
            "can_devices": has_perm_on(request.user, Perm.DEVICE_MANAGE, point.organization),
            "device_kinds": list(devices.DEVICE_KINDS.items()),
            "is_locked": bool(point.locked_until and point.locked_until > now)
            or any(b.device.locked_until and b.device.locked_until > now for b in bindings),
            "now": now,
            "new_secret": secret,
            "new_device": device,
        },
    )


@require_POST
@requires_perm(Perm.DEVICE_MANAGE)
def point_device_register(request: HttpRequest, pk: int) -> HttpResponse:
    point = selectors.point_get_for_actor(actor=request.user, pk=pk, perms=(Perm.DEVICE_MANAGE,))
    try:
        device, secret = services.point_device_register(
            actor=request.user,
            point=point,
            name=request.POST.get("device_name", ""),
            kind=request.POST.get("device_kind", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("benefits:point_detail", pk=point.pk)
    # The secret is shown on this response only; it is stored encrypted and never shown again.
    response = _point_detail(request, point, secret=secret, device=device)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@requires_perm(Perm.DEVICE_MANAGE)
def point_device_deactivate(request: HttpRequest, pk: int, device_id: int) -> HttpResponse:
    point = selectors.point_get_for_actor(actor=request.user, pk=pk, perms=(Perm.DEVICE_MANAGE,))
    try:
        services.point_device_deactivate(actor=request.user, point=point, device_id=device_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "设备已停用")
    return redirect("benefits:point_detail", pk=point.pk)


@require_POST
@requires_perm(Perm.DEVICE_MANAGE)
def point_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    point = selectors.point_get_for_actor(actor=request.user, pk=pk, perms=(Perm.DEVICE_MANAGE,))
    services.point_unlock(actor=request.user, point=point)
    messages.success(request, "已解除锁定")
    return redirect("benefits:point_detail", pk=point.pk)


# ---- redemptions and 冲正 -----------------------------------------------------------------------


REDEMPTION_PERMS = (BenefitPerm.COUPON_REVERSE, BenefitPerm.CAMPAIGN_REPORT)


def _redemption_filter_choices(request: HttpRequest) -> dict[str, Any]:
    return {
        "campaigns": selectors.campaign_list_for_actor(actor=request.user, perms=REDEMPTION_PERMS)[:200],
        "points": selectors.point_list_for_actor(actor=request.user, perms=REDEMPTION_PERMS)[:200],
        "states": RedemptionState.CHOICES,
        "filters": request.GET,
    }


@require_GET
@requires_perm(*REDEMPTION_PERMS)
def redemption_list(request: HttpRequest) -> HttpResponse:
    try:
        filters = parse_redemption_filters(request.GET, today=timezone.localdate())
    except ValidationFailed as exc:
        context = {**_redemption_filter_choices(request), "error": exc.message, "errors": exc.fields, "rows": []}
        return render(request, "benefits/redemption_list.html", context, status=exc.status)
    qs = selectors.redemption_search_for_actor(actor=request.user, filters=filters)
    page = paginate(request, qs, per_page=30)
    now = timezone.now()
    rows = [
        {
            "r": r,
            "can_reverse": r.reversed_at is None
            and now - r.redeemed_at <= dt.timedelta(minutes=r.campaign.reversal_window_minutes)
            and (
                has_perm_on(request.user, BenefitPerm.COUPON_REVERSE, r.campaign.organization)
                or has_perm_on(request.user, BenefitPerm.COUPON_REVERSE, r.point.organization)
            ),
        }
        for r in page.items
    ]
    return render(
        request,
        "benefits/redemption_list.html",
        {**_redemption_filter_choices(request), "page": page, "rows": rows, "export_query": request.GET.urlencode()},
    )


@require_GET
@requires_perm(*REDEMPTION_PERMS)
def redemption_export(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        filters = parse_redemption_filters(request.GET, today=today)
        qs = selectors.redemption_search_for_actor(actor=request.user, filters=filters)
        return download(exports.redemptions_export(actor=request.user, qs=qs, filters=filters, today=today))
    except ValidationFailed as exc:
        context = {**_redemption_filter_choices(request), "error": exc.message, "errors": exc.fields, "rows": []}
        return render(request, "benefits/redemption_list.html", context, status=exc.status)


@require_POST
@requires_perm(BenefitPerm.COUPON_REVERSE)
def redemption_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    redemption = selectors.redemption_get_for_actor(actor=request.user, pk=pk)
    try:
        redemption_reverse(actor=request.user, redemption=redemption, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已冲正，该券恢复为未使用")
    return redirect("benefits:redemption_list")
