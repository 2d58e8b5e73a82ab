"""Demo data for 惠工活动: redemption points (a union station, a partner shop, a vending
machine with a registered device), a 送清凉 定向发放 campaign for outdoor and sanitation
workers of one district, a city-wide 先到先得 campaign with limited stock, and a closed
节日慰问 campaign with its redemptions, so the reports and the settlement have data.

Windows are placed around "today": the running campaigns opened days ago and close weeks
ahead, the closed one ran two and a half months back; names (送清凉 in the hot months,
送温暖 otherwise, the festival of the closed campaign, the year) follow those dates, so the
demo reads right on 1 January as in July.

Everything goes through the services (create, publish by a second person, issue, claim,
redeem, reverse, close) with the clock moved back for history; only the closed campaign's
publication is written directly, since publishing refuses a window that is already over."""

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.benefits import claiming, redemption, services
from gonghui.benefits import devices as benefit_devices
from gonghui.benefits.forms import CampaignInput, ItemInput, PointInput
from gonghui.benefits.models import Campaign, CampaignStatus, Coupon, RedemptionPoint
from gonghui.members.models import Member, MembershipStatus, Tag
from gonghui.organizations.models import Level, Organization


def _point(
    actor: User, org: Organization, name: str, kind: str, address: str, lat: str, lng: str, rng: random.Random
) -> RedemptionPoint:
    return services.point_create(
        actor=actor,
        data=PointInput(
            name=name,
            kind=kind,
            address=address,
            organization_id=org.pk,
            latitude=Decimal(lat),
            longitude=Decimal(lng),
            contact_phone="0512-6521%04d" % rng.randint(0, 9999),
        ),
    )


def _district_of(member: Member | None, fallback: Organization) -> Organization:
    if member is None:
        return fallback
    path = member.organization.path
    for org in Organization.objects.filter(level=Level.COUNTY).order_by("path"):
        if path.startswith(org.path):
            return org
    return fallback


def _spread(now: dt.datetime, rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """A moment between `start` and `end` (never in the future)."""
    end = min(end, now)
    seconds = max(1, int((end - start).total_seconds()))
    return start + dt.timedelta(seconds=rng.randint(0, seconds - 1))


# The festival a 节日慰问 starting in a given month is for.
FESTIVALS = {
    1: "春节",
    2: "春节",
    3: "三八妇女节",
    4: "五一劳动节",
    5: "五一劳动节",
    6: "端午",
    7: "八一",
    8: "中秋国庆",
    9: "中秋国庆",
    10: "中秋国庆",
    11: "元旦",
    12: "元旦",
}


def _season(day: dt.date) -> tuple[str, str, str, list[ItemInput]]:
    """(kind, name, description, items) of the district campaign running on `day`."""
    if 5 <= day.month <= 9:
        return (
            "cooling",
            "%d年夏季送清凉" % day.year,
            "高温季节为户外劳动者、环卫工人送清凉：凭券到驿站、合作商户或售货机领取。",
            [ItemInput("西瓜", 1500, 1), ItemInput("绿豆汤", 400, 2), ItemInput("防晒喷雾", 1500, 1)],
        )
    winter = day.year if day.month >= 10 else day.year - 1
    return (
        "warmth",
        "%d-%d年冬季送温暖" % (winter, winter + 1),
        "寒冷季节为户外劳动者、环卫工人送温暖：凭券到驿站、合作商户或售货机领取。",
        [ItemInput("羽绒手套", 1500, 1), ItemInput("热姜茶", 400, 2), ItemInput("护手霜", 1500, 1)],
    )


def seed(*, rng: random.Random, stdout: Any) -> None:
    now = timezone.now()
    today = timezone.localdate()
    handler = User.objects.get(username="demo_handler")
    reviewer = User.objects.get(username="demo_reviewer")
    admin = User.objects.get(username="demo_admin")
    finance = User.objects.get(username="demo_finance")
    clerk = User.objects.get(username="demo_redeemer")
    suzhou = Organization.objects.get(name="苏州市总工会")
    gusu = Organization.objects.filter(name="姑苏区总工会").first() or suzhou
    wang = Member.objects.select_related("organization").filter(phone="13800000003").first()  # 王强, 环卫工人
    district = _district_of(wang, gusu)

    station = _point(
        handler,
        district,
        "%s户外劳动者爱心驿站" % district.name.removesuffix("总工会"),
        "station",
        "%s人民路 1188 号（公交站旁）" % district.name.removesuffix("总工会"),
        "31.305212",
        "120.620941",
        rng,
    )
    shop = _point(
        handler,
        district,
        "惠工便利店（合作商户）",
        "merchant",
        "%s观前街 210 号" % district.name.removesuffix("总工会"),
        "31.311620",
        "120.628455",
        rng,
    )
    vending = _point(
        handler, suzhou, "石路智能售货机", "vending", "苏州市姑苏区石路步行街南口", "31.309134", "120.601528", rng
    )
    device, secret = services.point_device_register(
        actor=admin, point=vending, name="石路 1 号售货机", kind=benefit_devices.VENDING
    )

    # 1. 送清凉 (or 送温暖) · 定向发放 for outdoor and sanitation workers of one district.
    kind, title, description, season_items = _season(today)
    cooling = services.campaign_create(
        actor=handler,
        data=CampaignInput(
            name="%(title)s（%(district)s户外劳动者、环卫工人）"
            % {"title": title, "district": district.name.removesuffix("总工会")},
            kind=kind,
            mode="targeted",
            description=description,
            organization_id=district.pk,
            target_org_id=district.pk,
            target_tags=Tag.OUTDOOR | Tag.SANITATION,
            stock_total=3000,
            budget_fen=3000 * 3800,
            per_member_limit=1,
            claim_starts_at=now - dt.timedelta(days=12),
            claim_ends_at=now + dt.timedelta(days=18),
            valid_from=now - dt.timedelta(days=12),
            valid_until=now + dt.timedelta(days=30),
            reversal_window_minutes=24 * 60,
            point_ids=[station.pk, shop.pk, vending.pk],
            items=season_items,
        ),
    )
    services.campaign_publish(actor=reviewer, campaign=cooling)
    run = services.issue_run_start(actor=handler, campaign=cooling)
    run = services.issue_run_execute(run_id=run.pk)
    start = now - dt.timedelta(days=12)
    Coupon.objects.filter(campaign=cooling).update(issued_at=start)
    assigned = list(
        Coupon.objects.filter(campaign=cooling).exclude(member__phone__startswith="138000000").order_by("id")
    )
    rng.shuffle(assigned)
    claimed = assigned[: int(len(assigned) * 0.7)]
    points = [station, station, shop, vending]
    redeemed = 0
    for coupon in claimed:
        claimed_at = _spread(now, rng, start, now - dt.timedelta(hours=1))
        claiming.coupon_claim(member=coupon.member, campaign_id=cooling.pk, now=claimed_at)
        if rng.random() < 0.65:
            point = rng.choice(points)
            at = _spread(now, rng, claimed_at, now)
            if point.kind == "vending":
                redemption.coupon_redeem(
                    code_raw=coupon.code, point=point, device=device, request_id="demo-%d" % coupon.pk, now=at
                )
            else:
                redemption.coupon_redeem(code_raw=coupon.code, point=point, clerk=clerk, now=at)
            redeemed += 1
    stdout.write(
        "  %(title)s：发放 %(issued)d 人，跳过 %(skipped)d 人，领取 %(claimed)d 张，核销 %(redeemed)d 张"
        % {"title": title, "issued": run.issued, "skipped": run.skipped, "claimed": len(claimed), "redeemed": redeemed}
    )

    # 2. 先到先得 across the city for new-form and outdoor workers, stock limited.
    flash = services.campaign_create(
        actor=handler,
        data=CampaignInput(
            name="新就业形态劳动者饮品券（先到先得）",
            kind="general",
            mode="first_come",
            description="每人限领 1 张，领完即止。凭券在智能售货机输入 14 位提货码即可取一瓶饮品。",
            organization_id=suzhou.pk,
            target_org_id=suzhou.pk,
            target_tags=Tag.NEW_FORM | Tag.OUTDOOR,
            stock_total=300,
            budget_fen=300 * 500,
            per_member_limit=1,
            claim_starts_at=now - dt.timedelta(days=3),
            claim_ends_at=now + dt.timedelta(days=7),
            valid_from=now - dt.timedelta(days=3),
            valid_until=now + dt.timedelta(days=14),
            reversal_window_minutes=60,
            point_ids=[vending.pk, station.pk],
            items=[ItemInput("矿泉水或功能饮料", 500, 1)],
        ),
    )
    services.campaign_publish(actor=reviewer, campaign=flash)
    racers = list(
        Member.objects.filter(organization__path__startswith=suzhou.path, status=MembershipStatus.ACTIVE)
        .exclude(phone__startswith="138000000")
        .annotate(hit=_tags(Tag.NEW_FORM | Tag.OUTDOOR))
        .filter(hit__gt=0)
        .order_by("id")[:800]
    )
    rng.shuffle(racers)
    taken = 0
    for member in racers[:240]:
        at = _spread(now, rng, now - dt.timedelta(days=3), now)
        coupon = claiming.coupon_claim(member=member, campaign_id=flash.pk, now=at)
        taken += 1
        if rng.random() < 0.5:
            redemption.coupon_redeem(
                code_raw=coupon.code,
                point=vending,
                device=device,
                request_id="demo-%d" % coupon.pk,
                now=_spread(now, rng, at, now),
            )
    stdout.write("  先到先得：已抢 %(taken)d / 300 张" % {"taken": taken})

    # 3. A closed 节日慰问 campaign with its redemptions and one reversal.
    past_start = now - dt.timedelta(days=75)
    festival = services.campaign_create(
        actor=handler,
        data=CampaignInput(
            name="%(year)d年%(festival)s节日慰问"
            % {
                "year": timezone.localtime(past_start).year,
                "festival": FESTIVALS[timezone.localtime(past_start).month],
            },
            kind="festival",
            mode="targeted",
            description="为一线环卫职工送上节日慰问品（慰问礼盒、食用油）。",
            organization_id=district.pk,
            target_org_id=district.pk,
            target_tags=Tag.SANITATION,
            stock_total=1000,
            budget_fen=1000 * 12800,
            per_member_limit=1,
            claim_starts_at=past_start,
            claim_ends_at=past_start + dt.timedelta(days=20),
            valid_from=past_start,
            valid_until=past_start + dt.timedelta(days=30),
            reversal_window_minutes=24 * 60,
            point_ids=[station.pk, shop.pk],
            items=[ItemInput("节日慰问礼盒", 8800, 1), ItemInput("食用油 5L", 4000, 1)],
        ),
    )
    Campaign.objects.filter(pk=festival.pk).update(
        status=CampaignStatus.PUBLISHED, published_by=reviewer, published_at=past_start - dt.timedelta(days=1)
    )
    festival.refresh_from_db()
    festival_run = services.issue_run_start(actor=handler, campaign=festival)
    services.issue_run_execute(run_id=festival_run.pk)
    Coupon.objects.filter(campaign=festival).update(issued_at=past_start)
    done = 0
    first_redemption = None
    for coupon in Coupon.objects.filter(campaign=festival).select_related("member").order_by("id"):
        if rng.random() < 0.15:
            continue  # never claimed
        at = _spread(now, rng, past_start, past_start + dt.timedelta(days=18))
        claiming.coupon_claim(member=coupon.member, campaign_id=festival.pk, now=at)
        made = redemption.coupon_redeem(
            code_raw=coupon.code,
            point=rng.choice([station, shop]),
            clerk=clerk,
            now=_spread(now, rng, at, past_start + dt.timedelta(days=29)),
        )
        first_redemption = first_redemption or made
        done += 1
    if first_redemption is not None:
        undone = redemption.redemption_reverse(
            actor=finance,
            redemption=first_redemption,
            reason="会员当日未取走慰问品，冲正后次日重新核销",
            now=first_redemption.redeemed_at + dt.timedelta(minutes=20),
        )
        redemption.coupon_redeem(
            code_raw=undone.coupon.code,
            point=undone.point,
            clerk=clerk,
            now=min(first_redemption.redeemed_at + dt.timedelta(days=1), festival.valid_until),
        )
    services.campaign_close(actor=reviewer, campaign=festival, reason="活动期满")
    stdout.write("  节日慰问（已结束）：核销 %(done)d 份，冲正 1 笔" % {"done": done})
    stdout.write(
        "  演示售货机凭据（模拟设备签名调用 POST /api/benefits/device/redeem）：X-Device-Key=%(key)s 密钥=%(secret)s"
        % {"key": device.key_id, "secret": secret}
    )


def _tags(mask: int) -> Any:
    return F("tags").bitand(mask)
