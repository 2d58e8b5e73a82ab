from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from gonghui.core import dashboard as cards
from gonghui.core.access import public
from gonghui.organizations.selectors import is_staff_user
from gonghui.site import selectors


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The site root: members to their H5 home, staff to the console, others to a chooser."""
    user = request.user
    if user.is_authenticated and is_staff_user(user):
        return redirect("site:dashboard")
    if user.is_authenticated and getattr(user, "member_profile", None) is not None:
        return redirect("members:h5_home")
    return render(request, "site/landing.html")


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/dashboard.html",
        {"stats": selectors.dashboard_stats(actor=request.user), "cards": cards.cards_for(request.user)},
    )
