"""Console pages of 服务阵地: the station list (filters, pagination, XLSX), a station's page
(hours, facilities, photos, QR poster, redemption point, inspections), its form, the import,
the "六有" inspections and the stations failing them, the usage chart, and the settings of
kinds and facilities."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.benefits.permissions import BenefitPerm
from gonghui.benefits.selectors import point_list_for_actor
from gonghui.core import exports, parsing
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.pagination import paginate
from gonghui.core.qr import qr_data_uri
from gonghui.organizations.selectors import has_perm_anywhere, has_perm_on, organization_by_code_for_actor
from gonghui.stations import hours, importing, selectors, services
from gonghui.stations.models import HolidayMode, Requirement, Station
from gonghui.stations.permissions import StationPerm

# ---- helpers ------------------------------------------------------------------------------


def _query_id(params: QueryDict, name: str, label: str) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ValidationFailed("%(label)s无效" % {"label": label}, fields={name: "请从列表中选择"})
    return int(raw)


def _filters(request: HttpRequest) -> selectors.StationFilters:
    active = request.GET.get("active", "").strip()
    if active not in ("", "0", "1"):
        raise ValidationFailed("启用状态无效", fields={"active": "请从列表中选择"})
    return selectors.StationFilters(
        kind_id=_query_id(request.GET, "kind", "站点类型"),
        facility_id=_query_id(request.GET, "facility", "设施"),
        query=parsing.clean(request.GET.get("q"))[:40],
        active=active,
    )


def _abilities(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "can_manage": has_perm_anywhere(user, StationPerm.MANAGE),
        "can_export": has_perm_anywhere(user, StationPerm.EXPORT),
        "can_inspect": has_perm_anywhere(user, StationPerm.INSPECT),
        "can_configure": has_perm_anywhere(user, StationPerm.CONFIGURE),
    }


def station_input_from_post(post: QueryDict) -> services.StationInput:
    kind_id = _query_id(post, "kind", "站点类型")
    kind = selectors.kind_get(kind_id) if kind_id is not None else None
    facility_ids = post.getlist("facilities")
    facilities = [selectors.facility_get(pk) for pk in facility_ids[:70]]
    return services.StationInput(
        name=post.get("name", ""),
        code=post.get("code", ""),
        kind=kind,
        address=post.get("address", ""),
        lat=post.get("lat", ""),
        lng=post.get("lng", ""),
        coord_system=post.get("coord_system", services.CoordSystem.WGS84),
        facility_mask=services.facility_mask_of(facilities),
        always_open=post.get("always_open") == "1",
        weekly_text=tuple(post.get("hours_%d" % i, "")[:100] for i in range(7)),
        holiday_mode=post.get("holiday_mode", HolidayMode.REGULAR),
        holiday_text=post.get("holiday_hours", "")[:100],
        contact_name=post.get("contact_name", ""),
        contact_phone=post.get("contact_phone", ""),
        description=post.get("description", ""),
        is_active=post.get("is_active", "1") == "1",
    )


def _values_of(station: Station) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": station.name,
        "code": station.code,
        "kind": str(station.kind_id),
        "address": station.address,
        "lat": "%.7f" % station.lat,
        "lng": "%.7f" % station.lng,
        "coord_system": services.CoordSystem.WGS84,
        "always_open": "1" if station.always_open else "",
        "holiday_mode": station.holiday_mode,
        "holiday_hours": hours.format_ranges(station.holiday_hours) if station.holiday_hours else "",
        "contact_name": station.contact_name,
        "contact_phone": station.contact_phone,
        "description": station.description,
        "is_active": "1" if station.is_active else "0",
        "facilities": [str(f.pk) for f in selectors.all_facilities() if station.facility_mask & f.mask],
    }
    for i in range(7):
        ranges = station.weekly_hours[i] if i < len(station.weekly_hours) else []
        values["hours_%d" % i] = hours.format_ranges(ranges) if ranges else ""
    return values


def _form(
    request: HttpRequest, station: Station | None, values: Any, error: str = "", errors: Any = None
) -> HttpResponse:
    weekly = [(i, label, values.get("hours_%d" % i, "")) for i, label in enumerate(hours.WEEKDAYS)]
    chosen = values.getlist("facilities") if isinstance(values, QueryDict) else values.get("facilities", [])
    return render(
        request,
        "stations/station_form.html",
        {
            "station": station,
            "values": values,
            "chosen_facilities": chosen,
            "weekly": weekly,
            "kinds": selectors.active_kinds(),
            "facilities": selectors.active_facilities(),
            "coord_systems": services.CoordSystem.CHOICES,
            "holiday_modes": HolidayMode.choices,
            "picker_purpose": services.PICKER,
            "error": error,
            "errors": errors or {},
        },
        status=422 if error else 200,
    )


# ---- list, export -------------------------------------------------------------------------


@require_GET
@requires_perm(StationPerm.VIEW)
def station_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    qs = selectors.station_list_for_actor(actor=request.user, filters=filters)
    return render(
        request,
        "stations/station_list.html",
        {
            "page": paginate(request, qs),
            "filters": filters,
            "kinds": selectors.all_kinds(),
            "facilities": selectors.all_facilities(),
            **_abilities(request),
        },
    )


def _facility_names(mask: int, facilities: list[Any]) -> str:
    return "、".join(f.name for f in facilities if mask & f.mask)


def _hours_text(station: Station) -> str:
    return "；".join("%s %s" % line for line in hours.summary(station))


@require_GET
@requires_perm(StationPerm.EXPORT)
def station_export(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    qs = selectors.station_list_for_actor(actor=request.user, filters=filters, perm=StationPerm.EXPORT)
    facilities = list(selectors.all_facilities())
    rows = (
        (
            s.code,
            s.name,
            s.kind.name,
            s.organization.name,
            s.address,
            round(s.lat, 6),
            round(s.lng, 6),
            _facility_names(s.facility_mask, facilities),
            _hours_text(s),
            s.contact_name,
            s.contact_phone,
            "是" if s.is_active else "否",
            "是" if s.redemption_point_id else "否",
            s.last_inspection.inspected_on if s.last_inspection else "",
            s.last_inspection.score if s.last_inspection else "",
        )
        for s in qs.iterator(chunk_size=500)
    )
    export = exports.xlsx_export(
        actor=request.user,
        action="stations.list_export",
        filename="服务阵地_%s.xlsx" % timezone.localdate().strftime("%Y%m%d"),
        sheets=[
            exports.Sheet(
                title="服务阵地",
                header=(
                    "站点编号",
                    "站点名称",
                    "类型",
                    "所属工会",
                    "地址",
                    "纬度（WGS-84）",
                    "经度（WGS-84）",
                    "设施",
                    "开放时间",
                    "联系人",
                    "联系电话",
                    "启用",
                    "优惠券核销点",
                    "最近检查",
                    "检查评分",
                ),
                rows=rows,
            )
        ],
        detail={"kind": filters.kind_id, "facility": filters.facility_id},
    )
    return download(export)


# ---- create, detail, edit -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(StationPerm.MANAGE)
def station_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form(request, None, {"holiday_mode": HolidayMode.REGULAR, "is_active": "1"})
    try:
        code = parsing.clean(request.POST.get("organization"))[:32]
        if not code:
            raise ValidationFailed("请选择所属工会", fields={"organization": "请从列表中选择"})
        try:
            organization = organization_by_code_for_actor(actor=request.user, perm=StationPerm.MANAGE, code=code)
        except NotFound:
            raise ValidationFailed("所属工会不存在或无权管理", fields={"organization": "请从列表中选择"}) from None
        station = services.station_create(
            actor=request.user, organization=organization, data=station_input_from_post(request.POST)
        )
    except DomainError as exc:
        return _form(request, None, request.POST, exc.message, exc.fields)
    messages.success(request, "已新增站点 %(code)s" % {"code": station.code})
    return redirect("stations:detail", pk=station.pk)


@require_GET
@requires_perm(StationPerm.VIEW)
def station_detail(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_get_for_actor(actor=request.user, pk=pk)
    facilities = list(selectors.all_facilities())
    can_manage = has_perm_on(request.user, StationPerm.MANAGE, station.organization)
    points: list[Any] = []
    if can_manage and not station.redemption_point_id and has_perm_anywhere(request.user, BenefitPerm.CAMPAIGN_MANAGE):
        points = list(
            point_list_for_actor(actor=request.user, perms=(BenefitPerm.CAMPAIGN_MANAGE,)).filter(station=None)[:50]
        )
    today = timezone.localdate()
    usage = selectors.usage_for_actor(
        actor=request.user, date_from=today - dt.timedelta(days=29), date_to=today, station=station
    )
    return render(
        request,
        "stations/station_detail.html",
        {
            "station": station,
            "facilities": [(f, bool(station.facility_mask & f.mask)) for f in facilities],
            "hours": hours.summary(station),
            "is_open": selectors.station_is_open(station),
            "photos": list(station.photos.only("pk", "caption", "uploaded_at")),
            "inspections": list(selectors.inspections_of(station)[:20]),
            "requirements": Requirement.choices,
            "can_manage": can_manage,
            "can_inspect": has_perm_on(request.user, StationPerm.INSPECT, station.organization),
            "can_link_point": has_perm_anywhere(request.user, BenefitPerm.CAMPAIGN_MANAGE),
            "points": points,
            "usage_total": usage.total,
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(StationPerm.MANAGE)
def station_edit(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_get_for_actor(actor=request.user, pk=pk, perm=StationPerm.MANAGE)
    if request.method == "GET":
        return _form(request, station, _values_of(station))
    try:
        station = services.station_update(
            actor=request.user, station=station, data=station_input_from_post(request.POST)
        )
    except DomainError as exc:
        return _form(request, station, request.POST, exc.message, exc.fields)
    messages.success(request, "已保存")
    return redirect("stations:detail", pk=station.pk)


# ---- photos, poster, redemption point -----------------------------------------------------


def _image(content: bytes | memoryview, content_type: str) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type=content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@requires_perm(StationPerm.MANAGE)
def photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_get_for_actor(actor=request.user, pk=pk, perm=StationPerm.MANAGE)
    try:
        services.station_photo_add(
            actor=request.user,
            station=station,
            upload=request.FILES.get("photo"),
            caption=request.POST.get("caption", ""),
        )
        messages.success(request, "已上传照片")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("stations:detail", pk=station.pk)


@require_POST
@requires_perm(StationPerm.MANAGE)
def photo_remove(request: HttpRequest, pk: int) -> HttpResponse:
    photo = selectors.station_photo_for_actor(actor=request.user, pk=pk, perm=StationPerm.MANAGE)
    services.station_photo_remove(actor=request.user, photo=photo)
    messages.success(request, "已删除照片")
    return redirect("stations:detail", pk=photo.station_id)


@require_GET
@requires_perm(StationPerm.VIEW)
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.station_photo_for_actor(actor=request.user, pk=pk)
    return _image(found.content, found.content_type)


def checkin_url(request: HttpRequest, station: Station) -> str:
    return request.build_absolute_uri(reverse("stations:h5_checkin", args=[station.code]))


@require_GET
@requires_perm(StationPerm.VIEW)
def poster(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_get_for_actor(actor=request.user, pk=pk)
    url = checkin_url(request, station)
    facilities = [f for f in selectors.active_facilities() if station.facility_mask & f.mask]
    return render(
        request,
        "stations/poster.html",
        {
            "station": station,
            "qr": qr_data_uri(url, scale=10, border=2),
            "url": url,
            "hours": hours.summary(station),
            "facilities": facilities,
        },
    )


@require_POST
@requires_perm(StationPerm.MANAGE)
def redemption_point(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_get_for_actor(actor=request.user, pk=pk, perm=StationPerm.MANAGE)
    action = request.POST.get("action", "")
    try:
        if action == "create":
            services.station_redemption_point_create(actor=request.user, station=station)
            messages.success(request, "已设为优惠券核销点（工会驿站），可在惠工活动中选择该核销点")
        elif action == "link":
            point_id = _query_id(request.POST, "point", "核销点")
            found = (
                point_list_for_actor(actor=request.user, perms=(BenefitPerm.CAMPAIGN_MANAGE,))
                .filter(pk=point_id)
                .first()
                if point_id
                else None
            )
            if found is None:
                raise ValidationFailed("请选择核销点", fields={"point": "请从列表中选择"})
            services.station_redemption_point_link(actor=request.user, station=station, point=found)
            messages.success(request, "已关联核销点“%(name)s”" % {"name": found.name})
        elif action == "unlink":
            services.station_redemption_point_link(actor=request.user, station=station, point=None)
            messages.success(request, "已取消核销点关联")
        else:
            raise ValidationFailed("未知的操作")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("stations:detail", pk=station.pk)


# ---- inspections --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(StationPerm.INSPECT)
def inspection_create(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_get_for_actor(actor=request.user, pk=pk, perm=StationPerm.INSPECT)
    error, errors = "", {}
    values: Any = {"inspected_on": timezone.localdate().isoformat(), "met": []}
    if request.method == "POST":
        values = {**request.POST.dict(), "met": request.POST.getlist("met")}
        try:
            services.inspection_record(
                actor=request.user,
                station=station,
                data=services.InspectionInput(
                    inspected_on=request.POST.get("inspected_on", ""),
                    met=request.POST.getlist("met"),
                    score=request.POST.get("score", ""),
                    notes=request.POST.get("notes", ""),
                ),
                photos=request.FILES.getlist("photos"),
            )
            messages.success(request, "已登记“六有”检查")
            return redirect("stations:detail", pk=station.pk)
        except DomainError as exc:
            error, errors = exc.message, exc.fields
    return render(
        request,
        "stations/inspection_form.html",
        {"station": station, "requirements": Requirement.choices, "values": values, "error": error, "errors": errors},
        status=422 if error else 200,
    )


@require_GET
@requires_perm(StationPerm.VIEW)
def inspection_photo(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.inspection_photo_for_actor(actor=request.user, pk=pk)
    return _image(found.content, found.content_type)


REQUIREMENT_FILTERS = [
    (selectors.ANY_FAILED, "任一项未达标"),
    *[(r.value, "未达到“%s”" % r.label) for r in Requirement],
    (selectors.NEVER, "从未检查"),
]


def _requirement(request: HttpRequest) -> str:
    value = request.GET.get("requirement", selectors.ANY_FAILED).strip() or selectors.ANY_FAILED
    if value not in dict(REQUIREMENT_FILTERS):
        raise ValidationFailed("检查项目无效", fields={"requirement": "请从列表中选择"})
    return value


@require_GET
@requires_perm(StationPerm.VIEW)
def failing(request: HttpRequest) -> HttpResponse:
    requirement = _requirement(request)
    qs = selectors.failing_for_actor(actor=request.user, requirement=requirement)
    return render(
        request,
        "stations/failing.html",
        {
            "page": paginate(request, qs),
            "requirement": requirement,
            "choices": REQUIREMENT_FILTERS,
            **_abilities(request),
        },
    )


@require_GET
@requires_perm(StationPerm.EXPORT)
def failing_export(request: HttpRequest) -> HttpResponse:
    requirement = _requirement(request)
    qs = selectors.failing_for_actor(actor=request.user, requirement=requirement, perm=StationPerm.EXPORT)
    rows = (
        (
            s.code,
            s.name,
            s.kind.name,
            s.organization.name,
            s.address,
            s.last_inspection.inspected_on if s.last_inspection else "从未检查",
            s.last_inspection.score if s.last_inspection else "",
            "、".join(s.last_inspection.failed) if s.last_inspection else "",
            s.last_inspection.notes if s.last_inspection else "",
        )
        for s in qs.iterator(chunk_size=500)
    )
    export = exports.xlsx_export(
        actor=request.user,
        action="stations.failing_export",
        filename="六有未达标站点_%s.xlsx" % timezone.localdate().strftime("%Y%m%d"),
        sheets=[
            exports.Sheet(
                title="未达标站点",
                header=("站点编号", "站点名称", "类型", "所属工会", "地址", "最近检查", "评分", "未达标项", "检查意见"),
                rows=rows,
            )
        ],
        detail={"requirement": requirement},
    )
    return download(export)


# ---- usage --------------------------------------------------------------------------------


@require_GET
@requires_perm(StationPerm.VIEW)
def usage(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    error = ""
    date_from, date_to = today - dt.timedelta(days=29), today
    station = None
    try:
        if request.GET.get("from"):
            date_from = services.checked(parsing.parse_date, request.GET["from"], label="开始日期", latest=today)
        if request.GET.get("to"):
            date_to = services.checked(parsing.parse_date, request.GET["to"], label="结束日期", latest=today)
        if date_to < date_from:
            raise ValidationFailed("结束日期不能早于开始日期")
        if (date_to - date_from).days > 366:
            raise ValidationFailed("统计区间不超过一年")
        code = parsing.clean(request.GET.get("station"))[:20]
        if code:
            station = selectors.stations_for_actor(actor=request.user).filter(code=code.upper()).first()
            if station is None:
                raise ValidationFailed("站点编号不存在或无权查看", fields={"station": "站点不存在"})
    except DomainError as exc:
        error = exc.message
        date_from, date_to, station = today - dt.timedelta(days=29), today, None
    result = selectors.usage_for_actor(actor=request.user, date_from=date_from, date_to=date_to, station=station)
    chart = {
        "days": result.days,
        "by_day": result.by_day,
        "hours": ["%02d时" % h for h in range(24)],
        "by_hour": result.by_hour,
    }
    return render(
        request,
        "stations/usage.html",
        {
            "usage": result,
            "chart": chart,
            "date_from": date_from,
            "date_to": date_to,
            "station": station,
            "station_code": request.GET.get("station", "")[:20],
            "error": error,
            **_abilities(request),
        },
        status=422 if error else 200,
    )


# ---- import -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(StationPerm.MANAGE)
def import_list(request: HttpRequest) -> HttpResponse:
    error, errors = "", {}
    values: Any = {}
    if request.method == "POST":
        values = request.POST
        try:
            code = parsing.clean(request.POST.get("organization"))[:32]
            if not code:
                raise ValidationFailed("请选择导入到哪个工会", fields={"organization": "请从列表中选择"})
            try:
                organization = organization_by_code_for_actor(actor=request.user, perm=StationPerm.MANAGE, code=code)
            except NotFound:
                raise ValidationFailed("所属工会不存在或无权管理", fields={"organization": "请从列表中选择"}) from None
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed("请选择要导入的文件", fields={"file": "请选择文件"})
            if upload.size and upload.size > services.IMPORT_MAX_BYTES:
                raise ValidationFailed("文件超过 10 MB，请拆分后导入", fields={"file": "文件过大"})
            batch = services.station_import_upload(
                actor=request.user,
                organization=organization,
                filename=upload.name or "upload",
                content=upload.read(services.IMPORT_MAX_BYTES + 1),
            )
            messages.success(request, "已上传，正在后台检查并导入")
            return redirect("stations:import_detail", pk=batch.pk)
        except DomainError as exc:
            error, errors = exc.message, exc.fields
    qs = selectors.imports_for_actor(actor=request.user)
    return render(
        request,
        "stations/import_list.html",
        {
            "page": paginate(request, qs),
            "columns": importing.SPEC.columns,
            "picker_purpose": services.PICKER,
            "values": values,
            "error": error,
            "errors": errors,
        },
        status=422 if error else 200,
    )


@require_GET
@requires_perm(StationPerm.MANAGE)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_get_for_actor(actor=request.user, pk=pk)
    template = "stations/_import_status.html" if request.headers.get("HX-Request") else "stations/import_detail.html"
    return render(request, template, {"batch": batch, "errors_shown": batch.row_errors[:50]})


@require_GET
@requires_perm(StationPerm.MANAGE)
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_get_for_actor(actor=request.user, pk=pk)
    if not batch.row_errors:
        raise NotFound("这次导入没有出错的行")
    return download(importing.error_report(actor=request.user, batch=batch))


@require_GET
@requires_perm(StationPerm.MANAGE)
def import_template(request: HttpRequest) -> HttpResponse:
    return download(importing.template_export(actor=request.user))


# ---- settings: kinds and facilities -------------------------------------------------------


@require_GET
@requires_perm(StationPerm.CONFIGURE)
def settings_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "stations/settings.html",
        {"kinds": selectors.all_kinds(), "facilities": selectors.all_facilities()},
    )


@require_POST
@requires_perm(StationPerm.CONFIGURE)
def kind_save(request: HttpRequest) -> HttpResponse:
    try:
        pk = _query_id(request.POST, "pk", "站点类型")
        services.kind_save(
            actor=request.user,
            kind=selectors.kind_get(pk) if pk is not None else None,
            name=request.POST.get("name", ""),
            order=request.POST.get("order", ""),
            is_active=request.POST.get("is_active") == "1",
        )
        messages.success(request, "已保存站点类型")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("stations:settings")


@require_POST
@requires_perm(StationPerm.CONFIGURE)
def facility_save(request: HttpRequest) -> HttpResponse:
    try:
        pk = _query_id(request.POST, "pk", "设施")
        services.facility_save(
            actor=request.user,
            facility=selectors.facility_get(pk) if pk is not None else None,
            name=request.POST.get("name", ""),
            order=request.POST.get("order", ""),
            is_active=request.POST.get("is_active") == "1",
        )
        messages.success(request, "已保存设施")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("stations:settings")
