"""File names of the member exports (会员名册, 制卡数据): the organisation the list covers and today."""

from typing import Any

from gonghui.core.filenames import download_name
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import organizations_for_actor, scope_paths


def _covered(*, actor: Any, perm: str, organization: Organization | None) -> str:
    if organization is not None:
        return organization.name
    tops = list(
        organizations_for_actor(actor=actor, perm=perm)
        .filter(path__in=scope_paths(actor, perm))
        .order_by("path")
        .values_list("name", flat=True)[:2]
    )
    if len(tops) > 1:
        return "%(name)s等" % {"name": tops[0]}
    return tops[0] if tops else ""


def members_export_name(*, actor: Any, perm: str, organization: Organization | None) -> str:
    return download_name("会员名册", _covered(actor=actor, perm=perm, organization=organization), ext="xlsx")


def cards_export_name(*, actor: Any, perm: str, organization: Organization | None) -> str:
    return download_name("制卡数据", _covered(actor=actor, perm=perm, organization=organization), ext="xlsx")
