"""职工诉求台账: items (来信, 专线, 接访, 座谈会, 职代会提案, 线上 …), the departments a union
sends 整改通知单 to, their progress posts with evidence, answers reviewed before they are
published, the submitter's satisfaction, milestones of long items, and a small inbox of
notifications. An item's status is moved by the declared workflow (`workflows.ITEM`); its
content is personal data and sealed at rest."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from gonghui.core.fields import EncryptedFileNameField, EncryptedTextField
from gonghui.organizations.models import Organization

CONTENT_MAX = 2000
TITLE_MAX = 60


class Channel(models.TextChoices):
    LETTER = "letter", "职工来信"
    HOTLINE = "hotline", "诉求专线"
    VISIT = "visit", "工会接访"
    CHAIR_MEETING = "chair_meeting", "分会主席工作会"
    FORUM = "forum", "职工座谈会"
    CONGRESS = "congress", "职代会提案"
    ONLINE = "online", "线上"


class SubmitterKind(models.TextChoices):
    MEMBER = "member", "会员本人"
    STAFF = "staff", "工作人员代录"
    ANONYMOUS = "anonymous", "匿名"


class ItemStatus(models.TextChoices):
    SUBMITTED = "submitted", "待受理"
    ACCEPTED = "accepted", "已受理"
    IN_PROGRESS = "in_progress", "办理中"
    CLOSED = "closed", "已销账"
    DECLINED = "declined", "不予受理"
    MERGED = "merged", "已合并"


OPEN_STATUSES = (ItemStatus.SUBMITTED, ItemStatus.ACCEPTED, ItemStatus.IN_PROGRESS)


class Category(models.Model):
    """A category an organisation offers for its sub-tree (建议, 后勤保障, 薪酬福利 …), in the
    organisation's order. A retired category is no longer offered; the items filed under it
    keep it (and show its name)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("分类", max_length=20)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="suggestion_category_unique")]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department of the unit that receives 整改通知单, with its contact users."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("部门", max_length=40)
    contacts = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="suggestion_departments")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization_id", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="suggestion_department_unique")]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    number = models.CharField("编号", max_length=24, unique=True)
    channel = models.CharField("渠道", max_length=20, choices=Channel.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField("标题", max_length=TITLE_MAX)
    content_encrypted = EncryptedTextField("内容（密文）", purpose="suggestions.content")
    submitter_kind = models.CharField("提交方式", max_length=10, choices=SubmitterKind.choices)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="suggestion_items"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tracking_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField("状态", max_length=20, choices=ItemStatus.choices, default=ItemStatus.SUBMITTED)
    received_at = models.DateTimeField("收到时间")
    clock_started_at = models.DateTimeField("计时起点")
    first_response_at = models.DateTimeField("首次答复", null=True, blank=True)
    resolved_at = models.DateTimeField("销账时间", null=True, blank=True)
    escalated_at = models.DateTimeField("督办上报", null=True, blank=True)
    escalated_to = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sla_version = models.PositiveIntegerField("时限规则版本", null=True, blank=True)
    sla_rule = models.CharField("时限规则", max_length=40, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates")
    decline_reason = models.CharField("不予受理原因", max_length=200, blank=True)
    publishable = models.BooleanField("院务公开", default=False)
    public_outcome = models.CharField("公开的办理结果", max_length=500, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"], name="suggestion_item_org_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["tracking_hash"], condition=~Q(tracking_hash=""), name="suggestion_tracking_unique"
            ),
            models.CheckConstraint(
                condition=~Q(submitter_kind="member") | Q(member__isnull=False), name="suggestion_member_named"
            ),
        ]

    def __str__(self) -> str:
        return "%s %s" % (self.number, self.title)

    @property
    def content(self) -> str:
        field: Any = self._meta.get_field("content_encrypted")
        return str(field.open(self.content_encrypted)) if self.content_encrypted else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Notice(models.Model):
    """整改通知单: numbered per organisation and year (苏甲工诉〔2026〕3号)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="notices")
    year = models.PositiveSmallIntegerField()
    seq = models.PositiveIntegerField()
    departments = models.ManyToManyField(Department, related_name="notices")
    requirement = models.CharField("整改要求", max_length=500)
    deadline = models.DateField("办结期限")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "seq"], name="suggestion_notice_number_unique")
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return "诉求整改〔%(year)d〕%(seq)d号" % {"year": self.year, "seq": self.seq}


class Progress(models.Model):
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="progress")
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, null=True, blank=True, related_name="progress")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField("进展", max_length=1000)
    is_closure = models.BooleanField("销账说明", default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class Attachment(models.Model):
    """A file of an item (from the submitter) or evidence of a progress post, sealed in private storage."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="attachments")
    progress = models.ForeignKey(Progress, on_delete=models.PROTECT, null=True, blank=True, related_name="evidence")
    name = models.CharField("文件名", max_length=100)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    stored = EncryptedFileNameField(max_length=200, purpose="suggestions.attachment")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class Answer(models.Model):
    """The union's answer to the submitter: recorded, checked by a second person, then published."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    text = models.CharField("答复", max_length=1000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]


class Satisfaction(models.Model):
    """The submitter's verdict on one closure (a re-opened item may be rated again)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="ratings")
    round = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "round"], name="suggestion_rating_once_per_round"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="suggestion_rating_range"),
        ]


class Reopening(models.Model):
    """The submitter sent a closed item back: the clock restarted here, the history stays."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="reopenings")
    reason = models.CharField(max_length=300)
    previous_clock_started_at = models.DateTimeField()
    created_at = models.DateTimeField()


class Milestone(models.Model):
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="milestones")
    title = models.CharField("节点", max_length=60)
    reached_on = models.DateField("日期")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["reached_on", "id"]


class Notification(models.Model):
    """A line in a user's 消息 inbox (no SMS or e-mail is sent)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggestion_inbox")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
