"""职工夜校 and activity pages: the console (plans, courses, sessions with their QR code,
rosters, certificates, activities and their lottery), the member H5 (sign up, wait, check in,
certificates) and the public certificate check. Thin: parsing in `forms`, rules in services,
reads in selectors."""

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.activities import forms, pdf, selectors, services
from gonghui.activities.models import Activity, ActivityKind, Course, PlaceStatus
from gonghui.activities.permissions import ActivityPerm
from gonghui.core import parsing, ratelimit
from gonghui.core.access import public, requires_perm
from gonghui.core.errors import DomainError, NotFound, RateLimited
from gonghui.core.exports import Sheet, download, xlsx_export
from gonghui.core.filenames import attachment_header
from gonghui.core.pagination import paginate
from gonghui.core.qr import qr_data_uri
from gonghui.members.identity import mask_name
from gonghui.members.selectors import member_of_user
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on, organization_by_code_for_actor, scope_root_for_actor

M = ActivityPerm.MANAGE
VERIFY_LIMIT = 30
VERIFY_WINDOW = 600


def _organization(request: HttpRequest) -> Organization:
    code = parsing.clean(request.POST.get("organization"))
    if code:
        return organization_by_code_for_actor(actor=request.user, perm=M, code=code)
    root = scope_root_for_actor(actor=request.user, perm=M)
    if root is None:
        raise NotFound("您没有可管理的组织")
    return root


def _pk(request: HttpRequest, name: str) -> int:
    value = parsing.query_id(request.POST, name)
    if value is None:
        raise NotFound("记录不存在")
    return value


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], error: DomainError | None = None
) -> HttpResponse:
    if error is not None:
        context = {**context, "error": error.message, "errors": error.fields, "values": request.POST}
    return render(request, template, context, status=error.status if error is not None else 200)


# ---- console: plans and courses -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(ActivityPerm.VIEW)
def plans(request: HttpRequest) -> HttpResponse:
    context = {
        "page": paginate(request, selectors.plans_for_actor(actor=request.user)),
        "can_manage": scope_root_for_actor(actor=request.user, perm=M) is not None,
    }
    if request.method == "POST":
        try:
            plan = services.plan_create(
                actor=request.user, organization=_organization(request), data=forms.plan_input(request.POST)
            )
        except DomainError as exc:
            return _page(request, "activities/plans.html", context, exc)
        messages.success(request, "已新建培训计划")
        return redirect("activities:plan", plan.pk)
    return _page(request, "activities/plans.html", context)


@require_http_methods(["GET", "POST"])
@requires_perm(ActivityPerm.VIEW)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get_for_actor(actor=request.user, pk=pk)
    can_manage = has_perm_on(request.user, M, plan.organization)
    context: dict[str, Any] = {
        "plan": plan,
        "blank": {},
        "can_manage": can_manage,
        "page": paginate(request, selectors.courses_for_actor(actor=request.user).filter(plan=plan)),
        "instructors": selectors.instructors_for_actor(actor=request.user, organization=plan.organization)
        if can_manage
        else [],
    }
    if request.method == "POST":
        plan = selectors.plan_get_for_actor(actor=request.user, pk=pk, perm=M)
        try:
            if request.POST.get("op") == "course":
                course = services.course_create(
                    actor=request.user, plan=plan, data=forms.course_input(request.POST, context["instructors"])
                )
                messages.success(request, "已新建班次")
                return redirect("activities:course", course.pk)
            services.plan_update(actor=request.user, plan=plan, data=forms.plan_input(request.POST))
        except DomainError as exc:
            return _page(request, "activities/plan.html", {**context, "op": request.POST.get("op")}, exc)
        messages.success(request, "已保存培训计划")
        return redirect("activities:plan", plan.pk)
    return _page(request, "activities/plan.html", context)


@require_GET
@requires_perm(ActivityPerm.VIEW)
def courses(request: HttpRequest) -> HttpResponse:
    qs = selectors.courses_for_actor(actor=request.user)
    q = parsing.clean(request.GET.get("q"))[:40]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(trade__icontains=q))
    return render(request, "activities/courses.html", {"page": paginate(request, qs), "q": q})


def _course_context(request: HttpRequest, course: Course) -> dict[str, Any]:
    can_manage = has_perm_on(request.user, M, course.organization)
    sessions, matrix = selectors.attendance_matrix(course)
    status = request.GET.get("status", "")
    return {
        "course": course,
        "can_manage": can_manage,
        "sessions": sessions,
        "matrix": matrix,
        "counts": selectors.roster_counts(course.roster_id),
        "status": status if status in PlaceStatus.values else "",
        "statuses": PlaceStatus.choices,
        "page": paginate(request, selectors.roster_places(course.roster_id, status=status)),
        "certificates": selectors.course_certificates(course)[:200],
        "instructors": selectors.instructors_for_actor(actor=request.user, organization=course.organization)
        if can_manage
        else [],
        "today": timezone.localdate(),
        "current": {
            "name": course.name,
            "trade": course.trade,
            "instructor": str(course.instructor_id),
            "location": course.location,
            "description": course.description,
            "capacity": course.roster.capacity,
            "certificate_sessions": course.certificate_sessions,
        },
    }


@require_http_methods(["GET", "POST"])
@requires_perm(ActivityPerm.VIEW)
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_get_for_actor(actor=request.user, pk=pk)
    if request.method == "POST":
        course = selectors.course_get_for_actor(actor=request.user, pk=pk, perm=M)
        context = _course_context(request, course)
        op = request.POST.get("op")
        try:
            if op == "sessions":
                created = services.sessions_create(
                    actor=request.user, course=course, data=forms.sessions_input(request.POST)
                )
                messages.success(request, "已排课 %(n)s 次" % {"n": len(created)})
            elif op == "certificates":
                issued = services.certificates_issue(actor=request.user, course=course)
                messages.success(request, "已颁发结业证书 %(n)s 份" % {"n": len(issued)})
            elif op == "cancel":
                place = selectors.place_get_in_roster(roster_id=course.roster_id, pk=_pk(request, "place"))
                result = services.place_cancel(user=request.user, place=place)
                messages.success(request, _cancelled_message(result.promoted is not None))
            else:
                services.course_update(
                    actor=request.user, course=course, data=forms.course_input(request.POST, context["instructors"])
                )
                messages.success(request, "已保存班次")
        except DomainError as exc:
            return _page(request, "activities/course.html", {**context, "op": op}, exc)
        return redirect("activities:course", course.pk)
    return _page(request, "activities/course.html", _course_context(request, course))


def _cancelled_message(promoted: bool) -> str:
    return "已取消报名，候补第一位已转为正式学员" if promoted else "已取消报名"


def _place_rows(page_places: Any) -> list[list[Any]]:
    return [
        [
            p.seq,
            p.member.name,
            p.member.member_no,
            p.member.organization.name,
            p.get_status_display(),
            p.rank if p.status == PlaceStatus.WAITLISTED else "",
            timezone.localtime(p.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            "是" if p.promoted_at else "",
        ]
        for p in page_places
    ]


PLACE_HEADER = ["报名序号", "姓名", "会员编号", "所属工会", "状态", "候补顺位", "报名时间", "候补转正"]


@require_GET
@requires_perm(ActivityPerm.VIEW)
def course_export(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_get_for_actor(actor=request.user, pk=pk)
    sessions, matrix = selectors.attendance_matrix(course)
    attendance = Sheet(
        "考勤",
        ["姓名", "会员编号", *[timezone.localtime(s.starts_at).strftime("%m-%d %H:%M") for s in sessions], "出勤次数"],
        ([p.member.name, p.member.member_no, *["√" if m else "" for m in marks], n] for p, marks, n in matrix),
    )
    roster = Sheet("报名名单", PLACE_HEADER, _place_rows(selectors.roster_places(course.roster_id)))
    export = xlsx_export(
        actor=request.user,
        action="activities.attendance_export",
        filename="%s-名单与考勤.xlsx" % course.name,
        sheets=[roster, attendance],
        obj=course,
        organization=course.organization,
    )
    return download(export)


@require_http_methods(["GET", "POST"])
@requires_perm(ActivityPerm.VIEW)
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.session_get_for_actor(actor=request.user, pk=pk)
    checkin_url = request.build_absolute_uri(reverse("activities:h5_checkin", args=[session.checkin_token]))
    context: dict[str, Any] = {
        "session": session,
        "course": session.course,
        "checkin_url": checkin_url,
        "qr": qr_data_uri(checkin_url, scale=8),
        "attendances": selectors.session_attendance(session),
        "confirmed": selectors.roster_places(session.course.roster_id, status=PlaceStatus.CONFIRMED)[:500],
        "can_manage": has_perm_on(request.user, M, session.course.organization),
    }
    if request.method == "POST":
        session = selectors.session_get_for_actor(actor=request.user, pk=pk, perm=M)
        op = request.POST.get("op")
        try:
            if op == "edit":
                data = forms.sessions_input({**request.POST.dict(), "weeks": "1"})
                services.session_update(
                    actor=request.user,
                    session=session,
                    topic=data.topic,
                    day=data.first_day,
                    start=data.start,
                    end=data.end,
                )
                messages.success(request, "已调整课次")
            else:
                member = selectors.member_in_roster(roster_id=session.course.roster_id, pk=_pk(request, "member"))
                services.checkin_by_staff(actor=request.user, session=session, member=member)
                messages.success(request, "已补签")
        except DomainError as exc:
            return _page(request, "activities/session.html", {**context, "op": op}, exc)
        return redirect("activities:session", session.pk)
    return _page(request, "activities/session.html", context)


# ---- console: activities --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(ActivityPerm.VIEW)
def activities(request: HttpRequest) -> HttpResponse:
    qs = selectors.activities_for_actor(actor=request.user)
    kind = request.GET.get("kind", "")
    if kind in ActivityKind.values:
        qs = qs.filter(kind=kind)
    context = {
        "page": paginate(request, qs),
        "kinds": ActivityKind.choices,
        "kind": kind if kind in ActivityKind.values else "",
        "can_manage": scope_root_for_actor(actor=request.user, perm=M) is not None,
    }
    if request.method == "POST":
        try:
            activity = services.activity_create(
                actor=request.user, organization=_organization(request), data=forms.activity_input(request.POST)
            )
        except DomainError as exc:
            return _page(request, "activities/activities.html", context, exc)
        messages.success(request, "已发布活动")
        return redirect("activities:activity", activity.pk)
    return _page(request, "activities/activities.html", context)


def _activity_context(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    status = request.GET.get("status", "")
    draw = selectors.draw_of(activity)
    return {
        "activity": activity,
        "kinds": ActivityKind.choices,
        "can_manage": has_perm_on(request.user, M, activity.organization),
        "counts": selectors.roster_counts(activity.roster_id),
        "status": status if status in PlaceStatus.values else "",
        "statuses": PlaceStatus.choices,
        "page": paginate(request, selectors.roster_places(activity.roster_id, status=status)),
        "draw": draw,
        "current": {
            "kind": activity.kind,
            "title": activity.title,
            "location": activity.location,
            "description": activity.description,
            "starts_on": activity.starts_on.isoformat(),
            "ends_on": activity.ends_on.isoformat(),
            "signup_closes_at": timezone.localtime(activity.signup_closes_at).strftime("%Y-%m-%dT%H:%M"),
            "capacity": activity.roster.capacity,
            "lottery": "1" if activity.lottery else "",
        },
        "draw_order": ", ".join(str(s) for s in draw.order[:60]) if draw else "",
        "closed": activity.signup_closes_at <= timezone.now(),
    }


@require_http_methods(["GET", "POST"])
@requires_perm(ActivityPerm.VIEW)
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_get_for_actor(actor=request.user, pk=pk)
    if request.method == "POST":
        activity = selectors.activity_get_for_actor(actor=request.user, pk=pk, perm=M)
        op = request.POST.get("op")
        try:
            if op == "draw":
                draw = services.activity_draw(actor=request.user, activity=activity)
                messages.success(request, "抽签完成，种子 %(s)s" % {"s": draw.seed})
            elif op == "cancel":
                place = selectors.place_get_in_roster(roster_id=activity.roster_id, pk=_pk(request, "place"))
                result = services.place_cancel(user=request.user, place=place)
                messages.success(request, _cancelled_message(result.promoted is not None))
            else:
                services.activity_update(actor=request.user, activity=activity, data=forms.activity_input(request.POST))
                messages.success(request, "已保存活动")
        except DomainError as exc:
            return _page(request, "activities/activity.html", {**_activity_context(request, activity), "op": op}, exc)
        return redirect("activities:activity", activity.pk)
    return _page(request, "activities/activity.html", _activity_context(request, activity))


@require_GET
@requires_perm(ActivityPerm.MANAGE)
def activity_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The roster, with the children's names and birth dates in full for a summer camp (the
    read of child data is audited on its own)."""
    activity = selectors.activity_get_for_actor(actor=request.user, pk=pk, perm=M)
    rows = list(selectors.roster_places(activity.roster_id))
    header = list(PLACE_HEADER)
    body = _place_rows(rows)
    if activity.needs_child:
        children = services.children_read(actor=request.user, activity=activity, places_=rows, purpose="导出名单")
        header += ["子女姓名", "子女出生日期"]
        body = [row + list(children.get(p.pk, ("", ""))) for row, p in zip(body, rows, strict=True)]
    export = xlsx_export(
        actor=request.user,
        action="activities.roster_export",
        filename="%s-报名名单.xlsx" % activity.title,
        sheets=[Sheet("报名名单", header, body)],
        obj=activity,
        organization=activity.organization,
    )
    return download(export)


# ---- member H5 ------------------------------------------------------------------------------


def _me(request: HttpRequest) -> Any:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


def _place_view(place: Any) -> dict[str, Any]:
    waiting = selectors.waiting_position(place) if place and place.status == PlaceStatus.WAITLISTED else None
    return {"place": place, "waiting": waiting}


@require_GET
def h5_home(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    mine = list(selectors.member_places(member)[:100])
    taken = {p.roster_id for p in mine}
    courses: dict[int, Course | None] = {p.pk: getattr(p.roster, "course", None) for p in mine}
    attendance = selectors.member_attendance(member, [c.pk for c in courses.values() if c is not None])
    attended = {pk: attendance.get(c.pk) if c is not None else None for pk, c in courses.items()}
    return render(
        request,
        "activities/h5/home.html",
        {
            "mine": [
                {
                    **_place_view(p),
                    "course": courses[p.pk],
                    "attendance": attended[p.pk],
                }
                for p in mine
            ],
            "courses": [c for c in selectors.courses_open_for(member)[:50] if c.roster_id not in taken],
            "activities": [a for a in selectors.activities_open_for(member)[:50] if a.roster_id not in taken],
            "certificates": selectors.member_certificates(member)[:50],
            "now": timezone.now(),
        },
    )


@require_http_methods(["GET", "POST"])
def h5_course(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    course = selectors.course_for_member(member, pk)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            if request.POST.get("op") == "cancel":
                place = selectors.member_place_in(member, course.roster_id)
                if place is None:
                    raise NotFound("您没有报名该班次")
                services.place_cancel(user=request.user, place=place, by_member=member)
                messages.success(request, "已取消报名")
            else:
                place = services.course_signup(user=request.user, member=member, course=course)
                messages.success(request, _signed_up_message(place.status))
            return redirect("activities:h5_course", pk)
        except DomainError as exc:
            error = exc
    place = selectors.member_place_in(member, course.roster_id)
    context = {
        "course": course,
        **_place_view(place),
        "sessions": selectors.member_sessions(member, course),
        "counts": selectors.roster_counts(course.roster_id),
    }
    return _page(request, "activities/h5/course.html", context, error)


def _signed_up_message(status: str) -> str:
    messages_by_status: dict[str, str] = {
        PlaceStatus.CONFIRMED: "报名成功，您已被录取",
        PlaceStatus.WAITLISTED: "名额已满，您已进入候补名单，有人取消时按顺序自动递补",
        PlaceStatus.ENTERED: "报名成功，报名截止后抽签确定名单",
    }
    return messages_by_status.get(status, "报名成功")


@require_http_methods(["GET", "POST"])
def h5_activity(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    activity = selectors.activity_for_member(member, pk)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            if request.POST.get("op") == "cancel":
                place = selectors.member_place_in(member, activity.roster_id)
                if place is None:
                    raise NotFound("您没有报名该活动")
                services.place_cancel(user=request.user, place=place, by_member=member)
                messages.success(request, "已取消报名")
            else:
                child = forms.child_input(request.POST) if activity.needs_child else None
                place = services.activity_signup(user=request.user, member=member, activity=activity, child=child)
                messages.success(request, _signed_up_message(place.status))
            return redirect("activities:h5_activity", pk)
        except DomainError as exc:
            error = exc
    context = {
        "activity": activity,
        **_place_view(selectors.member_place_in(member, activity.roster_id)),
        "counts": selectors.roster_counts(activity.roster_id),
        "closed": activity.signup_closes_at <= timezone.now(),
        "draw": selectors.draw_of(activity),
    }
    return _page(request, "activities/h5/activity.html", context, error)


@require_http_methods(["GET", "POST"])
def h5_checkin(request: HttpRequest, token: str) -> HttpResponse:
    member = _me(request)
    session = selectors.session_by_token(token)
    if session is None or not member.organization.path.startswith(session.course.organization.path):
        raise NotFound("签到码无效")
    if request.method == "POST":
        try:
            services.checkin(user=request.user, member=member, token=token)
        except DomainError as exc:
            return _page(request, "activities/h5/checkin.html", {"session": session}, exc)
        messages.success(request, "签到成功")
        return redirect("activities:h5_course", session.course_id)
    return render(request, "activities/h5/checkin.html", {"session": session})


@require_GET
def h5_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    certificate = selectors.certificate_for_member(member, pk)
    verify_url = request.build_absolute_uri(reverse("activities:verify") + "?no=" + certificate.number)
    response = HttpResponse(pdf.certificate_pdf(certificate, verify_url=verify_url), content_type="application/pdf")
    response["Content-Disposition"] = attachment_header("结业证书-%s.pdf" % certificate.number)
    return response


@public
@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """证书查验: a certificate number answers with the course, the masked holder and the date."""
    number = parsing.clean(request.GET.get("no"))[:24]
    certificate = None
    if number:
        if not ratelimit.allow(
            "activities.verify",
            str(request.META.get("REMOTE_ADDR", "")),
            limit=VERIFY_LIMIT,
            window_seconds=VERIFY_WINDOW,
        ):
            raise RateLimited("查询过于频繁，请稍后再试")
        certificate = selectors.certificate_by_number(number)
    holder = mask_name(certificate.member.name) if certificate else ""
    return render(request, "activities/verify.html", {"number": number, "certificate": certificate, "holder": holder})
