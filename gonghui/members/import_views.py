"""Console pages of the bulk member import: upload and dry run, the report, commit with a live
progress bar, resume, cancel, template and error-report downloads."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from gonghui.core.access import requires_perm
from gonghui.core.actions import button
from gonghui.core.downloads import xlsx_response
from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.pagination import paginate
from gonghui.members import imports
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.permissions import MemberPerm
from gonghui.organizations.selectors import PickerOption, organization_by_code_for_actor, organization_picker_for_actor


def _only_target(request: HttpRequest) -> PickerOption | None:
    """The one union the actor may import into, chosen in advance; None when there are more."""
    options = organization_picker_for_actor(actor=request.user, purpose="member_import", query="", limit=2)
    return options[0] if len(options) == 1 else None


def _list_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    return {
        "page": paginate(request, imports.import_batch_list_for_actor(actor=request.user)),
        "only_target": _only_target(request),
        "max_mb": imports.WEB_MAX_BYTES // (1024 * 1024),
        "max_rows": imports.WEB_MAX_ROWS,
        "columns": imports.COLUMNS,
        **extra,
    }


@require_GET
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_list(request: HttpRequest) -> HttpResponse:
    return render(request, "members/import_list.html", _list_context(request))


@require_GET
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(imports.import_template(), "会员导入模板.xlsx")


@require_POST
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_upload(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("organization", "").strip()
    upload = request.FILES.get("file")
    try:
        if not code:
            raise ValidationFailed("请选择工会", fields={"organization": "请选择工会"})
        try:
            organization = organization_by_code_for_actor(actor=request.user, perm=MemberPerm.MEMBER_IMPORT, code=code)
        except NotFound:
            raise ValidationFailed(
                "工会代码不存在或您无权向该工会导入", fields={"organization": "工会代码不存在或无权导入"}
            ) from None
        if upload is None:
            raise ValidationFailed("请选择要导入的文件", fields={"file": "请选择 CSV 或 Excel 文件"})
        if upload.size and upload.size > imports.WEB_MAX_BYTES:
            raise ValidationFailed(
                "文件超过 %(mb)s MB，请拆分后上传" % {"mb": imports.WEB_MAX_BYTES // (1024 * 1024)},
                fields={"file": "文件过大"},
            )
        batch = imports.import_batch_upload(
            actor=request.user, organization=organization, file_name=upload.name or "", content=upload.read()
        )
    except DomainError as exc:
        context = _list_context(request, error=exc.message, errors=exc.fields, values=request.POST)
        return render(request, "members/import_list.html", context, status=exc.status)
    return redirect("members:import_detail", pk=batch.pk)


@require_GET
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = imports.import_batch_get_for_actor(actor=request.user, pk=pk)
    return render(
        request,
        "members/import_detail.html",
        {
            "batch": batch,
            "progress": imports.import_progress(batch),
            "issues": paginate(request, batch.issues.all()),
            "can_commit": batch.status in (ImportStatus.VALIDATED, ImportStatus.FAILED)
            and bool(batch.stored_file)
            and batch.rows_valid > 0,
            "can_cancel": batch.status in (ImportStatus.VALIDATED, ImportStatus.FAILED),
        },
    )


@require_GET
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    batch = imports.import_batch_get_for_actor(actor=request.user, pk=pk)
    progress = imports.import_progress(batch)
    response = render(request, "members/_import_progress.html", {"batch": batch, "progress": progress})
    if progress.finished and request.headers.get("HX-Request"):
        # The page under the bar (problems, buttons) belongs to the state before: reload it.
        response.headers["HX-Refresh"] = "true"
    return response


def _act_on_batch(request: HttpRequest, pk: int, act: Callable[[ImportBatch], object], done: str) -> HttpResponse:
    """A button on the batch page: run the service, say how it went, back to the batch. Refusals
    (the batch is in the wrong state, the file is gone) become a message; a permission refusal
    stays a 403."""
    batch = imports.import_batch_get_for_actor(actor=request.user, pk=pk)
    return button(request, lambda: act(batch), done=done, then="members:import_detail", pk=batch.pk)


@require_POST
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    keep_good_rows = request.POST.get("keep_good_rows") == "1"
    return _act_on_batch(
        request,
        pk,
        lambda batch: imports.import_batch_commit(actor=request.user, batch=batch, keep_good_rows=keep_good_rows),
        "已提交后台导入，进度会在下方实时显示",
    )


@require_POST
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on_batch(
        request,
        pk,
        lambda batch: imports.import_batch_resume(actor=request.user, batch=batch),
        "已重新提交导入；中断的那次没有写入任何数据",
    )


@require_POST
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on_batch(
        request,
        pk,
        lambda batch: imports.import_batch_cancel(actor=request.user, batch=batch),
        "已取消该批次，上传的文件已删除",
    )


@require_GET
@requires_perm(MemberPerm.MEMBER_IMPORT)
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = imports.import_batch_get_for_actor(actor=request.user, pk=pk)
    return download(imports.import_error_report(actor=request.user, batch=batch))
