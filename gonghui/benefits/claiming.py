"""领取: a member takes a coupon, either from a 先到先得 stock or (for 定向发放) the one
assigned to them.

Never oversell: stock leaves the campaign only through one conditional UPDATE
(`stock = stock - 1 WHERE stock > 0`), backed by a CHECK (stock >= 0). Never over the
limit: each coupon carries its number for the member (`seq`), unique per (campaign, member),
so two racing requests of one member cannot both take number n. Idempotent: a retried
request with the same `Idempotency-Key` finds the coupon it created, by a unique key."""

import datetime as dt
import re
import time

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gonghui.benefits import codes
from gonghui.benefits.models import Campaign, CampaignStatus, Coupon, CouponStatus, IssueMode
from gonghui.benefits.services import ineligibility_reason
from gonghui.core import audit, sql
from gonghui.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.members.models import Member, MembershipStatus

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# What a claim reads of the campaign; the flash-crowd path compiles and fetches no more.
CLAIM_FIELDS = (
    "name",
    "status",
    "mode",
    "stock",
    "face_value_fen",
    "per_member_limit",
    "claim_starts_at",
    "claim_ends_at",
    "target_tags",
    "uses_target_list",
    "organization__path",
    "organization__name",
    "target_org__path",
    "target_org__name",
)


class SoldOut(Conflict):
    code = "sold_out"


class LimitReached(Conflict):
    code = "limit_reached"


class NotEligible(PermissionDenied):
    code = "not_eligible"


class OutsideWindow(Conflict):
    code = "outside_window"


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _check_window(campaign: Campaign, now: dt.datetime) -> None:
    if campaign.status == CampaignStatus.CLOSED:
        raise OutsideWindow("活动已结束")
    if now < campaign.claim_starts_at:
        raise OutsideWindow("领取尚未开始，%(time)s 开始" % {"time": _local(campaign.claim_starts_at)})
    if now >= campaign.claim_ends_at:
        raise OutsideWindow("领取已于 %(time)s 截止" % {"time": _local(campaign.claim_ends_at)})


def _limit_message(campaign: Campaign) -> str:
    return "您已领取过本活动的券（每人限领 %(n)d 张）" % {"n": campaign.per_member_limit}


# A published campaign's rules (target, windows, limit, value) never change — drafts are the
# only editable state — so each process keeps them for a few seconds instead of compiling and
# running the same query for every tap of a flash crowd. Stock and status are not trusted
# from here: the conditional UPDATE that takes stock, and the locked UPDATE of an assigned
# coupon, both re-check the campaign is still published.
RULES_TTL_SECONDS = 5.0
_rules: dict[int, tuple[float, Campaign]] = {}


def _campaign(campaign_id: int) -> Campaign | None:
    now = time.monotonic()
    hit = _rules.get(campaign_id)
    if hit is not None and now - hit[0] < RULES_TTL_SECONDS:
        return hit[1]
    campaign = (
        Campaign.objects.select_related("organization", "target_org").only(*CLAIM_FIELDS).filter(pk=campaign_id).first()
    )
    if campaign is not None and campaign.status == CampaignStatus.PUBLISHED:
        _rules[campaign_id] = (now, campaign)
    return campaign


def forget_rules() -> None:
    _rules.clear()


def _by_key(campaign_id: int, member: Member, key: str) -> Coupon | None:
    if not key:
        return None
    return Coupon.objects.filter(campaign_id=campaign_id, member=member, claim_key=key).first()


def coupon_claim(
    *, member: Member, campaign_id: int, idempotency_key: str = "", now: dt.datetime | None = None
) -> Coupon:
    key = (idempotency_key or "").strip()
    if key and not IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed("Idempotency-Key 格式无效（8至64位字母、数字或 ._:-）")
    try:
        return _claim(member=member, campaign_id=campaign_id, key=key, now=now or timezone.now())
    except DomainError:
        # A retry of a request that already succeeded gets its coupon back, even once the
        # stock is gone, the limit reached or the window closed.
        existing = _by_key(campaign_id, member, key)
        if existing is None:
            raise
        return existing


def _claim(*, member: Member, campaign_id: int, key: str, now: dt.datetime) -> Coupon:
    campaign = _campaign(campaign_id)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        raise NotFound("活动不存在")
    if campaign.mode == IssueMode.TARGETED or campaign.per_member_limit > 1:
        # With more than one coupon allowed a retry could otherwise take the next one.
        existing = _by_key(campaign.pk, member, key)
        if existing is not None:
            return existing
    _check_window(campaign, now)
    if campaign.mode == IssueMode.TARGETED:
        return _claim_assigned(campaign=campaign, member=member, key=key, now=now)
    in_target = member.status == MembershipStatus.ACTIVE and member.organization.path.startswith(
        campaign.target_org.path
    )
    reason = ineligibility_reason(campaign, member, in_target=in_target)
    if reason is not None:
        raise NotEligible(reason)
    if campaign.stock <= 0:
        raise SoldOut("来晚了，本活动的券已经领完了")
    # Each pass either returns, raises, or lost a race on (campaign, member, seq) and recounts.
    # With a limit of one the count is skipped: the unique key answers for it.
    held = 0
    for _attempt in range(campaign.per_member_limit + 2):
        if campaign.per_member_limit > 1:
            held = Coupon.objects.filter(campaign=campaign, member=member).count()
        if held >= campaign.per_member_limit:
            raise LimitReached(_limit_message(campaign))
        try:
            return _take_one(campaign=campaign, member=member, seq=held + 1, key=key, now=now)
        except IntegrityError:
            existing = _by_key(campaign.pk, member, key)
            if existing is not None:
                return existing
            if campaign.per_member_limit == 1:
                # Lost the race for number 1 — or, once in ten million, drew a taken code.
                held = Coupon.objects.filter(campaign=campaign, member=member).count()
    raise LimitReached(_limit_message(campaign))


def _take_one(*, campaign: Campaign, member: Member, seq: int, key: str, now: dt.datetime) -> Coupon:
    """Insert the coupon and append its audit event first and take the stock last, so the
    campaign row (the one hot row of a flash sale) stays locked only for the UPDATE and the
    commit. Sold out rolls all three back."""
    with transaction.atomic(), connection.cursor() as cursor:
        coupon = Coupon(
            campaign=campaign,
            member=member,
            organization_id=member.organization_id,
            seq=seq,
            code=codes.generate(),
            status=CouponStatus.CLAIMED,
            face_value_fen=campaign.face_value_fen,
            issued_at=now,
            claimed_at=now,
            claim_key=key,
        )
        sql.insert(cursor, coupon)
        audit.record(
            actor=member.user,
            action="coupon.claim",
            obj=coupon,
            organization=campaign.organization,
            detail={"campaign": campaign.pk, "member": member.pk, "seq": seq},
        )
        cursor.execute(TAKE_STOCK, [campaign.pk])
        if cursor.rowcount != 1:
            if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PUBLISHED).exists():
                raise SoldOut("来晚了，本活动的券已经领完了")
            raise OutsideWindow("活动已结束")
    return coupon


# One off the stock of a published campaign with stock left (no row: sold out or closed).
TAKE_STOCK = "UPDATE %s SET stock = stock - 1 WHERE id = %%s AND status = %s AND stock > 0" % (  # noqa: S608 - model metadata
    sql.table(Campaign),
    sql.choice(CampaignStatus.PUBLISHED),
)


def _claim_assigned(*, campaign: Campaign, member: Member, key: str, now: dt.datetime) -> Coupon:
    """领取 of a 定向发放 coupon: the next one assigned to the member becomes usable."""
    if member.status != MembershipStatus.ACTIVE:
        raise NotEligible("您的会籍状态不是“在会”，不能领取")
    try:
        with transaction.atomic():
            coupon = (
                Coupon.objects.select_for_update(of=("self",))
                .filter(
                    campaign=campaign,
                    campaign__status=CampaignStatus.PUBLISHED,
                    member=member,
                    status=CouponStatus.ASSIGNED,
                )
                .order_by("seq")
                .first()
            )
            if coupon is None:
                if not Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PUBLISHED).exists():
                    raise OutsideWindow("活动已结束")
                if Coupon.objects.filter(campaign=campaign, member=member).exists():
                    raise LimitReached(_limit_message(campaign))
                raise NotEligible("您不在本活动的定向发放名单中")
            coupon.status = CouponStatus.CLAIMED
            coupon.claimed_at = now
            coupon.claim_key = key
            coupon.save(update_fields=["status", "claimed_at", "claim_key"])
            audit.record(
                actor=member.user,
                action="coupon.claim",
                obj=coupon,
                organization=campaign.organization,
                detail={"campaign": campaign.pk, "member": member.pk, "seq": coupon.seq},
            )
    except IntegrityError:
        existing = Coupon.objects.filter(campaign=campaign, member=member, claim_key=key).first() if key else None
        if existing is None:
            raise
        return existing
    return coupon
