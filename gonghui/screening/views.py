"""Screening console pages: thin views over services (writes) and selectors (scoped reads)."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import export_jobs, parsing
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.pagination import paginate
from gonghui.core.workflow import authorizer
from gonghui.organizations.models import Level
from gonghui.organizations.selectors import has_perm_on, organization_by_code_for_actor, organizations_for_actor
from gonghui.relief.models import Cause
from gonghui.screening import acceptance, exports, selectors, services
from gonghui.screening.evidence import evidence_lines
from gonghui.screening.kinds import KINDS, DatasetKind
from gonghui.screening.models import (
    CandidateStatus,
    Change,
    ConditionType,
    EngineName,
    Since,
    SuggestionKind,
)
from gonghui.screening.permissions import ScreeningPerm
from gonghui.screening.rules import EVIDENCE_CHOICES


def _orgs(request: HttpRequest, perm: str, *, above_grassroots: bool = False) -> Any:
    found = organizations_for_actor(actor=request.user, perm=perm)
    if above_grassroots:
        found = found.exclude(level=Level.GRASSROOTS)
    return found.order_by("path")[:500]


def _org_from_post(request: HttpRequest, perm: str, field: str = "organization") -> Any:
    code = request.POST.get(field, "").strip()
    if not code:
        raise ValidationFailed("请选择组织", fields={field: "请选择组织"})
    return organization_by_code_for_actor(actor=request.user, perm=perm, code=code)


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """A full screening page: its tabs show 比对数据 only to those who manage datasets."""
    tabs = {"can_manage_datasets": authorizer().has_perm_anywhere(request.user, ScreeningPerm.DATASET_MANAGE)}
    return render(request, template, {**tabs, **context}, status=status)


@require_GET
@requires_perm(ScreeningPerm.VIEW)
def home(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "screening/home.html",
        {
            "runs": selectors.runs_for_actor(actor=request.user)[:5],
            "latest": selectors.latest_run_for_actor(actor=request.user),
            "open_count": selectors.open_candidates_count(actor=request.user),
            "rules": selectors.rules_all(),
            "can_upload": authorizer().has_perm_anywhere(request.user, ScreeningPerm.DATASET_MANAGE),
        },
    )


# ---- datasets -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(ScreeningPerm.DATASET_MANAGE)
def datasets(request: HttpRequest) -> HttpResponse:
    error, errors = "", {}
    if request.method == "POST":
        try:
            org = _org_from_post(request, ScreeningPerm.DATASET_MANAGE)
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed("请选择要上传的文件", fields={"file": "请选择文件"})
            dataset = services.dataset_upload(
                actor=request.user,
                organization=org,
                kind=request.POST.get("kind", ""),
                name=request.POST.get("name", ""),
                filename=upload.name or "upload",
                content=upload.read(services.MAX_UPLOAD_BYTES + 1),
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            return redirect("screening:dataset_detail", pk=dataset.pk)
    page = paginate(request, selectors.datasets_for_actor(actor=request.user))
    return _render(
        request,
        "screening/datasets.html",
        {
            "page": page,
            "orgs": _orgs(request, ScreeningPerm.DATASET_MANAGE),
            "kinds": [(k.kind, k.label, [c.header for c in k.columns]) for k in KINDS.values()],
            "error": error,
            "errors": errors,
            "values": request.POST,
        },
        status=422 if error else 200,
    )


@require_GET
@requires_perm(ScreeningPerm.DATASET_MANAGE)
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get_for_actor(actor=request.user, pk=pk)
    context = {
        "dataset": dataset,
        "pending": dataset.job.is_active,
        "problems": dataset.problems[:50],
        "column_kind": KINDS[dataset.kind].column_kind,
    }
    if request.headers.get("HX-Request"):
        return render(request, "screening/_dataset_status.html", context)
    return _render(request, "screening/dataset_detail.html", context)


@require_GET
@requires_perm(ScreeningPerm.DATASET_MANAGE)
def dataset_errors(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get_for_actor(actor=request.user, pk=pk)
    try:
        export = services.dataset_error_report(actor=request.user, dataset=dataset)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("screening:dataset_detail", pk=dataset.pk)
    return download(export)


@require_POST
@requires_perm(ScreeningPerm.DATASET_MANAGE)
def dataset_retire(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get_for_actor(actor=request.user, pk=pk)
    try:
        services.dataset_retire(actor=request.user, dataset=dataset)
        messages.success(request, "已停用，新的筛查不再使用该数据")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("screening:dataset_detail", pk=dataset.pk)


# ---- rules ----------------------------------------------------------------------------------


def _rule_data(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "condition_type": request.POST.get("condition_type", ""),
        "dataset_kinds": request.POST.getlist("dataset_kinds"),
        "threshold": request.POST.get("threshold", ""),
        "since": request.POST.get("since", ""),
        "since_days": request.POST.get("since_days", ""),
        "suggestion_kind": request.POST.get("suggestion_kind", ""),
        "suggestion": request.POST.get("suggestion", ""),
        "evidence": request.POST.getlist("evidence"),
        "is_active": request.POST.get("is_active") == "1",
    }


def _rule_values(rule: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "condition_type": rule.condition_type,
        "dataset_kinds": rule.dataset_kinds,
        "threshold": parsing.format_yuan(rule.threshold_fen) if rule.threshold_fen is not None else "",
        "since": rule.since,
        "since_days": rule.since_days or "",
        "suggestion_kind": rule.suggestion_kind,
        "suggestion": rule.suggestion,
        "evidence": rule.evidence,
        "is_active": rule.is_active,
    }


@require_GET
@requires_perm(ScreeningPerm.VIEW)
def rules(request: HttpRequest) -> HttpResponse:
    services.rules_install_shipped()
    return _render(
        request,
        "screening/rules.html",
        {
            "rules": selectors.rules_all(),
            "can_manage": authorizer().holds_at_root(request.user, ScreeningPerm.RULE_MANAGE),
            "kind_labels": dict(DatasetKind.choices),
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(ScreeningPerm.RULE_MANAGE)
def rule_edit(request: HttpRequest, key: str | None = None) -> HttpResponse:
    if not authorizer().holds_at_root(request.user, ScreeningPerm.RULE_MANAGE):
        raise PermissionDenied("筛查规则全省统一，只有省总工会的管理员可以修改")
    rule = selectors.rule_get(key=key) if key else None
    values: dict[str, Any] = _rule_values(rule) if rule else {"is_active": True, "since": Since.ANY, "evidence": []}
    error, errors, preview = "", {}, None
    if request.method == "POST":
        values = _rule_data(request)
        try:
            if request.POST.get("action") == "preview":
                org = _org_from_post(request, ScreeningPerm.VIEW)
                preview = services.rule_preview(
                    actor=request.user, organization=org, data=values, reference_date=timezone.localdate()
                )
            else:
                saved = services.rule_save(actor=request.user, key=key, data=values)
                messages.success(request, "规则已保存为第 %(v)s 版" % {"v": saved.version})
                return redirect("screening:rules")
        except DomainError as exc:
            error, errors = exc.message, exc.fields
    return _render(
        request,
        "screening/rule_form.html",
        {
            "rule": rule,
            "versions": selectors.rule_versions(key=key) if key else [],
            "values": values,
            "error": error,
            "errors": errors,
            "preview": preview,
            "preview_org": request.POST.get("organization", ""),
            "orgs": _orgs(request, ScreeningPerm.VIEW, above_grassroots=True),
            "kinds": DatasetKind.choices,
            "conditions": ConditionType.choices,
            "sinces": Since.choices,
            "suggestions": SuggestionKind.choices,
            "evidence_choices": list(EVIDENCE_CHOICES.items()),
        },
        status=422 if error else 200,
    )


# ---- runs -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(ScreeningPerm.VIEW)
def runs(request: HttpRequest) -> HttpResponse:
    error, errors = "", {}
    if request.method == "POST":
        try:
            org = _org_from_post(request, ScreeningPerm.RUN)
            raw_date = request.POST.get("reference_date", "").strip()
            reference_date = None
            if raw_date:
                try:
                    reference_date = parsing.parse_date(raw_date, label="筛查基准日", earliest=dt.date(2000, 1, 1))
                except ValueError as exc:
                    raise ValidationFailed(str(exc), fields={"reference_date": str(exc)}) from None
            run = services.run_start(
                actor=request.user,
                organization=org,
                reference_date=reference_date,
                engine=request.POST.get("engine") or None,
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            return redirect("screening:run_detail", pk=run.pk)
    page = paginate(request, selectors.runs_for_actor(actor=request.user))
    return _render(
        request,
        "screening/runs.html",
        {
            "page": page,
            "orgs": _orgs(request, ScreeningPerm.RUN, above_grassroots=True),
            "engines": EngineName.choices,
            "default_engine": settings.SCREENING_ENGINE,
            "today": timezone.localdate(),
            "error": error,
            "errors": errors,
            "values": request.POST,
        },
        status=422 if error else 200,
    )


@require_GET
@requires_perm(ScreeningPerm.VIEW)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.run_visible_to(actor=request.user, pk=pk)
    if run is None:
        raise NotFound("筛查不存在或无权访问")
    context = {
        "run": run,
        "pending": run.job.is_active,
        "gone": selectors.gone_candidates_for_actor(actor=request.user, run=run),
        "kind_labels": dict(DatasetKind.choices),
    }
    if request.headers.get("HX-Request"):
        return render(request, "screening/_run_status.html", context)
    return _render(request, "screening/run_detail.html", context)


# ---- candidates -----------------------------------------------------------------------------


@require_GET
@requires_perm(ScreeningPerm.VIEW)
def candidates(request: HttpRequest) -> HttpResponse:
    filters = selectors.candidate_filters(actor=request.user, params=request.GET)
    page = paginate(request, selectors.candidate_list(actor=request.user, filters=filters))
    for candidate in page.items:
        candidate.lines = evidence_lines(candidate.evidence)  # type: ignore[attr-defined]
    return _render(
        request,
        "screening/candidates.html",
        {
            "page": page,
            "filters": filters,
            "rules": selectors.rules_all(),
            "statuses": [*CandidateStatus.choices, ("all", "全部")],
            "changes": Change.choices,
            "targets": list(services.ACCEPT_TARGETS.items()),
            "can_review": authorizer().has_perm_anywhere(request.user, ScreeningPerm.REVIEW),
        },
    )


@require_GET
@requires_perm(ScreeningPerm.VIEW)
def candidates_export(request: HttpRequest) -> HttpResponse:
    filters = selectors.candidate_filters(actor=request.user, params=request.GET)
    qs = selectors.candidate_list(actor=request.user, filters=filters)
    params = {k: str(v)[:40] for k, v in request.GET.items() if v}
    if filters.run is None:
        messages.info(request, "还没有筛查结果，没有可导出的线索")
        return redirect("screening:candidates")
    if len(qs.values_list("pk", flat=True)[: settings.EXPORT_SYNC_ROWS + 1]) > settings.EXPORT_SYNC_ROWS:
        job = export_jobs.export_start(
            actor=request.user, name=exports.CANDIDATES_EXPORT, params=params, organization=filters.run.organization
        )
        messages.info(request, "数据量较大，已转入后台导出，完成后可在本页或“我的导出”中下载")
        return redirect("core:export_detail", pk=job.pk)
    return download(exports.candidates_export(actor=request.user, qs=qs, filters=params))


@require_GET
@requires_perm(ScreeningPerm.VIEW)
def candidate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = selectors.candidate_get_for_actor(actor=request.user, pk=pk)
    return _render(request, "screening/candidate_detail.html", _candidate_context(request, candidate))


# The relief form's fields an accept passes through (relief validates them).
ACCEPT_FIELDS = (
    "annual_income",
    "rigid_spending",
    "hardship_costs",
    "household_size",
    "main_cause",
    "visit_group",
    "labour_since",
    "contact_name",
    "contact_phone",
    "situation",
    "amount",
    "event_date",
    "description",
    "payee_card",
    "total",
    "medical_insurance",
    "other_insurance",
    "mutual_aid",
)


def _candidate_context(request: HttpRequest, candidate: Any, **extra: Any) -> dict[str, Any]:
    return {
        "prefill": acceptance.prefill(candidate),
        "causes": Cause.choices,
        "candidate": candidate,
        "lines": evidence_lines(candidate.evidence),
        "targets": list(services.ACCEPT_TARGETS.items()),
        "can_review": has_perm_on(request.user, ScreeningPerm.REVIEW, candidate.organization)
        and candidate.status == CandidateStatus.OPEN,
        **extra,
    }


@require_POST
@requires_perm(ScreeningPerm.REVIEW)
def candidate_accept(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = selectors.candidate_get_for_actor(actor=request.user, pk=pk)
    try:
        data: dict[str, Any] = {name: request.POST.get(name, "") for name in ACCEPT_FIELDS}
        data["secondary_causes"] = request.POST.getlist("secondary_causes")
        accepted = services.candidate_accept(
            actor=request.user,
            candidate=candidate,
            target_kind=request.POST.get("target_kind") or candidate.rule.suggestion_kind,
            data=data,
        )
    except DomainError as exc:
        context = _candidate_context(request, candidate, error=exc.message, errors=exc.fields, values=request.POST)
        return _render(request, "screening/candidate_detail.html", context, status=422)
    messages.success(
        request,
        "已纳入：%(target)s %(ref)s" % {"target": accepted.get_target_kind_display(), "ref": accepted.target_ref},
    )
    return redirect("screening:candidate_detail", pk=candidate.pk)


@require_POST
@requires_perm(ScreeningPerm.REVIEW)
def candidate_reject(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = selectors.candidate_get_for_actor(actor=request.user, pk=pk)
    try:
        services.candidate_reject(actor=request.user, candidate=candidate, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        context = _candidate_context(request, candidate, error=exc.message, errors=exc.fields)
        return _render(request, "screening/candidate_detail.html", context, status=422)
    messages.success(request, "已排除；证据不变时，下次筛查不再提示")
    return redirect("screening:candidate_detail", pk=candidate.pk)
