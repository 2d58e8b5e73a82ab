"""Member pages (H5): 我的券, a coupon with its code and QR, a campaign to claim from."""

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from gonghui.benefits import claiming, codes, selectors
from gonghui.benefits.models import CampaignStatus, CouponStatus, IssueMode
from gonghui.benefits.services import ineligibility_reason
from gonghui.core.errors import DomainError, NotFound
from gonghui.members.models import Member


def _me(request: HttpRequest) -> Member:
    # The access policy has already loaded (and cached) the member for this user.
    member = getattr(request.user, "member_profile", None)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


@require_GET
def h5_coupons(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    tab = request.GET.get("tab", "")
    counts = selectors.my_tab_counts(member=member)
    if tab not in selectors.MEMBER_TABS:
        tab = "assigned" if counts["assigned"] and not counts["usable"] else "usable"
    coupons = list(selectors.my_coupons(member=member, tab=tab)[:100])
    return render(
        request,
        "benefits/h5/coupons.html",
        {
            "member": member,
            "tab": tab,
            "tabs": selectors.MEMBER_TABS,
            "counts": counts,
            "coupons": coupons,
            "claimable": selectors.claimable_campaigns(member=member),
            "idempotency_key": uuid.uuid4().hex,
        },
    )


@require_GET
def h5_coupon_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    coupon = selectors.my_coupon(member=member, pk=pk)
    campaign = coupon.campaign
    now = timezone.now()
    usable = (
        coupon.status == CouponStatus.CLAIMED
        and campaign.status != CampaignStatus.CLOSED
        and campaign.valid_until > now
    )
    redemption = coupon.redemptions.filter(reversed_at__isnull=True).select_related("point").first()
    return render(
        request,
        "benefits/h5/coupon_detail.html",
        {
            "coupon": coupon,
            "campaign": campaign,
            "items": list(campaign.items.all()),
            "points": selectors.redemption_points_of(campaign),
            "usable": usable,
            "not_yet": usable and campaign.valid_from > now,
            "expired": coupon.status != CouponStatus.REDEEMED and not usable and coupon.claimed_at is not None,
            "code_display": codes.display(coupon.code) if coupon.claimed_at else "",
            "qr": codes.qr_data_uri(coupon.code) if usable else "",
            "redemption": redemption,
            "idempotency_key": uuid.uuid4().hex,
        },
    )


@require_GET
def h5_campaign(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    campaign = selectors.campaign_for_member(member=member, pk=pk)
    now = timezone.now()
    held = list(campaign.coupons.filter(member=member).order_by("seq"))
    reason = None
    if campaign.mode == IssueMode.FIRST_COME:
        reason = ineligibility_reason(campaign, member)
    elif not held:
        reason = "本活动为定向发放，您不在发放名单中"
    return render(
        request,
        "benefits/h5/campaign.html",
        {
            "campaign": campaign,
            "items": list(campaign.items.all()),
            "points": selectors.redemption_points_of(campaign),
            "held": held,
            "reason": reason,
            "open": campaign.status == CampaignStatus.PUBLISHED
            and campaign.claim_starts_at <= now < campaign.claim_ends_at,
            "not_started": now < campaign.claim_starts_at,
            "limit_reached": campaign.mode == IssueMode.FIRST_COME and len(held) >= campaign.per_member_limit,
            "to_claim": any(c.status == CouponStatus.ASSIGNED for c in held),
            "idempotency_key": uuid.uuid4().hex,
        },
    )


@require_POST
def h5_claim(request: HttpRequest, pk: int) -> HttpResponse:
    """领取. The page sends an Idempotency-Key made when it was rendered, so a double tap or a
    retried request on a flaky network gets the same coupon back."""
    member = _me(request)
    key = request.headers.get("Idempotency-Key") or request.POST.get("idempotency_key", "")
    try:
        coupon = claiming.coupon_claim(member=member, campaign_id=pk, idempotency_key=key)
    except DomainError as exc:
        if request.headers.get("HX-Request"):
            return render(request, "benefits/h5/_claim_error.html", {"error": exc})
        raise
    target = reverse("benefits:h5_coupon_detail", args=[coupon.pk])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)
