from django.http import HttpRequest
from ninja import Router, Schema

from gonghui.accounts.api_auth import member_session
from gonghui.core.errors import NotFound, PermissionDenied
from gonghui.core.openapi import BODY_ERRORS, SESSION_ERRORS, ErrorOut
from gonghui.members import card, selectors
from gonghui.members.permissions import MemberPerm
from gonghui.organizations.selectors import has_perm_anywhere, has_perm_on

router = Router(tags=["会员"])


class MemberCardOut(Schema):
    member_no: str
    name_masked: str
    organization: str
    status: str


class MeOut(Schema):
    member_no: str
    card_no: str
    name: str
    id_masked: str
    phone_masked: str
    organization: str
    status: str
    tags: list[str]


class CardVerifyIn(Schema):
    token: str


@router.get(
    "/me",
    auth=member_session,
    response={200: MeOut, SESSION_ERRORS | {404}: ErrorOut},
    summary="当前会员的资料（脱敏）",
)
def me(request: HttpRequest) -> MeOut:
    member = selectors.member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return MeOut(
        member_no=member.member_no,
        card_no=member.card_no,
        name=member.name,
        id_masked=member.id_masked,
        phone_masked=member.phone_masked,
        organization=member.organization.name,
        status=member.get_status_display(),
        tags=member.tag_labels,
    )


@router.post(
    "/card/verify",
    response={200: MemberCardOut, SESSION_ERRORS | BODY_ERRORS | {404}: ErrorOut},
    summary="核验会员码（核销员）",
)
def card_verify(request: HttpRequest, payload: CardVerifyIn) -> MemberCardOut:
    if not has_perm_anywhere(request.user, MemberPerm.CARD_VERIFY):
        raise PermissionDenied("只有核销员可以核验会员码")
    member = card.card_token_verify(token=payload.token)
    # A clerk outside the member's sub-tree learns nothing about whose card it is.
    if not has_perm_on(request.user, MemberPerm.CARD_VERIFY, member.organization):
        raise NotFound("会员码无效")
    return MemberCardOut(
        member_no=member.member_no,
        name_masked=member.name_masked,
        organization=member.organization.name,
        status=member.get_status_display(),
    )
