"""Writes of the mutual-aid domain: one function per business action, owning its transaction
and its audit event (claim transitions go through the kernel workflow, which audits them)."""

import base64
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from gonghui.core import audit, crypto, exports, jobs, sql, tabular, workflow
from gonghui.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from gonghui.core.identifiers import IdentifierError, parse_resident_id
from gonghui.core.models import Job, JobStatus
from gonghui.core.parsing import MONEY_MAX_FEN
from gonghui.members.identity import ID_PURPOSE
from gonghui.members.models import Member, MembershipStatus
from gonghui.mutual_aid.models import (
    BatchStatus,
    Bill,
    BillStatus,
    Claim,
    ClaimDocument,
    ClaimStatus,
    Enrolment,
    EnrolmentBatch,
    EnrolmentStatus,
    Period,
    PlanCode,
    RejectCode,
)
from gonghui.mutual_aid.permissions import AidPerm
from gonghui.mutual_aid.policies import rules_for, rules_for_days
from gonghui.mutual_aid.rules import Adjudication, Cover, Stay, adjudicate
from gonghui.mutual_aid.workflows import CLAIM
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on

LIST_KIND = "mutual_aid.enrolment_list"
LIST_COLUMNS = tabular.register_columns(
    LIST_KIND,
    label="医疗互助参保名单",
    columns=(
        tabular.Column("name", "姓名", required=True, aliases=("职工姓名", "会员姓名"), width=10),
        tabular.Column(
            "id_number",
            "证件号码",
            required=True,
            aliases=("身份证号", "身份证号码", "公民身份号码"),
            help="会员的18位居民身份证号码，请设为文本格式",
            width=22,
            text=True,
        ),
    ),
    missing_hint="请使用参保名单模板：第一行为表头“姓名”“证件号码”",
    perm=AidPerm.ENROL,
    picker="mutual_aid_enrol",
)
LIST_MAX_ROWS = 400_000
BULK_BATCH = 5_000
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
HEALTH_PURPOSE = "mutual_aid.claim_health"
STEPS_PURPOSE = "mutual_aid.claim_steps"


def _require(actor: Any, perm: str, organization: Organization) -> None:
    if not has_perm_on(actor, perm, organization):
        raise PermissionDenied("您没有在%(org)s办理此事项的权限" % {"org": organization.name})


# ---- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodInput:
    plan: str
    number: int
    name: str
    premium_fen: int
    starts_on: dt.date
    ends_on: dt.date
    enrol_opens_on: dt.date
    enrol_closes_on: dt.date
    min_age: int
    max_age: int


def _check_period(data: PeriodInput) -> None:
    fields: dict[str, str] = {}
    if data.plan not in PlanCode.values:
        fields["plan"] = "请选择互助方案"
    if not 1 <= data.number <= 999:
        fields["number"] = "期次应为 1 到 999 的整数"
    if not data.name.strip() or len(data.name) > 60:
        fields["name"] = "请填写名称（最多 60 个字）"
    if not 0 < data.premium_fen <= MONEY_MAX_FEN:
        fields["premium_fen"] = "每人互助金应大于 0"
    if data.ends_on <= data.starts_on:
        fields["ends_on"] = "保障结束日期应晚于开始日期"
    if data.enrol_closes_on < data.enrol_opens_on:
        fields["enrol_closes_on"] = "参保截止日期不能早于参保开始日期"
    if data.enrol_closes_on > data.ends_on:
        fields["enrol_closes_on"] = "参保截止日期不能晚于保障结束日期"
    if not 0 <= data.min_age <= data.max_age <= 120:
        fields["max_age"] = "年龄范围应在 0 到 120 岁之间，且最高年龄不低于最低年龄"
    if fields:
        raise ValidationFailed("期次信息有误，请按提示修改", fields=fields)


def period_create(*, actor: Any, organization: Organization, data: PeriodInput) -> Period:
    _require(actor, AidPerm.MANAGE, organization)
    _check_period(data)
    with transaction.atomic():
        if Period.objects.filter(organization=organization, plan=data.plan, number=data.number).exists():
            raise ValidationFailed("该方案的第 %(n)s 期已存在" % {"n": data.number}, fields={"number": "期次已存在"})
        period = Period.objects.create(organization=organization, created_by=actor, **data.__dict__)
        audit.record(actor=actor, action="mutual_aid.period_create", obj=period, organization=organization)
    return period


def period_update(*, actor: Any, period: Period, data: PeriodInput) -> Period:
    _require(actor, AidPerm.MANAGE, period.organization)
    _check_period(data)
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if data.plan != locked.plan and locked.bills.exists():
            raise ValidationFailed("已有单位参保，不能更换互助方案", fields={"plan": "已有单位参保"})
        clash = Period.objects.filter(organization=locked.organization, plan=data.plan, number=data.number)
        if clash.exclude(pk=locked.pk).exists():
            raise ValidationFailed("该方案的第 %(n)s 期已存在" % {"n": data.number}, fields={"number": "期次已存在"})
        changed = {k: v for k, v in data.__dict__.items() if getattr(locked, k) != v}
        for key, value in changed.items():
            setattr(locked, key, value)
        locked.save()
        audit.record(
            actor=actor,
            action="mutual_aid.period_update",
            obj=locked,
            organization=locked.organization,
            detail={"fields": sorted(changed)},
        )
    return locked


# ---- enrolment lists, bills, payment ------------------------------------------------------------
#
# A list is checked in the request when the unit asks for a dry run (仅校验); a commit stores
# the upload sealed on an `EnrolmentBatch` and queues a `mutual_aid.enrol` job. The job checks
# the list again (set-based: one query per 5,000 rows finds the members of the unit's sub-tree
# with their eligibility, whether they are enrolled in the period already and whether they
# renew from the previous one) and, if every row passed, writes the bill and its pending
# enrolments in one transaction (one multi-row INSERT per 5,000 members). The unique
# constraint "one live enrolment per member and period" stands behind the check: a list
# committed at the same time for the same member fails its job instead of enrolling twice.

ENROL_JOB = "mutual_aid.enrol"
ENROLMENT_COLUMNS = (
    "period",
    "member",
    "organization",
    "bill",
    "status",
    "first_enrolment",
    "committed_fen",
    "deductible_used_fen",
)
UPLOAD_PURPOSE = "mutual_aid.enrolment_upload"
UPLOAD_KEEP_HOURS = 72
ENROL_CRASHED = "生成缴费单时发生系统错误，未参保任何人；可在“后台任务”中点击“继续”重试"
ENROL_RACED = "名单中有会员刚由另一份名单在本期参保，未参保任何人；请重新上传（校验报告会列出这些会员）"
ENROL_CANCELLED = "已取消，未参保任何人"

# The batch's status while its job is at each stage of its life.
_FOLLOWS = {
    JobStatus.QUEUED: BatchStatus.QUEUED,
    JobStatus.RUNNING: BatchStatus.RUNNING,
    JobStatus.SUCCEEDED: BatchStatus.SUCCEEDED,
    JobStatus.FAILED: BatchStatus.FAILED,
    JobStatus.CANCELLED: BatchStatus.CANCELLED,
}


@dataclass(frozen=True)
class Listed:
    """A member a list names, as the set-based lookup found them."""

    pk: int
    organization_id: int
    name: str
    in_service: bool
    in_ages: bool
    enrolled: bool
    renewing: bool


@dataclass
class ListCheck:
    """A checked list: the members it enrols (id, renews without wait, their own union), and
    the rows refused with their reason."""

    header: list[str]
    members: list[tuple[int, bool, int]] = field(default_factory=list)
    errors: list[tabular.RowError] = field(default_factory=list)
    rows: int = 0


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (29 February becomes the 28th in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _previous_period(period: Period) -> Period | None:
    return Period.objects.filter(organization=period.organization, plan=period.plan, number=period.number - 1).first()


def _lookup_sql(vendor: str) -> str:
    """The set-based lookup of a list's members (one statement per 5,000 rows): the blind
    indexes go in as one parameter — an array on PostgreSQL, a JSON array elsewhere — so
    the statement's text does not grow with the list."""
    blinds = "= ANY(%s)" if vendor == "postgresql" else "IN (SELECT value FROM json_each(%s))"
    member, org, enrolment = sql.table(Member), sql.table(Organization), sql.table(Enrolment)
    template = (
        "SELECT m.id_blind, m.id, m.organization_id, m.name,"
        " m.status = %(active)s AS in_service,"
        " (m.birth_date > %%s AND m.birth_date <= %%s) AS in_ages,"
        " EXISTS (SELECT 1 FROM %(enrolment)s e WHERE e.period_id = %%s AND e.member_id = m.id"
        " AND e.status <> %(cancelled)s) AS enrolled,"
        " EXISTS (SELECT 1 FROM %(enrolment)s p WHERE p.period_id = %%s AND p.member_id = m.id"
        " AND p.status = %(paid)s) AS renewing"
        " FROM %(member)s m JOIN %(org)s o ON o.id = m.organization_id"
        " WHERE m.id_blind %(blinds)s AND o.path LIKE %%s"
    )
    names = {"enrolment": enrolment, "member": member, "org": org, "blinds": blinds}
    values = {
        "active": sql.choice(MembershipStatus.ACTIVE),
        "cancelled": sql.choice(EnrolmentStatus.CANCELLED),
        "paid": sql.choice(EnrolmentStatus.ACTIVE),
    }
    return template % {**names, **values}


def _lookup(period: Period, unit: Organization, blinds: list[str]) -> dict[str, Listed]:
    """The members of `unit`'s sub-tree with these blind indexes, with their eligibility
    worked out by the database: in service, of age on the period's first day (born after the
    day `max_age` + 1 years before it and on or before the day `min_age` years before it),
    already enrolled in the period, enrolled and paid in the previous one (a renewal)."""
    ops = connection.ops
    born_after = ops.adapt_datefield_value(_years_before(period.starts_on, period.max_age + 1))
    born_by = ops.adapt_datefield_value(_years_before(period.starts_on, period.min_age))
    previous = _previous_period(period)
    query = _lookup_sql(connection.vendor)
    found: dict[str, Listed] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(blinds), BULK_BATCH):
            chunk = blinds[start : start + BULK_BATCH]
            param: Any = chunk if connection.vendor == "postgresql" else json.dumps(chunk)
            cursor.execute(
                query, [born_after, born_by, period.pk, previous.pk if previous else None, param, unit.path + "%"]
            )
            for blind, pk, org_id, name, in_service, in_ages, enrolled, renewing in cursor.fetchall():
                found[blind] = Listed(pk, org_id, name, bool(in_service), bool(in_ages), bool(enrolled), bool(renewing))
    return found


def enrolment_list_check(
    *,
    period: Period,
    unit: Organization,
    stream: IO[bytes],
    filename: str,
    progress: Callable[[int, int], None] | None = None,
) -> ListCheck:
    """Read a unit's list and check every row: a member of the unit's sub-tree by ID number and
    name, in service, within the period's ages, not on this list twice, not already enrolled in
    the period. Nothing is written."""
    with tabular.open_tabular(stream, file_name=filename, max_rows=LIST_MAX_ROWS) as table:
        header = list(table.header)
        if not any(h.strip() for h in header):
            raise ValidationFailed("文件是空的：第一行应为表头“姓名”“证件号码”")
        mapping = tabular.tabular_mapping_for_header(kind=LIST_KIND, organization=unit, header=header)
        columns = LIST_COLUMNS.resolve(header, mapping=mapping)
        name_at, id_at = columns.positions["name"], columns.positions["id_number"]
        parsed: list[tuple[int, list[str], str, str | None, str]] = []
        for row_no, cells in enumerate(table.text_rows(), start=2):
            if not any(c.strip() for c in cells):
                continue
            name = cells[name_at].strip() if name_at < len(cells) else ""
            raw_id = cells[id_at].strip() if id_at < len(cells) else ""
            blind: str | None = None
            id_problem = "证件号码为空"
            if raw_id:
                try:
                    blind = crypto.blind_index(parse_resident_id(raw_id).number, purpose=ID_PURPOSE)
                except IdentifierError as exc:
                    id_problem = str(exc)
            parsed.append((row_no, cells, name, blind, id_problem))
    check = ListCheck(header=list(header), rows=len(parsed))
    found = _lookup(period, unit, [b for _, _, _, b, _ in parsed if b])
    if progress is not None:
        progress(len(parsed), len(parsed))
    ages = "年龄不在 %(lo)s 至 %(hi)s 岁之间" % {"lo": period.min_age, "hi": period.max_age}
    seen: set[int] = set()
    for row_no, cells, name, blind, id_problem in parsed:
        match = found.get(blind) if blind else None
        reason = ""
        if not name:
            reason = "姓名为空"
        elif blind is None:
            reason = id_problem
        elif match is None:
            reason = "本单位没有该证件号码的会员"
        elif match.name != name:
            reason = "姓名与会员档案不一致"
        elif not match.in_service:
            reason = "该会员不在会，不能参保"
        elif not match.in_ages:
            reason = ages
        elif match.pk in seen:
            reason = "名单中重复"
        elif match.enrolled:
            reason = "该会员本期已参保，不能重复参保"
        if reason:
            check.errors.append(tabular.RowError(row_no, cells, reason))
        elif match is not None:
            seen.add(match.pk)
            check.members.append((match.pk, match.renewing, match.organization_id))
    return check


def _check_window(period: Period, unit: Organization, today: dt.date) -> None:
    if not unit.path.startswith(period.organization.path):
        raise PermissionDenied("该单位不在本期次的主办工会范围内")
    if not period.enrol_opens_on <= today <= period.enrol_closes_on:
        raise Conflict(
            "不在参保期内（%(a)s 至 %(b)s）"
            % {"a": period.enrol_opens_on.isoformat(), "b": period.enrol_closes_on.isoformat()}
        )


def enrolment_list_submit(
    *,
    actor: Any,
    period: Period,
    unit: Organization,
    content: bytes,
    filename: str,
    today: dt.date | None = None,
    enqueue: bool = True,
) -> EnrolmentBatch:
    """提交参保: keep the list sealed and queue the job that checks it and, if every row
    passes, writes its bill (all or nothing). `enqueue=False` leaves the job for the caller to
    run (`jobs.job_execute`, as the worker does)."""
    _require(actor, AidPerm.ENROL, unit)
    _check_window(period, unit, today or timezone.localdate())
    if not content.strip():
        raise ValidationFailed("名单文件是空的", fields={"file": "请选择名单文件"})
    with transaction.atomic():
        batch = EnrolmentBatch.objects.create(
            period=period,
            organization=unit,
            filename=filename[:200],
            upload_encrypted=crypto.encrypt(base64.b64encode(content).decode("ascii"), purpose=UPLOAD_PURPOSE),
            created_by=actor,
        )
        batch.job = jobs.job_create(
            kind=ENROL_JOB,
            organization=unit,
            created_by=actor,
            key="batch:%s" % batch.pk,
            params={"batch": batch.pk, "period": period.pk},
            expires_at=timezone.now() + dt.timedelta(hours=UPLOAD_KEEP_HOURS),
            enqueue=enqueue,
        )
        batch.save(update_fields=["job"])
        audit.record(
            actor=actor,
            action="mutual_aid.enrol_submit",
            obj=batch,
            organization=unit,
            detail={"period": period.pk, "file": batch.filename},
        )
    return batch


def _upload(batch: EnrolmentBatch) -> io.BytesIO:
    if not batch.upload_encrypted:
        raise Conflict("上传的名单已清除，请重新上传")
    return io.BytesIO(base64.b64decode(crypto.decrypt(batch.upload_encrypted, purpose=UPLOAD_PURPOSE)))


def enrol_job_changed(job: Job) -> None:
    """The kernel changed the state of a batch's job: the batch's status follows. A batch that
    has its bills stays done; a failure keeps the runner's reason."""
    batch = EnrolmentBatch.objects.filter(job=job)
    status = _FOLLOWS[JobStatus(job.status)]
    if status in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        batch.filter(bill_count=0).update(status=status, error_message="", finished_at=None)
    elif status in (BatchStatus.FAILED, BatchStatus.CANCELLED):
        reason = job.error if job.status == JobStatus.FAILED else ENROL_CANCELLED
        batch.filter(bill_count=0).update(
            status=status, error_message=reason[:500], finished_at=job.finished_at or timezone.now()
        )
    else:
        batch.update(status=status, finished_at=job.finished_at or timezone.now())


def enrol_job_resumable(job: Job) -> str | None:
    """A list runs again only while its batch still holds the upload."""
    holds = EnrolmentBatch.objects.filter(job=job).exclude(upload_encrypted="").exists()
    return None if holds else "上传的名单已清除，请重新上传"


def enrol_job_expired(job: Job) -> None:
    """Past its keep time, a list that never became bills is deleted."""
    EnrolmentBatch.objects.filter(job=job, bill_count=0).update(upload_encrypted="")


def enrol_batch_job(job: Job) -> dict[str, Any]:
    """The runner of a `mutual_aid.enrol` job: check the kept list and write its bills."""
    batch = EnrolmentBatch.objects.select_related("period", "period__organization", "organization", "created_by").get(
        job=job
    )
    if batch.bill_count:  # written just before its worker was given up
        return {"batch": batch.pk, "bills": batch.bill_count}
    actor, period, unit = batch.created_by, batch.period, batch.organization
    try:
        _require(actor, AidPerm.ENROL, unit)
        check = enrolment_list_check(
            period=period,
            unit=unit,
            stream=_upload(batch),
            filename=batch.filename,
            progress=lambda done, total: jobs.job_heartbeat(job, done=done, total=total, message="正在校验名单"),
        )
    except DomainError as exc:
        raise jobs.JobFailed(exc.message) from exc
    EnrolmentBatch.objects.filter(pk=batch.pk).update(rows=check.rows, refused=len(check.errors))
    if check.errors:
        raise jobs.JobFailed(
            "名单有 %(n)s 行未通过校验，未参保任何人；请下载校验报告修改后重新上传" % {"n": len(check.errors)}
        )
    if not check.members:
        raise jobs.JobFailed("名单中没有会员")
    try:
        written = _write_bills(job, batch, check)
    except IntegrityError as exc:
        raise jobs.JobFailed(ENROL_RACED) from exc
    return {"batch": batch.pk, **written}


def _write_bills(job: Job, batch: EnrolmentBatch, check: ListCheck) -> dict[str, int]:
    """One bill per enrolled union (each member's own) and one pending enrolment per member,
    in one transaction that holds the job's row (through its heartbeat) until COMMIT, so that
    recovery never takes over a live write. Set-based: one INSERT for the bills, one COPY
    (`core.sql.copy_rows`) for the enrolments, the bills' audit events appended together."""
    period = batch.period
    by_org: dict[int, list[tuple[int, bool]]] = {}
    for member_id, renewing, org_id in check.members:
        by_org.setdefault(org_id, []).append((member_id, renewing))
    orgs = {o.pk: o for o in Organization.objects.filter(pk__in=list(by_org)).only("id", "name", "path")}
    count = len(check.members)
    with transaction.atomic():
        jobs.job_heartbeat(job, done=0, total=count, message="正在生成缴费单")
        bills = Bill.objects.bulk_create(
            [
                Bill(
                    period=period,
                    organization_id=org_id,
                    member_count=len(members),
                    amount_fen=len(members) * period.premium_fen,
                    filename=batch.filename,
                    batch=batch,
                    created_by=batch.created_by,
                )
                for org_id, members in sorted(by_org.items())
            ]
        )
        member_bill = {bill.organization_id: bill.pk for bill in bills}
        sql.copy_rows(
            Enrolment,
            ENROLMENT_COLUMNS,
            (
                (period.pk, member_id, org_id, member_bill[org_id], EnrolmentStatus.PENDING.value, not renewing, 0, 0)
                for org_id, members in by_org.items()
                for member_id, renewing in members
            ),
        )
        amount = count * period.premium_fen
        EnrolmentBatch.objects.filter(pk=batch.pk).update(
            bill_count=len(bills), member_count=count, amount_fen=amount, upload_encrypted=""
        )
        jobs.job_heartbeat(job, done=count, total=count, message="已生成缴费单")
        audit.record_many(
            actor=batch.created_by,
            entries=[
                audit.Entry(
                    "mutual_aid.enrol_list",
                    obj=bill,
                    organization=orgs[bill.organization_id],
                    detail={
                        "members": bill.member_count,
                        "amount_fen": bill.amount_fen,
                        "period": period.pk,
                        "batch": batch.pk,
                    },
                )
                for bill in bills
            ],
        )
    return {"bills": len(bills), "members": count, "amount_fen": amount}


def enrolment_batch_report(*, actor: Any, batch: EnrolmentBatch) -> exports.Export:
    """The refused rows of a list whose job turned it down, checked again from the kept upload
    (the XLSX report of the dry run: 行号, the file's columns, 错误原因); audited."""
    _require(actor, AidPerm.ENROL, batch.organization)
    if batch.status != BatchStatus.FAILED:
        raise Conflict("只有未通过的名单可以下载校验报告")
    check = enrolment_list_check(
        period=batch.period, unit=batch.organization, stream=_upload(batch), filename=batch.filename
    )
    return tabular.error_report(
        actor=actor,
        action="mutual_aid.enrol_report",
        filename="参保名单校验报告.xlsx",
        header=check.header,
        rows=check.errors,
        obj=batch,
        organization=batch.organization,
    )


def enrolment_batch_run(*, batch: EnrolmentBatch) -> EnrolmentBatch:
    """Run the batch's queued job now, as the worker does (a command, the demo, the tests)."""
    if batch.job_id is not None:
        jobs.job_execute(job_id=batch.job_id)
    batch.refresh_from_db()
    return batch


def bill_pay(*, actor: Any, bill: Bill, paid_on: dt.date, payment_ref: str) -> Bill:
    """Record the unit's payment: its enrolments become active from the day paid."""
    _require(actor, AidPerm.ENROL, bill.organization)
    payment_ref = payment_ref.strip()
    if not payment_ref or len(payment_ref) > 60:
        raise ValidationFailed("请填写缴费凭证号（最多 60 个字符）", fields={"payment_ref": "请填写缴费凭证号"})
    with transaction.atomic():
        locked = Bill.objects.select_for_update().select_related("period").get(pk=bill.pk)
        if locked.status != BillStatus.UNPAID:
            raise Conflict("该缴费单状态为“%(s)s”，不能登记缴费" % {"s": locked.get_status_display()})
        if not locked.period.starts_on - dt.timedelta(days=366) <= paid_on <= locked.period.ends_on:
            raise ValidationFailed("缴费日期不在本期范围内", fields={"paid_on": "缴费日期不在本期范围内"})
        locked.status = BillStatus.PAID
        locked.paid_on = paid_on
        locked.paid_by = actor
        locked.payment_ref = payment_ref
        locked.save(update_fields=["status", "paid_on", "paid_by", "payment_ref"])
        enrolled_on = max(paid_on, locked.period.starts_on)
        count = locked.enrolments.filter(status=EnrolmentStatus.PENDING).update(
            status=EnrolmentStatus.ACTIVE, enrolled_on=enrolled_on
        )
        audit.record(
            actor=actor,
            action="mutual_aid.bill_pay",
            obj=locked,
            organization=locked.organization,
            detail={"members": count, "amount_fen": locked.amount_fen, "payment_ref": payment_ref},
        )
    return locked


def batch_pay(*, actor: Any, batch: EnrolmentBatch, paid_on: dt.date, payment_ref: str) -> int:
    """按名单登记缴费: one payment covering every unpaid bill of a list (a federation that
    listed its units pays once); set-based, each bill audited. Returns how many bills."""
    _require(actor, AidPerm.ENROL, batch.organization)
    payment_ref = payment_ref.strip()
    if not payment_ref or len(payment_ref) > 60:
        raise ValidationFailed("请填写缴费凭证号（最多 60 个字符）", fields={"payment_ref": "请填写缴费凭证号"})
    period = batch.period
    if not period.starts_on - dt.timedelta(days=366) <= paid_on <= period.ends_on:
        raise ValidationFailed("缴费日期不在本期范围内", fields={"paid_on": "缴费日期不在本期范围内"})
    with transaction.atomic():
        bills = list(
            Bill.objects.select_for_update(of=("self",))
            .filter(batch=batch, status=BillStatus.UNPAID)
            .select_related("organization")
            .order_by("pk")
        )
        if not bills:
            raise Conflict("该名单没有待缴费的缴费单")
        Bill.objects.filter(batch=batch, status=BillStatus.UNPAID).update(
            status=BillStatus.PAID, paid_on=paid_on, paid_by=actor, payment_ref=payment_ref
        )
        Enrolment.objects.filter(bill__batch=batch, status=EnrolmentStatus.PENDING).update(
            status=EnrolmentStatus.ACTIVE, enrolled_on=max(paid_on, period.starts_on)
        )
        audit.record_many(
            actor=actor,
            entries=[
                audit.Entry(
                    "mutual_aid.bill_pay",
                    obj=b,
                    organization=b.organization,
                    detail={"members": b.member_count, "amount_fen": b.amount_fen, "payment_ref": payment_ref},
                )
                for b in bills
            ],
        )
    return len(bills)


def bill_cancel(*, actor: Any, bill: Bill) -> Bill:
    _require(actor, AidPerm.ENROL, bill.organization)
    with transaction.atomic():
        locked = Bill.objects.select_for_update().get(pk=bill.pk)
        if locked.status != BillStatus.UNPAID:
            raise Conflict("只有待缴费的缴费单可以作废")
        locked.status = BillStatus.CANCELLED
        locked.save(update_fields=["status"])
        locked.enrolments.update(status=EnrolmentStatus.CANCELLED)
        audit.record(actor=actor, action="mutual_aid.bill_cancel", obj=locked, organization=locked.organization)
    return locked


# ---- claims ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimInput:
    hospital: str
    admitted_on: dt.date
    discharged_on: dt.date
    days: int
    diagnosis: str
    total_fen: int
    basic_insurance_fen: int
    serious_illness_insurance_fen: int
    self_inside_catalogue_fen: int
    self_outside_catalogue_fen: int


@dataclass(frozen=True)
class Upload:
    label: str
    content_type: str
    content: bytes


COST_KEYS = (
    "total_fen",
    "basic_insurance_fen",
    "serious_illness_insurance_fen",
    "self_inside_catalogue_fen",
    "self_outside_catalogue_fen",
)


def _check_claim(period: Period, data: ClaimInput) -> None:
    fields: dict[str, str] = {}
    if not data.hospital.strip() or len(data.hospital) > 100:
        fields["hospital"] = "请填写医院（最多 100 个字）"
    if not data.diagnosis.strip() or len(data.diagnosis) > 200:
        fields["diagnosis"] = "请填写诊断（最多 200 个字）"
    if data.discharged_on < data.admitted_on:
        fields["discharged_on"] = "出院日期不能早于入院日期"
    if not period.starts_on <= data.admitted_on <= period.ends_on:
        fields["admitted_on"] = "入院日期不在本期保障期内（%(a)s 至 %(b)s）" % {
            "a": period.starts_on.isoformat(),
            "b": period.ends_on.isoformat(),
        }
    if not 0 <= data.days <= 3650:
        fields["days"] = "住院天数应为 0 到 3650"
    for key in COST_KEYS:
        if not 0 <= getattr(data, key) <= MONEY_MAX_FEN:
            fields[key] = "金额超出范围"
    parts = (
        data.basic_insurance_fen
        + data.serious_illness_insurance_fen
        + data.self_inside_catalogue_fen
        + data.self_outside_catalogue_fen
    )
    if "total_fen" not in fields and parts != data.total_fen:
        fields["total_fen"] = "总费用应等于医保统筹、大病保险与个人自付（目录内、目录外）之和"
    if fields:
        raise ValidationFailed("结报信息有误，请按提示修改", fields=fields)


def _store_document(claim: Claim, upload: Upload, actor: Any) -> ClaimDocument:
    ext = DOCUMENT_TYPES.get(upload.content_type)
    if ext is None:
        raise ValidationFailed("材料只能是 JPG、PNG 图片或 PDF", fields={"documents": "文件类型不支持"})
    if not 0 < len(upload.content) <= DOCUMENT_MAX_BYTES:
        raise ValidationFailed("每份材料不能超过 5MB", fields={"documents": "文件过大或为空"})
    field_ = ClaimDocument._meta.get_field("stored_name")
    stored = field_.save_sealed(  # type: ignore[attr-defined]
        "mutual_aid/claims/%s/doc.%s" % (claim.pk, ext), base64.b64encode(upload.content).decode("ascii")
    )
    return ClaimDocument.objects.create(
        claim=claim,
        label=(upload.label or "票据")[:60],
        content_type=upload.content_type,
        stored_name=stored,
        size=len(upload.content),
        uploaded_by=actor,
    )


def claim_submit(
    *, actor: Any, enrolment: Enrolment, data: ClaimInput, documents: Iterable[Upload] = (), on_behalf: bool = True
) -> Claim:
    """A claim for a stay under an active enrolment; by staff (`on_behalf`) or by the member."""
    if on_behalf:
        _require(actor, AidPerm.CLAIM_HANDLE, enrolment.organization)
    elif enrolment.member.user_id != actor.pk:
        raise PermissionDenied("只能为本人申请结报")
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict("该会员本期尚未参保生效（单位缴费后生效）")
    period = enrolment.period
    _check_claim(period, data)
    uploads = list(documents)
    health = {"diagnosis": data.diagnosis.strip(), **{k: getattr(data, k) for k in COST_KEYS}}
    with transaction.atomic():
        if (
            Claim.objects.filter(enrolment=enrolment, admitted_on=data.admitted_on, hospital=data.hospital.strip())
            .exclude(status=ClaimStatus.REJECTED)
            .exists()
        ):
            raise Conflict("这次住院已经申报过结报")
        claim = Claim.objects.create(
            period=period,
            enrolment=enrolment,
            member=enrolment.member,
            organization=enrolment.organization,
            hospital=data.hospital.strip(),
            admitted_on=data.admitted_on,
            discharged_on=data.discharged_on,
            days=data.days,
            health_encrypted=crypto.encrypt(json.dumps(health, ensure_ascii=False), purpose=HEALTH_PURPOSE),
            submitted_by=actor,
        )
        for upload in uploads:
            _store_document(claim, upload, actor)
        workflow.workflow_start(
            actor=actor, obj=claim, workflow=CLAIM, detail={"documents": len(uploads), "by_member": not on_behalf}
        )
    return claim


def claim_health(claim: Claim) -> dict[str, Any]:
    """The sealed diagnosis and costs (callers audit the reveal: `claim_reveal`)."""
    data: dict[str, Any] = json.loads(crypto.decrypt(claim.health_encrypted, purpose=HEALTH_PURPOSE))
    return data


def claim_steps(claim: Claim) -> list[dict[str, Any]]:
    if not claim.steps_encrypted:
        return []
    steps: list[dict[str, Any]] = json.loads(crypto.decrypt(claim.steps_encrypted, purpose=STEPS_PURPOSE))
    return steps


def claim_reveal(*, actor: Any, claim: Claim) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Staff read a claim's diagnosis, costs and computation: audited."""
    _require(actor, AidPerm.HEALTH_REVEAL, claim.organization)
    audit.record(actor=actor, action="mutual_aid.claim_reveal", obj=claim, organization=claim.organization)
    return claim_health(claim), claim_steps(claim)


def stay_of(claim: Claim) -> Stay:
    health = claim_health(claim)
    return Stay(
        total_fen=health["total_fen"],
        basic_insurance_fen=health["basic_insurance_fen"],
        serious_illness_insurance_fen=health["serious_illness_insurance_fen"],
        self_outside_catalogue_fen=health["self_outside_catalogue_fen"],
        days=claim.days,
        admitted_on=claim.admitted_on,
    )


def _cover(enrolment: Enrolment) -> Cover:
    if enrolment.enrolled_on is None:
        raise Conflict("该会员本期尚未参保生效")
    return Cover(
        enrolled_on=enrolment.enrolled_on,
        first_enrolment=enrolment.first_enrolment,
        period_paid_fen=enrolment.committed_fen,
        period_deductible_used_fen=enrolment.deductible_used_fen,
    )


def claim_adjudication(*, claim: Claim, enrolment: Enrolment) -> tuple[Adjudication, Any]:
    """The benefit of `claim` against what `enrolment` (locked by the caller) has left."""
    period = enrolment.period
    rules, resolved = rules_for(plan_code=period.plan, organization=period.organization, on=claim.admitted_on)
    return adjudicate(rules=rules, stay=stay_of(claim), cover=_cover(enrolment)), resolved


def _review_effect(claims: list[Claim], steps: list[workflow.Step]) -> list[str]:
    """初审 of locked claims: lock their members' allowance rows (in primary-key order, one
    statement), resolve each period's rules for the admission days at once, adjudicate the
    claims in order — two claims of one member in the batch see each other's benefit — and
    write the allowances back in one UPDATE."""
    ids = sorted({c.enrolment_id for c in claims})
    enrolments = {
        e.pk: e
        for e in Enrolment.objects.select_for_update(of=("self",))
        .select_related("period", "period__organization")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    days: dict[int, set[dt.date]] = {}
    for claim in claims:
        days.setdefault(enrolments[claim.enrolment_id].period_id, set()).add(claim.admitted_on)
    periods = {e.period_id: e.period for e in enrolments.values()}
    rules = {
        period_id: rules_for_days(
            plan_code=periods[period_id].plan, organization=periods[period_id].organization, days=d
        )
        for period_id, d in days.items()
    }
    for claim in claims:
        enrolment = enrolments[claim.enrolment_id]
        plan_rules, resolved = rules[enrolment.period_id][claim.admitted_on]
        result = adjudicate(rules=plan_rules, stay=stay_of(claim), cover=_cover(enrolment))
        enrolment.committed_fen += result.benefit_fen
        enrolment.deductible_used_fen += result.deductible_used_fen
        claim.benefit_fen = result.benefit_fen
        claim.deductible_fen = result.deductible_used_fen
        claim.policy_version = resolved.version
        claim.policy_label = resolved.label[:120]
        claim.steps_encrypted = crypto.encrypt(
            json.dumps(result.steps_json(), ensure_ascii=False), purpose=STEPS_PURPOSE
        )
    sql.update_rows(enrolments.values(), ["committed_fen", "deductible_used_fen"])
    return ["benefit_fen", "deductible_fen", "policy_version", "policy_label", "steps_encrypted"]


REVIEW_BATCH_MAX = 500


def claims_review(*, actor: Any, claims: Sequence[Claim]) -> list[Claim]:
    """初审 (批量初审 of up to 500 claims, all or nothing): adjudicate each claim under its
    member's locked allowance row and commit the benefit to it, in one transaction whose
    round trips do not grow with the claims (`workflow.workflow_transition_many`)."""
    if len(claims) > REVIEW_BATCH_MAX:
        raise ValidationFailed("一次最多初审 %(n)s 笔结报" % {"n": REVIEW_BATCH_MAX})
    reviewed: list[Claim] = workflow.workflow_transition_many(
        actor=actor, objs=claims, workflow=CLAIM, transition="review", effect=_review_effect
    )
    return reviewed


def claim_review(*, actor: Any, claim: Claim) -> Claim:
    """初审 of one claim (the batch of one)."""
    return claims_review(actor=actor, claims=[claim])[0]


def claim_approve(*, actor: Any, claim: Claim) -> Claim:
    approved: Claim = workflow.workflow_transition(
        actor=actor, obj=claim, workflow=CLAIM, transition="approve", amount_fen=claim.benefit_fen
    )
    return approved


def claim_pay(*, actor: Any, claim: Claim, paid_on: dt.date, payout_ref: str) -> Claim:
    payout_ref = payout_ref.strip()
    if not payout_ref or len(payout_ref) > 60:
        raise ValidationFailed("请填写支付凭证号（最多 60 个字符）", fields={"payout_ref": "请填写支付凭证号"})

    def effect(locked: Claim, step: workflow.Step) -> list[str]:
        locked.paid_on = paid_on
        locked.payout_ref = payout_ref
        return ["paid_on", "payout_ref"]

    paid: Claim = workflow.workflow_transition(
        actor=actor, obj=claim, workflow=CLAIM, transition="pay", effect=effect, payout_ref=payout_ref
    )
    return paid


def _release(locked: Claim) -> list[str]:
    """Give back to the allowance what an adjudicated claim had committed."""
    if locked.benefit_fen:
        Enrolment.objects.select_for_update().filter(pk=locked.enrolment_id).update(
            committed_fen=F("committed_fen") - locked.benefit_fen,
            deductible_used_fen=F("deductible_used_fen") - locked.deductible_fen,
        )
    elif locked.deductible_fen:
        Enrolment.objects.select_for_update().filter(pk=locked.enrolment_id).update(
            deductible_used_fen=F("deductible_used_fen") - locked.deductible_fen
        )
    locked.benefit_fen = None
    locked.deductible_fen = 0
    return ["benefit_fen", "deductible_fen"]


def claim_reject(*, actor: Any, claim: Claim, code: str, reason: str) -> Claim:
    """初审驳回 (a submitted claim) or 审批驳回 (a reviewed one, its benefit given back)."""
    if code not in RejectCode.values:
        raise ValidationFailed("请选择驳回原因", fields={"code": "请选择驳回原因"})

    def effect(locked: Claim, step: workflow.Step) -> list[str]:
        locked.reject_code = code
        return ["reject_code", *_release(locked)]

    with transaction.atomic():
        rejected: Claim = workflow.workflow_transition(
            actor=actor,
            obj=claim,
            workflow=CLAIM,
            transition=("reject", "decline"),
            reason=reason,
            effect=effect,
            code=code,
        )
    return rejected


def claim_appeal(*, actor: Any, claim: Claim, reason: str, by_member: bool = False) -> Claim:
    """申诉: the rejected claim goes back to 初审, to be adjudicated again — taken by staff, or
    (`by_member`) by the member whose claim it is (会员申诉, from the H5 page)."""

    def effect(locked: Claim, step: workflow.Step) -> list[str]:
        locked.reject_code = ""
        locked.appeals += 1
        locked.steps_encrypted = ""
        locked.policy_version = None
        locked.policy_label = ""
        return ["reject_code", "appeals", "steps_encrypted", "policy_version", "policy_label"]

    appealed: Claim = workflow.workflow_transition(
        actor=actor,
        obj=claim,
        workflow=CLAIM,
        transition="member_appeal" if by_member else "appeal",
        reason=reason,
        effect=effect,
    )
    return appealed
