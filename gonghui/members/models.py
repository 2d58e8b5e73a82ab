from django.conf import settings
from django.db import models

from gonghui.core.crypto import mask_phone
from gonghui.core.fields import EncryptedTextField
from gonghui.members.identity import mask_name
from gonghui.organizations.models import Organization


class IdType(models.TextChoices):
    RESIDENT = "resident", "居民身份证"
    HK_MACAO = "hk_macao", "港澳居民居住证"
    TAIWAN = "taiwan", "台湾居民居住证"
    PASSPORT = "passport", "护照"


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", "在会"
    TRANSFERRING = "transferring", "转出中"
    TRANSFERRED = "transferred", "已转出"
    RETAINED = "retained", "保留会籍"
    WITHDRAWN = "withdrawn", "退会"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Education(models.TextChoices):
    PRIMARY = "primary", "小学及以下"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中/中专/技校"
    COLLEGE = "college", "大专"
    BACHELOR = "bachelor", "本科"
    POSTGRAD = "postgrad", "研究生"


class HouseholdType(models.TextChoices):
    URBAN = "urban", "非农业户口"
    RURAL = "rural", "农业户口"
    CONVERTED = "converted", "农转居"


class JoinMethod(models.TextChoices):
    UNIT = "unit", "单位集体入会"
    ONLINE = "online", "网上申请入会"
    SITE = "site", "现场入会"
    TRANSFER = "transfer", "转会转入"


class ModelWorkerLevel(models.TextChoices):
    NONE = "", "无"
    NATIONAL = "national", "全国劳模/大国工匠"
    PROVINCIAL = "provincial", "省部级劳模/工匠"
    CITY = "city", "市级劳模/工匠"


class HardshipClass(models.TextChoices):
    NONE = "", "非困难职工"
    DEEP = "deep", "深度困难"
    RELATIVE = "relative", "相对困难"
    ACCIDENT = "accident", "意外致困"


class Tag(models.IntegerChoices):
    """Targeting tags, stored as bits of `Member.tags` so one integer column carries them all."""

    MIGRANT = 1, "农民工"
    NEW_FORM = 2, "新就业形态"
    COURIER = 4, "快递员"
    FOOD_DELIVERY = 8, "外卖骑手"
    RIDE_HAILING = 16, "网约车司机"
    TRUCK_DRIVER = 32, "货车司机"
    OUTDOOR = 64, "户外劳动者"
    SANITATION = 128, "环卫工人"


ETHNICITIES = (
    "汉族",
    "壮族",
    "回族",
    "满族",
    "维吾尔族",
    "苗族",
    "彝族",
    "土家族",
    "藏族",
    "蒙古族",
    "侗族",
    "布依族",
    "瑶族",
    "白族",
    "朝鲜族",
    "哈尼族",
    "黎族",
    "哈萨克族",
    "傣族",
    "其他",
)


def tags_from_mask(mask: int) -> list[str]:
    return [tag.label for tag in Tag if mask & tag.value]


class Member(models.Model):
    """A union member (会员). The ID number is stored encrypted with a keyed blind index for
    exact lookup and a masked copy for display; see `gonghui.core.crypto`."""

    # No index of its own: member_org_recent_idx leads with the organisation.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name="所属基层工会",
        db_index=False,
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="member_profile"
    )
    member_no = models.CharField("会员编号", max_length=20)
    card_no = models.CharField("会员卡号", max_length=19)
    name = models.CharField("姓名", max_length=50)
    name_initials = models.CharField("姓名拼音首字母", max_length=20, blank=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=10, default="汉族")
    id_type = models.CharField("证件类型", max_length=10, choices=IdType.choices, default=IdType.RESIDENT)
    id_number_encrypted = EncryptedTextField("证件号码（密文）", purpose="member.id_number")
    id_blind = models.CharField(max_length=64)
    id_masked = models.CharField("证件号码", max_length=24)
    phone = models.CharField("手机号", max_length=11, blank=True)
    education = models.CharField("学历", max_length=10, choices=Education.choices, blank=True)
    skill_level = models.CharField("技能等级", max_length=20, blank=True)
    political_status = models.CharField("政治面貌", max_length=20, blank=True)
    household_type = models.CharField("户籍类型", max_length=10, choices=HouseholdType.choices, blank=True)
    household_place = models.CharField("户籍所在地", max_length=60, blank=True)
    work_unit = models.CharField("工作单位", max_length=120, blank=True)
    status = models.CharField(
        "会籍状态", max_length=14, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    joined_on = models.DateField("入会日期")
    join_method = models.CharField("入会方式", max_length=10, choices=JoinMethod.choices, default=JoinMethod.UNIT)
    tags = models.PositiveIntegerField("标签", default=0)
    model_worker_level = models.CharField(
        "劳模/工匠", max_length=12, choices=ModelWorkerLevel.choices, blank=True, default=""
    )
    hardship_class = models.CharField(
        "困难职工类别", max_length=10, choices=HardshipClass.choices, blank=True, default=""
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-id"], name="member_org_recent_idx"),
            models.Index(fields=["name"], name="member_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["name_initials"], name="member_initials_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["phone"], name="member_phone_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["work_unit"], name="member_work_unit_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]
        # Unique keys as constraints rather than `unique=True`, which on PostgreSQL would add a
        # second, pattern-ops index per column that no query uses (they are looked up exactly)
        # and every insert would pay for.
        constraints = [
            models.UniqueConstraint(fields=["member_no"], name="member_no_unique"),
            models.UniqueConstraint(fields=["card_no"], name="member_card_no_unique"),
            models.UniqueConstraint(fields=["id_blind"], name="member_id_blind_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="member_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.member_no}）"

    @property
    def tag_labels(self) -> list[str]:
        return tags_from_mask(self.tags)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)


class MemberHistory(models.Model):
    """One edit of a member: who, when, why, and each changed field as [old, new]
    (sensitive fields recorded masked)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=30)
    changes = models.JSONField(default=dict)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["member", "version"], name="member_history_version_unique")]


class TransferStatus(models.TextChoices):
    PENDING_OUT = "pending_out", "待转出审批"
    PENDING_IN = "pending_in", "待转入审批"
    COMPLETED = "completed", "已完成"
    REJECTED = "rejected", "已驳回"


class Transfer(models.Model):
    """转会: approved out by the old union, then in by the new one."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transfers")
    from_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="transfers_out")
    to_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=12, choices=TransferStatus.choices, default=TransferStatus.PENDING_OUT)
    reason = models.CharField("转会原因", max_length=200)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    out_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    out_decided_at = models.DateTimeField(null=True)
    in_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    in_decided_at = models.DateTimeField(null=True)
    rejection_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(status__in=["pending_out", "pending_in"]),
                name="transfer_one_open_per_member",
            ),
            models.CheckConstraint(condition=~models.Q(from_org=models.F("to_org")), name="transfer_changes_org"),
        ]


class ConsentPurpose(models.TextChoices):
    RELIEF = "relief", "困难帮扶"
    HEALTH = "health", "职工体检"
    MUTUAL_AID = "mutual_aid", "医疗互助"


class Consent(models.Model):
    """Separate consent per sensitive purpose (个人信息保护法 art. 29)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    text_version = models.CharField(max_length=20)
    granted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "purpose"], condition=models.Q(withdrawn_at__isnull=True), name="consent_one_active"
            )
        ]


from gonghui.members.import_models import *  # noqa: E402,F403


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    CHECKED = "checked", "已初审"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


class JoinApplication(models.Model):
    """网上申请入会: a worker asks a grassroots union to admit them (joining is voluntary and
    approved by the grassroots committee, 工会法 art. 3). The phone was proved with an SMS code;
    the ID number is kept like a member's (encrypted, blind index, masked copy)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="join_applications", verbose_name="申请加入的工会"
    )
    name = models.CharField("姓名", max_length=50)
    id_number_encrypted = EncryptedTextField("证件号码（密文）", purpose="member.id_number")
    id_blind = models.CharField(max_length=64, db_index=True)
    id_masked = models.CharField("证件号码", max_length=24)
    phone = models.CharField("手机号", max_length=11)
    # The rest of the member form as the applicant filled it (cleaned by `clean_member_fields`).
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField("审核意见", max_length=200, blank=True)
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organization", "status", "-id"], name="join_app_org_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["id_blind"],
                condition=models.Q(status__in=["pending", "checked"]),
                name="join_application_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_status_display()}）"
