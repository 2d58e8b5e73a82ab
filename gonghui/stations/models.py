"""Service stations (服务阵地): the configurable kinds and facilities, the stations with their
hours, photos and QR code, the "六有" inspections, member check-ins and station-list imports.

Coordinates are stored in WGS-84 (`geo`); `cell` is the grid cell of the point, kept in step
by `Station.save()` and by every bulk write (`services.station_fields_derive`), and indexed:
the nearest-station search reads stations cell range by cell range, never the whole table."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from gonghui.core.models import Job
from gonghui.organizations.models import Organization
from gonghui.stations import geo

MAX_FACILITY_BIT = 62
# Where the member pages' district centres are cached (`selectors.districts`); station writes
# drop it.
DISTRICTS_CACHE_KEY = "stations:districts"  # the facility bitmask is a signed 64-bit integer


class StationKind(models.Model):
    """A kind of station (户外劳动者服务站点, 司机之家, …), configured by the federation."""

    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    order = models.PositiveSmallIntegerField("排序", default=100)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Facility(models.Model):
    """An item of the facilities checklist (空调, 饮水机, 微波炉 …). Each holds one bit of a
    station's `facility_mask`, so "has a microwave" is one AND on the row already read."""

    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    bit = models.PositiveSmallIntegerField("位", unique=True)
    order = models.PositiveSmallIntegerField("排序", default=100)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.CheckConstraint(condition=Q(bit__lte=MAX_FACILITY_BIT), name="facility_bit_range")]

    def __str__(self) -> str:
        return self.name

    @property
    def mask(self) -> int:
        return 1 << self.bit


class HolidayMode(models.TextChoices):
    REGULAR = "regular", "节假日照常开放"
    CLOSED = "closed", "节假日闭站"
    SPECIAL = "special", "节假日另有时段"


class Station(models.Model):
    code = models.CharField("站点编号", max_length=20, unique=True)
    name = models.CharField("站点名称", max_length=100)
    kind = models.ForeignKey(StationKind, on_delete=models.PROTECT, related_name="stations", verbose_name="类型")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="stations", verbose_name="所属工会"
    )
    address = models.CharField("地址", max_length=200)
    lat = models.FloatField("纬度（WGS-84）")
    lng = models.FloatField("经度（WGS-84）")
    cell = models.BigIntegerField(editable=False)
    facility_mask = models.BigIntegerField("设施", default=0)
    always_open = models.BooleanField("24小时开放", default=False)
    # Seven lists (Monday first) of [start, end] minutes after midnight, end up to 1440.
    weekly_hours = models.JSONField("每周开放时段", default=list)
    holiday_mode = models.CharField(
        "节假日安排", max_length=10, choices=HolidayMode.choices, default=HolidayMode.REGULAR
    )
    holiday_hours = models.JSONField("节假日时段", default=list, blank=True)
    contact_name = models.CharField("联系人", max_length=30, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    description = models.CharField("简介", max_length=500, blank=True)
    is_active = models.BooleanField("启用", default=True)
    redemption_point = models.OneToOneField(
        "benefits.RedemptionPoint",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="station",
        verbose_name="优惠券核销点",
    )
    last_inspection = models.ForeignKey(
        "Inspection", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization_id", "code"]
        indexes = [
            models.Index(fields=["cell"], name="station_cell_idx"),
            models.Index(fields=["organization", "kind"], name="station_org_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="station_lat_range"),
            models.CheckConstraint(condition=Q(lng__gte=-180, lng__lte=180), name="station_lng_range"),
            models.CheckConstraint(condition=Q(facility_mask__gte=0), name="station_facility_mask_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.cell = geo.cell_of(self.lat, self.lng)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and ({"lat", "lng"} & set(update_fields)):
            kwargs["update_fields"] = {*update_fields, "cell"}
        super().save(*args, **kwargs)

    def has_facility(self, facility: Facility) -> bool:
        return bool(self.facility_mask & facility.mask)


class StationPhoto(models.Model):
    """A photo of the station shown to members (a station is a public place: not sealed)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="photos")
    content = models.BinaryField()
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()
    caption = models.CharField("说明", max_length=60, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class Requirement(models.TextChoices):
    """The "六有" standard of a union service station."""

    SIGN = "sign", "统一标识"
    PREMISES = "premises", "固定场所"
    FACILITIES = "facilities", "完备设施"
    RULES = "rules", "管理制度"
    STAFF = "staff", "人员管理"
    MAPPED = "mapped", "地图可查"


class Inspection(models.Model):
    """One "六有" standards check of a station: which requirements it met, a score, photos."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="inspections")
    inspected_on = models.DateField("检查日期")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    has_sign = models.BooleanField(Requirement.SIGN.label)
    has_premises = models.BooleanField(Requirement.PREMISES.label)
    has_facilities = models.BooleanField(Requirement.FACILITIES.label)
    has_rules = models.BooleanField(Requirement.RULES.label)
    has_staff = models.BooleanField(Requirement.STAFF.label)
    has_mapped = models.BooleanField(Requirement.MAPPED.label)
    score = models.PositiveSmallIntegerField("评分")
    notes = models.CharField("检查意见", max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-inspected_on", "-id"]
        indexes = [models.Index(fields=["station", "-inspected_on"], name="inspection_station_idx")]
        constraints = [models.CheckConstraint(condition=Q(score__lte=100), name="inspection_score_range")]

    def met(self, requirement: str) -> bool:
        return bool(getattr(self, "has_%s" % requirement))

    @property
    def failed(self) -> list[str]:
        """The labels of the requirements not met, in the standard's order."""
        return [r.label for r in Requirement if not self.met(r.value)]


class InspectionPhoto(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="photos")
    content = models.BinaryField()
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


CHECKIN_SLOT_SECONDS = 30 * 60


class Checkin(models.Model):
    """A member's visit, recorded by scanning the station's QR code: at most one per member,
    station and half-hour slot (a second scan in the same half hour is the same visit)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="checkins")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="station_checkins")
    at = models.DateTimeField()
    slot = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["station", "at"], name="checkin_station_at_idx")]
        constraints = [
            models.UniqueConstraint(fields=["station", "member", "slot"], name="checkin_once_per_slot"),
        ]


class StationImport(models.Model):
    """An uploaded station list: checked and written by a `stations.import` job, all or nothing;
    the rows that failed stay here for the error report (the file itself is dropped)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="station_import")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=200)
    content = models.BinaryField(default=b"")
    header = models.JSONField(default=list)
    row_errors = models.JSONField(default=list)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
