"""Health JSON API. The 健康小屋 device endpoint is authenticated only by the device's HMAC
signature (`gonghui.core.signing.verify_request`, the scheme the coupon devices use); the
member is identified by a fresh member-card token shown on the phone, or by ID number."""

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security.base import AuthBase

from gonghui.core import signing
from gonghui.core.errors import NotFound, ValidationFailed
from gonghui.core.models import Device
from gonghui.core.openapi import DEVICE_ERRORS, SIGNATURE_DESCRIPTION, SIGNATURE_PARAMETERS, ErrorOut
from gonghui.health import selectors, services
from gonghui.members.card import card_token_verify
from gonghui.members.models import Member

router = Router(tags=["健康小屋"])
SIGNATURE_HEADERS = ("X-Device-Key", "X-Timestamp", "X-Nonce", "X-Signature")


class KioskSignature(AuthBase):
    """HMAC-SHA256 device signature; refusals answer 401 JSON."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "X-Signature"
    openapi_description = SIGNATURE_DESCRIPTION

    def __call__(self, request: HttpRequest) -> Device:
        headers = {name: request.headers.get(name, "") for name in SIGNATURE_HEADERS}
        return signing.verify_request(
            method=request.method or "", path=request.get_full_path(), headers=headers, body=request.body
        )


class ReadingIn(Schema):
    code: str
    value: float | int | str
    unit: str = ""


class ReadingsIn(Schema):
    request_id: str
    card_token: str = ""
    id_number: str = ""
    measured_at: dt.datetime | None = None
    readings: list[ReadingIn]


class ItemOut(Schema):
    code: str
    name: str
    value: str
    unit: str
    flag: str


class ReadingsOut(Schema):
    checkup_id: int
    created: bool
    exam_date: dt.date
    items: list[ItemOut]


def _member(payload: ReadingsIn) -> Member:
    if payload.card_token:
        return card_token_verify(token=payload.card_token)
    if payload.id_number:
        member = selectors.member_by_id_number(id_number=payload.id_number)
        if member is None:
            raise NotFound("会员不存在")
        return member
    raise ValidationFailed("请提供会员码 card_token 或身份证号 id_number", fields={"card_token": "必填其一"})


@router.post(
    "/device/readings",
    auth=KioskSignature(),
    response={200: ReadingsOut, 201: ReadingsOut, DEVICE_ERRORS | {403, 404, 409}: ErrorOut},
    openapi_extra={"parameters": SIGNATURE_PARAMETERS},
    url_name="health_device_readings",
    summary="健康小屋上传测量结果（设备签名）",
)
def device_readings(request: HttpRequest, payload: ReadingsIn) -> Status[ReadingsOut]:
    device: Device = request.auth  # type: ignore[attr-defined]
    outcome = services.kiosk_readings_record(
        device=device,
        member=_member(payload),
        readings=[r.model_dump() for r in payload.readings],
        request_id=payload.request_id,
        measured_at=payload.measured_at,
    )
    body = ReadingsOut(
        checkup_id=outcome.checkup.pk,
        created=outcome.created,
        exam_date=outcome.checkup.exam_date,
        items=[ItemOut(**item) for item in outcome.items],
    )
    return Status(201 if outcome.created else 200, body)
