"""Health pages: the staff console (programmes, imports, catalogue, critical values, reports,
statistics, 健康小屋 devices) and the member's H5 pages (consent, reports, booking)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import parsing
from gonghui.core.access import requires_perm
from gonghui.core.actions import button
from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.core.exports import csv_export, download
from gonghui.core.filenames import attachment_header
from gonghui.core.models import JobStatus
from gonghui.core.pagination import paginate
from gonghui.core.permissions import Perm
from gonghui.health import export_names, import_templates, mappings, selectors, services
from gonghui.health.catalogue import current_catalogue
from gonghui.health.models import (
    CatalogueRelease,
    Category,
    CheckupKind,
    Flag,
    ImportFormat,
    ImportMapping,
    Indicator,
    ProgrammeStatus,
    ReferenceInterval,
)
from gonghui.health.pdf import render_report_pdf
from gonghui.health.permissions import HealthPerm
from gonghui.health.report import build_report, fmt, range_text
from gonghui.members.models import ConsentPurpose, Member, Sex, Tag
from gonghui.members.selectors import member_of_user, member_search_q
from gonghui.members.services import has_consent
from gonghui.organizations.selectors import (
    has_perm_on,
    organization_by_code_for_actor,
    organizations_for_actor,
)

# ---- helpers --------------------------------------------------------------------------------


def _orgs(request: HttpRequest, perm: str) -> Any:
    return organizations_for_actor(actor=request.user, perm=perm).order_by("path")[:500]


def _org_from_post(request: HttpRequest, perm: str, field: str = "organization") -> Any:
    code = request.POST.get(field, "").strip() or request.GET.get(field, "").strip()
    if not code:
        raise ValidationFailed("请选择组织", fields={field: "请选择组织"})
    return organization_by_code_for_actor(actor=request.user, perm=perm, code=code)


def _field(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a core/parsing.py parser on one form field; its message becomes the field's error."""
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={name: str(exc)}) from None


def _times(raw: str) -> list[tuple[dt.time, dt.time]]:
    out = []
    for chunk in raw.replace("，", ",").split(","):
        part = chunk.strip()
        if not part:
            continue
        try:
            start, end = (dt.time.fromisoformat(t.strip()) for t in part.replace("～", "-").split("-"))
        except ValueError:
            raise ValidationFailed(
                "时段格式无效", fields={"times": "请按 08:00-10:00 填写，多个时段用逗号分隔"}
            ) from None
        out.append((start, end))
    return out


def _me(request: HttpRequest) -> Member:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


def _pdf_response(view: Any) -> HttpResponse:
    response = HttpResponse(render_report_pdf(view), content_type="application/pdf")
    response["Content-Disposition"] = attachment_header(export_names.report_pdf_name(view))
    response["Cache-Control"] = "no-store"
    return response


# ---- console: overview, catalogue, critical values -------------------------------------------


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    critical = selectors.checkups_for_actor(actor=request.user).filter(critical_count__gt=0).order_by("-exam_date")[:10]
    return render(
        request,
        "health/dashboard.html",
        {
            "counts": selectors.dashboard_counts(actor=request.user),
            "critical": critical,
            "imports": selectors.imports_for_actor(actor=request.user)[:5],
            "can_manage": bool(_orgs(request, HealthPerm.HEALTH_MANAGE)),
        },
    )


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def catalogue(request: HttpRequest) -> HttpResponse:
    cat = current_catalogue()
    intervals: dict[int, list[ReferenceInterval]] = {}
    for iv in ReferenceInterval.objects.filter(retired=False).order_by("sex", "age_min"):
        intervals.setdefault(iv.indicator_id, []).append(iv)
    groups: dict[str, list[dict[str, Any]]] = {}
    for ind in Indicator.objects.order_by("sort_order"):
        spec = cat.by_id[ind.pk]
        groups.setdefault(Category(ind.category).label, []).append(
            {
                "indicator": ind,
                "units": ", ".join(v for v in spec.unit_labels.values() if v) or "无单位",
                "codes": sorted(set(ind.codes) - {ind.code}),
                "intervals": [
                    {
                        "sex": iv.get_sex_display() if iv.sex else "不分",
                        "age": "%s～%s" % (iv.age_min, iv.age_max - 1 if iv.age_max else ""),
                        "range": _range(iv),
                        "source": iv.source,
                    }
                    for iv in intervals.get(ind.pk, [])
                ],
                "critical": _range_pair(ind.critical_low, ind.critical_high),
            }
        )
    release = CatalogueRelease.objects.get(pk=cat.release_id)
    return render(
        request, "health/catalogue.html", {"groups": groups.items(), "catalogue": cat, "review": release.review_note}
    )


def _range(iv: ReferenceInterval) -> str:
    return range_text(iv.low, iv.high, iv.lower_rule, iv.upper_rule)


def _range_pair(low: Decimal | None, high: Decimal | None) -> str:
    parts = []
    if low is not None:
        parts.append("<%s" % fmt(low))
    if high is not None:
        parts.append(">%s" % fmt(high))
    return " 或 ".join(parts) or "—"


@require_http_methods(["GET", "POST"])
@requires_perm(HealthPerm.HEALTH_MANAGE)
def critical(request: HttpRequest) -> HttpResponse:
    orgs = _orgs(request, HealthPerm.HEALTH_MANAGE)
    code = request.POST.get("organization") or request.GET.get("organization") or (orgs[0].code if orgs else "")
    org = organization_by_code_for_actor(actor=request.user, perm=HealthPerm.HEALTH_MANAGE, code=code)
    errors: dict[str, str] = {}
    own = selectors.critical_limits_own(org)
    inherited = selectors.critical_limits_inherited(org)
    start = services.critical_limits_effective(org)
    if request.method == "POST":
        changes = []
        for ind in Indicator.objects.order_by("sort_order"):
            low, high = request.POST.get("low_%s" % ind.code), request.POST.get("high_%s" % ind.code)
            if low is None or high is None:
                continue
            current = start.get(ind.code, (None, None))
            if (low.strip(), high.strip()) != (fmt(current[0]), fmt(current[1])):
                changes.append((ind, low, high))
        try:
            version = services.critical_limits_save(actor=request.user, organization=org, changes=changes)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(
                request,
                "已保存 %(n)s 项危急值设置（版本 %(v)s）"
                % {"n": len(changes), "v": version.version if version else "未变"},
            )
            return redirect("%s?organization=%s" % (reverse("health:critical"), org.code))
    inherited_limits = services.limits_by_code(inherited.body) if inherited else {}
    rows = []
    for ind in Indicator.objects.order_by("sort_order"):
        mine = start.get(ind.code, (None, None))
        parent = inherited_limits.get(ind.code)
        rows.append(
            {
                "indicator": ind,
                "default": _range_pair(ind.critical_low, ind.critical_high),
                "inherited": "%(org)s：%(range)s"
                % {"org": inherited.version.organization.name, "range": _range_pair(*parent)}
                if inherited and inherited.version and parent
                else "",
                "low": request.POST.get("low_%s" % ind.code, fmt(mine[0])),
                "high": request.POST.get("high_%s" % ind.code, fmt(mine[1])),
                "error": errors.get(ind.code, ""),
            }
        )
    return render(
        request,
        "health/critical.html",
        {"org": org, "orgs": orgs, "rows": rows, "errors": errors, "own": own, "inherited": inherited},
        status=422 if errors else 200,
    )


# ---- console: programmes ----------------------------------------------------------------------


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def programme_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.programmes_for_actor(actor=request.user))
    return render(
        request,
        "health/programme_list.html",
        {"page": page, "can_create": bool(_orgs(request, HealthPerm.HEALTH_MANAGE))},
    )


@require_http_methods(["GET", "POST"])
@requires_perm(HealthPerm.HEALTH_MANAGE)
def programme_create(request: HttpRequest) -> HttpResponse:
    orgs = _orgs(request, HealthPerm.HEALTH_MANAGE)
    error, errors = "", {}
    if request.method == "POST":
        try:
            org = _org_from_post(request, HealthPerm.HEALTH_MANAGE)
            eligible = request.POST.get("eligible_org", "").strip()
            data = {
                "name": request.POST.get("name"),
                "year": request.POST.get("year"),
                "description": request.POST.get("description"),
                "starts_on": request.POST.get("starts_on"),
                "ends_on": request.POST.get("ends_on"),
                "eligible_org": organization_by_code_for_actor(
                    actor=request.user, perm=HealthPerm.HEALTH_MANAGE, code=eligible
                )
                if eligible
                else None,
                "eligible_tags": request.POST.getlist("eligible_tags"),
                "min_age": request.POST.get("min_age"),
                "max_age": request.POST.get("max_age"),
            }
            programme = services.programme_create(actor=request.user, organization=org, data=data)
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            messages.success(request, "已创建体检项目，请设置套餐、名额和预约时段")
            return redirect("health:programme_detail", pk=programme.pk)
    return render(
        request,
        "health/programme_form.html",
        {"orgs": orgs, "tags": Tag.choices, "values": request.POST, "error": error, "errors": errors},
        status=422 if error else 200,
    )


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    programme = selectors.programme_get_for_actor(actor=request.user, pk=pk)
    return _programme_page(request, programme)


def _programme_page(
    request: HttpRequest, programme: Any, *, error: str = "", errors: dict[str, str] | None = None, form: str = ""
) -> HttpResponse:
    packages = {p.sex: p for p in programme.packages.prefetch_related("items")}
    page = paginate(request, selectors.programme_appointments(programme))
    slots = programme.slots.select_related("centre").order_by("date", "start_time")
    return render(
        request,
        "health/programme_detail.html",
        {
            "programme": programme,
            "packages": [(value, label, packages.get(value)) for value, label in Sex.choices],
            "quotas": selectors.programme_quota_rows(programme),
            "slots": slots[:200],
            "slot_count": slots.count(),
            "centres": selectors.centres_for_actor(actor=request.user, perm=HealthPerm.HEALTH_MANAGE).filter(
                is_active=True
            ),
            "quota_orgs": organizations_for_actor(actor=request.user, perm=HealthPerm.HEALTH_MANAGE)
            .filter(path__startswith=programme.eligible_org.path)
            .order_by("path")[:500],
            "page": page,
            "can_manage": has_perm_on(request.user, HealthPerm.HEALTH_MANAGE, programme.organization),
            "next_status": [
                (s, ProgrammeStatus(s).label)
                for s in services.STATUS_FLOW.get(ProgrammeStatus(programme.status), set())
            ],
            "tags": [t.label for t in Tag if programme.eligible_tags & t.value],
            "error": error,
            "errors": errors or {},
            "form": form,
            "values": request.POST,
        },
        status=422 if error else 200,
    )


def _programme_action(request: HttpRequest, pk: int, form: str, action: Any, success: str) -> HttpResponse:
    programme = selectors.programme_get_for_actor(actor=request.user, pk=pk, perm=HealthPerm.HEALTH_MANAGE)
    try:
        action(programme)
    except DomainError as exc:
        return _programme_page(request, programme, error=exc.message, errors=exc.fields, form=form)
    messages.success(request, success)
    return redirect("health:programme_detail", pk=programme.pk)


@require_POST
@requires_perm(HealthPerm.HEALTH_MANAGE)
def package_save(request: HttpRequest, pk: int) -> HttpResponse:
    def action(programme: Any) -> None:
        items = []
        for line in request.POST.get("items", "").splitlines():
            group, sep, name = line.partition("|")
            items.append((group, name) if sep else ("其他", group))
        services.package_save(
            actor=request.user,
            programme=programme,
            sex=request.POST.get("sex", ""),
            name=request.POST.get("name", ""),
            price_fen=_field("price", parsing.parse_yuan, request.POST.get("price"), label="价格"),
            items=items,
        )

    return _programme_action(request, pk, "package", action, "套餐已保存")


@require_POST
@requires_perm(HealthPerm.HEALTH_MANAGE)
def quota_set(request: HttpRequest, pk: int) -> HttpResponse:
    def action(programme: Any) -> None:
        org = _org_from_post(request, HealthPerm.HEALTH_MANAGE)
        places = _field("places", parsing.parse_int, request.POST.get("places"), label="名额")
        services.quota_set(actor=request.user, programme=programme, organization=org, places=places)

    return _programme_action(request, pk, "quota", action, "名额已保存")


@require_POST
@requires_perm(HealthPerm.HEALTH_MANAGE)
def slots_create(request: HttpRequest, pk: int) -> HttpResponse:
    def action(programme: Any) -> None:
        centre = selectors.centre_get_for_actor(actor=request.user, pk=parsing.query_id(request.POST, "centre") or 0)
        date_from = _field("date_from", parsing.parse_date, request.POST.get("date_from"), label="开始日期")
        date_to = _field("date_to", parsing.parse_date, request.POST.get("date_to"), label="结束日期")
        capacity = _field("capacity", parsing.parse_int, request.POST.get("capacity"), label="可约人数", minimum=1)
        created = services.slots_create(
            actor=request.user,
            programme=programme,
            centre=centre,
            date_from=date_from,
            date_to=date_to,
            times=_times(request.POST.get("times", "")),
            capacity=capacity,
            weekdays_only=bool(request.POST.get("weekdays_only")),
        )
        messages.info(request, "新增 %(n)s 个预约时段" % {"n": created})

    return _programme_action(request, pk, "slots", action, "预约时段已生成")


@require_POST
@requires_perm(HealthPerm.HEALTH_MANAGE)
def programme_status(request: HttpRequest, pk: int) -> HttpResponse:
    def action(programme: Any) -> None:
        services.programme_set_status(actor=request.user, programme=programme, status=request.POST.get("status", ""))

    return _programme_action(request, pk, "status", action, "状态已更新")


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def appointments_export(request: HttpRequest, pk: int) -> HttpResponse:
    programme = selectors.programme_get_for_actor(actor=request.user, pk=pk)
    rows = (
        [
            a.member.member_no,
            a.member.name,
            a.member.id_masked,
            a.organization.name,
            a.package.name,
            a.slot.centre.name,
            a.slot.date.isoformat(),
            "%(start)s-%(end)s"
            % {"start": a.slot.start_time.strftime("%H:%M"), "end": a.slot.end_time.strftime("%H:%M")},
            a.get_status_display(),
            timezone.localtime(a.booked_at).strftime("%Y-%m-%d %H:%M"),
        ]
        for a in selectors.programme_appointments(programme).iterator(chunk_size=2000)
    )
    export = csv_export(
        actor=request.user,
        action="health.appointments_export",
        filename=export_names.appointments_name(programme),
        header=["会员编号", "姓名", "证件号码", "所属工会", "套餐", "体检机构", "日期", "时段", "状态", "预约时间"],
        rows=rows,
        obj=programme,
    )
    return download(export)


@require_http_methods(["GET", "POST"])
@requires_perm(HealthPerm.HEALTH_VIEW)
def centres(request: HttpRequest) -> HttpResponse:
    error, errors = "", {}
    if request.method == "POST":
        try:
            org = _org_from_post(request, HealthPerm.HEALTH_MANAGE)
            services.centre_create(
                actor=request.user,
                organization=org,
                name=request.POST.get("name", ""),
                address=request.POST.get("address", ""),
                phone=request.POST.get("phone", ""),
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            messages.success(request, "已登记体检机构")
            return redirect("health:centres")
    page = paginate(request, selectors.centres_for_actor(actor=request.user).order_by("name"))
    return render(
        request,
        "health/centres.html",
        {
            "page": page,
            "orgs": _orgs(request, HealthPerm.HEALTH_MANAGE),
            "error": error,
            "errors": errors,
            "values": request.POST,
        },
        status=422 if error else 200,
    )


# ---- console: imports ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(HealthPerm.HEALTH_VIEW)
def imports(request: HttpRequest) -> HttpResponse:
    error, errors = "", {}
    if request.method == "POST":
        try:
            org = _org_from_post(request, HealthPerm.HEALTH_MANAGE)
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed("请选择要导入的文件", fields={"file": "请选择文件"})
            mapping, saved_mapping = _centre_mapping_from_post(request)
            content = upload.read(services.MAX_UPLOAD_BYTES + 1)
            batch = services.import_batch_create(
                actor=request.user,
                organization=org,
                fmt=request.POST.get("format", ""),
                filename=upload.name or "upload",
                content=content,
                mapping=mapping,
                saved_mapping=saved_mapping,
                dry_run=bool(request.POST.get("dry_run")),
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            # The batch page says 正在后台导入 in its status panel, which goes away when done.
            return redirect("health:import_detail", pk=batch.pk)
    page = paginate(request, selectors.imports_for_actor(actor=request.user))
    return render(
        request,
        "health/imports.html",
        {
            "page": page,
            "orgs": _orgs(request, HealthPerm.HEALTH_MANAGE),
            "formats": ImportFormat.choices,
            "centres": selectors.centres_for_actor(actor=request.user, perm=HealthPerm.HEALTH_MANAGE)
            .filter(is_active=True)
            .order_by("name")[:500],
            "error": error,
            "errors": errors,
            "values": request.POST,
        },
        status=422 if error else 200,
    )


def _centre_mapping_from_post(request: HttpRequest) -> tuple[dict[str, Any] | None, ImportMapping | None]:
    """The chosen check-up centre's latest saved mapping (CSV/XLSX); a centre without one only
    names the centre. No centre: the reader recognises the usual headers by itself."""
    raw = request.POST.get("centre", "").strip()
    if not raw:
        return None, None
    if not raw.isdigit():
        raise ValidationFailed("体检机构无效", fields={"centre": "请从列表中选择"})
    centre = selectors.centre_get_for_actor(actor=request.user, pk=raw, perm=HealthPerm.HEALTH_MANAGE)
    saved = mappings.import_mapping_latest(centre=centre)
    return (None, saved) if saved else ({"centre": centre.name}, None)


@require_GET
@requires_perm(HealthPerm.HEALTH_MANAGE)
def import_template(request: HttpRequest) -> HttpResponse:
    template = import_templates.import_template(request.GET.get("format", ""))
    if template is None:
        raise NotFound("没有这种格式的模板")
    response = HttpResponse(template.content, content_type=template.content_type)
    response.headers["Content-Disposition"] = attachment_header(template.filename)
    return response


MAPPING_LINES = 8


@require_http_methods(["GET", "POST"])
@requires_perm(HealthPerm.HEALTH_MANAGE)
def centre_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """The centre's column mapping: file column → indicator and unit, plus the columns of the
    ID number, exam date and report number when the file names them differently."""
    centre = selectors.centre_get_for_actor(actor=request.user, pk=pk, perm=HealthPerm.HEALTH_MANAGE)
    error, errors = "", {}
    if request.method == "POST":
        lines = [
            mappings.ColumnInput(column=c, indicator=i, unit=u)
            for c, i, u in zip(
                request.POST.getlist("column"),
                request.POST.getlist("indicator"),
                request.POST.getlist("unit"),
                strict=False,
            )
        ]
        try:
            saved = mappings.import_mapping_save(
                actor=request.user,
                centre=centre,
                fields={key: request.POST.get("field_%s" % key, "") for key in mappings.FIELD_LABELS},
                columns=lines,
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
            rows = [{"column": c.column, "indicator": c.indicator, "unit": c.unit} for c in lines]
            fields = {key: request.POST.get("field_%s" % key, "") for key in mappings.FIELD_LABELS}
        else:
            messages.success(request, "已保存列映射（第 %(v)s 版），之后选择该机构导入时使用" % {"v": saved.version})
            return redirect("health:centre_mapping", pk=centre.pk)
    else:
        latest = mappings.import_mapping_latest(centre=centre)
        rows = list(latest.columns) if latest else []
        fields = dict(latest.fields) if latest else {}
    rows += [{"column": "", "indicator": "", "unit": ""}] * max(MAPPING_LINES - len(rows), 2)
    return render(
        request,
        "health/centre_mapping.html",
        {
            "centre": centre,
            "rows": [{**row, "error": errors.get("column_%s" % n, "")} for n, row in enumerate(rows, start=1)],
            "fields": [
                (key, label, fields.get(key, ""), errors.get("field_%s" % key, ""))
                for key, label in mappings.FIELD_LABELS.items()
            ],
            "indicators": mappings.indicator_choices(),
            "history": mappings.import_mapping_history(centre=centre)[:10],
            "error": error,
        },
        status=422 if error else 200,
    )


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_get_for_actor(actor=request.user, pk=pk)
    labels = dict(Flag.choices)
    can_manage = has_perm_on(request.user, HealthPerm.HEALTH_MANAGE, batch.organization)
    context = {
        "batch": batch,
        "pending": batch.job.is_active,
        "can_retry": can_manage
        and batch.job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
        and bool(batch.payload_encrypted)
        and batch.job.expired_at is None,
        "can_cancel": can_manage and batch.job.status == JobStatus.QUEUED,
        "flags": [(labels.get(flag, flag), n) for flag, n in (batch.summary.get("flags") or {}).items()],
    }
    if request.headers.get("HX-Request"):
        return render(request, "health/_import_status.html", context)
    return render(request, "health/import_detail.html", context)


@require_POST
@requires_perm(HealthPerm.HEALTH_MANAGE)
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_get_for_actor(actor=request.user, pk=pk)
    return button(
        request,
        lambda: services.import_batch_retry(actor=request.user, batch=batch),
        done="已重新排队，将用保留的文件重新导入",
        then="health:import_detail",
        pk=batch.pk,
    )


@require_POST
@requires_perm(HealthPerm.HEALTH_MANAGE)
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_get_for_actor(actor=request.user, pk=pk)
    return button(
        request,
        lambda: services.import_batch_cancel(actor=request.user, batch=batch),
        done="已取消导入",
        then="health:import_detail",
        pk=batch.pk,
    )


# ---- console: members' reports ------------------------------------------------------------------


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def members(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    qs = selectors.health_members_for_actor(actor=request.user)
    if query:
        qs = qs.filter(member_search_q(query))
    page = paginate(request, qs.order_by("-id"))
    return render(request, "health/members.html", {"page": page, "q": query})


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.health_member_get_for_actor(actor=request.user, pk=pk)
    page = paginate(request, selectors.member_checkups(member))
    return render(
        request,
        "health/member_detail.html",
        {"member": member, "page": page, "consented": has_consent(member=member, purpose=ConsentPurpose.HEALTH)},
    )


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def report(request: HttpRequest, pk: int) -> HttpResponse:
    checkup = selectors.checkup_get_for_actor(actor=request.user, pk=pk)
    services.report_access_record(actor=request.user, checkup=checkup)
    return render(request, "health/report.html", {"report": build_report(checkup)})


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    checkup = selectors.checkup_get_for_actor(actor=request.user, pk=pk)
    services.report_access_record(actor=request.user, checkup=checkup)
    return _pdf_response(build_report(checkup))


# ---- console: statistics ------------------------------------------------------------------------


@require_GET
@requires_perm(HealthPerm.HEALTH_VIEW)
def stats(request: HttpRequest) -> HttpResponse:
    orgs = _orgs(request, HealthPerm.HEALTH_VIEW)
    cat = current_catalogue()
    code = request.GET.get("organization") or (orgs[0].code if orgs else "")
    org = organization_by_code_for_actor(actor=request.user, perm=HealthPerm.HEALTH_VIEW, code=code) if code else None
    indicator = cat.by_code.get(request.GET.get("indicator", "SBP")) or cat.by_code["SBP"]
    year = parsing.query_year(request.GET, "year", default=timezone.localdate().year - 1)
    group_by = request.GET.get("group_by", "tag")
    if group_by not in selectors.GROUPINGS:
        group_by = "tag"
    which = request.GET.get("flags", "high")
    flags = selectors.FLAG_SETS.get(which, selectors.HIGH_FLAGS)
    rows = (
        selectors.abnormal_share(
            actor=request.user, organization=org, indicator_id=indicator.id, year=year, group_by=group_by, flags=flags
        )
        if org
        else []
    )
    threshold = selectors.small_group_threshold(org) if org else None
    min_group = threshold.body["min_group"] if threshold else 0
    if request.GET.get("export") == "csv":
        below = "<%(n)s" % {"n": min_group}
        export = csv_export(
            actor=request.user,
            action="health.stats_export",
            filename=export_names.stats_name(organization=org, indicator_name=indicator.name_zh, year=year),
            header=["分组", "受检人数", "异常人数", "异常比例(%)"],
            rows=(
                [row.label, below if row.small else "不予显示", "不予显示", ""]
                if row.suppressed
                else [row.label, row.measured, row.abnormal, row.share]
                for row in rows
            ),
            organization=org,
            detail={"indicator": indicator.code, "year": year, "group_by": group_by, "flags": which},
        )
        return download(export)
    return render(
        request,
        "health/stats.html",
        {
            "orgs": orgs,
            "org": org,
            "indicators": cat.indicators,
            "indicator": indicator,
            "year": year,
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 11, -1)),
            "group_by": group_by,
            "groupings": selectors.GROUPINGS.items(),
            "which": which,
            "rows": rows,
            "suppress_below": min_group,
            "threshold": threshold,
        },
    )


# ---- console: 健康小屋 devices -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(Perm.DEVICE_MANAGE, HealthPerm.HEALTH_MANAGE)
def kiosks(request: HttpRequest) -> HttpResponse:
    error, errors, secret, device = "", {}, "", None
    if request.method == "POST":
        try:
            org = _org_from_post(request, Perm.DEVICE_MANAGE)
            device, secret = services.kiosk_register(
                actor=request.user, organization=org, name=request.POST.get("name", "")
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
    page = paginate(request, selectors.kiosks_for_actor(actor=request.user))
    return render(
        request,
        "health/kiosks.html",
        {
            "page": page,
            "orgs": _orgs(request, Perm.DEVICE_MANAGE),
            "error": error,
            "errors": errors,
            "secret": secret,
            "device": device,
            "endpoint": "/api/health/device/readings",
        },
        status=422 if error else 200,
    )


@require_POST
@requires_perm(Perm.DEVICE_MANAGE)
def kiosk_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    device = selectors.kiosk_get_for_actor(actor=request.user, pk=pk)
    services.kiosk_deactivate(actor=request.user, device=device)
    messages.success(request, "设备已停用")
    return redirect("health:kiosks")


# ---- member H5 ----------------------------------------------------------------------------------


@require_GET
def h5_home(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    consented = has_consent(member=member, purpose=ConsentPurpose.HEALTH)
    checkups = list(selectors.member_checkups(member)[:60]) if consented else []
    today = timezone.localdate()
    return render(
        request,
        "health/h5/home.html",
        {
            "member": member,
            "consented": consented,
            "exams": [c for c in checkups if c.kind == CheckupKind.EXAM],
            "visits": [c for c in checkups if c.kind == CheckupKind.KIOSK][:10],
            "programmes": selectors.member_open_programmes(member, today=today),
            "appointments": selectors.member_appointments(member)[:10],
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
def h5_consent(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("health:h5_home")
    if not next_url.startswith("/h5/health/"):
        next_url = reverse("health:h5_home")
    if request.method == "POST":
        if not request.POST.get("agree"):
            return render(
                request,
                "health/h5/consent.html",
                {"next": next_url, "error": "请勾选“我已阅读并同意”", "version": services.CONSENT_TEXT_VERSION},
                status=422,
            )
        services.health_consent_grant(member=member)
        return redirect(next_url)
    return render(request, "health/h5/consent.html", {"next": next_url, "version": services.CONSENT_TEXT_VERSION})


def _consented_checkup(request: HttpRequest, pk: int) -> Any:
    member = _me(request)
    checkup = selectors.member_checkup_get(member, pk)
    if not has_consent(member=member, purpose=ConsentPurpose.HEALTH):
        return None
    return checkup


@require_GET
def h5_report(request: HttpRequest, pk: int) -> HttpResponse:
    checkup = _consented_checkup(request, pk)
    if checkup is None:
        return redirect("%s?next=%s" % (reverse("health:h5_consent"), request.path))
    return render(request, "health/h5/report.html", {"report": build_report(checkup)})


@require_GET
def h5_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    checkup = _consented_checkup(request, pk)
    if checkup is None:
        return redirect("%s?next=%s" % (reverse("health:h5_consent"), reverse("health:h5_report", args=[pk])))
    return _pdf_response(build_report(checkup))


@require_http_methods(["GET", "POST"])
def h5_programme(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    programme = selectors.member_programme_get(member, pk)
    error = ""
    if request.method == "POST":
        try:
            slot = programme.slots.filter(pk=parsing.query_id(request.POST, "slot") or 0).first()
            if slot is None:
                raise ValidationFailed("请选择预约时段")
            services.appointment_book(member=member, programme=programme, slot=slot)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "预约成功")
            return redirect("health:h5_programme", pk=programme.pk)
    today = timezone.localdate()
    package = programme.packages.filter(sex=member.sex).prefetch_related("items").first()
    return render(
        request,
        "health/h5/programme.html",
        {
            "programme": programme,
            "package": package,
            "slots": selectors.programme_open_slots(programme, today=today)[:300],
            "appointment": selectors.member_active_appointment(member, programme),
            "error": error,
        },
        status=422 if error else 200,
    )


@require_POST
def h5_appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    appointment = selectors.member_appointment_get(member, pk)
    try:
        services.appointment_cancel(member=member, appointment=appointment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已取消预约")
    return redirect("health:h5_programme", pk=appointment.programme_id)
