"""Member reads for an actor: every query is narrowed to the actor's sub-tree."""

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import F, Q, QuerySet

from gonghui.core import parsing
from gonghui.core.errors import NotFound
from gonghui.core.identifiers import ID_PATTERN
from gonghui.members.identity import id_blind_index
from gonghui.members.models import Member, Tag, Transfer, TransferStatus
from gonghui.members.permissions import MemberPerm
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import organization_by_code_for_actor, scope_q

_DIGITS = re.compile(r"^\d{3,11}$")
_LETTERS = re.compile(r"^[A-Za-z]{1,20}$")
_MEMBER_NO = re.compile(r"^HY\d{14}$")
_CARD_NO = re.compile(r"^\d{19}$")


def member_search_q(query: str) -> Q:
    """What a search box string means: a full ID number (through the blind index), a 会员编号
    or card number, a phone number or its first digits, pinyin initials (`zs` → 张三), or the
    start of a name."""
    text = query.strip().replace(" ", "")
    if not text:
        return Q()
    if _MEMBER_NO.match(text.upper()):
        return Q(member_no=text.upper())
    if _CARD_NO.match(text):
        return Q(card_no=text)
    if ID_PATTERN.match(text.upper()):
        return Q(id_blind=id_blind_index(text))
    if _DIGITS.match(text):
        return Q(phone__startswith=text) | Q(member_no=text) | Q(card_no=text)
    if _LETTERS.match(text):
        upper = text.upper()
        if upper.startswith("HY") and len(upper) > 2 and upper[2:].isdigit():
            return Q(member_no=upper)
        return Q(name_initials__startswith=text.lower())
    return Q(name__startswith=text)


def member_list_for_actor(
    *,
    actor: Any,
    query: str = "",
    organization: Organization | None = None,
    status: str = "",
    tag: int | None = None,
    work_unit: str = "",
    perm: str = MemberPerm.MEMBER_VIEW,
) -> QuerySet[Member]:
    qs = Member.objects.filter(scope_q(actor, perm)).select_related("organization")
    if organization is not None:
        qs = qs.filter(organization__path__startswith=organization.path)
    if status:
        qs = qs.filter(status=status)
    if tag:
        qs = qs.annotate(tag_hit=F("tags").bitand(tag)).filter(tag_hit=tag)
    if query:
        qs = qs.filter(member_search_q(query))
    if work_unit.strip():
        qs = qs.filter(work_unit__startswith=work_unit.strip())
    return qs.order_by("-id")


def member_get_for_actor(*, actor: Any, pk: int | str, perm: str = MemberPerm.MEMBER_VIEW) -> Member:
    member = Member.objects.filter(scope_q(actor, perm)).select_related("organization").filter(pk=pk).first()
    if member is None:
        raise NotFound("会员不存在或无权访问")
    return member


def member_of_user(user: Any) -> Member | None:
    """The signed-in user's member record, with its union (loaded with the user on a request)."""
    if user is None or not user.is_authenticated:
        return None
    return getattr(user, "member_profile", None)


def transfer_list_for_actor(*, actor: Any) -> QuerySet[Transfer]:
    """Transfers the actor may see: leaving or entering an organisation in their scope."""
    out_scope = scope_q(actor, MemberPerm.TRANSFER_APPROVE, "from_org__path") | scope_q(
        actor, MemberPerm.TRANSFER_SUBMIT, "from_org__path"
    )
    in_scope = scope_q(actor, MemberPerm.TRANSFER_APPROVE, "to_org__path") | scope_q(
        actor, MemberPerm.TRANSFER_SUBMIT, "to_org__path"
    )
    return Transfer.objects.filter(out_scope | in_scope).select_related("member", "from_org", "to_org", "submitted_by")


def transfer_get_for_actor(*, actor: Any, pk: int | str) -> Transfer:
    transfer = transfer_list_for_actor(actor=actor).filter(pk=pk).first()
    if transfer is None:
        raise NotFound("转会申请不存在或无权访问")
    return transfer


def open_transfers(qs: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return qs.filter(status__in=[TransferStatus.PENDING_OUT, TransferStatus.PENDING_IN])


def member_list_from_filters(
    *, actor: Any, params: Mapping[str, Any], perm: str = MemberPerm.MEMBER_VIEW
) -> tuple[QuerySet[Member], Organization | None]:
    """The member list the console's filters describe (?q=&org=&status=&tag=&unit=), in the
    actor's scope for `perm`; also the organisation the list was narrowed to, if any."""
    org = None
    org_code = str(params.get("org", "") or "").strip()
    if org_code:
        org = organization_by_code_for_actor(actor=actor, perm=perm, code=org_code)
    tag = parsing.query_id(params, "tag")
    if tag not in Tag.values:
        tag = None
    qs = member_list_for_actor(
        actor=actor,
        query=str(params.get("q", "") or ""),
        organization=org,
        status=str(params.get("status", "") or ""),
        tag=tag,
        work_unit=str(params.get("unit", "") or ""),
        perm=perm,
    )
    return qs, org
