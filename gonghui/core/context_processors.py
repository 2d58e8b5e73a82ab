from typing import Any

from django.http import HttpRequest

from gonghui.core import registry
from gonghui.core.workflow import authorizer


def console(request: HttpRequest) -> dict[str, Any]:
    """The staff console's sidebar: the entries the apps registered that this user's roles open."""

    tenant = authorizer()
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/h5/") or not tenant.is_staff(user):
        return {}
    return {"nav_registered": registry.nav_items(lambda perm: tenant.has_perm_anywhere(user, perm))}
