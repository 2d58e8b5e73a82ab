import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.benefits import claiming
from gonghui.benefits.claiming import LimitReached, NotEligible, OutsideWindow, SoldOut
from gonghui.benefits.models import Campaign, CampaignTarget, Coupon, CouponStatus
from gonghui.benefits.tests.factories import make_campaign, make_coupon
from gonghui.core.errors import NotFound, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.members.models import MembershipStatus, Tag
from gonghui.site.testing import make_member

pytestmark = pytest.mark.django_db


def member_client(member) -> Client:
    client = Client()
    client.force_login(member.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return client


def test_claim_takes_one_from_stock_and_audits(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=3)
    coupon = claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    assert (coupon.status, coupon.seq, coupon.face_value_fen) == (CouponStatus.CLAIMED, 1, 1500)
    assert coupon.claimed_at == coupon.issued_at
    assert Campaign.objects.get(pk=campaign.pk).stock == 2
    event = AuditEvent.objects.get(action="coupon.claim")
    assert (event.actor_id, event.object_id) == (world.member_a.user_id, str(coupon.pk))


def test_same_idempotency_key_returns_the_same_coupon(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=5, limit=3)
    first = claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk, idempotency_key="key-00000001")
    again = claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk, idempotency_key="key-00000001")
    assert again.pk == first.pk
    other = claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk, idempotency_key="key-00000002")
    assert other.pk != first.pk
    assert other.seq == 2
    assert Campaign.objects.get(pk=campaign.pk).stock == 3
    with pytest.raises(ValidationFailed):
        claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk, idempotency_key="bad key")


def test_limit_is_enforced(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=5, limit=2)
    claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    with pytest.raises(LimitReached, match="每人限领 2 张"):
        claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    assert Coupon.objects.filter(campaign=campaign).count() == 2
    assert Campaign.objects.get(pk=campaign.pk).stock == 3


def test_sold_out_leaves_stock_at_zero(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=1)
    other = make_member(world.union_a)
    claiming.coupon_claim(member=other, campaign_id=campaign.pk)
    with pytest.raises(SoldOut, match="已经领完"):
        claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    assert Campaign.objects.get(pk=campaign.pk).stock == 0
    assert not Coupon.objects.filter(member=world.member_a).exists()


def test_the_database_refuses_negative_stock(world, point_a):
    from django.db import IntegrityError, transaction
    from django.db.models import F

    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=1)
    Campaign.objects.filter(pk=campaign.pk).update(stock=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(stock=F("stock") - 1)
    assert Campaign.objects.get(pk=campaign.pk).stock == 0


def test_outside_the_window_and_closed(world, point_a):
    now = timezone.now()
    later = make_campaign(
        world.union_a,
        world.staff_a,
        points=[point_a],
        claim_starts_at=now + dt.timedelta(days=1),
        claim_ends_at=now + dt.timedelta(days=2),
    )
    with pytest.raises(OutsideWindow, match="领取尚未开始"):
        claiming.coupon_claim(member=world.member_a, campaign_id=later.pk)
    over = make_campaign(
        world.union_a,
        world.staff_a,
        points=[point_a],
        claim_starts_at=now - dt.timedelta(days=2),
        claim_ends_at=now - dt.timedelta(days=1),
    )
    with pytest.raises(OutsideWindow, match="领取已于"):
        claiming.coupon_claim(member=world.member_a, campaign_id=over.pk)
    closed = make_campaign(world.union_a, world.staff_a, points=[point_a], status="closed")
    with pytest.raises(OutsideWindow, match="活动已结束"):
        claiming.coupon_claim(member=world.member_a, campaign_id=closed.pk)
    draft = make_campaign(world.union_a, world.staff_a, points=[point_a], status="draft")
    with pytest.raises(NotFound):
        claiming.coupon_claim(member=world.member_a, campaign_id=draft.pk)
    assert Coupon.objects.count() == 0


def test_not_eligible_members_get_a_reason(world, point_a):
    sibling = make_campaign(world.union_b, world.staff_b, points=[point_a])
    with pytest.raises(NotEligible, match="苏州乙公司工会"):
        claiming.coupon_claim(member=world.member_a, campaign_id=sibling.pk)
    tagged = make_campaign(world.union_a, world.staff_a, points=[point_a], target_tags=Tag.SANITATION)
    with pytest.raises(NotEligible, match="环卫工人"):
        claiming.coupon_claim(member=world.member_a, campaign_id=tagged.pk)
    listed = make_campaign(world.union_a, world.staff_a, points=[point_a], uses_target_list=True)
    with pytest.raises(NotEligible, match="名单"):
        claiming.coupon_claim(member=world.member_a, campaign_id=listed.pk)
    CampaignTarget.objects.create(campaign=listed, member=world.member_a)
    assert claiming.coupon_claim(member=world.member_a, campaign_id=listed.pk).campaign_id == listed.pk
    open_one = make_campaign(world.union_a, world.staff_a, points=[point_a])
    world.member_a.status = MembershipStatus.RETAINED
    world.member_a.save()
    with pytest.raises(NotEligible, match="在会"):
        claiming.coupon_claim(member=world.member_a, campaign_id=open_one.pk)
    assert Coupon.objects.count() == 1


def test_targeted_coupon_is_claimed_once_and_keeps_its_code(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], mode="targeted", limit=2)
    first = make_coupon(campaign, world.member_a, status=CouponStatus.ASSIGNED, seq=1)
    second = make_coupon(campaign, world.member_a, status=CouponStatus.ASSIGNED, seq=2)
    stock = Campaign.objects.get(pk=campaign.pk).stock
    claimed = claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk, idempotency_key="tap-00000001")
    assert (claimed.pk, claimed.code, claimed.status) == (first.pk, first.code, CouponStatus.CLAIMED)
    retried = claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk, idempotency_key="tap-00000001")
    assert retried.pk == first.pk
    assert Coupon.objects.get(pk=second.pk).status == CouponStatus.ASSIGNED
    claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    with pytest.raises(LimitReached):
        claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    assert Campaign.objects.get(pk=campaign.pk).stock == stock  # stock left when the codes were assigned
    with pytest.raises(NotEligible, match="定向发放名单"):
        claiming.coupon_claim(member=make_member(world.union_a), campaign_id=campaign.pk)


def test_h5_claim_with_htmx_redirects_to_the_coupon_and_a_retry_returns_it(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=2)
    client = member_client(world.member_a)
    page = client.get("/h5/coupons/campaigns/%d/" % campaign.pk)
    assert page.status_code == 200
    assert 'data-testid="claim-button"' in page.content.decode()
    headers = {"HX-Request": "true", "Idempotency-Key": "abcdef0123456789"}
    response = client.post("/h5/coupons/campaigns/%d/claim/" % campaign.pk, headers=headers)
    coupon = Coupon.objects.get(member=world.member_a)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/h5/coupons/%d/" % coupon.pk
    retry = client.post("/h5/coupons/campaigns/%d/claim/" % campaign.pk, headers=headers)
    assert retry["HX-Redirect"] == "/h5/coupons/%d/" % coupon.pk
    assert Coupon.objects.filter(member=world.member_a).count() == 1
    detail = client.get("/h5/coupons/%d/" % coupon.pk).content.decode()
    assert coupon.code[:4] + " " + coupon.code[4:8] in detail
    assert 'src="data:image/svg+xml;' in detail  # the coupon QR, drawn by core.qr
    assert point_a.name in detail
    refused = client.post("/h5/coupons/campaigns/%d/claim/" % campaign.pk, headers={"HX-Request": "true"})
    assert refused.status_code == 200
    assert "每人限领 1 张" in refused.content.decode()


def test_h5_lists_by_tab_and_offers_open_campaigns(world, point_a):
    open_one = make_campaign(world.union_a, world.staff_a, points=[point_a], name="夏日冰饮")
    make_campaign(world.union_b, world.staff_b, points=[point_a], name="乙公司专享")
    targeted = make_campaign(world.union_a, world.staff_a, points=[point_a], mode="targeted", name="定向清凉")
    assigned = make_coupon(targeted, world.member_a, status=CouponStatus.ASSIGNED)
    client = member_client(world.member_a)
    page = client.get("/h5/coupons/").content.decode()
    assert "夏日冰饮" in page and "乙公司专享" not in page
    assert "定向清凉" in page and 'data-testid="claim-assigned"' in page  # only assigned ones: that tab opens
    assert assigned.code[:4] not in page  # an assigned code is not shown before it is claimed
    claiming.coupon_claim(member=world.member_a, campaign_id=open_one.pk)
    usable = client.get("/h5/coupons/?tab=usable").content.decode()
    assert "夏日冰饮" in usable
    assert client.get("/h5/coupons/?tab=redeemed").content.decode().count('data-testid="coupon-card"') == 0


def test_h5_pages_refuse_other_members_coupons(world, point_a):
    campaign = make_campaign(world.union_b, world.staff_b, points=[point_a])
    coupon_b = make_coupon(campaign, world.member_b)
    response = member_client(world.member_a).get("/h5/coupons/%d/" % coupon_b.pk)
    assert response.status_code == 404


def test_api_claim_honours_the_idempotency_key_header(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=2)
    client = member_client(world.member_a)
    url = "/api/benefits/campaigns/%d/claim" % campaign.pk
    first = client.post(url, headers={"Idempotency-Key": "retry-1234567"})
    again = client.post(url, headers={"Idempotency-Key": "retry-1234567"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["code"].replace(" ", "") == Coupon.objects.get(member=world.member_a).code
    third = client.post(url, headers={"Idempotency-Key": "retry-7654321"})
    assert third.status_code == 409
    assert third.json() == {"code": "limit_reached", "message": "您已领取过本活动的券（每人限领 1 张）", "fields": {}}
    mine = client.get("/api/benefits/my-coupons")
    assert [c["campaign_id"] for c in json.loads(mine.content)] == [campaign.pk]


def test_closing_takes_effect_at_once_although_published_rules_are_cached(world, point_a):
    from gonghui.benefits.services import campaign_close

    flash = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=5)
    claiming.coupon_claim(member=make_member(world.union_a), campaign_id=flash.pk)  # rules now cached
    campaign_close(actor=world.staff_a, campaign=flash)
    with pytest.raises(OutsideWindow, match="活动已结束"):
        claiming.coupon_claim(member=world.member_a, campaign_id=flash.pk)
    assert Campaign.objects.get(pk=flash.pk).stock == 4

    targeted = make_campaign(world.union_a, world.staff_a, points=[point_a], mode="targeted")
    other = make_member(world.union_a)
    make_coupon(targeted, other, status=CouponStatus.ASSIGNED)
    mine = make_coupon(targeted, world.member_a, status=CouponStatus.ASSIGNED)
    claiming.coupon_claim(member=other, campaign_id=targeted.pk)
    campaign_close(actor=world.staff_a, campaign=targeted)
    with pytest.raises(OutsideWindow, match="活动已结束"):
        claiming.coupon_claim(member=world.member_a, campaign_id=targeted.pk)
    assert Coupon.objects.get(pk=mine.pk).status == CouponStatus.ASSIGNED
