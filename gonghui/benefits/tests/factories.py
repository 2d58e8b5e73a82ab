"""Builders for benefit objects in tests. They write rows directly (no audit); the services
under test are called by the tests themselves."""

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from gonghui.benefits import codes
from gonghui.benefits.models import (
    Campaign,
    CampaignItem,
    CampaignKind,
    CampaignStatus,
    Coupon,
    CouponStatus,
    IssueMode,
    PointDevice,
    PointKind,
    Redemption,
    RedemptionPoint,
)
from gonghui.core import signing
from gonghui.core.models import Device
from gonghui.members.models import Member
from gonghui.organizations.models import Organization

_seq = itertools.count(1)


def make_point(org: Organization, *, name: str | None = None, kind: str = PointKind.STATION) -> RedemptionPoint:
    return RedemptionPoint.objects.create(
        organization=org, name=name or f"核销点{next(_seq)}", kind=kind, address="苏州市姑苏区人民路1号"
    )


def make_device(point: RedemptionPoint, *, name: str = "1号售货机") -> tuple[Device, str]:
    device, secret = signing.device_register(actor=None, organization=point.organization, name=name, kind="vending")
    PointDevice.objects.create(point=point, device=device)
    return device, secret


def make_campaign(
    org: Organization,
    creator: Any,
    *,
    points: list[RedemptionPoint] = (),  # type: ignore[assignment]
    mode: str = IssueMode.FIRST_COME,
    status: str = CampaignStatus.PUBLISHED,
    stock: int = 100,
    limit: int = 1,
    face_value_fen: int = 1500,
    target_org: Organization | None = None,
    target_tags: int = 0,
    name: str | None = None,
    **fields: Any,
) -> Campaign:
    now = timezone.now()
    values: dict[str, Any] = {
        "claim_starts_at": now - dt.timedelta(days=1),
        "claim_ends_at": now + dt.timedelta(days=10),
        "valid_from": now - dt.timedelta(days=1),
        "valid_until": now + dt.timedelta(days=20),
        **fields,
    }
    campaign = Campaign.objects.create(
        organization=org,
        name=name or f"送清凉活动{next(_seq)}",
        kind=CampaignKind.COOLING,
        mode=mode,
        status=status,
        target_org=target_org or org,
        target_tags=target_tags,
        stock_total=stock,
        stock=stock,
        face_value_fen=face_value_fen,
        budget_fen=stock * face_value_fen,
        per_member_limit=limit,
        created_by=creator,
        updated_by=creator,
        **values,
    )
    CampaignItem.objects.create(campaign=campaign, name="冰镇矿泉水", face_value_fen=face_value_fen, quantity=1)
    campaign.allowed_points.set(points)
    return campaign


def make_coupon(
    campaign: Campaign, member: Member, *, status: str = CouponStatus.CLAIMED, seq: int = 1, code: str | None = None
) -> Coupon:
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(stock=campaign.stock - 1)
    campaign.stock -= 1
    return Coupon.objects.create(
        campaign=campaign,
        member=member,
        organization=member.organization,
        seq=seq,
        code=code or codes.generate(),
        status=status,
        face_value_fen=campaign.face_value_fen,
        issued_at=now,
        claimed_at=None if status == CouponStatus.ASSIGNED else now,
        redeemed_at=now if status == CouponStatus.REDEEMED else None,
    )


def make_redemption(coupon: Coupon, point: RedemptionPoint, clerk: Any) -> Redemption:
    now = timezone.now()
    Coupon.objects.filter(pk=coupon.pk).update(status=CouponStatus.REDEEMED, redeemed_at=now)
    return Redemption.objects.create(
        coupon=coupon,
        campaign=coupon.campaign,
        point=point,
        clerk=clerk,
        face_value_fen=coupon.face_value_fen,
        redeemed_at=now,
    )
