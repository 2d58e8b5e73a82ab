"""The tenant layer's answers to the workflow kernel (`gonghui.core.workflow.Authorizer`):
roles held on an organisation or an ancestor, the line of ancestors and the level."""

from typing import Any

from django.db.models import Q

from gonghui.organizations.models import PATH_STEP, Organization
from gonghui.organizations.selectors import (
    ancestors,
    has_perm_anywhere,
    has_perm_on,
    is_staff_user,
    requires_totp,
    scope_paths,
    scope_q,
)


class OrganizationAuthorizer:
    def has_perm(self, actor: Any, perm: str, organization: Organization) -> bool:
        return has_perm_on(actor, perm, organization)

    def lineage(self, organization: Organization) -> list[Organization]:
        return [*ancestors(organization), organization]

    def level(self, organization: Organization) -> int:
        return organization.level

    def get(self, organization_id: int) -> Organization:
        return Organization.objects.get(pk=organization_id)

    def has_perm_anywhere(self, actor: Any, perm: str) -> bool:
        return has_perm_anywhere(actor, perm)

    def is_staff(self, actor: Any) -> bool:
        return is_staff_user(actor)

    def requires_totp(self, actor: Any) -> bool:
        return requires_totp(actor)

    def scope_q(self, actor: Any, perm: str, *, field: str) -> Q:
        return scope_q(actor, perm, field=field)

    def holds_at_root(self, actor: Any, perm: str) -> bool:
        return any(len(path) == PATH_STEP + 1 for path in scope_paths(actor, perm))
