from typing import Any

from django.conf import settings
from django.db import models

from gonghui.core.errors import Conflict
from gonghui.core.permissions import Role
from gonghui.core.pinyin import initials

# Each level of the materialised path is the organisation's id in base 36, zero-padded to
# PATH_STEP characters and ended by a dot: "0001.002S.". 36**6 ids per level.
PATH_STEP = 6


class Level(models.IntegerChoices):
    NATIONAL = 0, "全国总工会"
    PROVINCE = 1, "省总工会"
    CITY = 2, "市总工会"
    COUNTY = 3, "区县总工会"
    STREET = 4, "街道/产业工会"
    GRASSROOTS = 5, "基层工会"


class UnitType(models.TextChoices):
    STATE_OWNED = "state_owned", "国有企业"
    COLLECTIVE = "collective", "集体企业"
    PRIVATE = "private", "私营企业"
    FOREIGN = "foreign", "外资企业"
    INSTITUTION = "institution", "事业单位"
    GOVERNMENT = "government", "机关"
    NON_PROFIT = "non_profit", "民办非企业"
    OTHER = "other", "其他"


class Organization(models.Model):
    """A union in the federation tree. `path` is the materialised path of ids from the root,
    so a sub-tree is one indexed prefix scan: `path LIKE '0001.002S.%'`."""

    code = models.CharField("组织代码", max_length=32, unique=True)
    name = models.CharField("工会名称", max_length=120)
    name_initials = models.CharField("名称拼音首字母", max_length=120, blank=True, editable=False)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    region_code = models.CharField("行政区划代码", max_length=6)
    unit_name = models.CharField("单位名称", max_length=120, blank=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    unit_type = models.CharField("单位类别", max_length=20, choices=UnitType.choices, blank=True)
    industry = models.CharField("国民经济行业门类", max_length=40, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="org_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["level", "region_code"], name="org_level_region_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(depth__gte=0), name="org_depth_non_negative"),
            models.CheckConstraint(condition=models.Q(path__endswith="."), name="org_path_ends_with_dot"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_initials = initials(self.name, max_length=120)
        super().save(*args, **kwargs)

    @staticmethod
    def path_segment(pk: int) -> str:
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        out = ""
        n = pk
        while n:
            n, r = divmod(n, 36)
            out = digits[r] + out
        return out.rjust(PATH_STEP, "0") + "."

    def is_within(self, ancestor_path: str) -> bool:
        return self.path.startswith(ancestor_path)


class RoleAssignment(models.Model):
    """A staff user's role on an organisation; it applies to the whole sub-tree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


class PolicyStatus(models.TextChoices):
    PROPOSED = "proposed", "待审批"
    APPROVED = "approved", "已生效"
    REJECTED = "rejected", "已驳回"


class PolicyVersion(models.Model):
    """One version of a policy (`gonghui.core.policies` kinds) set by an organisation for its
    sub-tree. A version is proposed, then approved (by a second person where the kind requires
    it) or rejected; an approved row is never changed again — editing proposes the next
    version. Decisions keep a foreign key to the version they applied."""

    kind = models.CharField("政策类型", max_length=64)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="policy_versions")
    version = models.PositiveIntegerField("版本")
    valid_from = models.DateField("生效日期")
    body = models.JSONField("内容")
    note = models.CharField("修改说明", max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.PROPOSED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "organization__path", "-version"]
        indexes = [models.Index(fields=["kind", "organization", "status", "valid_from"], name="policy_resolve_idx")]
        constraints = [
            models.UniqueConstraint(fields=["kind", "organization", "version"], name="policy_version_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="policy_version_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=["proposed", "approved", "rejected"]), name="policy_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="policy_approved_has_approver",
            ),
        ]

    def __str__(self) -> str:
        return "%(kind)s v%(version)s · %(org)s" % {
            "kind": self.kind,
            "version": self.version,
            "org": self.organization,
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Only a proposal may change (to be approved or rejected); a decided version is history
        that decisions point at."""
        if (
            self.pk is not None
            and PolicyVersion.objects.filter(pk=self.pk).exclude(status=PolicyStatus.PROPOSED).exists()
        ):
            raise Conflict("已审批的政策版本不能修改，请提出新版本")
        super().save(*args, **kwargs)
