"""Health writes. Each function owns its transaction and writes its audit event inside it."""

import base64
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from gonghui.core import audit, crypto, jobs, parsing
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditResult, Device, Job
from gonghui.core.permissions import Perm
from gonghui.core.signing import device_register
from gonghui.health import devices as health_devices
from gonghui.health.catalogue import UnitRefused, UnknownCode, current_catalogue
from gonghui.health.cleaning import Unreadable, age_on, clean_prose, clean_text, code_key, parse_decimal
from gonghui.health.importers.base import FileRefused
from gonghui.health.importers.tabular import validate_mapping
from gonghui.health.importing import (
    PROBLEM_LIST_CAP,
    PreparedCheckup,
    PreparedResult,
    parse_file,
    prepare_import,
)
from gonghui.health.interpret import interpret
from gonghui.health.models import (
    ABNORMAL_FLAGS,
    Appointment,
    AppointmentStatus,
    Checkup,
    CheckupCentre,
    CheckupKind,
    Flag,
    ImportBatch,
    ImportFormat,
    ImportMapping,
    Indicator,
    Package,
    PackageItem,
    Programme,
    ProgrammeStatus,
    Quota,
    Result,
    Slot,
)
from gonghui.health.permissions import HealthPerm
from gonghui.health.policies import CRITICAL_POLICY, critical_policies_by_org
from gonghui.members.models import ConsentPurpose, Member, MembershipStatus, Sex, Tag
from gonghui.members.services import consent_grant, consent_withdraw, has_consent
from gonghui.organizations.models import PATH_STEP, Organization, PolicyVersion
from gonghui.organizations.policies import policy_for, policy_propose
from gonghui.organizations.selectors import has_perm_on

RESULT_PURPOSE = "health.result"
PAYLOAD_PURPOSE = "health.import_file"
SUMMARY_PURPOSE = "health.llm_summary"
CONSENT_TEXT_VERSION = "health-2026.1"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def encrypt_result(payload: dict[str, str]) -> str:
    return crypto.encrypt(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), purpose=RESULT_PURPOSE)


def decrypt_result(token: str) -> dict[str, str]:
    data: dict[str, str] = json.loads(crypto.decrypt(token, purpose=RESULT_PURPOSE))
    return data


def _require(actor: Any, perm: str, organization: Organization | str, message: str) -> None:
    if not has_perm_on(actor, perm, organization):
        raise PermissionDenied(message)


# ---- consent --------------------------------------------------------------------------------


def health_consent_grant(*, member: Member) -> None:
    consent_grant(member=member, purpose=ConsentPurpose.HEALTH, text_version=CONSENT_TEXT_VERSION)


def health_consent_withdraw(*, member: Member) -> None:
    consent_withdraw(member=member, purpose=ConsentPurpose.HEALTH)


# ---- critical values ------------------------------------------------------------------------


CRITICAL_LIMIT_MAX = Decimal("99999999.9999")  # what DecimalField(max_digits=12, decimal_places=4) holds


def _limit(raw: object, label: str, errors: dict[str, str], key: str) -> Decimal | None:
    if not clean_text(raw):
        return None
    try:
        return parsing.parse_decimal(raw, label=label, minimum=Decimal(0), maximum=CRITICAL_LIMIT_MAX, places=4)
    except ValueError as exc:
        errors[key] = str(exc)
        return None


def _limits_body(limits: dict[str, tuple[Decimal | None, Decimal | None]]) -> dict[str, Any]:
    return {
        "limits": {
            code: {"low": None if low is None else str(low), "high": None if high is None else str(high)}
            for code, (low, high) in limits.items()
            if low is not None or high is not None
        }
    }


def critical_limits_effective(organization: Organization) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    """The limits in force for the organisation today, by indicator code (its own version, or
    the nearest ancestor's): the starting point of its next version."""
    return limits_by_code(policy_for(kind=CRITICAL_POLICY, organization=organization).body)


def limits_by_code(body: dict[str, Any]) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    return {
        code: (
            Decimal(pair["low"]) if pair.get("low") is not None else None,
            Decimal(pair["high"]) if pair.get("high") is not None else None,
        )
        for code, pair in body.get("limits", {}).items()
    }


def critical_limits_save(
    *, actor: Any, organization: Organization, changes: Sequence[tuple[Indicator, object, object]]
) -> PolicyVersion | None:
    """Publish the organisation's next `health.critical_limits` version: the limits in force
    today with `changes` applied (both limits empty removes the indicator's own values). All or
    nothing: if any row is invalid, nothing is published and the errors come back keyed by
    indicator code. Results stored earlier keep the version they were judged by."""
    _require(actor, HealthPerm.HEALTH_MANAGE, organization, "无权设置该组织的危急值")
    errors: dict[str, str] = {}
    limits = critical_limits_effective(organization)
    for indicator, low, high in changes:
        row: dict[str, str] = {}
        low_value = _limit(low, "危急值下限", row, "low")
        high_value = _limit(high, "危急值上限", row, "high")
        if low_value is not None and high_value is not None and low_value >= high_value:
            row["high"] = "危急值上限必须大于下限"
        if row:
            errors[indicator.code] = "；".join(row.values())
        limits[indicator.code] = (low_value, high_value)
    if errors:
        raise ValidationFailed(
            "部分危急值设置有误，全部未保存" if len(changes) > 1 else "危急值设置有误", fields=errors
        )
    if not changes:
        return None
    return policy_propose(actor=actor, kind=CRITICAL_POLICY, organization=organization, body=_limits_body(limits))


def critical_limit_set(
    *, actor: Any, organization: Organization, indicator: Indicator, low: object, high: object
) -> PolicyVersion | None:
    """Set (or, with both limits empty, remove) an organisation's critical limits for one
    indicator: a new version of its policy."""
    return critical_limits_save(actor=actor, organization=organization, changes=[(indicator, low, high)])


# ---- programmes -----------------------------------------------------------------------------


def _date(raw: object, label: str, errors: dict[str, str], key: str) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    try:
        return parsing.parse_date(raw, label=label, earliest=dt.date(2000, 1, 1))
    except ValueError as exc:
        errors[key] = str(exc)
        return None


def _int(
    raw: object, label: str, errors: dict[str, str], key: str, *, minimum: int = 0, maximum: int = parsing.INT_MAX
) -> int | None:
    if not clean_text(raw):
        return None
    try:
        return parsing.parse_int(raw, label=label, minimum=minimum, maximum=maximum)
    except ValueError as exc:
        errors[key] = str(exc)
        return None


def _tags(raw: object, errors: dict[str, str], key: str) -> int:
    tags = 0
    for value in raw or []:  # type: ignore[attr-defined]
        tag = parsing.query_id({key: value}, key)
        if tag is None or tag not in Tag.values:
            errors[key] = "标签取值无效"
            return 0
        tags |= tag
    return tags


def programme_create(*, actor: Any, organization: Organization, data: dict[str, Any]) -> Programme:
    _require(actor, HealthPerm.HEALTH_MANAGE, organization, "无权为该组织创建体检项目")
    errors: dict[str, str] = {}
    name = clean_prose(data.get("name"))
    if not name:
        errors["name"] = "请填写项目名称"
    year = _int(data.get("year"), "年度", errors, "year", minimum=2000, maximum=2100)
    if year is None and "year" not in errors:
        errors["year"] = "请填写年度"
    starts_on = _date(data.get("starts_on"), "开始日期", errors, "starts_on")
    ends_on = _date(data.get("ends_on"), "结束日期", errors, "ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "结束日期不能早于开始日期"
    eligible_org = data.get("eligible_org") or organization
    if not eligible_org.path.startswith(organization.path):
        errors["eligible_org"] = "参检范围必须在本组织及其下级之内"
    min_age = _int(data.get("min_age"), "最小年龄", errors, "min_age", minimum=16, maximum=120)
    max_age = _int(data.get("max_age"), "最大年龄", errors, "max_age", minimum=16, maximum=120)
    if min_age is not None and max_age is not None and max_age < min_age:
        errors["max_age"] = "最大年龄不能小于最小年龄"
    tags = _tags(data.get("eligible_tags"), errors, "eligible_tags")
    if errors:
        raise ValidationFailed("体检项目信息有误", fields=errors)
    assert year is not None and starts_on is not None and ends_on is not None
    with transaction.atomic():
        programme = Programme.objects.create(
            organization=organization,
            name=name,
            year=year,
            description=clean_prose(data.get("description")),
            starts_on=starts_on,
            ends_on=ends_on,
            eligible_org=eligible_org,
            eligible_tags=tags,
            min_age=min_age,
            max_age=max_age,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="health.programme_create",
            obj=programme,
            organization=organization,
            detail={"name": name},
        )
    return programme


STATUS_FLOW = {
    ProgrammeStatus.DRAFT: {ProgrammeStatus.OPEN},
    ProgrammeStatus.OPEN: {ProgrammeStatus.CLOSED},
    ProgrammeStatus.CLOSED: set(),
}


def programme_set_status(*, actor: Any, programme: Programme, status: str) -> Programme:
    _require(actor, HealthPerm.HEALTH_MANAGE, programme.organization, "无权修改该体检项目")
    with transaction.atomic():
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        if status not in STATUS_FLOW.get(ProgrammeStatus(programme.status), set()):
            raise Conflict("体检项目当前状态不能改为该状态")
        if status == ProgrammeStatus.OPEN:
            missing = []
            if not programme.packages.exists():
                missing.append("体检套餐")
            if not programme.quotas.exists():
                missing.append("名额分配")
            if not programme.slots.exists():
                missing.append("预约时段")
            if missing:
                raise ValidationFailed("开放预约前请先设置：%(m)s" % {"m": "、".join(missing)})
        before = programme.status
        programme.status = status
        programme.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="health.programme_status",
            obj=programme,
            organization=programme.organization,
            detail={"from": before, "to": status},
        )
    return programme


def package_save(
    *, actor: Any, programme: Programme, sex: str, name: str, price_fen: int, items: list[tuple[str, str]]
) -> Package:
    """Create or replace the package for one sex; only while the programme is a draft."""
    _require(actor, HealthPerm.HEALTH_MANAGE, programme.organization, "无权修改该体检项目")
    errors: dict[str, str] = {}
    if sex not in Sex.values:
        errors["sex"] = "请选择适用性别"
    name = clean_prose(name)
    if not name:
        errors["name"] = "请填写套餐名称"
    if price_fen < 0:
        errors["price"] = "价格不能为负数"
    cleaned = [(clean_prose(g)[:30] or "其他", clean_prose(n)[:60]) for g, n in items if clean_prose(n)]
    if not cleaned:
        errors["items"] = "请至少填写一个检查项目"
    if len({n for _, n in cleaned}) != len(cleaned):
        errors["items"] = "检查项目有重复"
    if errors:
        raise ValidationFailed("套餐信息有误", fields=errors)
    catalogue = current_catalogue()

    with transaction.atomic():
        locked = Programme.objects.select_for_update().get(pk=programme.pk)
        if locked.status != ProgrammeStatus.DRAFT:
            raise Conflict("体检项目已开放预约，套餐不能再修改")
        package, _ = Package.objects.update_or_create(
            programme=programme, sex=sex, defaults={"name": name, "price_fen": price_fen}
        )
        package.items.all().delete()
        PackageItem.objects.bulk_create(
            PackageItem(
                package=package,
                position=i,
                group=group,
                name=item,
                indicator_id=(catalogue.index[code_key(item)][0].id if code_key(item) in catalogue.index else None),
            )
            for i, (group, item) in enumerate(cleaned, start=1)
        )
        audit.record(
            actor=actor,
            action="health.package_save",
            obj=package,
            organization=programme.organization,
            detail={"sex": sex, "items": len(cleaned), "price_fen": price_fen},
        )
    return package


def quota_set(*, actor: Any, programme: Programme, organization: Organization, places: int) -> Quota:
    _require(actor, HealthPerm.HEALTH_MANAGE, programme.organization, "无权修改该体检项目")
    if not organization.path.startswith(programme.eligible_org.path):
        raise ValidationFailed("该组织不在体检项目的参检范围内", fields={"organization": "不在参检范围内"})
    if places < 0:
        raise ValidationFailed("名额不能为负数", fields={"places": "名额不能为负数"})
    with transaction.atomic():
        quota = Quota.objects.select_for_update().filter(programme=programme, organization=organization).first()
        if quota is None:
            quota = Quota.objects.create(programme=programme, organization=organization, places=places)
            before = None
        else:
            if places < quota.used:
                raise Conflict("名额不能少于已预约人数（%(n)s）" % {"n": quota.used})
            before = quota.places
            quota.places = places
            quota.save(update_fields=["places"])
        audit.record(
            actor=actor,
            action="health.quota_set",
            obj=quota,
            organization=programme.organization,
            detail={"organization": organization.code, "before": before, "after": places},
        )
    return quota


def centre_create(
    *, actor: Any, organization: Organization, name: str, address: str = "", phone: str = ""
) -> CheckupCentre:
    _require(actor, HealthPerm.HEALTH_MANAGE, organization, "无权为该组织登记体检机构")
    name = clean_prose(name)
    if not name:
        raise ValidationFailed("请填写体检机构名称", fields={"name": "请填写体检机构名称"})
    with transaction.atomic():
        centre = CheckupCentre.objects.create(
            organization=organization,
            name=name[:100],
            address=clean_prose(address)[:200],
            phone=clean_prose(phone)[:30],
        )
        audit.record(actor=actor, action="health.centre_create", obj=centre, organization=organization)
    return centre


def slots_create(
    *,
    actor: Any,
    programme: Programme,
    centre: CheckupCentre,
    date_from: dt.date,
    date_to: dt.date,
    times: list[tuple[dt.time, dt.time]],
    capacity: int,
    weekdays_only: bool = True,
) -> int:
    """Create appointment slots for each day in the range and each time; existing ones are kept."""
    _require(actor, HealthPerm.HEALTH_MANAGE, programme.organization, "无权修改该体检项目")
    errors: dict[str, str] = {}
    if not centre.organization.path.startswith(
        programme.organization.path
    ) and not programme.organization.path.startswith(centre.organization.path):
        errors["centre"] = "体检机构不属于本项目的组织"
    if date_to < date_from:
        errors["date_to"] = "结束日期不能早于开始日期"
    elif date_from < programme.starts_on or date_to > programme.ends_on:
        errors["date_from"] = "日期必须在体检项目时间范围内"
    elif (date_to - date_from).days > 366:
        errors["date_to"] = "一次最多生成一年的时段"
    if not times or any(end <= start for start, end in times):
        errors["times"] = "请填写有效的时段，如 08:00-10:00"
    if capacity <= 0:
        errors["capacity"] = "可约人数必须大于 0"
    if errors:
        raise ValidationFailed("预约时段设置有误", fields=errors)
    days = [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    if weekdays_only:
        days = [d for d in days if d.weekday() < 5]
    with transaction.atomic():
        created = Slot.objects.bulk_create(
            [
                Slot(programme=programme, centre=centre, date=d, start_time=s, end_time=e, capacity=capacity)
                for d in days
                for s, e in times
            ],
            ignore_conflicts=True,
        )
        audit.record(
            actor=actor,
            action="health.slots_create",
            obj=programme,
            organization=programme.organization,
            detail={"centre": centre.name, "days": len(days), "times": len(times), "capacity": capacity},
        )
    return len(created)


def programme_ineligibility(*, member: Member, programme: Programme, today: dt.date | None = None) -> str:
    """Why `member` may not book `programme` ("" when they may)."""
    today = today or timezone.localdate()
    if programme.status != ProgrammeStatus.OPEN:
        return "该体检项目未开放预约"
    if member.status not in (MembershipStatus.ACTIVE, MembershipStatus.RETAINED):
        return "会籍状态不符合参检条件"
    if not member.organization.path.startswith(programme.eligible_org.path):
        return "您所在的工会不在本次体检范围内"
    if programme.eligible_tags and not member.tags & programme.eligible_tags:
        return "本次体检面向特定职工群体"
    age = age_on(member.birth_date, max(today, programme.starts_on))
    if programme.min_age is not None and age < programme.min_age:
        return "年龄不符合参检条件"
    if programme.max_age is not None and age > programme.max_age:
        return "年龄不符合参检条件"
    if programme.ends_on < today:
        return "体检项目已结束"
    return ""


def appointment_book(*, member: Member, programme: Programme, slot: Slot) -> Appointment:
    """Book a slot, taking a place from the nearest quota of the member's organisation tree.
    Quota and slot are counted with conditional updates, so concurrent bookings never exceed
    either; a second active booking of the same programme is refused by a unique constraint."""
    reason = programme_ineligibility(member=member, programme=programme)
    if reason:
        raise PermissionDenied(reason)
    if slot.programme_id != programme.pk:
        raise NotFound("预约时段不存在")
    if slot.date < timezone.localdate():
        raise ValidationFailed("该时段已过期")
    package = Package.objects.filter(programme=programme, sex=member.sex).first()
    if package is None:
        raise ValidationFailed("本次体检没有适合您的套餐")

    step = PATH_STEP + 1
    prefixes = [member.organization.path[:i] for i in range(step, len(member.organization.path) + 1, step)]
    quotas = {
        q.organization.path: q
        for q in Quota.objects.filter(programme=programme, organization__path__in=prefixes).select_related(
            "organization"
        )
    }
    quota = next((quotas[p] for p in reversed(prefixes) if p in quotas), None)
    if quota is None:
        raise PermissionDenied("您所在的工会未分配本次体检名额")
    try:
        with transaction.atomic():
            if not Quota.objects.filter(pk=quota.pk, used__lt=F("places")).update(used=F("used") + 1):
                raise Conflict("本单位体检名额已满")
            if not Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1):
                raise Conflict("该时段已约满，请选择其他时段")
            appointment = Appointment.objects.create(
                programme=programme,
                member=member,
                organization=member.organization,
                package=package,
                slot=slot,
                quota=quota,
            )
            audit.record(
                actor=member.user,
                action="health.appointment_book",
                obj=appointment,
                organization=member.organization,
                detail={"programme": programme.pk, "slot": slot.pk},
            )
    except IntegrityError as exc:
        raise Conflict("您已预约过本次体检") from exc
    return appointment


def appointment_cancel(*, member: Member, appointment: Appointment) -> Appointment:
    if appointment.member_id != member.pk:
        raise NotFound("预约不存在")
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().select_related("slot").get(pk=appointment.pk)
        if locked.status != AppointmentStatus.BOOKED:
            raise Conflict("该预约已不能取消")
        if locked.slot.date <= timezone.localdate():
            raise Conflict("体检当天及之后不能在线取消，请联系工会")
        locked.status = AppointmentStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        Quota.objects.filter(pk=locked.quota_id).update(used=F("used") - 1)
        Slot.objects.filter(pk=locked.slot_id).update(booked=F("booked") - 1)
        audit.record(
            actor=member.user, action="health.appointment_cancel", obj=locked, organization=member.organization
        )
    return locked


# ---- results --------------------------------------------------------------------------------


@dataclass
class StoreOutcome:
    checkup_ids: list[int] = field(default_factory=list)
    results: int = 0
    skipped_checkups: list[PreparedCheckup] = field(default_factory=list)
    flags: Counter[str] = field(default_factory=Counter)


def results_store(
    *,
    checkups: list[PreparedCheckup],
    source: str,
    kind: str = CheckupKind.EXAM,
    batch: ImportBatch | None = None,
    device_key: str = "",
) -> StoreOutcome:
    """Store interpreted reports (in the caller's transaction or its own). A report already
    stored under the same (member, source, external id) is skipped and returned as such."""
    outcome = StoreOutcome()
    if not checkups:
        return outcome
    with transaction.atomic():
        existing = set(
            Checkup.objects.filter(
                member_id__in={c.member.pk for c in checkups},
                source=source,
                external_id__in={c.external_id for c in checkups},
            ).values_list("member_id", "external_id")
        )
        fresh = [c for c in checkups if (c.member.pk, c.external_id) not in existing]
        outcome.skipped_checkups = [c for c in checkups if (c.member.pk, c.external_id) in existing]
        rows = [
            Checkup(
                member_id=c.member.pk,
                organization_id=c.member.organization_id,
                kind=kind,
                source=source,
                external_id=c.external_id,
                centre_name=c.centre,
                exam_date=c.exam_date,
                batch=batch,
                device_key=device_key,
                result_count=len(c.results),
                abnormal_count=sum(r.interpretation.flag in ABNORMAL_FLAGS for r in c.results),
                critical_count=sum(r.interpretation.flag in (Flag.CRITICAL_LOW, Flag.CRITICAL_HIGH) for r in c.results),
                critical_policy_id=c.critical_policy_id,
            )
            for c in fresh
        ]
        try:
            with transaction.atomic():
                Checkup.objects.bulk_create(rows, batch_size=1000)
        except IntegrityError as exc:
            raise Conflict("同一报告正在被另一批次导入，请稍后重试") from exc
        results: list[tuple[Any, ...]] = []
        for row, prepared in zip(rows, fresh, strict=True):
            outcome.checkup_ids.append(row.pk)
            for r in prepared.results:
                interp = r.interpretation
                outcome.flags[interp.flag] += 1
                results.append(
                    (
                        row.pk,
                        prepared.member.pk,
                        r.spec.id,
                        r.measured_on,
                        interp.flag,
                        encrypt_result(r.payload),
                        interp.interval.id if interp.interval else None,
                        interp.critical_low,
                        interp.critical_high,
                    )
                )
        _insert_results(results)
        outcome.results = len(results)
        if kind == CheckupKind.EXAM and fresh:
            Appointment.objects.filter(
                member_id__in=[c.member.pk for c in fresh],
                status=AppointmentStatus.BOOKED,
                slot__date__in={c.exam_date for c in fresh},
            ).update(status=AppointmentStatus.ATTENDED)
    return outcome


RESULT_COLUMNS = (
    "checkup_id",
    "member_id",
    "indicator_id",
    "measured_on",
    "flag",
    "value_encrypted",
    "interval_id",
    "critical_low",
    "critical_high",
)


def _insert_results(rows: list[tuple[Any, ...]]) -> None:
    """Insert result rows in bulk: PostgreSQL through COPY, other databases with one prepared
    statement (`executemany`). A results file holds tens of thousands of rows, and a model
    instance or a round trip per row costs more than the insert itself. Rows carry exactly
    `RESULT_COLUMNS`; every constraint still applies."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Result._meta.db_table)
    columns = ", ".join(quote(column) for column in RESULT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY %s (%s) FROM STDIN" % (table, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = "INSERT INTO %s (%s) VALUES (%s)" % (  # noqa: S608 - identifiers from model metadata, quoted
            table,
            columns,
            ", ".join(["%s"] * len(RESULT_COLUMNS)),
        )
        cursor.executemany(sql, rows)


def import_batch_create(
    *,
    actor: Any,
    organization: Organization,
    fmt: str,
    filename: str,
    content: bytes,
    mapping: dict[str, Any] | None = None,
    saved_mapping: ImportMapping | None = None,
    dry_run: bool = False,
    enqueue: bool = True,
) -> ImportBatch:
    """Record an uploaded file (kept encrypted until processed, at most
    HEALTH_IMPORT_UPLOAD_KEEP_HOURS) and queue its import job (`enqueue=False`: the caller runs
    it, as the command does). A check-up centre's `saved_mapping` stands for `mapping`; the
    batch keeps the version it used."""
    if actor is not None:
        _require(actor, HealthPerm.HEALTH_MANAGE, organization, "无权为该组织导入体检结果")
        if saved_mapping is not None:
            _require(actor, HealthPerm.HEALTH_MANAGE, saved_mapping.organization, "无权使用该体检机构的列映射")
    if saved_mapping is not None:
        mapping = saved_mapping.as_import_mapping()
    if fmt not in ImportFormat.values:
        raise ValidationFailed("请选择文件格式", fields={"format": "格式无效"})
    if not content:
        raise ValidationFailed("请选择要导入的文件", fields={"file": "文件为空"})
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件超过 10 MB，请拆分后导入，或使用命令行导入", fields={"file": "文件过大"})
    try:
        mapping = validate_mapping(mapping)
    except FileRefused as exc:
        raise ValidationFailed(exc.reason, fields={"mapping": exc.reason}) from None
    with transaction.atomic():
        job = jobs.job_create(
            kind=IMPORT_JOB,
            organization=organization,
            created_by=actor,
            params={"format": fmt, "dry_run": dry_run},
            expires_at=timezone.now() + dt.timedelta(hours=settings.HEALTH_IMPORT_UPLOAD_KEEP_HOURS),
            enqueue=enqueue,
        )
        batch = ImportBatch.objects.create(
            organization=organization,
            created_by=actor,
            job=job,
            format=fmt,
            filename=clean_prose(filename)[:200] or "upload",
            mapping=mapping or {},
            saved_mapping=saved_mapping,
            dry_run=dry_run,
            payload_encrypted=crypto.encrypt(base64.b64encode(content).decode(), purpose=PAYLOAD_PURPOSE),
        )
        detail: dict[str, Any] = {"format": fmt, "filename": batch.filename, "bytes": len(content), "dry_run": dry_run}
        if saved_mapping is not None:
            detail.update(centre=saved_mapping.centre_id, mapping_version=saved_mapping.version)
        audit.record(actor=actor, action="health.import_upload", obj=batch, organization=organization, detail=detail)
    return batch


IMPORT_JOB = "health.import"
IMPORT_CRASHED = (
    "导入时发生系统错误，未导入任何结果；上传的文件保留到过期为止，可点击“重新导入”再试，如再次出现请联系管理员"
)
IMPORT_FILE_GONE = "上传的文件已删除，未导入任何结果；请重新上传"
IMPORT_COUNTS = ("imported", "checkups", "members", "skipped_existing", "problems")


def import_batch_summary(batch: ImportBatch) -> dict[str, Any]:
    """The batch's report with where its job stands (`status`, and `error` once it failed)."""
    summary: dict[str, Any] = {
        "batch_id": batch.pk,
        "format": batch.format,
        "dry_run": batch.dry_run,
        **(batch.summary or {}),
        "status": batch.job.status,
    }
    if batch.job.error:
        summary["error"] = batch.job.error
    return summary


def import_batch_run(*, batch_id: int) -> dict[str, Any]:
    """Run the batch's job now, as the worker does (`jobs.job_execute`), and return its report;
    a batch already finished is returned as it is. An unexpected error fails the job (the file
    is kept for a retry until it expires) and is raised again for the worker's log."""
    batch = ImportBatch.objects.get(pk=batch_id)
    jobs.job_execute(job_id=batch.job_id)
    return import_batch_summary(ImportBatch.objects.select_related("job").get(pk=batch_id))


def import_batch_job(job: Job) -> dict[str, Any]:
    """The runner of a `health.import` job: parse, match, interpret and store the batch in one
    transaction, all or nothing, so a run that dies stored nothing and can simply run again. A
    refused file fails the job and is deleted at once (reading it again cannot help)."""
    batch = ImportBatch.objects.select_related("organization", "created_by").get(job=job)
    if not batch.payload_encrypted:
        raise jobs.JobFailed(IMPORT_FILE_GONE)
    try:
        return _import_batch_process(batch, job)
    except FileRefused as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(payload_encrypted="")
        raise jobs.JobFailed(exc.reason) from exc


def import_batch_resumable(job: Job) -> str | None:
    """A batch runs again only while it still holds its file."""
    holds_file = ImportBatch.objects.filter(job=job).exclude(payload_encrypted="").exists()
    return None if holds_file else IMPORT_FILE_GONE


def import_batch_expire(job: Job) -> None:
    """The upload of an expired batch is deleted (its job can then no longer be resumed)."""
    ImportBatch.objects.filter(job=job).update(payload_encrypted="")


def import_batch_retry(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """重新导入 a failed or cancelled batch from its kept file."""
    _require(actor, HealthPerm.HEALTH_MANAGE, batch.organization, "无权为该组织导入体检结果")
    batch.job = jobs.job_resume(actor=actor, job=batch.job)
    return batch


def import_batch_cancel(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Cancel a batch that has not been imported yet; its file is kept until it expires."""
    _require(actor, HealthPerm.HEALTH_MANAGE, batch.organization, "无权为该组织导入体检结果")
    batch.job = jobs.job_cancel(actor=actor, job=batch.job)
    return batch


def _import_batch_process(batch: ImportBatch, job: Job) -> dict[str, Any]:
    catalogue = current_catalogue()
    with transaction.atomic():
        # Holds the job's row until COMMIT: housekeeping tells this live run from one whose
        # worker died, and the results commit only while the job is still this worker's.
        jobs.job_heartbeat(job, message="正在导入")
        content = base64.b64decode(crypto.decrypt(batch.payload_encrypted, purpose=PAYLOAD_PURPOSE))
        prepared = prepare_import(
            parse_file(batch.format, content, batch.mapping, catalogue),
            catalogue=catalogue,
            scope_path=batch.organization.path,
        )
        if batch.dry_run:
            outcome = StoreOutcome(results=sum(len(c.results) for c in prepared.checkups))
            outcome.flags.update(r.interpretation.flag for c in prepared.checkups for r in c.results)
            checkups_count = len(prepared.checkups)
        else:
            outcome = results_store(checkups=prepared.checkups, source=batch.format, batch=batch)
            checkups_count = len(outcome.checkup_ids)
        skipped = sum(len(c.results) for c in outcome.skipped_checkups)
        problems = [p.as_dict() for p in prepared.problems]
        summary = {
            "observations": prepared.observations,
            "imported": outcome.results,
            "checkups": checkups_count,
            "members": len({c.member.pk for c in prepared.checkups}),
            "skipped_existing": skipped,
            "problems": len(problems),
            "warnings": len(prepared.warnings),
            "by_reason": prepared.problem_counts(),
            "flags": dict(outcome.flags),
            "problem_list": problems[:PROBLEM_LIST_CAP],
            "warning_list": [w.as_dict() for w in prepared.warnings[:PROBLEM_LIST_CAP]],
            "skipped_reports": [c.external_id for c in outcome.skipped_checkups][:PROBLEM_LIST_CAP],
        }
        ImportBatch.objects.filter(pk=batch.pk).update(summary=summary, payload_encrypted="")
        result = {"dry_run": batch.dry_run, **{k: summary[k] for k in IMPORT_COUNTS}}
        jobs.job_heartbeat(job, done=prepared.observations, total=prepared.observations, message="")
        jobs.job_succeed(job=job, result=result)
        if not batch.dry_run:
            _after_commit_summaries(outcome.checkup_ids)
    return result


# What runs once an import has written check-ups (the plain-language summaries, wired in
# HealthConfig.ready(), so that this module needs neither the summary writer nor its task).
_imported_hooks: list[Callable[[list[int]], None]] = []


def on_checkups_imported(hook: Callable[[list[int]], None]) -> None:
    if hook not in _imported_hooks:
        _imported_hooks.append(hook)


def _after_commit_summaries(checkup_ids: list[int]) -> None:
    if not checkup_ids:
        return
    for hook in _imported_hooks:
        hook(list(checkup_ids))


# ---- 健康小屋 kiosks ----------------------------------------------------------------------------


def kiosk_register(*, actor: Any, organization: Organization, name: str) -> tuple[Device, str]:
    _require(actor, Perm.DEVICE_MANAGE, organization, "无权为该组织登记设备")
    name = clean_prose(name)
    if not name:
        raise ValidationFailed("请填写设备名称", fields={"name": "请填写设备名称"})
    return device_register(actor=actor, organization=organization, name=name[:100], kind=health_devices.HEALTH_KIOSK)


def kiosk_deactivate(*, actor: Any, device: Device) -> None:
    _require(actor, Perm.DEVICE_MANAGE, device.organization_path, "无权停用该设备")
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(is_active=False)
        organization = Organization.objects.get(pk=device.organization_id)
        audit.record(actor=actor, action="device.deactivate", obj=device, organization=organization)


@dataclass
class KioskOutcome:
    checkup: Checkup
    created: bool
    items: list[dict[str, str]]


def kiosk_readings_record(
    *, device: Device, member: Member, readings: list[dict[str, Any]], request_id: str, measured_at: dt.datetime | None
) -> KioskOutcome:
    """Readings from a signed 健康小屋 device join the member's history as one kiosk visit.
    The member must be in the device's organisation tree and have consented to health data
    processing; a retried request (same device and request id) returns the stored visit."""
    if device.kind != health_devices.HEALTH_KIOSK:
        raise PermissionDenied("该设备不是健康小屋设备")
    if not member.organization.path.startswith(device.organization_path):
        raise NotFound("会员不存在")
    if not has_consent(member=member, purpose=ConsentPurpose.HEALTH):
        raise PermissionDenied("会员尚未同意体检健康信息授权，请先在职工之家完成授权", code="consent_required")
    request_id = clean_text(request_id)
    if not request_id or len(request_id) > 64:
        raise ValidationFailed("缺少请求编号 request_id", fields={"request_id": "必填，最长64位"})
    external_id = "%s:%s" % (device.key_id, request_id)
    existing = Checkup.objects.filter(member=member, source="kiosk", external_id=external_id).first()
    if existing is not None:
        return KioskOutcome(existing, False, _kiosk_items(existing))
    if not readings:
        raise ValidationFailed("没有测量结果", fields={"readings": "至少一项"})
    if measured_at is not None and not dt.date(2000, 1, 1) <= measured_at.date() <= parsing.LATEST_DATE:
        raise ValidationFailed("测量时间无效", fields={"measured_at": "时间无效"})
    # A device clock may send a time without a zone: it is the kiosk's local (display) time.
    when = timezone.localtime(parsing.aware(measured_at)) if measured_at else timezone.localtime()
    if when > timezone.localtime() + dt.timedelta(minutes=10):
        raise ValidationFailed("测量时间晚于当前时间", fields={"measured_at": "时间无效"})
    day = when.date()
    catalogue = current_catalogue()
    policy = critical_policies_by_org([member.organization.path])[member.organization.path]
    limits = policy.limits
    errors: dict[str, str] = {}
    prepared = PreparedCheckup(
        member=member, external_id=external_id, centre=device.name, exam_date=day, critical_policy_id=policy.version_id
    )
    seen: set[int] = set()
    for i, reading in enumerate(readings):
        code, unit = str(reading.get("code", "")), str(reading.get("unit", ""))
        try:
            spec, unit_key = catalogue.resolve(code, unit)
            value = parse_decimal(reading.get("value"))
        except UnknownCode:
            errors["readings[%d]" % i] = "项目“%(c)s”不在指标目录中" % {"c": code[:40]}
            continue
        except UnitRefused as exc:
            errors["readings[%d]" % i] = exc.reason
            continue
        except Unreadable as exc:
            errors["readings[%d]" % i] = exc.reason
            continue
        if spec.id in seen:
            errors["readings[%d]" % i] = "项目重复"
            continue
        seen.add(spec.id)
        interp = interpret(
            spec, value, unit_key, sex=member.sex, age=age_on(member.birth_date, day), critical=limits.get(spec.id)
        )
        prepared.results.append(
            PreparedResult(
                spec=spec,
                interpretation=interp,
                measured_on=day,
                payload={
                    "v": format(interp.canonical_value, "f"),
                    "o": format(value, "f"),
                    "u": spec.unit_labels.get(unit_key, unit),
                    "r": "",
                    "c": "",
                },
            )
        )
    if errors:
        raise ValidationFailed("测量结果有误，未保存", fields=errors)
    with transaction.atomic():
        outcome = results_store(checkups=[prepared], source="kiosk", kind=CheckupKind.KIOSK, device_key=device.key_id)
        if not outcome.checkup_ids:
            checkup = Checkup.objects.get(member=member, source="kiosk", external_id=external_id)
            return KioskOutcome(checkup, False, _kiosk_items(checkup))
        checkup = Checkup.objects.get(pk=outcome.checkup_ids[0])
        audit.record(
            actor=None,
            action="health.kiosk_readings",
            obj=checkup,
            organization=member.organization,
            detail={"device": device.key_id, "items": len(prepared.results)},
        )
    return KioskOutcome(checkup, True, _kiosk_items(checkup))


def _kiosk_items(checkup: Checkup) -> list[dict[str, str]]:
    catalogue = current_catalogue()
    out = []
    for result in checkup.results.all().order_by("indicator__sort_order"):
        spec = catalogue.by_id[result.indicator_id]
        payload = decrypt_result(result.value_encrypted)
        out.append(
            {"code": spec.code, "name": spec.name_zh, "value": payload["v"], "unit": spec.unit, "flag": result.flag}
        )
    return out


# ---- reading reports ------------------------------------------------------------------------


def report_access_record(*, actor: Any, checkup: Checkup) -> None:
    """Every staff read of a member's report is audited (the member's own reads are not)."""
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="health.report_read",
            obj=checkup,
            organization=checkup.member.organization,
            detail={"member": checkup.member_id},
        )


def checkup_llm_summary_store(*, checkup_id: int, status: str, text: str = "", reason: str = "") -> None:
    with transaction.atomic():
        checkup = Checkup.objects.select_for_update().select_related("member__organization").get(pk=checkup_id)
        checkup.llm_status = status
        checkup.llm_summary_encrypted = crypto.encrypt(text, purpose=SUMMARY_PURPOSE) if text else ""
        checkup.save(update_fields=["llm_status", "llm_summary_encrypted"])
        audit.record(
            actor=None,
            action="health.llm_summary",
            obj=checkup,
            organization=checkup.member.organization,
            result=AuditResult.OK if text else AuditResult.FAILED,
            detail={"status": status, "reason": reason[:200]},
        )


def llm_summary_text(checkup: Checkup) -> str:
    if not checkup.llm_summary_encrypted:
        return ""
    return crypto.decrypt(checkup.llm_summary_encrypted, purpose=SUMMARY_PURPOSE)
