import datetime as dt

import pytest
from django.utils import timezone

from gonghui.benefits import codes, redemption
from gonghui.benefits.models import Coupon, CouponStatus, Redemption, RedemptionPoint, WrongCodeAttempt
from gonghui.benefits.redemption import (
    INVALID_CODE_MESSAGE,
    AlreadyRedeemed,
    BadCheckDigit,
    InvalidCode,
    Locked,
    NotRedeemable,
)
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_device, make_point
from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent, Device
from gonghui.core.permissions import Role
from gonghui.site.testing import grant, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def coupon(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a])
    return make_coupon(campaign, world.member_a)


def _unused_valid_code() -> str:
    while True:
        code = codes.generate()
        if not Coupon.objects.filter(code=code).exists():
            return code


def test_clerk_redeems_once_and_the_second_time_is_already_redeemed(world, point_a, clerk_a, coupon):
    done = redemption.coupon_redeem(code_raw=codes.display(coupon.code), point=point_a, clerk=clerk_a)
    assert (done.coupon_id, done.point_id, done.clerk_id, done.face_value_fen) == (
        coupon.pk,
        point_a.pk,
        clerk_a.pk,
        1500,
    )
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED
    assert AuditEvent.objects.get(action="coupon.redeem").actor_id == clerk_a.pk
    with pytest.raises(AlreadyRedeemed, match="已核销"):
        redemption.coupon_redeem(code_raw=coupon.code, point=point_a, clerk=clerk_a)
    assert Redemption.objects.count() == 1
    assert WrongCodeAttempt.objects.count() == 0  # a used code is not a guess


def test_lookup_shows_the_coupon_without_redeeming(world, point_a, clerk_a, coupon):
    found = redemption.coupon_lookup(code_raw=coupon.code, point=point_a, clerk=clerk_a)
    assert found.pk == coupon.pk
    assert found.member.name_masked == "张*"
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.CLAIMED


def test_a_typo_is_caught_by_the_check_digit_and_not_counted(world, point_a, clerk_a, coupon):
    typo = coupon.code[:5] + str((int(coupon.code[5]) + 1) % 10) + coupon.code[6:]
    with pytest.raises(BadCheckDigit):
        redemption.coupon_redeem(code_raw=typo, point=point_a, clerk=clerk_a)
    assert WrongCodeAttempt.objects.count() == 0
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.CLAIMED


def test_a_code_of_another_campaign_or_union_answers_exactly_like_a_code_that_does_not_exist(world, point_a, clerk_a):
    elsewhere_point = make_point(world.union_b, name="乙公司驿站")
    other_union = make_coupon(make_campaign(world.union_b, world.staff_b, points=[elsewhere_point]), world.member_b)
    answers = []
    for code in (other_union.code, _unused_valid_code()):
        with pytest.raises(InvalidCode) as exc:
            redemption.coupon_redeem(code_raw=code, point=point_a, clerk=clerk_a)
        answers.append((exc.value.status, exc.value.as_dict()))
    assert answers[0] == answers[1] == (404, {"code": "invalid_code", "message": INVALID_CODE_MESSAGE, "fields": {}})
    assert Coupon.objects.get(pk=other_union.pk).status == CouponStatus.CLAIMED
    assert WrongCodeAttempt.objects.filter(point=point_a).count() == 2


def test_ten_wrong_codes_in_a_minute_lock_the_device_for_fifteen_minutes(world, point_a, coupon):
    device, _ = make_device(point_a)
    now = timezone.now()
    for _ in range(9):
        with pytest.raises(InvalidCode):
            redemption.coupon_redeem(code_raw=_unused_valid_code(), point=point_a, device=device, now=now)
    assert Device.objects.get(pk=device.pk).locked_until is None
    with pytest.raises(InvalidCode):
        redemption.coupon_redeem(code_raw=_unused_valid_code(), point=point_a, device=device, now=now)
    device.refresh_from_db()
    assert device.locked_until == now + dt.timedelta(minutes=15)
    event = AuditEvent.objects.get(action="device.locked")
    assert (event.result, event.detail["wrong_codes"]) == ("denied", 10)
    # Locked: even the right code is refused, before any lookup, and nothing is counted.
    with pytest.raises(Locked, match="设备因连续输错券码已被锁定"):
        redemption.coupon_redeem(code_raw=coupon.code, point=point_a, device=device, now=now + dt.timedelta(minutes=5))
    assert WrongCodeAttempt.objects.count() == 10
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.CLAIMED
    later = now + dt.timedelta(minutes=16)
    assert (
        redemption.coupon_redeem(code_raw=coupon.code, point=point_a, device=device, now=later).device_id == device.pk
    )


def test_wrong_codes_spread_over_more_than_a_minute_do_not_lock(world, point_a):
    device, _ = make_device(point_a)
    start = timezone.now()
    for i in range(12):
        with pytest.raises(InvalidCode):
            redemption.coupon_redeem(
                code_raw=_unused_valid_code(), point=point_a, device=device, now=start + dt.timedelta(seconds=10 * i)
            )
    assert Device.objects.get(pk=device.pk).locked_until is None


def test_guessing_at_a_point_locks_the_point_for_its_clerks(world, point_a, clerk_a, coupon, settings):
    settings.BENEFITS_POINT_WRONG_CODES_PER_MINUTE = 5
    now = timezone.now()
    for _ in range(5):
        with pytest.raises(InvalidCode):
            redemption.coupon_lookup(code_raw=_unused_valid_code(), point=point_a, clerk=clerk_a, now=now)
    assert RedemptionPoint.objects.get(pk=point_a.pk).locked_until == now + dt.timedelta(minutes=15)
    assert AuditEvent.objects.get(action="point.locked").actor_id == clerk_a.pk
    point = RedemptionPoint.objects.get(pk=point_a.pk)
    with pytest.raises(Locked, match="本核销点"):
        redemption.coupon_redeem(code_raw=coupon.code, point=point, clerk=clerk_a, now=now)
    from gonghui.benefits.services import point_unlock

    point_unlock(actor=world.staff_a, point=point)
    point.refresh_from_db()
    assert redemption.coupon_redeem(code_raw=coupon.code, point=point, clerk=clerk_a, now=now).coupon_id == coupon.pk


def test_refusals_for_unclaimed_expired_closed_and_not_yet_valid(world, point_a, clerk_a):
    now = timezone.now()
    targeted = make_campaign(world.union_a, world.staff_a, points=[point_a], mode="targeted")
    assigned = make_coupon(targeted, world.member_a, status=CouponStatus.ASSIGNED)
    with pytest.raises(NotRedeemable, match="尚未领取"):
        redemption.coupon_redeem(code_raw=assigned.code, point=point_a, clerk=clerk_a)
    expired = make_coupon(
        make_campaign(
            world.union_a,
            world.staff_a,
            points=[point_a],
            valid_from=now - dt.timedelta(days=3),
            valid_until=now - dt.timedelta(days=1),
        ),
        world.member_a,
    )
    with pytest.raises(NotRedeemable, match="已过期"):
        redemption.coupon_redeem(code_raw=expired.code, point=point_a, clerk=clerk_a)
    closed = make_coupon(make_campaign(world.union_a, world.staff_a, points=[point_a], status="closed"), world.member_a)
    with pytest.raises(NotRedeemable, match="活动已结束"):
        redemption.coupon_redeem(code_raw=closed.code, point=point_a, clerk=clerk_a)
    future = make_coupon(
        make_campaign(world.union_a, world.staff_a, points=[point_a], valid_from=now + dt.timedelta(days=1)),
        world.member_a,
    )
    with pytest.raises(NotRedeemable, match="未到使用时间"):
        redemption.coupon_redeem(code_raw=future.code, point=point_a, clerk=clerk_a)
    assert Redemption.objects.count() == 0
    assert WrongCodeAttempt.objects.count() == 0


def test_a_clerk_of_another_union_cannot_redeem_at_this_point(world, point_a, coupon):
    with pytest.raises(PermissionDenied):
        redemption.coupon_redeem(code_raw=coupon.code, point=point_a, clerk=world.staff_b)
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.CLAIMED


def test_a_point_not_allowed_for_the_campaign_cannot_redeem_it(world, point_a, clerk_a, coupon):
    other_point = make_point(world.union_a, name="甲公司食堂")
    with pytest.raises(InvalidCode):
        redemption.coupon_redeem(code_raw=coupon.code, point=other_point, clerk=clerk_a)
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.CLAIMED


def test_reversal_within_the_window_restores_the_coupon(world, point_a, clerk_a, coupon):
    finance = grant(make_user("finance_a"), world.union_a, Role.FINANCE)
    done = redemption.coupon_redeem(code_raw=coupon.code, point=point_a, clerk=clerk_a)
    with pytest.raises(ValidationFailed, match="冲正原因"):
        redemption.redemption_reverse(actor=finance, redemption=done, reason=" ")
    with pytest.raises(PermissionDenied):
        redemption.redemption_reverse(actor=clerk_a, redemption=done, reason="误操作")
    reversed_ = redemption.redemption_reverse(actor=finance, redemption=done, reason="会员未取货，误核销")
    assert (reversed_.reversed_by_id, reversed_.reversal_reason) == (finance.pk, "会员未取货，误核销")
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.CLAIMED
    assert AuditEvent.objects.get(action="coupon.reverse").detail["reason"] == "会员未取货，误核销"
    again = redemption.coupon_redeem(code_raw=coupon.code, point=point_a, clerk=clerk_a)
    assert again.pk != done.pk
    assert Redemption.objects.filter(coupon=coupon, reversed_at__isnull=True).count() == 1


def test_reversal_after_the_window_is_refused_and_audited(world, point_a, clerk_a, coupon):
    done = redemption.coupon_redeem(code_raw=coupon.code, point=point_a, clerk=clerk_a)
    late = done.redeemed_at + dt.timedelta(minutes=coupon.campaign.reversal_window_minutes + 1)
    with pytest.raises(ValidationFailed, match="已超过冲正时限"):
        redemption.redemption_reverse(actor=world.staff_a, redemption=done, reason="迟到的冲正", now=late)
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.REDEEMED
    assert Redemption.objects.get(pk=done.pk).reversed_at is None
    assert AuditEvent.objects.get(action="coupon.reverse").result == "denied"


def test_clerk_page_lookup_and_one_tap_confirm_with_double_tap_protection(world, point_a, clerk_a, coupon):
    client = world.client_for(clerk_a)
    page = client.get("/clerk/redeem/")
    assert page.status_code == 200
    assert point_a.name in page.content.decode()  # the only point is chosen automatically
    preview = client.post("/clerk/redeem/lookup/", {"code": codes.display(coupon.code)}).content.decode()
    assert "张*" in preview and "冰镇矿泉水×1" in preview
    request_id = preview.split('name="request_id" value="')[1].split('"')[0]
    first = client.post("/clerk/redeem/confirm/", {"code": coupon.code, "request_id": request_id}).content.decode()
    double_tap = client.post("/clerk/redeem/confirm/", {"code": coupon.code, "request_id": request_id}).content.decode()
    assert 'data-testid="clerk-success"' in first and 'data-testid="clerk-success"' in double_tap
    assert Redemption.objects.count() == 1
    new_tap = client.post("/clerk/redeem/confirm/", {"code": coupon.code, "request_id": "another-request"})
    assert "已核销" in new_tap.content.decode()
    wrong = client.post("/clerk/redeem/lookup/", {"code": _unused_valid_code()}).content.decode()
    assert INVALID_CODE_MESSAGE in wrong


def test_clerk_page_for_a_user_without_points(world):
    lonely = grant(make_user("clerk_without_point"), world.union_b, Role.REDEEMER)
    page = world.client_for(lonely).get("/clerk/redeem/").content.decode()
    assert 'data-testid="clerk-no-point"' in page
    response = world.client_for(lonely).post("/clerk/redeem/lookup/", {"code": "12345678901234"})
    assert response.status_code == 404
