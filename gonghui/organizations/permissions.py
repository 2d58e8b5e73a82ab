from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest

from gonghui.core.errors import PermissionDenied
from gonghui.organizations.selectors import has_perm_anywhere


def requires_perm(*perms: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A console view that needs at least one of `perms` on some organisation. The objects it
    shows are still narrowed by selectors to where the permission holds."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not any(has_perm_anywhere(request.user, perm) for perm in perms):
                raise PermissionDenied("您的角色无权使用此功能")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
