import enum
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from gonghui.core import audit
from gonghui.core.errors import DomainError
from gonghui.core.workflow import authorizer

logger = logging.getLogger(__name__)

SESSION_OTP_OK = "otp_ok"


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind the TLS proxy it is the last X-Forwarded-For entry, the
    one the proxy appended: earlier entries come from the client and prove nothing (a client
    choosing its own address would slip past the per-address SMS caps)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


class SecurityHeadersMiddleware:
    """Headers on every response from a view (static files are served before this runs):
    the CSP and its companions, and `Cache-Control: no-store`, so no page or API answer with
    personal data stays in a browser's or a proxy's cache. Only a view answering an
    anonymous request may choose its own caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = audit.set_request_ip(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            audit.reset_request_ip(token)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        user = getattr(request, "user", None)
        if "Cache-Control" not in response.headers or (user is not None and user.is_authenticated):
            response.headers["Cache-Control"] = "no-store"
        return response


def _is_member_path(path: str) -> bool:
    return path.startswith("/h5/")


class Area(enum.Enum):
    MEMBER = "member"  # member pages (`/h5/`) and member API operations
    STAFF = "staff"  # the console and staff API operations


class Refusal(enum.Enum):
    LOGIN = "login"
    NOT_MEMBER = "not_member"
    NOT_STAFF = "not_staff"
    OTP = "otp"


REFUSAL_MESSAGES = {
    Refusal.LOGIN: "请先登录",
    Refusal.NOT_MEMBER: "该账号不是会员，请使用会员手机号登录",
    Refusal.NOT_STAFF: "该账号没有工作人员权限",
    Refusal.OTP: "请先完成动态口令验证",
}


def access_refusal(request: HttpRequest, *, area: Area, otp_exempt: bool = False) -> Refusal | None:
    """The login policy, for pages and the JSON API alike: a member area needs a member
    record; a staff area needs a staff role, and the TOTP step passed in this session for
    管理员/审计员 (`otp_exempt` only for the pages that lead through that step)."""

    user = request.user
    if not user.is_authenticated:
        return Refusal.LOGIN
    if area is Area.MEMBER:
        return None if getattr(user, "member_profile", None) is not None else Refusal.NOT_MEMBER
    if not authorizer().is_staff(user):
        return Refusal.NOT_STAFF
    if not otp_exempt and authorizer().requires_totp(user) and not request.session.get(SESSION_OTP_OK):
        return Refusal.OTP
    return None


class AccessPolicyMiddleware:
    """Deny by default. A view runs only if it is `@public`, or `access_refusal` lets the
    user into the view's area: member pages (`/h5/`) need a member record, every other page
    needs a staff role (and TOTP for 管理员/审计员). The JSON API (`/api/`) carries its own
    authentication on every operation, which applies the same `access_refusal` (see
    `config/api.py`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view_func, "gonghui_public", False):
            return None
        if request.path.startswith("/api/"):
            return None
        area = Area.MEMBER if _is_member_path(request.path) else Area.STAFF
        refusal = access_refusal(request, area=area, otp_exempt=getattr(view_func, "gonghui_otp_exempt", False))
        if refusal is None:
            return None
        if refusal is Refusal.LOGIN:
            login_url = reverse("members:h5_login") if area is Area.MEMBER else reverse("accounts:staff_login")
            return _redirect_to(login_url, request)
        if refusal is Refusal.OTP:
            return _redirect_to(reverse("accounts:otp"), request)
        return _denied(request, REFUSAL_MESSAGES[refusal])

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if request.path.startswith("/api/") or request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse(exception.as_dict(), status=exception.status)
        return render(request, _error_template(request), {"error": exception}, status=exception.status)


def _redirect_to(login_url: str, request: HttpRequest) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")


def _error_template(request: HttpRequest) -> str:
    if request.headers.get("HX-Request"):
        return "core/error_fragment.html"
    return "core/error_h5.html" if _is_member_path(request.path) else "core/error.html"


def _denied(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, _error_template(request), {"error": DomainError(message)}, status=403)
