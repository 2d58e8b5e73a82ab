"""Medical mutual aid: periods of a plan, unit bills and enrolments, claims.

A plan is a set of benefit rules (a versioned policy kind per plan, see `policies.py`); a
period (期次) runs a plan for a federation's sub-tree with a premium, dates and eligibility. A
grassroots union's list becomes a bill with its pending enrolments; paying the bill activates
them (the payment day is the enrolment date, so a mid-period joiner is covered from the day
their unit pays, after the first-enrolment wait, and pays the full premium). The enrolment row
is also the member's allowance for the period: a claim's adjudication locks it and adds its
benefit to `committed_fen`, so two claims can never both spend what is left."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from gonghui.core.fields import EncryptedFileNameField, EncryptedTextField
from gonghui.core.models import Job
from gonghui.members.models import Member
from gonghui.organizations.models import Organization, PolicyVersion


class PlanCode(models.TextChoices):
    STANDARD = "standard", "标准方案（按比例报销）"
    DAY_ALLOWANCE = "day_allowance", "住院日补助方案"


class Period(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="mutual_aid_periods", verbose_name="主办工会"
    )
    plan = models.CharField("互助方案", max_length=20, choices=PlanCode.choices)
    number = models.PositiveSmallIntegerField("期次")
    name = models.CharField("名称", max_length=60)
    premium_fen = models.PositiveIntegerField("每人互助金（分）")
    starts_on = models.DateField("保障开始")
    ends_on = models.DateField("保障结束")
    enrol_opens_on = models.DateField("参保开始")
    enrol_closes_on = models.DateField("参保截止")
    min_age = models.PositiveSmallIntegerField("最低年龄", default=16)
    max_age = models.PositiveSmallIntegerField("最高年龄", default=65)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "互助期次"
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "plan", "number"], name="aid_period_number_uniq"),
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="aid_period_dates"),
            models.CheckConstraint(condition=Q(enrol_closes_on__gte=F("enrol_opens_on")), name="aid_period_window"),
            models.CheckConstraint(condition=Q(max_age__gte=F("min_age")), name="aid_period_ages"),
        ]

    def __str__(self) -> str:
        return self.name


class BillStatus(models.TextChoices):
    UNPAID = "unpaid", "待缴费"
    PAID = "paid", "已缴费"
    CANCELLED = "cancelled", "已作废"


class Bill(models.Model):
    """A unit's premium bill for the members of one uploaded list."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="bills")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="参保单位")
    status = models.CharField("状态", max_length=10, choices=BillStatus.choices, default=BillStatus.UNPAID)
    member_count = models.PositiveIntegerField("人数")
    amount_fen = models.BigIntegerField("应缴金额（分）")
    filename = models.CharField("名单文件", max_length=200, blank=True)
    batch = models.ForeignKey(
        "EnrolmentBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="bills", verbose_name="参保名单"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    paid_on = models.DateField("缴费日期", null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    payment_ref = models.CharField("缴费凭证号", max_length=60, blank=True)

    class Meta:
        verbose_name = "参保缴费单"
        ordering = ["-id"]
        indexes = [models.Index(fields=["period", "organization"], name="aid_bill_period_org_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gte=0), name="aid_bill_amount_nonneg")]


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "校验写入中"
    SUCCEEDED = "succeeded", "已生成缴费单"
    FAILED = "failed", "未通过"
    CANCELLED = "cancelled", "已取消"


class EnrolmentBatch(models.Model):
    """An uploaded list on its way to its bills: checked and written by a background job
    (`mutual_aid.enrol`, whose state `status` follows). A grassroots union lists its own
    members; a federation may list the members of its sub-tree, and each member's own union
    gets its bill. The upload is kept sealed until the bills exist (or the job expires), so a
    refused list's report can be downloaded and a job whose worker died can run again."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="batches")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="参保单位")
    status = models.CharField("状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    filename = models.CharField("名单文件", max_length=200, blank=True)
    upload_encrypted = EncryptedTextField(blank=True, purpose="mutual_aid.enrolment_upload")
    rows = models.PositiveIntegerField("名单行数", default=0)
    refused = models.PositiveIntegerField("未通过行数", default=0)
    # Once written: the list's bills (one per enrolled unit), members and premium due.
    bill_count = models.PositiveIntegerField("缴费单数", default=0)
    member_count = models.PositiveIntegerField("参保人数", default=0)
    amount_fen = models.BigIntegerField("应缴金额（分）", default=0)
    error_message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "参保名单批次"
        ordering = ["-id"]
        indexes = [models.Index(fields=["period", "organization", "status"], name="aid_batch_period_org_idx")]


class EnrolmentStatus(models.TextChoices):
    PENDING = "pending", "待缴费"
    ACTIVE = "active", "已参保"
    CANCELLED = "cancelled", "已作废"


class Enrolment(models.Model):
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="enrolments")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="mutual_aid_enrolments")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.PENDING)
    first_enrolment = models.BooleanField("首次参保", default=True)
    enrolled_on = models.DateField("参保日期", null=True, blank=True)
    committed_fen = models.BigIntegerField("本期已核定互助金（分）", default=0)
    deductible_used_fen = models.BigIntegerField("本期已用起付线（分）", default=0)

    class Meta:
        verbose_name = "参保记录"
        indexes = [
            models.Index(fields=["period", "organization", "status"], name="aid_enrol_period_org_idx"),
            models.Index(fields=["member", "status"], name="aid_enrol_member_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "member"],
                condition=~Q(status="cancelled"),
                name="aid_enrol_once_per_period",
            ),
            models.CheckConstraint(condition=Q(committed_fen__gte=0), name="aid_enrol_committed_nonneg"),
        ]


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "待初审"
    REVIEWED = "reviewed", "待审批"
    APPROVED = "approved", "待支付"
    PAID = "paid", "已支付"
    REJECTED = "rejected", "已驳回"


class RejectCode(models.TextChoices):
    NOT_COVERED = "not_covered", "不在保障范围（等待期内或未参保）"
    DOCUMENTS = "documents", "材料不全或不清晰"
    DUPLICATE = "duplicate", "重复申报"
    NOT_HOSPITAL = "not_hospital", "非住院治疗或医院不符"
    OTHER = "other", "其他原因"


class Claim(models.Model):
    """A hospital stay claimed under an enrolment. The diagnosis and the costs (health data) are
    one sealed JSON; the adjudication's steps, which quote the costs, are sealed too."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="claims")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="claims")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="mutual_aid_claims")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    hospital = models.CharField("医院", max_length=100)
    admitted_on = models.DateField("入院日期")
    discharged_on = models.DateField("出院日期")
    days = models.PositiveSmallIntegerField("住院天数")
    health_encrypted = EncryptedTextField(purpose="mutual_aid.claim_health")
    steps_encrypted = EncryptedTextField(blank=True, purpose="mutual_aid.claim_steps")
    benefit_fen = models.BigIntegerField("核定互助金（分）", null=True, blank=True)
    deductible_fen = models.BigIntegerField(default=0)
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    policy_label = models.CharField("适用规则版本", max_length=120, blank=True)
    reject_code = models.CharField("驳回原因", max_length=20, choices=RejectCode.choices, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    paid_on = models.DateField("支付日期", null=True, blank=True)
    payout_ref = models.CharField("支付凭证号", max_length=60, blank=True)
    appeals = models.PositiveSmallIntegerField("申诉次数", default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "医疗互助结报"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["period", "organization", "status"], name="aid_claim_period_org_idx"),
            models.Index(fields=["member", "status"], name="aid_claim_member_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(discharged_on__gte=F("admitted_on")), name="aid_claim_dates"),
            models.CheckConstraint(
                condition=Q(benefit_fen__isnull=True) | Q(benefit_fen__gte=0), name="aid_claim_benefit_nonneg"
            ),
            models.UniqueConstraint(
                fields=["enrolment", "admitted_on", "hospital"],
                condition=~Q(status="rejected"),
                name="aid_claim_one_open_per_stay",
            ),
        ]


class ClaimDocument(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="documents")
    label = models.CharField("材料名称", max_length=60)
    content_type = models.CharField(max_length=60)
    stored_name = EncryptedFileNameField(max_length=200, purpose="mutual_aid.claim_document")
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "结报材料"
