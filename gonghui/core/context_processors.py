from typing import Any

from django.http import HttpRequest


def console(request: HttpRequest) -> dict[str, Any]:
    """Navigation for the staff console: which sections this user's roles open."""
    from gonghui.core import registry
    from gonghui.core.permissions import Perm
    from gonghui.core.workflow import authorizer

    tenant = authorizer()
    has_perm_anywhere = tenant.has_perm_anywhere

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/h5/") or not tenant.is_staff(user):
        return {}
    can = {
        "org": has_perm_anywhere(user, Perm.ORG_VIEW),
        "members": has_perm_anywhere(user, Perm.MEMBER_VIEW),
        "import": has_perm_anywhere(user, Perm.MEMBER_IMPORT),
        "applications": has_perm_anywhere(user, Perm.MEMBER_EDIT),
        "transfer": has_perm_anywhere(user, Perm.TRANSFER_SUBMIT) or has_perm_anywhere(user, Perm.TRANSFER_APPROVE),
        "campaigns": has_perm_anywhere(user, Perm.CAMPAIGN_MANAGE) or has_perm_anywhere(user, Perm.CAMPAIGN_REPORT),
        "redeem": has_perm_anywhere(user, Perm.COUPON_REDEEM),
        "devices": has_perm_anywhere(user, Perm.DEVICE_MANAGE),
        "health": has_perm_anywhere(user, Perm.HEALTH_VIEW),
        "audit": has_perm_anywhere(user, Perm.AUDIT_READ),
        "policies": has_perm_anywhere(user, Perm.POLICY_VIEW),
        "staff": has_perm_anywhere(user, Perm.STAFF_MANAGE),
    }
    return {"nav_can": can, "nav_registered": registry.nav_items(lambda perm: has_perm_anywhere(user, perm))}
