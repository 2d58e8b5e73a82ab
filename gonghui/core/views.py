import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from gonghui.core import export_jobs, jobs, parsing, registry, selectors
from gonghui.core.access import public, requires_perm
from gonghui.core.actions import button
from gonghui.core.errors import ValidationFailed
from gonghui.core.exports import Sheet, download, xlsx_export
from gonghui.core.models import AuditEvent
from gonghui.core.pagination import paginate
from gonghui.core.permissions import Perm

AUDIT_EXPORT_LIMIT = 50_000
QUERY_MAX = 50


@public
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@dataclass(frozen=True, slots=True)
class AuditLine:
    """An audit event as an auditor reads it: labels instead of codes, the object's name."""

    event: AuditEvent
    action_label: str
    object_label: str
    details: list[tuple[str, str]]


def _object_type_label(object_type: str) -> str:
    if not object_type:
        return ""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def audit_lines(events: Sequence[AuditEvent]) -> list[AuditLine]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.object_type and event.object_id:
            wanted[event.object_type].add(event.object_id)
    names = {model: registry.describe_objects(model, pks) for model, pks in wanted.items()}
    lines = []
    for event in events:
        name = names.get(event.object_type, {}).get(event.object_id, "")
        if name:
            label = name
        elif event.object_type:
            label = "%s #%s" % (_object_type_label(event.object_type), event.object_id)
        else:
            label = ""
        details = [(registry.detail_label(key), value) for key, value in event.detail_pairs]
        lines.append(AuditLine(event, registry.audit_label(event.action), label, details))
    return lines


def _filters(request: HttpRequest) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()
    if len(query) > QUERY_MAX:
        raise ValidationFailed("搜索内容不能超过 %d 个字" % QUERY_MAX)
    return {
        "query": query,
        "action": request.GET.get("action", "").strip()[:80],
        "actor_label": request.GET.get("actor", "").strip()[:150],
        "object_id": request.GET.get("object_id", "").strip()[:64],
        "date_from": _date(request.GET.get("date_from"), "起始日期"),
        "date_to": _date(request.GET.get("date_to"), "截止日期"),
    }


@require_GET
@requires_perm(Perm.AUDIT_READ)
def audit_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.audit_events_for_actor(actor=request.user, **_filters(request))
    if request.GET.get("format") == "xlsx":
        return download(_audit_export(request.user, qs))
    page = paginate(request, qs, per_page=50)
    return render(
        request,
        "core/audit_list.html",
        {
            "page": page,
            "lines": audit_lines(list(page.items)),
            "filters": request.GET,
            "actions": sorted(registry.audit_actions().items(), key=lambda item: item[0]),
            "export_limit": AUDIT_EXPORT_LIMIT,
        },
    )


def _export_rows(lines: Iterable[AuditLine]) -> Iterable[list[Any]]:
    for line in lines:
        e = line.event
        yield [
            "%d-%d" % (e.chain, e.seq),
            timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor_label,
            line.action_label,
            e.action,
            line.object_label,
            e.get_result_display(),
            e.ip or "",
            "；".join("%s：%s" % pair for pair in line.details),
        ]


def _audit_export(actor: Any, qs: Any) -> Any:
    events = list(qs[: AUDIT_EXPORT_LIMIT + 1])
    truncated = len(events) > AUDIT_EXPORT_LIMIT
    lines = audit_lines(events[:AUDIT_EXPORT_LIMIT])
    sheet = Sheet(
        title="审计日志",
        header=["链-序号", "时间", "操作人", "操作", "操作代码", "对象", "结果", "IP", "详情"],
        rows=_export_rows(lines),
        width=18,
        footer=(lambda n: ["仅导出最新的 %d 条，请缩小日期范围后分批导出" % n]) if truncated else None,
    )
    return xlsx_export(
        actor=actor,
        action="audit.export",
        filename="审计日志.xlsx",
        sheets=[sheet],
        detail={"truncated": truncated},
    )


def _date(value: str | None, label: str) -> dt.date | None:
    """An optional date filter: empty means none; anything else must parse (core.parsing)."""
    if not value:
        return None
    try:
        return parsing.parse_date(value, label=label)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None


# ---- large exports (background jobs) --------------------------------------------------------


@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    """我的导出: the user's own recent export jobs, with their state and download links."""
    return render(request, "core/export_list.html", {"jobs": export_jobs.export_jobs_for_actor(actor=request.user)})


def _export_context(job: Any) -> dict[str, Any]:
    return {"job": job, "label": export_jobs.export_label(job), "now": timezone.now()}


@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_jobs.export_job_get_for_actor(actor=request.user, pk=pk)
    return render(request, "core/export_detail.html", _export_context(job))


@require_GET
def export_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_jobs.export_job_get_for_actor(actor=request.user, pk=pk)
    return render(request, "core/_export_progress.html", _export_context(job))


@require_GET
def export_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    return export_jobs.export_download(actor=request.user, pk=pk)


@require_POST
def export_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_jobs.export_job_get_for_actor(actor=request.user, pk=pk)
    return button(
        request,
        lambda: jobs.job_cancel(actor=request.user, job=job),
        done="已取消导出",
        then="core:export_detail",
        pk=job.pk,
    )
