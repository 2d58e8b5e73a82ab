"""JSON endpoints of the benefits domain, mounted at /api/benefits/.

Member operations use the member session (`member_session`, CSRF-checked); device operations
under /device/ are authenticated only by the device's HMAC signature
(`core.signing.verify_request`)."""

import datetime as dt
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Header, Router, Schema
from ninja.security.base import AuthBase

from gonghui.accounts.api_auth import member_session
from gonghui.benefits import claiming, codes, redemption, selectors
from gonghui.benefits.models import Coupon
from gonghui.core import signing
from gonghui.core.errors import NotFound
from gonghui.core.models import Device
from gonghui.core.openapi import (
    DEVICE_ERRORS,
    IDEMPOTENCY_KEY_DESCRIPTION,
    IDEMPOTENCY_KEY_PATTERN,
    SESSION_ERRORS,
    SIGNATURE_DESCRIPTION,
    SIGNATURE_PARAMETERS,
    ErrorOut,
)
from gonghui.members.models import Member
from gonghui.members.selectors import member_of_user

router = Router(tags=["惠工活动"])

SIGNATURE_HEADERS = ("X-Device-Key", "X-Timestamp", "X-Nonce", "X-Signature")


class DeviceSignature(AuthBase):
    """HMAC-SHA256 device signature (see `gonghui.core.signing`); refusals answer 401 JSON."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "X-Signature"
    openapi_description = SIGNATURE_DESCRIPTION

    def __call__(self, request: HttpRequest) -> Device:
        headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
        return signing.verify_request(
            method=request.method or "",
            path=request.get_full_path(),
            headers=headers,
            body=request.body,
            load_device=redemption.device_with_point,
        )


class ItemOut(Schema):
    name: str
    quantity: int
    face_value_fen: int


class CouponOut(Schema):
    id: int
    campaign_id: int
    campaign: str
    status: str
    status_label: str
    code: str | None
    face_value_fen: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    claimed_at: dt.datetime | None
    redeemed_at: dt.datetime | None


class RedeemIn(Schema):
    request_id: str
    code: str


class RedeemOut(Schema):
    result: str
    redemption_id: int
    redeemed_at: str
    point: str
    campaign: str
    items: list[ItemOut]
    face_value_fen: int
    code_masked: str
    member: str


def _member(request: HttpRequest) -> Member:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


def coupon_out(coupon: Coupon) -> dict[str, Any]:
    campaign = coupon.campaign
    return {
        "id": coupon.pk,
        "campaign_id": campaign.pk,
        "campaign": campaign.name,
        "status": coupon.status,
        "status_label": coupon.get_status_display(),
        # An assigned coupon shows its code only once the member has claimed it.
        "code": codes.display(coupon.code) if coupon.claimed_at else None,
        "face_value_fen": coupon.face_value_fen,
        "valid_from": campaign.valid_from,
        "valid_until": campaign.valid_until,
        "claimed_at": coupon.claimed_at,
        "redeemed_at": coupon.redeemed_at,
    }


@router.post(
    "/campaigns/{campaign_id}/claim",
    auth=member_session,
    response={200: CouponOut, SESSION_ERRORS | {404, 409, 422}: ErrorOut},
    url_name="benefits_claim",
    summary="领取一张券（会员）；相同 Idempotency-Key 的重试返回同一张券",
)
def claim(
    request: HttpRequest,
    campaign_id: int,
    idempotency_key: str = Header(
        "", alias="Idempotency-Key", description=IDEMPOTENCY_KEY_DESCRIPTION, pattern=IDEMPOTENCY_KEY_PATTERN
    ),
) -> dict[str, Any]:
    member = _member(request)
    coupon = claiming.coupon_claim(member=member, campaign_id=campaign_id, idempotency_key=idempotency_key)
    return coupon_out(selectors.my_coupon(member=member, pk=coupon.pk))


@router.get(
    "/my-coupons",
    auth=member_session,
    response={200: list[CouponOut], SESSION_ERRORS | {404}: ErrorOut},
    url_name="benefits_my_coupons",
    summary="我的券",
)
def my_coupons(request: HttpRequest, tab: str = "usable") -> list[dict[str, Any]]:
    member = _member(request)
    return [coupon_out(c) for c in selectors.my_coupons(member=member, tab=tab)[:200]]


@router.post(
    "/device/redeem",
    auth=DeviceSignature(),
    response={200: RedeemOut, DEVICE_ERRORS | {400, 403, 404, 409, 429}: ErrorOut},
    openapi_extra={"parameters": SIGNATURE_PARAMETERS},
    url_name="benefits_device_redeem",
    summary="设备核销（售货机、核销终端）；相同 request_id 的重试返回首次结果",
)
def device_redeem(request: HttpRequest, payload: RedeemIn) -> JsonResponse:
    device: Device = request.auth  # type: ignore[attr-defined]
    status, body = redemption.device_redeem(device=device, code_raw=payload.code, request_id=payload.request_id)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
