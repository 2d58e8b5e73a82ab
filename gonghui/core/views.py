import datetime as dt

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from gonghui.core import dashboard as cards
from gonghui.core import selectors
from gonghui.core.access import public
from gonghui.core.pagination import paginate
from gonghui.core.permissions import Perm
from gonghui.organizations.permissions import requires_perm
from gonghui.organizations.selectors import is_staff_user


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The site root: members to their H5 home, staff to the console, others to a chooser."""
    user = request.user
    if user.is_authenticated and is_staff_user(user):
        return redirect("core:dashboard")
    if user.is_authenticated and getattr(user, "member_profile", None) is not None:
        return redirect("members:h5_home")
    return render(request, "core/landing.html")


@public
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/dashboard.html",
        {"stats": selectors.dashboard_stats(actor=request.user), "cards": cards.cards_for(request.user)},
    )


@require_GET
@requires_perm(Perm.AUDIT_READ)
def audit_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.audit_events_for_actor(
        actor=request.user,
        action=request.GET.get("action", "").strip(),
        actor_label=request.GET.get("actor", "").strip(),
        object_id=request.GET.get("object_id", "").strip(),
        date_from=_date(request.GET.get("date_from")),
        date_to=_date(request.GET.get("date_to")),
    )
    page = paginate(request, qs, per_page=50)
    return render(request, "core/audit_list.html", {"page": page, "filters": request.GET})


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
