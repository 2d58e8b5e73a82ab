"""Health reads for an actor. Staff reads are narrowed with `scope_q` to the sub-tree where the
actor holds the permission; member reads are narrowed to the member's own rows."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Max, QuerySet
from django.utils import timezone

from gonghui.core.aggregates import SMALL_GROUP_POLICY, suppress_groups
from gonghui.core.errors import NotFound
from gonghui.core.models import JOB_ACTIVE, Device, JobStatus
from gonghui.core.permissions import Perm
from gonghui.health import devices as health_devices
from gonghui.health.models import (
    Appointment,
    AppointmentStatus,
    Checkup,
    CheckupCentre,
    CheckupKind,
    Flag,
    ImportBatch,
    Programme,
    ProgrammeStatus,
    Result,
    Slot,
)
from gonghui.health.permissions import HealthPerm
from gonghui.health.policies import CRITICAL_POLICY
from gonghui.health.services import programme_ineligibility
from gonghui.members.identity import id_blind_index
from gonghui.members.models import Member, Tag
from gonghui.organizations.models import Organization
from gonghui.organizations.policies import ResolvedPolicy, policy_for
from gonghui.organizations.selectors import scope_paths, scope_q

# ---- staff ----------------------------------------------------------------------------------


def programmes_for_actor(*, actor: Any, perm: str = HealthPerm.HEALTH_VIEW) -> QuerySet[Programme]:
    return Programme.objects.filter(scope_q(actor, perm)).select_related("organization", "eligible_org")


def programme_get_for_actor(*, actor: Any, pk: int | str, perm: str = HealthPerm.HEALTH_VIEW) -> Programme:
    programme = programmes_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if programme is None:
        raise NotFound("体检项目不存在或无权访问")
    return programme


def centres_for_actor(*, actor: Any, perm: str = HealthPerm.HEALTH_VIEW) -> QuerySet[CheckupCentre]:
    return CheckupCentre.objects.filter(scope_q(actor, perm)).select_related("organization")


def centre_get_for_actor(*, actor: Any, pk: int | str, perm: str = HealthPerm.HEALTH_MANAGE) -> CheckupCentre:
    centre = centres_for_actor(actor=actor, perm=perm).filter(pk=pk, is_active=True).first()
    if centre is None:
        raise NotFound("体检机构不存在或无权访问")
    return centre


def imports_for_actor(*, actor: Any) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(scope_q(actor, HealthPerm.HEALTH_VIEW)).select_related(
        "organization", "created_by", "job"
    )


def import_get_for_actor(*, actor: Any, pk: int | str) -> ImportBatch:
    batch = imports_for_actor(actor=actor).filter(pk=pk).first()
    if batch is None:
        raise NotFound("导入批次不存在或无权访问")
    return batch


def health_members_for_actor(*, actor: Any) -> QuerySet[Member]:
    return Member.objects.filter(scope_q(actor, HealthPerm.HEALTH_VIEW)).select_related("organization")


def health_member_get_for_actor(*, actor: Any, pk: int | str) -> Member:
    member = health_members_for_actor(actor=actor).filter(pk=pk).first()
    if member is None:
        raise NotFound("会员不存在或无权访问")
    return member


def member_by_id_number(*, id_number: str) -> Member | None:
    """The member a kiosk names by ID number, with their union. The kiosk is a signed device, not
    a staff actor: like a member's card token, the number itself is the member's say-so."""
    return Member.objects.select_related("organization").filter(id_blind=id_blind_index(id_number)).first()


def checkups_for_actor(*, actor: Any) -> QuerySet[Checkup]:
    return Checkup.objects.filter(scope_q(actor, HealthPerm.HEALTH_VIEW, "member__organization__path")).select_related(
        "member__organization"
    )


def checkup_get_for_actor(*, actor: Any, pk: int | str) -> Checkup:
    checkup = checkups_for_actor(actor=actor).filter(pk=pk).first()
    if checkup is None:
        raise NotFound("体检报告不存在或无权访问")
    return checkup


def kiosks_for_actor(*, actor: Any) -> QuerySet[Device]:
    visible = scope_q(actor, Perm.DEVICE_MANAGE, "organization_path") | scope_q(
        actor, HealthPerm.HEALTH_MANAGE, "organization_path"
    )
    return Device.objects.filter(visible, kind=health_devices.HEALTH_KIOSK).order_by("-id")


def kiosk_get_for_actor(*, actor: Any, pk: int | str) -> Device:
    device = Device.objects.filter(
        scope_q(actor, Perm.DEVICE_MANAGE, "organization_path"), kind=health_devices.HEALTH_KIOSK, pk=pk
    ).first()
    if device is None:
        raise NotFound("设备不存在或无权访问")
    return device


def critical_limits_own(organization: Organization) -> ResolvedPolicy | None:
    """The organisation's own `health.critical_limits` policy in force today, if it has one."""
    policy = policy_for(kind=CRITICAL_POLICY, organization=organization)
    if policy.version is None or policy.version.organization_id != organization.pk:
        return None
    return policy


def critical_limits_inherited(organization: Organization) -> ResolvedPolicy | None:
    """What the organisation would inherit without its own version (the nearest ancestor's)."""
    if organization.parent_id is None:
        return None
    parent = Organization.objects.get(pk=organization.parent_id)
    policy = policy_for(kind=CRITICAL_POLICY, organization=parent)
    return policy if policy.version is not None else None


def programme_quota_rows(programme: Programme) -> QuerySet[Any]:
    return programme.quotas.select_related("organization").order_by("organization__path")


def programme_appointments(programme: Programme) -> QuerySet[Appointment]:
    return programme.appointments.select_related("member", "slot__centre", "organization", "package").order_by(
        "slot__date", "slot__start_time", "id"
    )


# ---- members --------------------------------------------------------------------------------


def member_checkups(member: Member) -> QuerySet[Checkup]:
    return Checkup.objects.filter(member=member).order_by("-exam_date", "-id")


def member_checkup_get(member: Member, pk: int | str) -> Checkup:
    checkup = Checkup.objects.filter(member=member, pk=pk).select_related("member__organization").first()
    if checkup is None:
        raise NotFound("体检报告不存在")
    return checkup


def member_open_programmes(member: Member, *, today: dt.date | None = None) -> list[Programme]:
    candidates = Programme.objects.filter(status=ProgrammeStatus.OPEN).select_related("eligible_org")
    return [p for p in candidates if not programme_ineligibility(member=member, programme=p, today=today)]


def member_programme_get(member: Member, pk: int | str) -> Programme:
    programme = Programme.objects.filter(pk=pk, status=ProgrammeStatus.OPEN).select_related("eligible_org").first()
    if programme is None or programme_ineligibility(member=member, programme=programme):
        raise NotFound("体检项目不存在或您不在参检范围内")
    return programme


def programme_open_slots(programme: Programme, *, today: dt.date) -> QuerySet[Slot]:
    return (
        programme.slots.filter(date__gte=today, booked__lt=F("capacity"))
        .select_related("centre")
        .order_by("date", "start_time", "centre__name")
    )


def member_appointments(member: Member) -> QuerySet[Appointment]:
    return member.health_appointments.select_related("programme", "slot__centre", "package").order_by("-booked_at")


def member_active_appointment(member: Member, programme: Programme) -> Appointment | None:
    return (
        member.health_appointments.filter(programme=programme)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("slot__centre", "package")
        .first()
    )


def member_appointment_get(member: Member, pk: int | str) -> Appointment:
    appointment = member.health_appointments.filter(pk=pk).first()
    if appointment is None:
        raise NotFound("预约不存在")
    return appointment


# ---- union statistics -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatRow:
    label: str
    measured: int
    abnormal: int
    suppressed: bool
    small: bool = False

    @property
    def share(self) -> float | None:
        if self.suppressed or not self.measured:
            return None
        return round(self.abnormal * 100 / self.measured, 1)


GROUPINGS = {"org": "下级组织", "tag": "职工群体（标签）", "sex": "性别", "age": "年龄段"}
AGE_BANDS = ((16, 30), (30, 40), (40, 50), (50, 60), (60, 200))


def small_group_threshold(organization: Organization) -> ResolvedPolicy:
    """The `aggregate.small_group` policy in force for the organisation today."""
    return policy_for(kind=SMALL_GROUP_POLICY, organization=organization)


def abnormal_share(
    *, actor: Any, organization: Organization, indicator_id: int, year: int, group_by: str, flags: tuple[str, ...]
) -> list[StatRow]:
    """Per group: members with a result for the indicator in `year` (their latest exam of the
    year) and how many of those were flagged with one of `flags`. Groups of fewer than the
    `aggregate.small_group` threshold are suppressed (`small`), and so is a second group
    wherever one hidden group could be recovered from the total measured — which the other
    groupings of the same people publish (`gonghui.core.aggregates`). Suppressed counts are
    never returned. Tag groups may overlap, so their sum is at least the total: treating them
    as a partition hides at least as much."""
    if not organization.path.startswith(tuple(_paths(actor))):
        raise NotFound("组织不存在或无权访问")
    results = Result.objects.filter(
        indicator_id=indicator_id,
        measured_on__year=year,
        checkup__kind=CheckupKind.EXAM,
        member__organization__path__startswith=organization.path,
    )
    latest = results.values("member_id").annotate(last=Max("measured_on"))
    per_member: dict[int, str] = {}
    last_day = {row["member_id"]: row["last"] for row in latest}
    for member_id, measured_on, flag in results.values_list("member_id", "measured_on", "flag"):
        if measured_on == last_day[member_id]:
            per_member[member_id] = flag
    members = Member.objects.filter(pk__in=per_member).values_list(
        "pk", "organization__path", "tags", "sex", "birth_date"
    )
    groups: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    if group_by == "org":
        children = list(Organization.objects.filter(parent=organization).order_by("path"))
        for child in children:
            labels[child.path] = child.name
        labels[organization.path] = "%(name)s（本级）" % {"name": organization.name}
    for pk, path, tags, sex, birth in members:
        keys: list[str] = []
        if group_by == "org":
            child_path = path[: len(organization.path) + 7] if path != organization.path else path
            keys = [child_path if child_path in labels else organization.path]
        elif group_by == "tag":
            keys = [str(tag.value) for tag in Tag if tags & tag.value] or ["0"]
        elif group_by == "sex":
            keys = [sex]
        else:
            age = year - birth.year
            keys = ["%d-%d" % band for band in AGE_BANDS if band[0] <= age < band[1]]
        for key in keys:
            groups.setdefault(key, []).append(pk)
    if group_by == "tag":
        labels.update({str(tag.value): tag.label for tag in Tag})
        labels["0"] = "无标签"
    elif group_by == "sex":
        labels.update({"M": "男", "F": "女"})
    elif group_by == "age":
        labels.update(
            {"%d-%d" % b: ("%d岁及以上" % b[0] if b[1] >= 200 else "%d～%d岁" % (b[0], b[1] - 1)) for b in AGE_BANDS}
        )
    min_group = int(small_group_threshold(organization).body["min_group"])
    keys = [key for key in labels if groups.get(key) or group_by == "org"]
    measured = [len(groups.get(key, [])) for key in keys]
    shown = suppress_groups(measured, min_group=min_group, total=len(per_member))
    rows = []
    for index, key in enumerate(keys):
        pks = groups.get(key, [])
        hidden = shown.hidden(index)
        rows.append(
            StatRow(
                label=labels[key],
                measured=0 if hidden else len(pks),
                abnormal=0 if hidden else sum(per_member[pk] in flags for pk in pks),
                suppressed=hidden,
                small=len(pks) < min_group,
            )
        )
    return rows


def _paths(actor: Any) -> list[str]:
    return scope_paths(actor, HealthPerm.HEALTH_VIEW)


def dashboard_counts(*, actor: Any) -> dict[str, Any]:
    checkups = checkups_for_actor(actor=actor)
    year = timezone.localdate().year
    return {
        "programmes": programmes_for_actor(actor=actor).filter(status=ProgrammeStatus.OPEN).count(),
        "reports_this_year": checkups.filter(exam_date__year=year, kind=CheckupKind.EXAM).count(),
        "critical_this_year": checkups.filter(exam_date__year=year, critical_count__gt=0).count(),
        "kiosk_visits": checkups.filter(kind=CheckupKind.KIOSK, exam_date__year=year).count(),
    }


def checkup_flag_counts(checkup: Checkup) -> dict[str, int]:
    return dict(checkup.results.values_list("flag").annotate(n=Count("id")).values_list("flag", "n"))


HIGH_FLAGS = (Flag.HIGH, Flag.CRITICAL_HIGH)
LOW_FLAGS = (Flag.LOW, Flag.CRITICAL_LOW)
ANY_ABNORMAL = (*HIGH_FLAGS, *LOW_FLAGS)
FLAG_SETS = {"high": HIGH_FLAGS, "low": LOW_FLAGS, "abnormal": ANY_ABNORMAL}


# ---- dashboard figures -----------------------------------------------------------------------

CRITICAL_FOLLOW_UP_DAYS = 30
FAILED_IMPORT_DAYS = 7


@dataclass(frozen=True)
class HealthWork:
    """What a 健康管理员 works from: reports with critical values (recent exams), imports
    still in the queue or running, imports that failed lately."""

    critical_count: int
    critical_recent: list[Checkup]
    imports_running: list[ImportBatch]
    imports_failed_count: int


def health_work_for_actor(*, actor: Any, today: dt.date, limit: int = 8) -> HealthWork:
    since = today - dt.timedelta(days=CRITICAL_FOLLOW_UP_DAYS)
    critical = checkups_for_actor(actor=actor).filter(critical_count__gt=0, exam_date__gte=since)
    batches = imports_for_actor(actor=actor)
    failed_since = timezone.now() - dt.timedelta(days=FAILED_IMPORT_DAYS)
    return HealthWork(
        critical_count=critical.count(),
        critical_recent=list(critical.order_by("-exam_date", "-id")[:limit]),
        imports_running=list(batches.filter(job__status__in=JOB_ACTIVE).order_by("id")[:limit]),
        imports_failed_count=batches.filter(job__status=JobStatus.FAILED, created_at__gte=failed_since).count(),
    )
