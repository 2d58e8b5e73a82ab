"""Markers for the access policy enforced by `middleware.AccessPolicyMiddleware`.

Every view needs a signed-in user unless it is marked `@public`; the URL test lists every
public view by name, so adding one is a reviewed decision."""

from collections.abc import Callable
from typing import TypeVar

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
