"""The digital member card (数字工惠卡): a QR code carrying a short-lived signed token.

Token: `<member id>.<expiry unix>.<nonce>.<signature>`; the signature is an HMAC over the
first three parts with a key derived from SECRET_KEY. It expires after
`MEMBER_CARD_TOKEN_TTL_SECONDS` (≤ 60 s), so a screenshot stops working within a minute."""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.conf import settings

from gonghui.core import qr
from gonghui.core.errors import ValidationFailed
from gonghui.members.models import Member, MembershipStatus


def _key() -> bytes:
    return hashlib.sha256(b"member-card\x00" + settings.SECRET_KEY.encode()).digest()


def _sign(message: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(_key(), message.encode(), hashlib.sha256).digest()[:18]).decode()


@dataclass(frozen=True)
class CardToken:
    token: str
    expires_at: int


def card_token_issue(*, member: Member, now: float | None = None) -> CardToken:
    expires = int(now if now is not None else time.time()) + min(settings.MEMBER_CARD_TOKEN_TTL_SECONDS, 60)
    body = f"{member.pk}.{expires}.{secrets.token_urlsafe(6)}"
    return CardToken(token=f"{body}.{_sign(body)}", expires_at=expires)


def card_token_verify(*, token: str, now: float | None = None) -> Member:
    """The member a presented card token belongs to; refuses forged, expired or lapsed cards."""
    parts = token.strip().split(".")
    if len(parts) != 4:
        raise ValidationFailed("会员码无效")
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(body), parts[3]):
        raise ValidationFailed("会员码无效")
    member_id, expires = parts[0], int(parts[1])
    if expires < int(now if now is not None else time.time()):
        raise ValidationFailed("会员码已过期，请会员刷新后重新出示")
    member = Member.objects.select_related("organization").filter(pk=member_id).first()
    if member is None or member.status not in (
        MembershipStatus.ACTIVE,
        MembershipStatus.TRANSFERRING,
        MembershipStatus.RETAINED,
    ):
        raise ValidationFailed("该会员当前不在会")
    return member


def qr_data_uri(text: str) -> str:
    return qr.qr_data_uri(text)
