"""Benefit campaigns (惠工活动), their coupons (电子兑换码) and where they are redeemed (核销点).

Invariants the database keeps by itself: stock never negative nor above the total, the
budget covers the whole stock, one coupon code exists once, a member holds coupon number
1..n of a campaign at most once, and a coupon has at most one standing redemption."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast

from gonghui.core.models import Device, Job
from gonghui.members.models import Member
from gonghui.organizations.models import Organization


class CampaignKind(models.TextChoices):
    COOLING = "cooling", "送清凉"
    WARMTH = "warmth", "送温暖"
    FESTIVAL = "festival", "节日慰问"
    GENERAL = "general", "普惠"


class IssueMode(models.TextChoices):
    TARGETED = "targeted", "定向发放"
    FIRST_COME = "first_come", "先到先得"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    CLOSED = "closed", "已结束"


class PointKind(models.TextChoices):
    STATION = "station", "工会驿站"
    MERCHANT = "merchant", "商户"
    VENDING = "vending", "智能售货机"


class RedemptionPoint(models.Model):
    """A place where coupons are redeemed: a union station, a shop, a vending machine."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="redemption_points", verbose_name="所属工会"
    )
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=PointKind.choices)
    address = models.CharField("地址", max_length=200)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    is_active = models.BooleanField("启用", default=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="point_name_unique_per_org"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90), name="point_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="point_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PointDevice(models.Model):
    """A device bound to the point it redeems for; a device serves exactly one point."""

    point = models.ForeignKey(RedemptionPoint, on_delete=models.CASCADE, related_name="device_bindings")
    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="redemption_binding")
    bound_at = models.DateTimeField(auto_now_add=True)
    bound_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")


class Campaign(models.Model):
    """A benefit campaign run and paid for by `organization` for members under `target_org`."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="campaigns", verbose_name="主办工会"
    )
    name = models.CharField("活动名称", max_length=100)
    kind = models.CharField("活动类型", max_length=10, choices=CampaignKind.choices)
    mode = models.CharField("发放方式", max_length=12, choices=IssueMode.choices)
    description = models.TextField("活动说明", blank=True)
    status = models.CharField("状态", max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    target_org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="面向组织（含下级）"
    )
    target_tags = models.PositiveIntegerField("面向标签（任一）", default=0)
    uses_target_list = models.BooleanField("限定名单", default=False)
    target_list_report = models.JSONField(default=dict, blank=True)
    stock_total = models.PositiveIntegerField("总库存")
    stock = models.IntegerField("剩余库存")
    face_value_fen = models.PositiveIntegerField("每张面值（分）", default=0)
    budget_fen = models.BigIntegerField("预算（分）")
    per_member_limit = models.PositiveSmallIntegerField("每人限领", default=1)
    claim_starts_at = models.DateTimeField("领取开始")
    claim_ends_at = models.DateTimeField("领取截止")
    valid_from = models.DateTimeField("使用开始")
    valid_until = models.DateTimeField("使用截止")
    reversal_window_minutes = models.PositiveIntegerField("冲正时限（分钟）", default=24 * 60)
    allowed_points = models.ManyToManyField(RedemptionPoint, related_name="campaigns", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "mode"], name="campaign_status_mode_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="campaign_stock_non_negative"),
            models.CheckConstraint(condition=Q(stock__lte=F("stock_total")), name="campaign_stock_within_total"),
            models.CheckConstraint(condition=Q(budget_fen__gte=0), name="campaign_budget_non_negative"),
            models.CheckConstraint(
                condition=Q(budget_fen__gte=Cast("stock_total", models.BigIntegerField()) * F("face_value_fen")),
                name="campaign_budget_covers_stock",
            ),
            models.CheckConstraint(condition=Q(per_member_limit__gte=1), name="campaign_limit_positive"),
            models.CheckConstraint(condition=Q(claim_ends_at__gt=F("claim_starts_at")), name="campaign_claim_window"),
            models.CheckConstraint(condition=Q(valid_until__gt=F("valid_from")), name="campaign_valid_window"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def issued_count(self) -> int:
        return self.stock_total - self.stock


class CampaignItem(models.Model):
    """One thing a coupon of the campaign is good for (西瓜, 绿豆汤 …); a coupon redeems them all."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField("物品", max_length=50)
    face_value_fen = models.PositiveIntegerField("单价（分）")
    quantity = models.PositiveSmallIntegerField("数量", default=1)

    class Meta:
        ordering = ["campaign_id", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(face_value_fen__gt=0), name="campaign_item_value_positive"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="campaign_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignTarget(models.Model):
    """A member on the campaign's uploaded list (ID numbers or member numbers)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="target_entries")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="campaign_targets")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "member"], name="campaign_target_unique")]


class IssueRun(models.Model):
    """One execution of 定向发放 for a campaign. Its lifecycle (queued, running, finished,
    progress, recovery after a dead worker) is its `job` (`gonghui.core.jobs`, kind
    `benefits.issue_run`); the run keeps what only 定向发放 knows: the members issued and
    skipped, and the cursor (the last member id served) it resumes after."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="issue_runs")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="issue_run")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    @property
    def is_active(self) -> bool:
        return self.job.is_active


class SkipReason(models.TextChoices):
    ALREADY_ISSUED = "already_issued", "已发放过，不重复发放"
    NOT_ACTIVE = "not_active", "会籍状态不是在会"
    OUT_OF_STOCK = "out_of_stock", "库存不足"


class IssueSkip(models.Model):
    run = models.ForeignKey(IssueRun, on_delete=models.CASCADE, related_name="skips")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=SkipReason.choices)

    class Meta:
        ordering = ["run_id", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "member"], name="issue_skip_once_per_run")]


class CouponStatus(models.TextChoices):
    ASSIGNED = "assigned", "待领取"
    CLAIMED = "claimed", "未使用"
    REDEEMED = "redeemed", "已核销"


class Coupon(models.Model):
    """One coupon: a 14-digit code held by a member. `seq` numbers the member's coupons of the
    campaign (1..per-member limit); the unique key on (campaign, member, seq) is what stops a
    member from holding more than the limit, however many requests race."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="coupons")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="coupons")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=14)
    status = models.CharField(max_length=10, choices=CouponStatus.choices)
    face_value_fen = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    issue_run = models.ForeignKey(IssueRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    claim_key = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "status"], name="coupon_campaign_status_idx"),
            models.Index(fields=["member", "-issued_at"], name="coupon_member_recent_idx"),
        ]
        constraints = [
            # Codes are unique everywhere, which makes them unique per campaign and lets a
            # point resolve a typed code without asking which campaign it belongs to.
            models.UniqueConstraint(fields=["code"], name="coupon_code_unique"),
            models.UniqueConstraint(fields=["campaign", "member", "seq"], name="coupon_member_seq_unique"),
            models.UniqueConstraint(
                fields=["campaign", "member", "claim_key"], condition=~Q(claim_key=""), name="coupon_claim_key_unique"
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="coupon_seq_positive"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{14}$"), name="coupon_code_fourteen_digits"),
            models.CheckConstraint(
                condition=Q(status="assigned") | Q(claimed_at__isnull=False), name="coupon_claimed_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="redeemed") | Q(redeemed_at__isnull=False), name="coupon_redeemed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.pk}"


class Redemption(models.Model):
    """A coupon redeemed at a point, by a clerk or a device. A reversal (冲正) keeps the row and
    marks it; the partial unique key allows one standing redemption per coupon."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="redemptions")
    point = models.ForeignKey(RedemptionPoint, on_delete=models.PROTECT, related_name="redemptions")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    face_value_fen = models.PositiveIntegerField()
    redeemed_at = models.DateTimeField()
    request_id = models.CharField(max_length=64, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reversal_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-redeemed_at"]
        indexes = [
            models.Index(fields=["point", "redeemed_at"], name="redemption_point_time_idx"),
            models.Index(fields=["campaign", "redeemed_at"], name="redemption_campaign_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["coupon"], condition=Q(reversed_at__isnull=True), name="redemption_once_per_coupon"
            ),
            models.CheckConstraint(
                condition=Q(device__isnull=False) | Q(clerk__isnull=False), name="redemption_has_operator"
            ),
            models.CheckConstraint(
                condition=Q(reversed_at__isnull=True) | ~Q(reversal_reason=""), name="redemption_reversal_has_reason"
            ),
        ]

    @property
    def is_reversed(self) -> bool:
        return self.reversed_at is not None


class WrongCodeAttempt(models.Model):
    """A well-formed code that matched nothing redeemable at the point: the raw material of
    the per-device and per-point guessing throttle. The code itself is not kept."""

    point = models.ForeignKey(RedemptionPoint, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["point", "at"], name="wrong_code_point_time_idx"),
            models.Index(fields=["device", "at"], name="wrong_code_device_time_idx"),
        ]
