"""Races against PostgreSQL with real threads, each on its own database connection."""

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from gonghui.benefits import claiming, redemption
from gonghui.benefits.claiming import LimitReached, SoldOut
from gonghui.benefits.models import Campaign, Coupon, CouponStatus, Redemption
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_device, make_point
from gonghui.core.identifiers import make_resident_id
from gonghui.members.identity import identity_from_raw, new_card_no, new_member_no
from gonghui.members.models import Member

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

THREADS = 48


def _bulk_members(org, n: int) -> list[Member]:
    import datetime as dt

    members = []
    for i in range(n):
        identity = identity_from_raw(
            make_resident_id("320508", dt.date(1980, 1, 1) + dt.timedelta(days=i), i % 500, "M")
        )
        members.append(
            Member(
                organization=org,
                member_no=new_member_no(),
                card_no=new_card_no(),
                name="会员%d" % i,
                sex="M",
                birth_date=identity.resident.birth_date,
                id_number_encrypted=identity.encrypted,
                id_blind=identity.blind,
                id_masked=identity.masked,
                joined_on=dt.date(2020, 1, 1),
            )
        )
    return Member.objects.bulk_create(members, batch_size=1000)


def _in_threads(work, chunks):
    """Run `work(chunk)` in THREADS threads, each closing its own connection at the end."""

    def run(chunk):
        try:
            return work(chunk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [result for result in pool.map(run, chunks)]


def test_flash_crowd_never_oversells_nor_exceeds_the_limit(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=1000, limit=1)
    members = _bulk_members(world.union_a, 2000)
    attempts = [members[i % len(members)] for i in range(5000)]
    random.Random(7).shuffle(attempts)
    chunks = [attempts[i::THREADS] for i in range(THREADS)]

    observed_stock: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        try:
            while not stop.is_set():
                observed_stock.append(Campaign.objects.values_list("stock", flat=True).get(pk=campaign.pk))
                time.sleep(0.01)
        finally:
            connection.close()

    def claim_all(chunk) -> Counter:
        outcomes: Counter = Counter()
        for member in chunk:
            try:
                claiming.coupon_claim(member=member, campaign_id=campaign.pk)
                outcomes["claimed"] += 1
            except SoldOut:
                outcomes["sold_out"] += 1
            except LimitReached:
                outcomes["limit"] += 1
        return outcomes

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        totals = sum(_in_threads(claim_all, chunks), Counter())
    finally:
        stop.set()
        watcher.join()

    coupons = Coupon.objects.filter(campaign=campaign)
    assert totals["claimed"] == 1000
    assert totals["claimed"] + totals["sold_out"] + totals["limit"] == 5000
    assert coupons.count() == 1000
    assert coupons.values("member").distinct().count() == 1000
    assert set(coupons.values_list("seq", flat=True)) == {1}
    assert coupons.values("code").distinct().count() == 1000
    assert Campaign.objects.get(pk=campaign.pk).stock == 0
    assert observed_stock and min(observed_stock) >= 0


def test_fifty_points_racing_on_one_code_redeem_it_exactly_once(world):
    points = [make_point(world.union_a, name="驿站%02d" % i) for i in range(50)]
    devices = [make_device(point, name="售货机%02d" % i)[0] for i, point in enumerate(points)]
    coupon = make_coupon(make_campaign(world.union_a, world.staff_a, points=points), world.member_a)
    barrier = threading.Barrier(len(devices))

    def redeem(device):
        barrier.wait()
        return redemption.device_redeem(device=device, code_raw=coupon.code, request_id="race-%d" % device.pk)

    answers = _in_threads(redeem, devices)
    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 1, 409: 49}
    assert {body["code"] for status, body in answers if status == 409} == {"already_redeemed"}
    winner = next(body for status, body in answers if status == 200)
    assert Redemption.objects.count() == 1
    assert Redemption.objects.get().pk == winner["redemption_id"]
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.REDEEMED


def test_one_request_id_sent_ten_times_at_once_is_redeemed_once_with_one_answer(world, point_a):
    device, _ = make_device(point_a)
    coupon = make_coupon(make_campaign(world.union_a, world.staff_a, points=[point_a]), world.member_a)
    barrier = threading.Barrier(10)

    def redeem(_):
        barrier.wait()
        return redemption.device_redeem(device=device, code_raw=coupon.code, request_id="same-request")

    answers = _in_threads(redeem, list(range(10)))
    assert {status for status, _ in answers} == {200}
    assert len({body["redemption_id"] for _, body in answers}) == 1
    assert Redemption.objects.count() == 1
