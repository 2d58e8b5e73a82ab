"""Large exports run as background jobs and leave a file to download for a limited time.

A list of a few thousand rows is built inside the request (`core.exports`). A province's whole
registry is not: its export is a job of kind `export.<name>` that streams the rows from a
server-side cursor into a write-only workbook on private storage (`settings.EXPORT_DIR`, never
served by the web server), so memory stays flat for a million rows and more; it heartbeats its
progress every `PROGRESS_EVERY` rows and stops at the next one if it is cancelled. An XLSX sheet
holds at most 1,048,576 rows, so rows continue on a next sheet after `SHEET_ROWS`.

The file is kept until `settings.EXPORT_TTL_HOURS` after the export was asked for; then
`jobs_expire` deletes it. Only the person who asked for it may download it, while they still
hold the export's permission on the job's organisation; the export (with its row count) and
each download are audited.

An app declares an export in its `AppConfig.ready()`::

    export_jobs.register_export(
        "members.list",
        label="会员名册导出",
        perm=MemberPerm.MEMBER_VIEW,
        action="member.export",
        build=members_export_plan,   # build(actor, params) -> ExportPlan, through a selector
    )
"""

import datetime as dt
import itertools
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from gonghui.core import audit, jobs
from gonghui.core.downloads import XLSX
from gonghui.core.errors import Conflict, NotFound, PermissionDenied
from gonghui.core.exports import Sheet, xlsx_write
from gonghui.core.models import Job, JobStatus
from gonghui.core.workflow import authorizer

PROGRESS_EVERY = 5_000
SHEET_ROWS = 1_000_000
KIND_PREFIX = "export."


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What an export writes: rows (an iterator, read once, from the actor's selector) and
    how many there will be, for the progress bar."""

    filename: str
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    total: int
    detail: Mapping[str, Any] = field(default_factory=dict)


Build = Callable[[Any, Mapping[str, Any]], ExportPlan]


@dataclass(frozen=True, slots=True)
class ExportDef:
    name: str
    label: str
    perm: str
    action: str
    build: Build


_exports: dict[str, ExportDef] = {}


def register_export(name: str, *, label: str, perm: str, action: str, build: Build) -> None:
    """Declare an export that may run as a job (its job kind is `export.<name>`)."""
    _exports[name] = ExportDef(name, label, perm, action, build)
    jobs.register_job_kind(
        KIND_PREFIX + name,
        label=label,
        run=_run,
        perm=perm,
        max_attempts=2,
        on_expire=_delete_file,
        personal=True,
    )


def _definition(job: Job) -> ExportDef:
    if not job.kind.startswith(KIND_PREFIX) or job.kind[len(KIND_PREFIX) :] not in _exports:
        raise NotFound("导出任务不存在")
    return _exports[job.kind[len(KIND_PREFIX) :]]


def export_dir() -> Path:
    path = Path(settings.EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_start(*, actor: Any, name: str, params: Mapping[str, Any], organization: Any) -> Job:
    """Queue the export `name` of what `actor` may see with `params` (the list's filters)."""
    definition = _exports.get(name)
    if definition is None:
        raise NotFound("未知的导出")
    if not authorizer().has_perm(actor, definition.perm, organization):
        raise PermissionDenied("您的角色无权导出这些数据")
    expires = timezone.now() + dt.timedelta(hours=settings.EXPORT_TTL_HOURS)
    with transaction.atomic():
        return jobs.job_create(
            kind=KIND_PREFIX + name,
            organization=organization,
            created_by=actor,
            params={"filters": dict(params)},
            expires_at=expires,
        )


def _counted(job: Job, rows: Iterable[Sequence[Any]], start: int) -> Iterator[Sequence[Any]]:
    done = start
    for row in rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY == 0:
            jobs.job_heartbeat(job, done=done)


def _sheets(job: Job, plan: ExportPlan) -> list[Sheet]:
    """One sheet per `SHEET_ROWS` rows of the plan (the last takes whatever remains)."""
    rows = iter(plan.rows)
    count = max(1, -(-plan.total // SHEET_ROWS))
    sheets = []
    for index in range(count):
        part = rows if index == count - 1 else itertools.islice(rows, SHEET_ROWS)
        title = plan.title if count == 1 else "%s（%d）" % (plan.title, index + 1)
        sheets.append(Sheet(title=title, header=plan.header, rows=_counted(job, part, index * SHEET_ROWS)))
    return sheets


def _run(job: Job) -> dict[str, Any]:
    definition = _definition(job)
    actor = job.created_by
    if actor is None or not authorizer().has_perm(actor, definition.perm, job.organization):
        raise jobs.JobFailed("导出人已无权导出这些数据")
    plan = definition.build(actor, job.params.get("filters", {}))
    jobs.job_heartbeat(job, done=0, total=plan.total, message="正在写入文件")
    path = export_dir() / ("%d-%s.xlsx" % (job.pk, secrets.token_hex(16)))
    sheets = _sheets(job, plan)
    try:
        rows = xlsx_write(path, sheets)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    size = path.stat().st_size
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=definition.action,
            obj=job,
            organization=job.organization,
            detail={"export": plan.filename, "rows": rows, "sheets": len(sheets), **plan.detail},
        )
    return {"file": path.name, "filename": plan.filename, "rows": rows, "size": size}


def _stored_file(job: Job) -> Path | None:
    """Where the job's file lies in EXPORT_DIR (a bare name it wrote itself), if it has one."""
    name = str(job.result.get("file", ""))
    if not name or "/" in name or name.startswith("."):
        return None
    return export_dir() / name


def _delete_file(job: Job) -> None:
    path = _stored_file(job)
    if path is not None:
        path.unlink(missing_ok=True)


def export_job_get_for_actor(*, actor: Any, pk: int) -> Job:
    """An export job of the actor's own asking (another person's export is not found)."""
    job = Job.objects.select_related("organization").filter(pk=pk, kind__startswith=KIND_PREFIX).first()
    if job is None or job.created_by_id != getattr(actor, "pk", None):
        raise NotFound("导出任务不存在")
    _definition(job)
    return job


def export_jobs_for_actor(*, actor: Any, limit: int = 20) -> list[Job]:
    """The actor's own most recent exports, each with `kind_label` for the list."""
    found = list(Job.objects.filter(created_by_id=actor.pk, kind__in=export_kinds()).order_by("-id")[:limit])
    for job in found:
        job.kind_label = jobs.job_kind_label(job.kind)  # type: ignore[attr-defined]
    return found


def export_kinds() -> list[str]:
    return [KIND_PREFIX + name for name in _exports]


def export_label(job: Job) -> str:
    return jobs.job_kind_label(job.kind)


def export_download(*, actor: Any, pk: int) -> FileResponse:
    """The finished file, for the person who asked for it while they may still see it."""
    job = export_job_get_for_actor(actor=actor, pk=pk)
    definition = _definition(job)
    if not authorizer().has_perm(actor, definition.perm, job.organization):
        raise PermissionDenied("您的角色无权导出这些数据")
    if job.expired_at is not None or (job.expires_at and job.expires_at <= timezone.now()):
        raise Conflict("导出文件已过期并删除，请重新导出")
    if job.status != JobStatus.SUCCEEDED:
        raise Conflict("导出尚未完成")
    path = _stored_file(job)
    if path is None or not path.is_file():
        raise Conflict("导出文件已不存在，请重新导出")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="export.download",
            obj=job,
            organization=job.organization,
            detail={"export": job.result.get("filename", ""), "rows": job.result.get("rows", 0)},
        )
    response = FileResponse(path.open("rb"), content_type=XLSX)
    response.headers["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=str(job.result.get("filename") or "导出.xlsx")
    )
    response.headers["Cache-Control"] = "no-store"
    return response
