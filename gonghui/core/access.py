"""Markers for the access policy enforced by `middleware.AccessPolicyMiddleware`.

Every view needs a signed-in user unless it is marked `@public`; the URL test lists every
public view by name, so adding one is a reviewed decision."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest

from gonghui.core.errors import PermissionDenied
from gonghui.core.workflow import authorizer

F = TypeVar("F", bound=Callable[..., object])


def public(view: F) -> F:
    view.gonghui_public = True  # type: ignore[attr-defined]
    return view


def otp_exempt(view: F) -> F:
    """Reachable by signed-in staff before they pass the second factor (the TOTP page, logout)."""
    view.gonghui_otp_exempt = True  # type: ignore[attr-defined]
    return view


def member_area(view: F) -> F:
    view.gonghui_area = "member"  # type: ignore[attr-defined]
    return view


def is_public(view: object) -> bool:
    return bool(getattr(view, "gonghui_public", False))


def requires_perm(*perms: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A console view that needs at least one of `perms` on some organisation. The objects it
    shows are still narrowed by selectors to where the permission holds."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            tenant = authorizer()
            if not any(tenant.has_perm_anywhere(request.user, perm) for perm in perms):
                raise PermissionDenied("您的角色无权使用此功能")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
