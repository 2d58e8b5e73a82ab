"""The clerk's phone page (核销员): choose the point, scan or type a code, see the coupon,
tap once to redeem. A staff page (not under /h5/): the staff access rules apply."""

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from gonghui.benefits import codes, selectors
from gonghui.benefits.models import RedemptionPoint
from gonghui.benefits.permissions import BenefitPerm
from gonghui.benefits.redemption import clerk_redeem, coupon_lookup
from gonghui.core import parsing
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, NotFound

SESSION_POINT = "benefits_clerk_point"
RECENT = 10


def _current_point(request: HttpRequest) -> RedemptionPoint | None:
    points = selectors.points_for_clerk(actor=request.user)
    point_id = request.session.get(SESSION_POINT)
    point = points.filter(pk=point_id).first() if point_id else None
    if point is None and points.count() == 1:
        point = points.first()
    return point


def _require_point(request: HttpRequest) -> RedemptionPoint:
    point = _current_point(request)
    if point is None:
        raise NotFound("请先选择核销点")
    return point


def _fragment(request: HttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    # htmx swaps only 2xx answers; the fragment itself says whether it is an error.
    return render(request, template, context)


@require_GET
@requires_perm(BenefitPerm.COUPON_REDEEM)
def clerk_home(request: HttpRequest) -> HttpResponse:
    point = _current_point(request)
    now = timezone.now()
    return render(
        request,
        "benefits/clerk/redeem.html",
        {
            "points": selectors.points_for_clerk(actor=request.user)[:200],
            "point": point,
            "locked": bool(point and point.locked_until and point.locked_until > now),
            "recent": selectors.recent_redemptions_at(point=point, limit=RECENT) if point else [],
        },
    )


@require_POST
@requires_perm(BenefitPerm.COUPON_REDEEM)
def clerk_point(request: HttpRequest) -> HttpResponse:
    point = (
        selectors.points_for_clerk(actor=request.user).filter(pk=parsing.query_id(request.POST, "point") or 0).first()
    )
    if point is None:
        raise NotFound("核销点不存在或您不是该点的核销员")
    request.session[SESSION_POINT] = point.pk
    return redirect("benefits:clerk_home")


@require_POST
@requires_perm(BenefitPerm.COUPON_REDEEM)
def clerk_lookup(request: HttpRequest) -> HttpResponse:
    point = _require_point(request)
    raw = request.POST.get("code", "")
    try:
        coupon = coupon_lookup(code_raw=raw, point=point, clerk=request.user)
    except DomainError as exc:
        return _fragment(request, "benefits/clerk/_result.html", {"error": exc})
    return _fragment(
        request,
        "benefits/clerk/_lookup.html",
        {
            "coupon": coupon,
            "items": list(coupon.campaign.items.all()),
            "code": coupon.code,
            "code_display": codes.display(coupon.code),
            "request_id": uuid.uuid4().hex,
            "point": point,
        },
    )


@require_POST
@requires_perm(BenefitPerm.COUPON_REDEEM)
def clerk_confirm(request: HttpRequest) -> HttpResponse:
    point = _require_point(request)
    try:
        status, body = clerk_redeem(
            clerk=request.user,
            point=point,
            code_raw=request.POST.get("code", ""),
            request_id=request.POST.get("request_id", ""),
        )
    except DomainError as exc:
        return _fragment(request, "benefits/clerk/_result.html", {"error": exc})
    if status != 200:
        return _fragment(request, "benefits/clerk/_result.html", {"error": body})
    # The answer also replaces 本点最近核销 (out of band), so the new line shows at once.
    return _fragment(
        request,
        "benefits/clerk/_result.html",
        {"result": body, "recent": selectors.recent_redemptions_at(point=point, limit=RECENT)},
    )
