"""困难职工档案: one household one file (`HardshipFile`, one per member, reopened when the family
falls back), its household members, visits and attachments.

The household's money figures and its members' health and disability are sensitive: they are
stored sealed (`EncryptedTextField`) and opened only on an audited reveal. The class computed
from them, the 低保 standard applied and the two policy versions used are stored in clear with
the file, so the class shows in lists and an old decision can be explained later."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models

from gonghui.core.fields import EncryptedField, EncryptedFileNameField, EncryptedTextField
from gonghui.funds.models import LedgerEntry
from gonghui.members.identity import mask_name
from gonghui.members.models import Member
from gonghui.organizations.models import Organization, PolicyVersion
from gonghui.relief.rules import HardshipClass

VISIT_INTERVAL_MONTHS = 6
FOLLOW_UP_MONTHS = 6
NOTICE_WORKING_DAYS = 5


class FileStatus(models.TextChoices):
    ACTIVE = "active", "在档"
    NOTICE = "notice", "退档公示中"
    WITHDRAWN = "withdrawn", "已退档（跟踪期）"
    ENDED = "ended", "跟踪期结束"


class Cause(models.TextChoices):
    """The ten 致困原因 codes."""

    NO_LABOUR_ABILITY = "no_ability", "无劳动能力"
    UNEMPLOYED = "unemployed", "有劳动能力未就业"
    LAID_OFF = "laid_off", "下岗失业"
    NO_SOCIAL_INSURANCE = "no_insurance", "未参加社保"
    INSURANCE_SHORTFALL = "insurance_short", "社保待遇落实不到位"
    MAJOR_ILLNESS = "illness", "患重特大疾病"
    NATURAL_DISASTER = "disaster", "自然灾害"
    ACCIDENT = "accident", "意外事故"
    SCHOOLING = "schooling", "子女上学"
    OTHER = "other", "其他"


class Relation(models.TextChoices):
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    PARENT_IN_LAW = "parent_in_law", "岳父母/公婆"
    GRANDCHILD = "grandchild", "孙子女"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


class Schooling(models.TextChoices):
    NONE = "none", "不在学"
    PRESCHOOL = "preschool", "学前教育"
    COMPULSORY = "compulsory", "义务教育"
    HIGH_SCHOOL = "high_school", "普通高中"
    VOCATIONAL = "vocational", "中职/技工学校"
    COLLEGE = "college", "大学（含高职）"
    GRADUATE = "graduate", "研究生"


def _encrypted(model: type[models.Model], name: str) -> EncryptedField:
    field = model._meta.get_field(name)
    if not isinstance(field, EncryptedField):
        raise TypeError("%s.%s is not an encrypted field" % (model.__name__, name))
    return field


def seal(model: type[models.Model], name: str, plaintext: str) -> str:
    """`plaintext` sealed for the column `model.name` (empty stays empty)."""
    return _encrypted(model, name).seal(plaintext) if plaintext else ""


def unseal(model: type[models.Model], name: str, token: str) -> str:
    return _encrypted(model, name).open(token) if token else ""


def seal_file(model: type[models.Model], name: str, stored_name: str, plaintext: str) -> str:
    field = _encrypted(model, name)
    assert isinstance(field, EncryptedFileNameField)
    return field.save_sealed(stored_name, plaintext)


def unseal_file(model: type[models.Model], name: str, stored_name: str) -> str:
    field = _encrypted(model, name)
    assert isinstance(field, EncryptedFileNameField)
    return field.open_file(stored_name)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it has fewer days: 8-31 → 2-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


class HardshipFile(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    file_no = models.CharField("档案编号", max_length=20)
    status = models.CharField("状态", max_length=10, choices=FileStatus.choices, default=FileStatus.ACTIVE)
    # The assessment: the class and what it was computed from and under.
    hardship_class = models.CharField("困难类别", max_length=10, choices=HardshipClass.choices)
    household_size = models.PositiveSmallIntegerField("共同生活人口")
    annual_income_encrypted = EncryptedTextField("家庭年可支配收入（密文）", purpose="relief.annual_income")
    rigid_spending_encrypted = EncryptedTextField("刚性支出（密文）", purpose="relief.rigid_spending")
    hardship_costs_encrypted = EncryptedTextField("致困支出（密文）", purpose="relief.hardship_costs")
    disaster = models.BooleanField("登记突发灾害或意外事故", default=False)
    dibao_monthly_fen = models.PositiveIntegerField("适用低保月标准（分）")
    assessment_year = models.PositiveSmallIntegerField("认定年度")
    classes_policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    dibao_policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    assessed_at = models.DateTimeField("认定时间")
    # Why the family is in hardship, and whom it is visited as.
    main_cause = models.CharField("主要致困原因", max_length=20, choices=Cause.choices)
    secondary_causes = models.JSONField("次要致困原因", default=list, blank=True)
    visit_group = models.CharField("慰问对象类别", max_length=32, blank=True)
    labour_since = models.DateField("劳动关系起始日期", null=True, blank=True)
    # 帮扶联系人: a staff user, or a name and phone.
    contact_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact_name = models.CharField("帮扶联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系人电话", max_length=11, blank=True)
    # Visits, every six months.
    filed_on = models.DateField("建档日期")
    last_visit_on = models.DateField("最近走访日期", null=True, blank=True)
    next_visit_due = models.DateField("下次走访截止日期")
    # 退档: notice, approval, follow-up.
    notice_starts_on = models.DateField("公示开始日期", null=True, blank=True)
    notice_ends_on = models.DateField("公示截止日期", null=True, blank=True)
    withdraw_reason = models.CharField("退档原因", max_length=200, blank=True)
    withdrawn_on = models.DateField("退档日期", null=True, blank=True)
    follow_up_until = models.DateField("跟踪期截止日期", null=True, blank=True)
    refiled_count = models.PositiveSmallIntegerField("重新建档次数", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "status", "hardship_class"], name="relief_file_org_status_idx"),
            models.Index(fields=["status", "next_visit_due"], name="relief_file_visit_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member"], name="relief_one_file_per_household"),
            models.UniqueConstraint(fields=["file_no"], name="relief_file_no_unique"),
            models.CheckConstraint(condition=models.Q(household_size__gte=1), name="relief_household_size_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in FileStatus]), name="relief_file_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(hardship_class=HardshipClass.NONE.value), name="relief_file_is_in_hardship"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=FileStatus.NOTICE.value)
                | models.Q(notice_starts_on__isnull=False, notice_ends_on__isnull=False),
                name="relief_notice_has_dates",
            ),
        ]
        verbose_name = "困难职工档案"

    def __str__(self) -> str:
        return self.file_no

    @property
    def approving_organization(self) -> Organization:
        """退档 is approved one level up (the root federation approves its own)."""
        return self.organization.parent or self.organization

    @property
    def contact_label(self) -> str:
        if self.contact_user_id is not None:
            return str(getattr(self.contact_user, "display_name", "") or self.contact_user)
        if self.contact_name:
            return "%s %s" % (self.contact_name, self.contact_phone)
        return ""

    def is_visit_overdue(self, today: dt.date) -> bool:
        return self.status in (FileStatus.ACTIVE, FileStatus.NOTICE) and self.next_visit_due < today

    def causes_display(self) -> list[str]:
        labels = dict(Cause.choices)
        return [str(labels.get(code, code)) for code in self.secondary_causes]


class HouseholdMember(models.Model):
    """Another member of the household (the worker the file is for is the file's member)."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="household")
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("与职工关系", max_length=16, choices=Relation.choices)
    birth_year = models.PositiveSmallIntegerField("出生年份", null=True, blank=True)
    annual_income_encrypted = EncryptedTextField("年收入（密文）", purpose="relief.household_income")
    health_encrypted = EncryptedTextField("健康状况（密文）", purpose="relief.household_health", blank=True)
    disability_encrypted = EncryptedTextField("残疾情况（密文）", purpose="relief.household_disability", blank=True)
    schooling = models.CharField("就学情况", max_length=16, choices=Schooling.choices, default=Schooling.NONE)

    class Meta:
        ordering = ["id"]

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)


class Visit(models.Model):
    """A 走访 of the household; it moves the file's next visit due to six months later."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField("走访日期")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    notes = models.CharField("走访情况", max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]


class Attachment(models.Model):
    """A supporting document (证明材料), its content sealed in private storage."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField("文件名", max_length=120)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    stored = EncryptedFileNameField(max_length=200, purpose="relief.attachment")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def describe(self) -> dict[str, Any]:
        return {"filename": self.filename, "size": self.size}


# ---- 临时救助 and 大病救助 cases ------------------------------------------------------------------


class CaseKind(models.TextChoices):
    TEMPORARY = "temporary", "临时救助"
    MAJOR_ILLNESS = "major_illness", "大病救助"


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    REVIEWED = "reviewed", "待审批"
    ESCALATED = "escalated", "待上级审批"
    APPROVED = "approved", "待发放"
    PAID = "paid", "已发放"
    REJECTED = "rejected", "未通过"


class ReliefCase(models.Model):
    """A 临时救助 or 大病救助 application: by the member on H5 or by staff on their behalf, then
    review, approval (amount limits per level, escalating) and disbursement. "一事一救": one
    case per member, situation and event day unless refused. A fast-track case (先行救助、后补手续)
    is approved before its papers are complete and carries a paperwork deadline."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    file = models.ForeignKey(HardshipFile, on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    case_no = models.CharField("案件编号", max_length=20)
    kind = models.CharField("救助类型", max_length=16, choices=CaseKind.choices)
    status = models.CharField("状态", max_length=12, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED)
    situation = models.CharField("救助情形", max_length=32)
    situation_label = models.CharField("救助情形名称", max_length=40)
    situations_policy = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event_date = models.DateField("事发日期")
    description = models.CharField("情况说明", max_length=500)
    amount_requested_fen = models.PositiveBigIntegerField("申请金额（分）")
    amount_approved_fen = models.PositiveBigIntegerField("批准金额（分）", null=True, blank=True)
    approval_limits_policy = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # 大病救助: the year's figures (sealed JSON) and the computation's outcome and policy version.
    illness_year = models.PositiveSmallIntegerField("救助年度", null=True, blank=True)
    illness_figures_encrypted = EncryptedTextField("医疗费用明细（密文）", purpose="relief.illness_figures", blank=True)
    illness_policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Real-name transfer to the member's own card.
    payee_card_encrypted = EncryptedTextField("收款银行卡号（密文）", purpose="relief.payee_card")
    payee_card_masked = models.CharField("收款银行卡号", max_length=24)
    # The disbursement: the ledger entry of the budget (fund source and line) it was paid from.
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    paid_at = models.DateTimeField("发放时间", null=True, blank=True)
    fast_track = models.BooleanField("先行救助、后补手续", default=False)
    paperwork_due = models.DateField("补齐手续截止日期", null=True, blank=True)
    paperwork_done_at = models.DateTimeField("手续补齐时间", null=True, blank=True)
    paperwork_escalated_at = models.DateTimeField("逾期上报上级时间", null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organization", "status"], name="relief_case_org_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["case_no"], name="relief_case_no_unique"),
            # 一事一救: one live case per member, kind, situation and event day.
            models.UniqueConstraint(
                fields=["member", "kind", "situation", "event_date"],
                condition=~models.Q(status="rejected"),
                name="relief_one_case_per_event",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in CaseStatus]), name="relief_case_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(fast_track=False) | models.Q(paperwork_due__isnull=False),
                name="relief_fast_track_has_paperwork_due",
            ),
            # Paid means paid from a budget: never cash without a ledger record.
            models.CheckConstraint(
                condition=~models.Q(status="paid") | models.Q(ledger_entry__isnull=False, paid_at__isnull=False),
                name="relief_paid_has_ledger_entry",
            ),
        ]
        verbose_name = "救助案件"

    def __str__(self) -> str:
        return self.case_no

    def paperwork_overdue(self, today: dt.date) -> bool:
        return (
            self.fast_track
            and self.paperwork_done_at is None
            and self.status != CaseStatus.REJECTED
            and self.paperwork_due is not None
            and self.paperwork_due < today
        )


class CaseDocument(models.Model):
    """A document of a case (申请表, 诊断证明, 费用清单 …), sealed like a file's attachments."""

    case = models.ForeignKey(ReliefCase, on_delete=models.CASCADE, related_name="documents")
    filename = models.CharField("文件名", max_length=120)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    stored = EncryptedFileNameField(max_length=200, purpose="relief.case_document")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


# ---- 常态化慰问 --------------------------------------------------------------------------------


class Occasion(models.TextChoices):
    FESTIVAL = "festival", "节日慰问"
    WEATHER = "weather", "极端天气慰问"
    DISASTER = "disaster", "突发灾害慰问"


class PlanStatus(models.TextChoices):
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class VisitPlan(models.Model):
    """A 常态化慰问 plan: a group (a `relief.visit_groups` code) and an occasion across the sub-tree
    of `organization`, between two dates, with a standard of cash and goods per visit."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    title = models.CharField("慰问活动名称", max_length=80)
    occasion = models.CharField("慰问时机", max_length=10, choices=Occasion.choices)
    group = models.CharField("慰问对象类别", max_length=32)
    group_label = models.CharField("慰问对象类别名称", max_length=40)
    groups_policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    cash_fen = models.PositiveBigIntegerField("每户慰问金（分）", default=0)
    goods = models.CharField("慰问品", max_length=120, blank=True)
    status = models.CharField("状态", max_length=8, choices=PlanStatus.choices, default=PlanStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="relief_plan_dates"),
        ]
        verbose_name = "慰问计划"

    def __str__(self) -> str:
        return self.title


class PlanVisit(models.Model):
    """One member visited under a plan: date, visitor, cash and goods. Once per member per plan."""

    plan = models.ForeignKey(VisitPlan, on_delete=models.PROTECT, related_name="visits")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField("慰问日期")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cash_fen = models.PositiveBigIntegerField("慰问金（分）", default=0)
    goods = models.CharField("慰问品", max_length=120, blank=True)
    notes = models.CharField("备注", max_length=200, blank=True)
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "member"], name="relief_plan_visit_once"),
            models.CheckConstraint(
                condition=models.Q(cash_fen=0) | models.Q(ledger_entry__isnull=False), name="relief_visit_cash_paid"
            ),
        ]
