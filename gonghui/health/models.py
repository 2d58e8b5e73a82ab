"""Health check-ups (职工体检 / 健康小屋).

Three groups of tables:

* the indicator catalogue (`CatalogueRelease`, `Indicator`, `ReferenceInterval`), loaded from the
  reviewed file `data/catalogue.json` and never edited in place (the critical values an
  organisation sets for its sub-tree are the versioned policy `health.critical_limits`, see
  `gonghui.health.policies`);
* programmes: `Programme` with a `Package` per sex (`PackageItem` rows), `Quota` per
  organisation, `CheckupCentre`, appointment `Slot` and the member's `Appointment`;
* results: `ImportBatch`, `Checkup` (one report: an exam, or one 健康小屋 visit) and `Result`.

Encryption at rest (个人信息保护法 art. 28): a result's measured value, the value and unit as
received, the laboratory's own range text and any comment are one JSON document encrypted with
`gonghui.core.crypto.encrypt(purpose="health.result")` in `Result.value_encrypted`. What stays
in clear is what union statistics aggregate and what explains a decision: the indicator, the
flag, the date, and the reference interval / critical limits that were applied (catalogue data,
not personal data). Per-result encryption keeps one member's 10-year history at a few hundred
AES-GCM decryptions (≈ milliseconds) while aggregates never decrypt anything.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from gonghui.core.fields import EncryptedTextField
from gonghui.core.models import Job
from gonghui.members.models import Member, Sex
from gonghui.organizations.models import Organization, PolicyVersion


class Category(models.TextChoices):
    BLOOD_COUNT = "blood_count", "血常规"
    LIVER = "liver", "肝功能"
    KIDNEY = "kidney", "肾功能"
    GLUCOSE = "glucose", "血糖"
    LIPIDS = "lipids", "血脂"
    ELECTROLYTES = "electrolytes", "电解质"
    THYROID = "thyroid", "甲状腺功能"
    VITALS = "vitals", "一般检查"


class Flag(models.TextChoices):
    CRITICAL_LOW = "critical_low", "危急偏低"
    LOW = "low", "偏低"
    NORMAL = "normal", "正常"
    HIGH = "high", "偏高"
    CRITICAL_HIGH = "critical_high", "危急偏高"
    NONE = "none", "无参考区间"


ABNORMAL_FLAGS = (Flag.CRITICAL_LOW, Flag.CRITICAL_HIGH, Flag.LOW, Flag.HIGH)


class BoundRule(models.TextChoices):
    LT = "lt", "低于下限为偏低（<）"
    LTE = "lte", "不高于下限为偏低（≤）"
    GT = "gt", "高于上限为偏高（>）"
    GTE = "gte", "达到上限即偏高（≥）"


# ---- catalogue ------------------------------------------------------------------------------


class CatalogueRelease(models.Model):
    """One reviewed version of `data/catalogue.json` as loaded into the database."""

    version = models.CharField(max_length=20, unique=True)
    review_note = models.TextField()
    boundary_convention = models.TextField()
    sources = models.JSONField(default=dict)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.version


class Indicator(models.Model):
    """A measured item: LOINC code, names, canonical unit, the units it may arrive in
    (`conversions`: normalised unit key → [factor, offset], canonical = value × factor + offset)
    and the codes and names that identify it in incoming data (`codes`: normalised code → list
    of allowed unit keys, or ["*"] for every unit in `conversions`)."""

    code = models.CharField(max_length=20, unique=True)
    loinc = models.CharField("LOINC", max_length=20, unique=True)
    name_zh = models.CharField("中文名称", max_length=40)
    name_en = models.CharField("英文名称", max_length=80)
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    unit = models.CharField("标准单位", max_length=20, blank=True)
    decimals = models.PositiveSmallIntegerField("报告精度（小数位）")
    conversions = models.JSONField(default=dict)
    codes = models.JSONField(default=dict)
    grades = models.JSONField(default=list, blank=True)
    explanation = models.TextField("指标说明")
    advice_low = models.TextField("偏低建议", blank=True)
    advice_high = models.TextField("偏高建议", blank=True)
    critical_low = models.DecimalField("默认危急值下限", max_digits=12, decimal_places=4, null=True, blank=True)
    critical_high = models.DecimalField("默认危急值上限", max_digits=12, decimal_places=4, null=True, blank=True)
    critical_source = models.CharField(max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    release = models.ForeignKey(CatalogueRelease, on_delete=models.PROTECT, related_name="indicators")

    class Meta:
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return f"{self.name_zh}（{self.code}）"


class ReferenceInterval(models.Model):
    """A reference interval or guideline cut-off for one sex and age band, naming its source.
    Rows are never changed once results point at them: a new catalogue release retires the
    old row (`retired`) and adds a new one."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="intervals")
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True, help_text="空为不分性别")
    age_min = models.PositiveSmallIntegerField(default=16)
    age_max = models.PositiveSmallIntegerField(null=True, blank=True, help_text="不含；空为无上限")
    low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    lower_rule = models.CharField(max_length=3, choices=BoundRule.choices, default=BoundRule.LT)
    upper_rule = models.CharField(max_length=3, choices=BoundRule.choices, default=BoundRule.GT)
    source = models.CharField("来源", max_length=300)
    release = models.ForeignKey(CatalogueRelease, on_delete=models.PROTECT, related_name="intervals")
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["indicator__sort_order", "sex", "age_min"]
        constraints = [
            models.CheckConstraint(condition=Q(low__isnull=False) | Q(high__isnull=False), name="interval_has_limit"),
            models.CheckConstraint(
                condition=Q(low__isnull=True) | Q(high__isnull=True) | Q(low__lt=F("high")), name="interval_ordered"
            ),
            models.CheckConstraint(
                condition=Q(age_max__isnull=True) | Q(age_max__gt=F("age_min")), name="interval_age_band"
            ),
            models.CheckConstraint(condition=Q(lower_rule__in=["lt", "lte"]), name="interval_lower_rule"),
            models.CheckConstraint(condition=Q(upper_rule__in=["gt", "gte"]), name="interval_upper_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.sex or '*'} {self.age_min}-{self.age_max or ''}"


# ---- programmes -----------------------------------------------------------------------------


class ProgrammeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    OPEN = "open", "预约中"
    CLOSED = "closed", "已结束"


class Programme(models.Model):
    """A check-up programme run by an organisation for members of its sub-tree (or a narrower
    `eligible_org`), optionally only for members carrying any of `eligible_tags`."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="health_programmes")
    name = models.CharField("项目名称", max_length=100)
    year = models.PositiveSmallIntegerField("年度")
    description = models.TextField("说明", blank=True)
    status = models.CharField(max_length=10, choices=ProgrammeStatus.choices, default=ProgrammeStatus.DRAFT)
    starts_on = models.DateField("体检开始日期")
    ends_on = models.DateField("体检结束日期")
    eligible_org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="参检范围（组织及其下级）"
    )
    eligible_tags = models.PositiveIntegerField("限定标签（任一）", default=0)
    min_age = models.PositiveSmallIntegerField("最小年龄", null=True, blank=True)
    max_age = models.PositiveSmallIntegerField("最大年龄", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="programme_window"),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(max_age__gte=F("min_age")),
                name="programme_age_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Package(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="packages")
    sex = models.CharField("适用性别", max_length=1, choices=Sex.choices)
    name = models.CharField("套餐名称", max_length=100)
    price_fen = models.PositiveIntegerField("价格（分）")

    class Meta:
        ordering = ["sex"]
        constraints = [models.UniqueConstraint(fields=["programme", "sex"], name="package_one_per_sex")]

    def __str__(self) -> str:
        return self.name

    @property
    def price_yuan(self) -> str:
        """Integer fen shown as yuan with exactly two decimals: 45000 → "450.00"."""
        return "%d.%02d" % divmod(self.price_fen, 100)


class PackageItem(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    group = models.CharField("检查类别", max_length=30)
    name = models.CharField("项目名称", max_length=60)
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["package", "position"], name="package_item_position")]


class Quota(models.Model):
    """Places of a programme for an organisation's sub-tree; a booking takes a place from the
    nearest quota among the member's organisation and its ancestors."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="quotas")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    places = models.PositiveIntegerField("名额")
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "organization"], name="quota_once_per_org"),
            models.CheckConstraint(condition=Q(used__lte=F("places")), name="quota_not_exceeded"),
        ]


class CheckupCentre(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="health_centres")
    name = models.CharField("体检机构", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=30, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Slot(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="slots")
    centre = models.ForeignKey(CheckupCentre, on_delete=models.PROTECT, related_name="slots")
    date = models.DateField("日期")
    start_time = models.TimeField("开始时间")
    end_time = models.TimeField("结束时间")
    capacity = models.PositiveIntegerField("可约人数")
    booked = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["date", "start_time", "centre_id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "centre", "date", "start_time"], name="slot_once"),
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="slot_not_overbooked"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="slot_time_order"),
        ]

    @property
    def remaining(self) -> int:
        return self.capacity - self.booked


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "已预约"
    CANCELLED = "cancelled", "已取消"
    ATTENDED = "attended", "已到检"


class Appointment(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="appointments")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="health_appointments")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="+")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    quota = models.ForeignKey(Quota, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    booked_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-booked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "member"], condition=~Q(status="cancelled"), name="appointment_one_active"
            )
        ]


# ---- results --------------------------------------------------------------------------------


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel（XLSX）"
    HL7 = "hl7", "HL7 v2 ORU^R01"
    FHIR = "fhir", "FHIR R4"


class ImportBatch(models.Model):
    """One uploaded results file. Its lifecycle (queued, running, finished, retries after a dead
    worker, expiry of the upload) is its `job` (`gonghui.core.jobs`, kind `health.import`). The
    file is kept encrypted until it has been imported, was refused, or its job expired;
    `summary` holds counts and the problems found (row/segment locations and reasons, never
    values)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="health_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="health_import")
    format = models.CharField(max_length=5, choices=ImportFormat.choices)
    filename = models.CharField(max_length=200)
    mapping = models.JSONField(default=dict, blank=True)
    # The centre's saved mapping (and so its version) the file was read with, if one was chosen.
    saved_mapping = models.ForeignKey(
        "ImportMapping", on_delete=models.PROTECT, null=True, blank=True, related_name="batches"
    )
    dry_run = models.BooleanField(default=False)
    payload_encrypted = EncryptedTextField(blank=True, purpose="health.import_file")
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class CheckupKind(models.TextChoices):
    EXAM = "exam", "体检报告"
    KIOSK = "kiosk", "健康小屋自测"


class LlmStatus(models.TextChoices):
    NONE = "", "未生成"
    ACCEPTED = "accepted", "已生成"
    REJECTED = "rejected", "已丢弃（引用了报告中没有的数字）"
    FAILED = "failed", "生成失败"


class Checkup(models.Model):
    """One report: a check-up exam imported from a centre, or one 健康小屋 visit. `external_id`
    (the centre's report number, or the exam date and centre when the file has none) makes a
    re-import of the same report a no-op."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="health_checkups")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=5, choices=CheckupKind.choices, default=CheckupKind.EXAM)
    source = models.CharField(max_length=10)
    external_id = models.CharField(max_length=120)
    centre_name = models.CharField("体检机构", max_length=100, blank=True)
    exam_date = models.DateField("检查日期")
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="checkups")
    device_key = models.CharField(max_length=32, blank=True)
    abnormal_count = models.PositiveSmallIntegerField(default=0)
    critical_count = models.PositiveSmallIntegerField(default=0)
    critical_policy = models.ForeignKey(
        PolicyVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="判定危急值所依据的政策版本；空为目录默认值",
    )
    result_count = models.PositiveSmallIntegerField(default=0)
    llm_status = models.CharField(max_length=10, choices=LlmStatus.choices, blank=True, default=LlmStatus.NONE)
    llm_summary_encrypted = EncryptedTextField(blank=True, purpose="health.llm_summary")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-exam_date", "-id"]
        indexes = [models.Index(fields=["member", "-exam_date"], name="checkup_member_date_idx")]
        constraints = [
            models.UniqueConstraint(fields=["member", "source", "external_id"], name="checkup_external_once"),
            models.CheckConstraint(condition=Q(abnormal_count__lte=F("result_count")), name="checkup_counts"),
        ]


class Result(models.Model):
    """One interpreted value; see the module docstring for what is encrypted."""

    checkup = models.ForeignKey(Checkup, on_delete=models.CASCADE, related_name="results")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    measured_on = models.DateField()
    flag = models.CharField(max_length=14, choices=Flag.choices)
    value_encrypted = EncryptedTextField(purpose="health.result")
    interval = models.ForeignKey(ReferenceInterval, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    critical_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    critical_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "indicator", "measured_on"], name="result_history_idx"),
            models.Index(fields=["indicator", "measured_on", "flag"], name="result_stats_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["checkup", "indicator"], name="result_once_per_checkup")]


class ImportMapping(models.Model):
    """How a check-up centre's CSV/XLSX files are read: which column holds the ID number and
    the exam date, and which column is which indicator in which unit. Saving makes a new
    version; the batch records the version it was read with."""

    centre = models.ForeignKey(CheckupCentre, on_delete=models.PROTECT, related_name="import_mappings")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    fields = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["centre_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "version"], name="import_mapping_version_once"),
            models.CheckConstraint(condition=Q(version__gte=1), name="import_mapping_version_positive"),
        ]

    def as_import_mapping(self) -> dict[str, Any]:
        """The mapping in the form the tabular reader takes (see importers/tabular.py)."""
        return {
            "fields": dict(self.fields),
            "columns": {c["column"]: {"code": c["indicator"], "unit": c["unit"]} for c in self.columns},
            "centre": self.centre.name,
        }
