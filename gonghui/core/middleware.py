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

logger = logging.getLogger(__name__)

SESSION_OTP_OK = "otp_ok"


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
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


class AccessPolicyMiddleware:
    """Deny by default. A view runs only if it is `@public`, or the user is signed in and
    belongs to the view's area: member pages (`/h5/`) need a member record, every other page
    needs a staff role (and TOTP for 管理员/审计员). The JSON API (`/api/`) carries its own
    authentication on every operation (see `config/api.py`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        from gonghui.organizations.selectors import is_staff_user, requires_totp

        if getattr(view_func, "gonghui_public", False):
            return None
        path = request.path
        if path.startswith("/api/"):
            return None
        user = request.user
        if _is_member_path(path):
            if not user.is_authenticated:
                return _redirect_to(reverse("members:h5_login"), request)
            if getattr(user, "member_profile", None) is None:
                return _denied(request, "该账号不是会员，请使用会员手机号登录")
            return None
        if not user.is_authenticated:
            return _redirect_to(reverse("accounts:staff_login"), request)
        if not is_staff_user(user):
            return _denied(request, "该账号没有工作人员权限")
        if getattr(view_func, "gonghui_otp_exempt", False):
            return None
        if requires_totp(user) and not request.session.get(SESSION_OTP_OK):
            return _redirect_to(reverse("accounts:otp"), request)
        return None

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
