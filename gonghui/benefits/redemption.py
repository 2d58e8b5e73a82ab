"""核销: redeem a coupon exactly once at a point, by a clerk or a signed device; 冲正 within
the campaign's window.

Exactly once: the coupon row is locked (`SELECT … FOR UPDATE`), its status re-checked, moved
from 未使用 to 已核销 by a conditional UPDATE, and the redemption recorded under a partial
unique key (one standing redemption per coupon). Two points racing on one code: the second
waits for the first's commit, then reads 已核销.

Guessing: a well-formed code that names nothing redeemable at this point counts against the
device and the point; too many in a minute lock them for a while (audited). The answer is
the same whether the code exists elsewhere (another campaign, another union) or nowhere."""

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any, NoReturn

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q
from django.utils import timezone

from gonghui.benefits import codes
from gonghui.benefits.models import (
    Campaign,
    CampaignItem,
    CampaignStatus,
    Coupon,
    CouponStatus,
    PointDevice,
    Redemption,
    RedemptionPoint,
    WrongCodeAttempt,
)
from gonghui.benefits.permissions import BenefitPerm
from gonghui.core import audit, housekeeping, sql
from gonghui.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from gonghui.core.models import AuditResult, Device, IdempotentResponse
from gonghui.members.models import Member
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on

INVALID_CODE_MESSAGE = "券码无效或不能在本核销点使用"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def device_wrong_code_limit() -> int:
    return settings.BENEFITS_DEVICE_WRONG_CODES_PER_MINUTE


def point_wrong_code_limit() -> int:
    return settings.BENEFITS_POINT_WRONG_CODES_PER_MINUTE


def lock_minutes() -> int:
    return settings.BENEFITS_WRONG_CODE_LOCK_MINUTES


class InvalidCode(NotFound):
    code = "invalid_code"


class BadCheckDigit(ValidationFailed):
    code = "bad_check_digit"


class AlreadyRedeemed(Conflict):
    code = "already_redeemed"


class NotRedeemable(Conflict):
    code = "not_redeemable"


class Locked(RateLimited):
    code = "locked"


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def well_formed(code_raw: str) -> str:
    """The typed code without separators, or `BadCheckDigit` — before any database lookup."""
    code = codes.normalize(code_raw)
    if not codes.is_valid(code):
        raise BadCheckDigit("券码有误，请核对后重新输入（应为14位数字，校验位不符）")
    return code


def _check_usable_point(point: RedemptionPoint, device: Device | None, now: dt.datetime) -> None:
    if not point.is_active:
        raise PermissionDenied("该核销点已停用")
    if device is not None and device.locked_until and device.locked_until > now:
        raise Locked(
            "设备因连续输错券码已被锁定，请于 %(time)s 后再试" % {"time": _local(device.locked_until)},
        )
    if point.locked_until and point.locked_until > now:
        raise Locked("本核销点因连续输错券码已暂停核销，请于 %(time)s 后再试" % {"time": _local(point.locked_until)})


# The coupon behind a code, if its campaign is past draft and allows the point, with what
# redemption checks and shows of its campaign and holder.
COUPON_AT_POINT = (
    "SELECT c.id, c.code, c.status, c.face_value_fen, c.claimed_at, c.redeemed_at, c.campaign_id, c.member_id,"  # noqa: S608 - names from the models
    " k.name AS campaign_name, k.status AS campaign_status, k.valid_from, k.valid_until, k.organization_id,"
    " o.path AS organization_path, o.name AS organization_name, m.name AS member_name,"
    " m.organization_id AS member_organization_id"
    f" FROM {sql.table(Coupon)} c JOIN {sql.table(Campaign)} k ON k.id = c.campaign_id"
    f" JOIN {sql.table(Organization)} o ON o.id = k.organization_id"
    f" JOIN {sql.table(Member)} m ON m.id = c.member_id"
    f" WHERE c.code = %s AND k.status <> {sql.choice(CampaignStatus.DRAFT)}"
    f" AND EXISTS (SELECT 1 FROM {sql.table(Campaign.allowed_points.through)} a"
    " WHERE a.campaign_id = c.campaign_id AND a.redemptionpoint_id = %s)"
)


def _find(code: str, point: RedemptionPoint, *, lock: bool) -> Coupon | None:
    """The coupon behind `code` if its campaign is past draft and allows this point, with what
    redemption checks and shows of its campaign and holder (the hot path of every vending
    machine, so one hand-written statement; see `core.sql`). Fields not read are deferred."""
    locking = lock and connection.features.has_select_for_update_of
    row = sql.one(COUPON_AT_POINT + (" FOR UPDATE OF c" if locking else ""), [code, point.pk])
    if row is None:
        return None
    campaign = sql.loaded(
        Campaign,
        id=row["campaign_id"],
        name=row["campaign_name"],
        status=row["campaign_status"],
        valid_from=sql.aware(row["valid_from"]),
        valid_until=sql.aware(row["valid_until"]),
        organization_id=row["organization_id"],
    )
    campaign.organization = sql.loaded(
        Organization, id=row["organization_id"], path=row["organization_path"], name=row["organization_name"]
    )
    coupon = sql.loaded(
        Coupon,
        id=row["id"],
        code=row["code"],
        status=row["status"],
        face_value_fen=row["face_value_fen"],
        claimed_at=sql.aware(row["claimed_at"]),
        redeemed_at=sql.aware(row["redeemed_at"]),
        campaign_id=row["campaign_id"],
        member_id=row["member_id"],
    )
    coupon.campaign = campaign
    coupon.member = sql.loaded(
        Member, id=row["member_id"], name=row["member_name"], organization_id=row["member_organization_id"]
    )
    return coupon


def _unusable(coupon: Coupon, now: dt.datetime) -> DomainError | None:
    """Why this coupon cannot be redeemed now, or None."""
    if coupon.status == CouponStatus.REDEEMED:
        return AlreadyRedeemed(
            "该券已核销（%(time)s），不能重复使用" % {"time": _local(coupon.redeemed_at or now)},
        )
    if coupon.status == CouponStatus.ASSIGNED:
        return NotRedeemable("该券尚未领取，请会员先在“我的券”中领取")
    campaign = coupon.campaign
    if campaign.status == CampaignStatus.CLOSED:
        return NotRedeemable("活动已结束，该券不能再使用")
    if now < campaign.valid_from:
        return NotRedeemable("未到使用时间，%(time)s 起可用" % {"time": _local(campaign.valid_from)})
    if now > campaign.valid_until:
        return NotRedeemable("该券已过期（使用截止 %(time)s）" % {"time": _local(campaign.valid_until)})
    return None


def _wrong_code(*, point: RedemptionPoint, device: Device | None, clerk: Any, now: dt.datetime) -> NoReturn:
    """Count the miss, lock the device / the point when the minute's budget is spent, and
    answer exactly as for a code that exists nowhere."""
    since = now - dt.timedelta(minutes=1)
    until = now + dt.timedelta(minutes=lock_minutes())
    unlocked = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    with transaction.atomic():
        WrongCodeAttempt.objects.create(point=point, device=device, clerk=clerk, at=now)
        if device is not None:
            misses = WrongCodeAttempt.objects.filter(device=device, at__gt=since).count()
            if misses >= device_wrong_code_limit() and Device.objects.filter(unlocked, pk=device.pk).update(
                locked_until=until
            ):
                audit.record(
                    actor=None,
                    action="device.locked",
                    obj=device,
                    organization=point.organization,
                    result=AuditResult.DENIED,
                    detail={"device": device.key_id, "point": point.pk, "wrong_codes": misses, "until": until},
                )
        misses = WrongCodeAttempt.objects.filter(point=point, at__gt=since).count()
        if misses >= point_wrong_code_limit() and RedemptionPoint.objects.filter(unlocked, pk=point.pk).update(
            locked_until=until
        ):
            audit.record(
                actor=clerk,
                action="point.locked",
                obj=point,
                organization=point.organization,
                result=AuditResult.DENIED,
                detail={"point": point.pk, "wrong_codes": misses, "until": until},
            )
    raise InvalidCode(INVALID_CODE_MESSAGE)


def _check_clerk(clerk: Any, point: RedemptionPoint) -> None:
    if clerk is not None and not has_perm_on(clerk, BenefitPerm.COUPON_REDEEM, point.organization):
        raise PermissionDenied("您不是该核销点的核销员")


def coupon_lookup(
    *,
    code_raw: str,
    point: RedemptionPoint,
    clerk: Any = None,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Coupon:
    """What a clerk sees before the tap: the coupon behind a code, if it is redeemable here."""
    now = now or timezone.now()
    _check_clerk(clerk, point)
    _check_usable_point(point, device, now)
    code = well_formed(code_raw)
    coupon = _find(code, point, lock=False)
    if coupon is None:
        _wrong_code(point=point, device=device, clerk=clerk, now=now)
    if problem := _unusable(coupon, now):
        raise problem
    return coupon


def coupon_redeem(
    *,
    code_raw: str,
    point: RedemptionPoint,
    clerk: Any = None,
    device: Device | None = None,
    request_id: str = "",
    now: dt.datetime | None = None,
) -> Redemption:
    if clerk is None and device is None:
        raise PermissionDenied("核销需要核销员或设备")
    now = now or timezone.now()
    _check_clerk(clerk, point)
    _check_usable_point(point, device, now)
    code = well_formed(code_raw)
    # No savepoint: a refusal is decided before anything is written and raised after the
    # block, so a caller's transaction (the stored answer of `replay_or_run`) carries on.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        coupon = _find(code, point, lock=True)
        problem = None if coupon is None else _unusable(coupon, now)
        if coupon is not None and problem is None:
            return _record(cursor, coupon, point=point, device=device, clerk=clerk, request_id=request_id, now=now)
    if problem is not None:
        raise problem
    _wrong_code(point=point, device=device, clerk=clerk, now=now)


# 未使用 → 已核销, only from 未使用.
MARK_REDEEMED = "UPDATE %s SET status = %s, redeemed_at = %%s WHERE id = %%s AND status = %s" % (  # noqa: S608 - model metadata
    sql.table(Coupon),
    sql.choice(CouponStatus.REDEEMED),
    sql.choice(CouponStatus.CLAIMED),
)


def _record(
    cursor: CursorWrapper,
    coupon: Coupon,
    *,
    point: RedemptionPoint,
    device: Device | None,
    clerk: Any,
    request_id: str,
    now: dt.datetime,
) -> Redemption:
    """Move a coupon this transaction holds locked, read as 未使用, to 已核销: its redemption,
    the status change (one round trip on PostgreSQL) and its audit event."""
    redemption = Redemption(
        coupon=coupon,
        campaign=coupon.campaign,
        point=point,
        device=device,
        clerk=clerk,
        face_value_fen=coupon.face_value_fen,
        redeemed_at=now,
        request_id=request_id,
    )
    if sql.insert_and_update(cursor, redemption, MARK_REDEEMED, [sql.db_datetime(now), coupon.pk]) != 1:
        # Cannot happen under the row lock; should it ever, the transaction rolls back whole
        # (and the partial unique key on standing redemptions stands behind it).
        raise RuntimeError("coupon %s changed under its row lock" % coupon.pk)
    audit.record(
        actor=clerk,
        action="coupon.redeem",
        obj=coupon,
        organization=coupon.campaign.organization,
        detail={
            "point": point.pk,
            "device": device.key_id if device else None,
            "redemption": redemption.pk,
            "request_id": request_id,
        },
    )
    coupon.status = CouponStatus.REDEEMED
    coupon.redeemed_at = now
    return redemption


@functools.lru_cache(maxsize=4096)
def published_items(campaign_id: int) -> tuple[tuple[str, int, int], ...]:
    """(name, quantity, face value) of each item of a campaign that is past its draft. Only a
    draft's items can change (`services.campaign_update` locks drafts only) and only a
    published or closed campaign's coupons are redeemable, so each process reads them once."""
    return tuple(CampaignItem.objects.filter(campaign_id=campaign_id).values_list("name", "quantity", "face_value_fen"))


def redemption_body(redemption: Redemption) -> dict[str, Any]:
    coupon = redemption.coupon
    return {
        "result": "redeemed",
        "redemption_id": redemption.pk,
        "redeemed_at": redemption.redeemed_at.isoformat(),
        "point": redemption.point.name,
        "campaign": coupon.campaign.name,
        "items": [
            {"name": name, "quantity": quantity, "face_value_fen": face_value_fen}
            for name, quantity, face_value_fen in published_items(coupon.campaign_id)
        ],
        "face_value_fen": redemption.face_value_fen,
        "code_masked": codes.masked(coupon.code),
        "member": coupon.member.name_masked,
    }


def replay_or_run(*, scope: str, key: str, run: Callable[[], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """Run `run` once per (scope, key) and store its answer; a retry gets the stored answer.

    The key row is inserted first, in the same transaction as the work, so a duplicate that
    arrives while the first is still running waits on the unique index and then reads the
    first one's answer instead of doing the work again."""
    with transaction.atomic(), connection.cursor() as cursor:
        first = sql.insert_unless_exists(
            cursor,
            IdempotentResponse,
            {"scope": scope, "key": key, "status": 0, "body": {}, "created_at": timezone.now()},
            unique=("scope", "key"),
        )
        if not first:
            stored = IdempotentResponse.objects.get(scope=scope, key=key)
            return stored.status, stored.body
        try:
            status, body = 200, run()
        except DomainError as exc:
            status, body = exc.status, exc.as_dict()
        cursor.execute(
            STORE_ANSWER,
            [status, IdempotentResponse._meta.get_field("body").get_db_prep_save(body, connection), scope, key],
        )
    return status, body


# The device API authenticates every request with this: the active device with its key,
# its binding, point and the point's union, in one statement.
STORE_ANSWER = 'UPDATE %s SET status = %%s, body = %%s WHERE scope = %%s AND "key" = %%s' % sql.table(  # noqa: S608
    IdempotentResponse
)

DEVICE_WITH_POINT = (
    "SELECT d.id, d.key_id, d.name, d.kind, d.organization_id, d.organization_path, d.secret_encrypted,"  # noqa: S608 - names from the models
    " d.locked_until, b.id AS binding_id, p.id AS point_id, p.name AS point_name, p.is_active AS point_is_active,"
    " p.locked_until AS point_locked_until, o.id AS point_organization_id,"
    " o.path AS point_organization_path, o.name AS point_organization_name"
    f" FROM {sql.table(Device)} d LEFT JOIN {sql.table(PointDevice)} b ON b.device_id = d.id"
    f" LEFT JOIN {sql.table(RedemptionPoint)} p ON p.id = b.point_id"
    f" LEFT JOIN {sql.table(Organization)} o ON o.id = p.organization_id"
    " WHERE d.key_id = %s AND d.is_active"
)


def device_with_point(key_id: str) -> Device | None:
    """The active device with this key id, arriving with the point it is bound to (for
    `signing.verify_request`); an unbound device arrives alone."""
    row = sql.one(DEVICE_WITH_POINT, [key_id])
    if row is None:
        return None
    device = sql.loaded(
        Device,
        id=row["id"],
        key_id=row["key_id"],
        name=row["name"],
        kind=row["kind"],
        organization_id=row["organization_id"],
        organization_path=row["organization_path"],
        secret_encrypted=row["secret_encrypted"],
        is_active=True,
        locked_until=sql.aware(row["locked_until"]),
    )
    if row["binding_id"] is not None:
        point = sql.loaded(
            RedemptionPoint,
            id=row["point_id"],
            name=row["point_name"],
            is_active=bool(row["point_is_active"]),
            locked_until=sql.aware(row["point_locked_until"]),
            organization_id=row["point_organization_id"],
        )
        point.organization = sql.loaded(
            Organization,
            id=row["point_organization_id"],
            path=row["point_organization_path"],
            name=row["point_organization_name"],
        )
        binding = sql.loaded(PointDevice, id=row["binding_id"], point_id=row["point_id"], device_id=row["id"])
        binding.point = point
        device.redemption_binding = binding  # type: ignore[attr-defined]
    return device


def point_of_device(device: Device) -> RedemptionPoint:
    try:
        binding: PointDevice = device.redemption_binding  # type: ignore[attr-defined]
    except PointDevice.DoesNotExist:
        raise PermissionDenied("该设备未绑定核销点") from None
    return binding.point


def device_redeem(*, device: Device, code_raw: str, request_id: str) -> tuple[int, dict[str, Any]]:
    """A vending machine or terminal redeems a code; a retried `request_id` gets the first answer."""
    if not REQUEST_ID.match(request_id or ""):
        raise ValidationFailed("request_id 无效（1至64位字母、数字或 ._:-）", fields={"request_id": "格式无效"})
    point = point_of_device(device)

    def run() -> dict[str, Any]:
        redemption = coupon_redeem(code_raw=code_raw, point=point, device=device, request_id=request_id)
        return redemption_body(redemption)

    return replay_or_run(scope="benefits.device:%(id)d" % {"id": device.pk}, key=request_id, run=run)


def clerk_redeem(*, clerk: Any, point: RedemptionPoint, code_raw: str, request_id: str) -> tuple[int, dict[str, Any]]:
    """The clerk page's 确认核销; a double tap (same request id) gets the first answer."""
    if not REQUEST_ID.match(request_id or ""):
        raise ValidationFailed("请求编号无效，请刷新页面后重试")
    _check_clerk(clerk, point)

    def run() -> dict[str, Any]:
        redemption = coupon_redeem(code_raw=code_raw, point=point, clerk=clerk, request_id=request_id)
        return redemption_body(redemption)

    return replay_or_run(scope="benefits.clerk:%(id)d" % {"id": clerk.pk}, key=request_id, run=run)


def redemption_reverse(
    *, actor: Any, redemption: Redemption, reason: str, now: dt.datetime | None = None
) -> Redemption:
    """冲正: undo a redemption within the campaign's window; the coupon becomes usable again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写冲正原因", fields={"reason": "请填写冲正原因"})
    if len(reason) > 200:
        raise ValidationFailed("冲正原因不能超过200个字", fields={"reason": "不能超过200个字"})
    campaign = redemption.campaign
    if not (
        has_perm_on(actor, BenefitPerm.COUPON_REVERSE, campaign.organization)
        or has_perm_on(actor, BenefitPerm.COUPON_REVERSE, redemption.point.organization)
    ):
        raise PermissionDenied("您没有冲正的权限")
    now = now or timezone.now()
    window = dt.timedelta(minutes=campaign.reversal_window_minutes)
    with transaction.atomic():
        Coupon.objects.select_for_update().get(pk=redemption.coupon_id)
        locked = Redemption.objects.select_for_update().get(pk=redemption.pk)
        if locked.reversed_at is not None:
            raise Conflict("该核销记录已冲正")
        if now - locked.redeemed_at <= window:
            Coupon.objects.filter(pk=locked.coupon_id, status=CouponStatus.REDEEMED).update(
                status=CouponStatus.CLAIMED, redeemed_at=None
            )
            locked.reversed_at = now
            locked.reversed_by = actor
            locked.reversal_reason = reason
            locked.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
            audit.record(
                actor=actor,
                action="coupon.reverse",
                obj=locked,
                organization=campaign.organization,
                detail={"reason": reason, "coupon": locked.coupon_id, "point": locked.point_id},
            )
            return locked
    audit.record(
        actor=actor,
        action="coupon.reverse",
        obj=redemption,
        organization=campaign.organization,
        result=AuditResult.DENIED,
        detail={"reason": "window_passed"},
    )
    raise ValidationFailed("已超过冲正时限（核销后 %(n)d 分钟内可冲正）" % {"n": campaign.reversal_window_minutes})


def prune_wrong_code_attempts() -> int:
    """The throttle looks back one minute; locks are audited. Attempts are kept
    WRONG_CODE_ATTEMPT_KEEP_DAYS for questions about a point, then removed."""
    cutoff = timezone.now() - dt.timedelta(days=settings.WRONG_CODE_ATTEMPT_KEEP_DAYS)
    return housekeeping.delete_in_batches(WrongCodeAttempt.objects.filter(at__lt=cutoff))
