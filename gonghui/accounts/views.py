from typing import cast

import segno
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from gonghui.accounts import services
from gonghui.accounts.models import User
from gonghui.core.access import otp_exempt, public
from gonghui.core.errors import DomainError
from gonghui.core.middleware import SESSION_OTP_OK
from gonghui.core.workflow import authorizer


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@public
@require_http_methods(["GET", "POST"])
def staff_login(request: HttpRequest) -> HttpResponse:
    error = None
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "")
        try:
            user = services.staff_authenticate(username=username, password=request.POST.get("password", ""))
            if not authorizer().is_staff(user):
                raise services.LoginFailed("该账号没有工作人员权限")
        except DomainError as exc:
            error = exc.message
        else:
            login(request, user, backend="gonghui.accounts.backends.StaffPasswordBackend")
            request.session[SESSION_OTP_OK] = False
            if authorizer().requires_totp(user):
                return redirect(f"/accounts/otp/?next={_safe_next(request, '/console/')}")
            return redirect(_safe_next(request, "/console/"))
    idle = request.session.pop("idle_logged_out", False)
    return render(
        request,
        "accounts/staff_login.html",
        {"error": error, "username": username, "next": _safe_next(request, ""), "idle": idle},
        status=401 if error else 200,
    )


@otp_exempt
@require_http_methods(["GET", "POST"])
def otp(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    error = None
    status = 200
    if request.method == "POST":
        try:
            services.totp_verify(user=user, code=request.POST.get("code", ""))
        except DomainError as exc:
            error = exc.fields.get("code", exc.message)
            status = exc.status
        else:
            request.session.cycle_key()
            request.session[SESSION_OTP_OK] = True
            return redirect(_safe_next(request, "/console/"))
    enrolment_qr = None
    secret = None
    if not user.totp_confirmed:
        if request.method == "GET" or not user.totp_secret_encrypted:
            secret = services.totp_begin_enrolment(user=user)
        else:
            secret = services.totp_secret(user) or ""
        uri = services.totp_provisioning_uri(user=user, secret=secret)
        enrolment_qr = segno.make(uri, error="m").svg_data_uri(scale=4)
    return render(
        request,
        "accounts/otp.html",
        {"error": error, "enrolment_qr": enrolment_qr, "secret": secret, "next": _safe_next(request, "")},
        status=status,
    )


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    was_member = (
        request.user.is_authenticated
        and getattr(request.user, "member_profile", None) is not None
        and not authorizer().is_staff(request.user)
    )
    logout(request)
    return redirect("/h5/login/" if was_member else "/accounts/login/")
