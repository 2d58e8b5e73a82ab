"""Writes of the stations domain: one function per business action, each owning its
transaction and its audit event (`core.audit.record`)."""

import datetime as dt
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from gonghui.benefits.forms import PointInput
from gonghui.benefits.models import PointKind, RedemptionPoint
from gonghui.benefits.services import point_create
from gonghui.core import audit, jobs, parsing, ratelimit
from gonghui.core.errors import Conflict, PermissionDenied, RateLimited, ValidationFailed
from gonghui.core.models import Job
from gonghui.members.models import Member, MembershipStatus
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on, scope_root_for_actor
from gonghui.stations import geo, hours
from gonghui.stations.models import (
    CHECKIN_SLOT_SECONDS,
    DISTRICTS_CACHE_KEY,
    MAX_FACILITY_BIT,
    Checkin,
    Facility,
    HolidayMode,
    Inspection,
    InspectionPhoto,
    Requirement,
    Station,
    StationImport,
    StationKind,
    StationPhoto,
)
from gonghui.stations.permissions import StationPerm

PHOTO_MAX_BYTES = 3 * 1024 * 1024
PHOTOS_PER_STATION = 9
PHOTO_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"RIFF": "image/webp"}
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8}|400-?\d{3}-?\d{4})$")
CODE = re.compile(r"^[A-Z0-9-]{4,20}$")
CHECKINS_PER_HOUR = 20
PICKER = "stations"  # the organisation-picker purpose of the station and import forms


def checked(parse: Any, raw: Any, **options: Any) -> Any:
    """A `core.parsing` parser whose ValueError (Chinese text) becomes a form error."""
    try:
        return parse(raw, **options)
    except ValueError as exc:
        label = options.get("label", "")
        raise ValidationFailed(str(exc), fields={label: str(exc)}) from None


def forget_districts() -> None:
    """The districts' centres move with their stations (`selectors.districts` caches them)."""
    cache.delete(DISTRICTS_CACHE_KEY)


def _require(actor: Any, perm: str, organization: Organization, message: str) -> None:
    if not has_perm_on(actor, perm, organization):
        raise PermissionDenied(message)


# ---- coordinates --------------------------------------------------------------------------


class CoordSystem:
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    CHOICES = ((WGS84, "WGS-84（GPS、天地图）"), (GCJ02, "GCJ-02（高德、腾讯地图）"))


OUTSIDE_CHINA = (
    "坐标（纬度 %(lat)s，经度 %(lng)s）不在中国境内，请检查是否把经度和纬度填反了，"
    "或是否填写了其他坐标系（中国大陆的纬度约为 4–54，经度约为 73–136）"
)


def parse_coordinate(raw: Any, *, label: str, low: float, high: float) -> float:
    text = parsing.clean(raw).replace("，", ".")[:20]
    if not text:
        raise ValidationFailed("请填写%(label)s" % {"label": label}, fields={label: "必填"})
    try:
        value = float(text)
    except ValueError:
        raise ValidationFailed(
            "%(label)s必须是数字（如 31.298886）" % {"label": label}, fields={label: "不是数字"}
        ) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValidationFailed(
            "%(label)s应在 %(low)s 到 %(high)s 之间" % {"label": label, "low": low, "high": high},
            fields={label: "超出范围"},
        )
    return value


def station_point(lat_raw: Any, lng_raw: Any, system: str = CoordSystem.WGS84) -> tuple[float, float]:
    """A station's position from a form or a file, as WGS-84: converted from GCJ-02 when it was
    picked on a 高德/腾讯 map; a point outside China is refused."""
    lat = parse_coordinate(lat_raw, label="纬度", low=-90, high=90)
    lng = parse_coordinate(lng_raw, label="经度", low=-180, high=180)
    if system not in (CoordSystem.WGS84, CoordSystem.GCJ02):
        raise ValidationFailed("坐标系无效，请选择 WGS-84 或 GCJ-02", fields={"coord_system": "请从列表中选择"})
    if geo.out_of_china(lat, lng):
        raise ValidationFailed(OUTSIDE_CHINA % {"lat": lat, "lng": lng}, fields={"lat": "不在中国境内"})
    if system == CoordSystem.GCJ02:
        lat, lng = geo.gcj02_to_wgs84(lat, lng)
    return round(lat, 7), round(lng, 7)


# ---- station fields -----------------------------------------------------------------------


@dataclass
class StationInput:
    """A station as submitted (a console form or a row of an imported file)."""

    name: str = ""
    code: str = ""
    kind: StationKind | None = None
    address: str = ""
    lat: Any = ""
    lng: Any = ""
    coord_system: str = CoordSystem.WGS84
    facility_mask: int = 0
    always_open: bool = False
    weekly_text: Sequence[str] = ("",) * 7
    holiday_mode: str = HolidayMode.REGULAR
    holiday_text: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""
    is_active: bool = True


def station_fields(data: StationInput) -> dict[str, Any]:
    """The model fields of a submitted station, every value checked, in Chinese."""
    name = parsing.clean(data.name)
    if not name or len(name) > 100:
        raise ValidationFailed("请填写站点名称（不超过100个字）", fields={"name": "必填，不超过100个字"})
    if data.kind is None:
        raise ValidationFailed("请选择站点类型", fields={"kind": "请从列表中选择"})
    address = parsing.clean(data.address)
    if not address or len(address) > 200:
        raise ValidationFailed("请填写地址（不超过200个字）", fields={"address": "必填，不超过200个字"})
    lat, lng = station_point(data.lat, data.lng, data.coord_system)
    if data.holiday_mode not in HolidayMode.values:
        raise ValidationFailed("节假日安排无效", fields={"holiday_mode": "请从列表中选择"})
    weekly: list[list[list[int]]] | None = [] if data.always_open else None
    if weekly is None:
        weekly = [hours.parse_ranges(text, label=hours.WEEKDAYS[i]) for i, text in enumerate(data.weekly_text)]
        if len(weekly) != 7:
            raise ValidationFailed("请填写一周七天的开放时段")
        if not any(weekly) and data.holiday_mode != HolidayMode.SPECIAL:
            raise ValidationFailed("请填写开放时段，或选择24小时开放", fields={"weekly": "至少填写一天"})
    holiday_ranges: list[list[int]] = []
    if data.holiday_mode == HolidayMode.SPECIAL:
        holiday_ranges = hours.parse_ranges(data.holiday_text, label="节假日时段")
        if not holiday_ranges:
            raise ValidationFailed("选择了“节假日另有时段”，请填写节假日时段", fields={"holiday_hours": "必填"})
    contact_name = parsing.clean(data.contact_name)
    if len(contact_name) > 30:
        raise ValidationFailed("联系人不超过30个字", fields={"contact_name": "过长"})
    phone = parsing.clean(data.contact_phone).replace(" ", "")
    if phone and not PHONE.match(phone):
        raise ValidationFailed(
            "联系电话格式不对（手机号11位，座机如 0512-65221234）", fields={"contact_phone": "格式不对"}
        )
    description = parsing.clean(data.description)
    if len(description) > 500:
        raise ValidationFailed("简介不超过500个字", fields={"description": "过长"})
    if not 0 <= data.facility_mask < (1 << (MAX_FACILITY_BIT + 1)):
        raise ValidationFailed("设施选择无效", fields={"facilities": "请从清单中选择"})
    return {
        "name": name,
        "kind": data.kind,
        "address": address,
        "lat": lat,
        "lng": lng,
        "facility_mask": data.facility_mask,
        "always_open": data.always_open,
        "weekly_hours": weekly or [[] for _ in range(7)],
        "holiday_mode": data.holiday_mode,
        "holiday_hours": holiday_ranges,
        "contact_name": contact_name,
        "contact_phone": phone,
        "description": description,
        "is_active": data.is_active,
    }


def clean_code(raw: Any) -> str:
    code = parsing.clean(raw).upper()
    if code and not CODE.match(code):
        raise ValidationFailed("站点编号由4–20位大写字母、数字或“-”组成", fields={"code": "格式不对"})
    return code


def next_code(organization: Organization) -> str:
    prefix = "ZD%s" % organization.region_code
    latest = Station.objects.filter(code__startswith=prefix, code__regex=r"^ZD\d{11}$").aggregate(m=Max("code"))["m"]
    n = int(latest[len(prefix) :]) + 1 if latest else 1
    return "%s%05d" % (prefix, n)


def _describe(station: Station) -> dict[str, Any]:
    return {
        "code": station.code,
        "name": station.name,
        "kind": station.kind.name,
        "lat": station.lat,
        "lng": station.lng,
    }


def station_create(*, actor: Any, organization: Organization, data: StationInput) -> Station:
    _require(actor, StationPerm.MANAGE, organization, "无权为该组织新增服务阵地")
    fields = station_fields(data)
    wanted = clean_code(data.code)
    for attempt in range(5):
        code = wanted or next_code(organization)
        try:
            with transaction.atomic():
                station = Station.objects.create(code=code, organization=organization, created_by=actor, **fields)
                transaction.on_commit(forget_districts)
                audit.record(
                    actor=actor,
                    action="stations.station_create",
                    obj=station,
                    organization=organization,
                    detail=_describe(station),
                )
            return station
        except IntegrityError:
            if wanted or attempt == 4:
                raise ValidationFailed(
                    "站点编号“%(code)s”已被使用" % {"code": code}, fields={"code": "已被使用"}
                ) from None
    raise Conflict("站点编号分配冲突，请重试")  # pragma: no cover - the loop returns or raises


def station_update(*, actor: Any, station: Station, data: StationInput) -> Station:
    _require(actor, StationPerm.MANAGE, station.organization, "无权修改该服务阵地")
    fields = station_fields(data)
    with transaction.atomic():
        locked = Station.objects.select_for_update().select_related("kind").get(pk=station.pk)
        changed = sorted(k for k, v in fields.items() if getattr(locked, k) != v)
        for key, value in fields.items():
            setattr(locked, key, value)
        locked.save()
        transaction.on_commit(forget_districts)
        audit.record(
            actor=actor,
            action="stations.station_update",
            obj=locked,
            organization=locked.organization,
            detail={"code": locked.code, "changed": changed},
        )
    return locked


# ---- photos -------------------------------------------------------------------------------


def read_photo(upload: UploadedFile | None) -> tuple[bytes, str]:
    if upload is None:
        raise ValidationFailed("请选择照片", fields={"photo": "请选择文件"})
    if upload.size is None or upload.size > PHOTO_MAX_BYTES:
        raise ValidationFailed("照片不超过 3 MB", fields={"photo": "文件过大"})
    content = upload.read(PHOTO_MAX_BYTES + 1)
    if len(content) > PHOTO_MAX_BYTES:
        raise ValidationFailed("照片不超过 3 MB", fields={"photo": "文件过大"})
    for magic, content_type in PHOTO_TYPES.items():
        if content.startswith(magic) and (content_type != "image/webp" or content[8:12] == b"WEBP"):
            return content, content_type
    raise ValidationFailed("照片须为 JPG、PNG 或 WEBP 图片", fields={"photo": "格式不支持"})


def station_photo_add(*, actor: Any, station: Station, upload: UploadedFile | None, caption: str = "") -> StationPhoto:
    _require(actor, StationPerm.MANAGE, station.organization, "无权为该服务阵地上传照片")
    content, content_type = read_photo(upload)
    caption = parsing.clean(caption)[:60]
    with transaction.atomic():
        locked = Station.objects.select_for_update().get(pk=station.pk)
        if StationPhoto.objects.filter(station=locked).count() >= PHOTOS_PER_STATION:
            raise ValidationFailed("每个站点最多 %(n)d 张照片，请先删除旧照片" % {"n": PHOTOS_PER_STATION})
        photo = StationPhoto.objects.create(
            station=locked,
            content=content,
            content_type=content_type,
            size=len(content),
            caption=caption,
            uploaded_by=actor,
        )
        audit.record(
            actor=actor,
            action="stations.photo_add",
            obj=locked,
            organization=locked.organization,
            detail={"photo": photo.pk, "size": photo.size},
        )
    return photo


def station_photo_remove(*, actor: Any, photo: StationPhoto) -> None:
    station = photo.station
    _require(actor, StationPerm.MANAGE, station.organization, "无权删除该服务阵地的照片")
    with transaction.atomic():
        StationPhoto.objects.filter(pk=photo.pk).delete()
        audit.record(
            actor=actor,
            action="stations.photo_remove",
            obj=station,
            organization=station.organization,
            detail={"photo": photo.pk},
        )


# ---- redemption point (benefits) ----------------------------------------------------------


def station_redemption_point_create(*, actor: Any, station: Station) -> Station:
    """Make the station a coupon redemption point: a benefits `RedemptionPoint` of kind 工会驿站
    (created through benefits' own service, which checks its permission and audits it) linked
    to the station."""
    _require(actor, StationPerm.MANAGE, station.organization, "无权修改该服务阵地")
    if station.redemption_point_id:
        raise Conflict("该站点已是优惠券核销点")
    with transaction.atomic():
        locked = Station.objects.select_for_update().get(pk=station.pk)
        if locked.redemption_point_id:
            raise Conflict("该站点已是优惠券核销点")
        point = point_create(
            actor=actor,
            data=PointInput(
                name=locked.name,
                kind=PointKind.STATION,
                address=locked.address,
                organization_id=locked.organization_id,
                latitude=Decimal("%.6f" % locked.lat),
                longitude=Decimal("%.6f" % locked.lng),
                contact_phone=locked.contact_phone,
            ),
        )
        locked.redemption_point = point
        locked.save(update_fields=["redemption_point", "updated_at"])
        audit.record(
            actor=actor,
            action="stations.point_link",
            obj=locked,
            organization=locked.organization,
            detail={"code": locked.code, "point": point.pk},
        )
    return locked


def station_redemption_point_link(*, actor: Any, station: Station, point: RedemptionPoint | None) -> Station:
    """Link the station to an existing redemption point of its union's sub-tree (None: unlink)."""
    _require(actor, StationPerm.MANAGE, station.organization, "无权修改该服务阵地")
    if (
        point is not None
        and not point.organization.is_within(station.organization.path)
        and not station.organization.is_within(point.organization.path)
    ):
        raise ValidationFailed("只能关联本工会或上级工会的核销点")
    with transaction.atomic():
        locked = Station.objects.select_for_update().get(pk=station.pk)
        locked.redemption_point = point
        try:
            with transaction.atomic():
                locked.save(update_fields=["redemption_point", "updated_at"])
        except IntegrityError:
            raise Conflict("该核销点已关联其他站点") from None
        audit.record(
            actor=actor,
            action="stations.point_link" if point else "stations.point_unlink",
            obj=locked,
            organization=locked.organization,
            detail={"code": locked.code, "point": point.pk if point else None},
        )
    return locked


# ---- "六有" inspections -------------------------------------------------------------------


@dataclass
class InspectionInput:
    inspected_on: Any = ""
    met: Iterable[str] = ()
    score: Any = ""
    notes: str = ""


def inspection_record(
    *, actor: Any, station: Station, data: InspectionInput, photos: Sequence[UploadedFile] = ()
) -> Inspection:
    _require(actor, StationPerm.INSPECT, station.organization, "无权检查该服务阵地")
    today = timezone.localdate()
    inspected_on = checked(
        parsing.parse_date, data.inspected_on, label="检查日期", earliest=today - dt.timedelta(days=366), latest=today
    )
    score = checked(parsing.parse_int, data.score, label="评分", minimum=0, maximum=100)
    met = set(data.met)
    unknown = met - set(Requirement.values)
    if unknown:
        raise ValidationFailed("检查项目无效", fields={"met": "请从“六有”清单中勾选"})
    notes = parsing.clean(data.notes)
    if len(notes) > 500:
        raise ValidationFailed("检查意见不超过500个字", fields={"notes": "过长"})
    if len(photos) > 6:
        raise ValidationFailed("每次检查最多上传 6 张照片", fields={"photos": "照片过多"})
    read = [read_photo(p) for p in photos]
    with transaction.atomic():
        locked = Station.objects.select_for_update().get(pk=station.pk)
        inspection = Inspection.objects.create(
            station=locked,
            inspected_on=inspected_on,
            inspector=actor,
            score=score,
            notes=notes,
            **{"has_%s" % r.value: r.value in met for r in Requirement},
        )
        InspectionPhoto.objects.bulk_create(
            InspectionPhoto(inspection=inspection, content=content, content_type=kind, size=len(content))
            for content, kind in read
        )
        latest = Inspection.objects.filter(station=locked).order_by("-inspected_on", "-id").first()
        Station.objects.filter(pk=locked.pk).update(last_inspection=latest)
        audit.record(
            actor=actor,
            action="stations.inspection_record",
            obj=locked,
            organization=locked.organization,
            detail={
                "code": locked.code,
                "inspected_on": inspected_on.isoformat(),
                "score": score,
                "failed": inspection.failed,
                "photos": len(read),
            },
        )
    return inspection


# ---- check-ins ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckinResult:
    checkin: Checkin
    created: bool


def checkin_record(*, member: Member, station: Station, now: dt.datetime | None = None) -> CheckinResult:
    """The member scanned the station's QR code: one check-in per half hour (a second scan in
    the same half hour answers with the first), at most CHECKINS_PER_HOUR scans an hour."""
    if member.status != MembershipStatus.ACTIVE:
        raise PermissionDenied("您的会籍状态不是“在会”，不能签到")
    if not station.is_active:
        raise ValidationFailed("该站点已停用")
    now = now or timezone.now()
    slot = int(now.timestamp()) // CHECKIN_SLOT_SECONDS
    existing = Checkin.objects.filter(station=station, member=member, slot=slot).first()
    if existing is not None:
        return CheckinResult(existing, False)
    if not ratelimit.allow("stations.checkin", str(member.pk), limit=CHECKINS_PER_HOUR, window_seconds=3600):
        raise RateLimited("签到过于频繁，请稍后再试")
    try:
        with transaction.atomic():
            checkin = Checkin.objects.create(station=station, member=member, at=now, slot=slot)
            audit.record(
                actor=member.user,
                action="stations.checkin",
                obj=station,
                organization=station.organization,
                detail={"code": station.code, "member": member.pk},
            )
    except IntegrityError:
        return CheckinResult(Checkin.objects.get(station=station, member=member, slot=slot), False)
    return CheckinResult(checkin, True)


# ---- kinds and facilities (configuration) -------------------------------------------------


def _require_configure(actor: Any) -> Organization:
    root = scope_root_for_actor(actor=actor, perm=StationPerm.CONFIGURE)
    if root is None or root.parent_id is not None:
        raise PermissionDenied("只有总工会管理员可以设置阵地类型与设施清单")
    return root


def _slug(prefix: str) -> str:
    return "%s-%s" % (prefix, secrets.token_hex(4))


def kind_save(*, actor: Any, kind: StationKind | None, name: str, order: Any, is_active: bool) -> StationKind:
    root = _require_configure(actor)
    name = parsing.clean(name)
    if not name or len(name) > 30:
        raise ValidationFailed("请填写类型名称（不超过30个字）", fields={"name": "必填"})
    position = checked(parsing.parse_int, order or 100, label="排序", minimum=0, maximum=999)
    try:
        with transaction.atomic():
            target = kind or StationKind(code=_slug("kind"))
            target.name, target.order, target.is_active = name, position, is_active
            target.save()
            audit.record(
                actor=actor,
                action="stations.kind_save",
                obj=target,
                organization=root,
                detail={"name": name, "order": position, "active": is_active},
            )
    except IntegrityError:
        raise ValidationFailed("已有同名的站点类型", fields={"name": "重名"}) from None
    return target


def facility_save(*, actor: Any, facility: Facility | None, name: str, order: Any, is_active: bool) -> Facility:
    root = _require_configure(actor)
    name = parsing.clean(name)
    if not name or len(name) > 30:
        raise ValidationFailed("请填写设施名称（不超过30个字）", fields={"name": "必填"})
    position = checked(parsing.parse_int, order or 100, label="排序", minimum=0, maximum=999)
    try:
        with transaction.atomic():
            if facility is None:
                used = set(Facility.objects.select_for_update().values_list("bit", flat=True))
                free = [b for b in range(MAX_FACILITY_BIT + 1) if b not in used]
                if not free:
                    raise ValidationFailed(
                        "设施清单已满（最多 %(n)d 项），请停用不用的设施" % {"n": MAX_FACILITY_BIT + 1}
                    )
                facility = Facility(code=_slug("fac"), bit=free[0])
            facility.name, facility.order, facility.is_active = name, position, is_active
            facility.save()
            audit.record(
                actor=actor,
                action="stations.facility_save",
                obj=facility,
                organization=root,
                detail={"name": name, "order": position, "active": is_active},
            )
    except IntegrityError:
        raise ValidationFailed("已有同名的设施", fields={"name": "重名"}) from None
    return facility


def facility_mask_of(facilities: Iterable[Facility]) -> int:
    mask = 0
    for facility in facilities:
        mask |= facility.mask
    return mask


def facilities_of(mask: int, facilities: Iterable[Facility]) -> list[Facility]:
    return [f for f in facilities if mask & f.mask]


# ---- import (a `stations.import` job) -----------------------------------------------------

IMPORT_JOB = "stations.import"
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000


def station_import_upload(
    *, actor: Any, organization: Organization, filename: str, content: bytes, enqueue: bool = True
) -> StationImport:
    """Keep the uploaded list and queue its import job."""
    _require(actor, StationPerm.MANAGE, organization, "无权为该组织导入服务阵地")
    if not content:
        raise ValidationFailed("请选择要导入的文件", fields={"file": "文件为空"})
    if len(content) > IMPORT_MAX_BYTES:
        raise ValidationFailed("文件超过 10 MB，请拆分后导入", fields={"file": "文件过大"})
    name = parsing.clean(filename)[:200] or "upload"
    with transaction.atomic():
        job = jobs.job_create(
            kind=IMPORT_JOB,
            organization=organization,
            created_by=actor,
            params={"filename": name},
            expires_at=timezone.now() + dt.timedelta(days=2),
            enqueue=enqueue,
        )
        batch = StationImport.objects.create(
            organization=organization, job=job, created_by=actor, filename=name, content=content
        )
        audit.record(
            actor=actor,
            action="stations.import_upload",
            obj=batch,
            organization=organization,
            detail={"filename": name, "bytes": len(content)},
        )
    return batch


def import_resumable(job: Job) -> str | None:
    holds = StationImport.objects.filter(job=job).exclude(content=b"").exists()
    return None if holds else "上传的文件已删除，请重新上传"


def import_expire(job: Job) -> None:
    StationImport.objects.filter(job=job).update(content=b"")
