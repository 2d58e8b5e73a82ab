"""Screening writes: one function per business action, owning its transaction and audit event.

Datasets: `dataset_upload` keeps the file as received in private storage and queues a
`screening.ingest` job (`dataset_ingest_job`) that writes the normalised Parquet copy.
Rules: `rules_install_shipped`, `rule_save` (a new version), `rule_preview` (count and masked
sample, nothing saved). Runs: `run_start` queues a `screening.run` job (`run_job`) that exports
the scope's blind indexes, runs every active rule on the chosen engine, writes the candidates
and the diff with the previous run of the same scope. Review: `candidate_accept`,
`candidate_reject`."""

import contextlib
import csv
import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from gonghui.core import audit, jobs, parsing, sql, tabular
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.exports import Export
from gonghui.core.models import Job, JobStatus
from gonghui.core.workflow import authorizer
from gonghui.members.identity import mask_name
from gonghui.members.models import Member, MembershipStatus
from gonghui.organizations.models import Level, Organization
from gonghui.screening import acceptance, engines, ingest, storage
from gonghui.screening.evidence import evidence_lines
from gonghui.screening.kinds import KINDS, DatasetKind
from gonghui.screening.models import (
    Candidate,
    CandidateStatus,
    Change,
    ConditionType,
    Dataset,
    DatasetStatus,
    EngineName,
    Rule,
    Run,
    RunStatus,
    Since,
    SuggestionKind,
)
from gonghui.screening.permissions import ScreeningPerm
from gonghui.screening.rules import (
    EVIDENCE_CHOICES,
    MEMBERS_VIEW,
    SHIPPED_RULES,
    ShippedRule,
    compile_rule,
    view_name,
)

INGEST_JOB = "screening.ingest"
RUN_JOB = "screening.run"
INGEST_CRASHED = "读取文件时发生系统错误，数据未启用；可点击“继续”重试，如再次出现请联系管理员"
RUN_CRASHED = "筛查时发生系统错误，未产生线索；可点击“继续”重试，如再次出现请联系管理员"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
NAME_CHARS = 100
REASON_MIN = 2
REASON_MAX = 200
PREVIEW_SAMPLE = 10
WRITE_BATCH = 5_000
EXPORT_BLOCK_ROWS = 20_000
UPLOAD_SUFFIXES = {".csv", ".xlsx", ".parquet"}


def _require(actor: Any, perm: str, organization: Any, message: str) -> None:
    if actor is None or not authorizer().has_perm(actor, perm, organization):
        raise PermissionDenied(message)


def _clean_text(raw: Any, *, label: str, maximum: int, field: str = "name") -> str:
    text = " ".join(parsing.clean(raw).split())
    if not text:
        raise ValidationFailed("请填写%(label)s" % {"label": label}, fields={field: "必填"})
    if len(text) > maximum:
        raise ValidationFailed("%(label)s不能超过 %(n)s 个字" % {"label": label, "n": maximum}, fields={field: "过长"})
    return text


# ---- datasets ------------------------------------------------------------------------------


def dataset_upload(
    *, actor: Any, organization: Organization, kind: str, name: str, filename: str, content: bytes
) -> Dataset:
    """Keep an agency file (private storage) and queue the job that reads it."""
    _require(actor, ScreeningPerm.DATASET_MANAGE, organization, "无权为该组织上传比对数据")
    if kind not in DatasetKind.values:
        raise ValidationFailed("请选择数据类别", fields={"kind": "类别无效"})
    name = _clean_text(name or DatasetKind(kind).label, label="名称", maximum=NAME_CHARS)
    shown = _clean_text(filename or "upload", label="文件名", maximum=200, field="file")
    suffix = Path(shown).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ValidationFailed("请上传 CSV、XLSX 或 Parquet 文件", fields={"file": "格式不支持"})
    if not content:
        raise ValidationFailed("请选择要上传的文件", fields={"file": "文件为空"})
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件超过 200 MB，请拆分后上传", fields={"file": "文件过大"})
    raw_name = storage.new_name(suffix)
    storage.write_sealed(storage.RAW, raw_name, content)
    try:
        with transaction.atomic():
            latest = (
                Dataset.objects.select_for_update()
                .filter(organization=organization, kind=kind)
                .aggregate(v=Max("version"))["v"]
            )
            job = jobs.job_create(kind=INGEST_JOB, organization=organization, created_by=actor)
            dataset = Dataset.objects.create(
                organization=organization,
                kind=kind,
                name=name,
                version=(latest or 0) + 1,
                job=job,
                filename=shown,
                raw_file=raw_name,
                created_by=actor,
            )
            audit.record(
                actor=actor,
                action="screening.dataset_upload",
                obj=dataset,
                organization=organization,
                detail={"kind": kind, "dataset": name, "version": dataset.version, "bytes": len(content)},
            )
    except BaseException:
        storage.remove(storage.RAW, raw_name)
        raise
    return dataset


def dataset_ingest_job(job: Job) -> dict[str, Any]:
    """The runner of a `screening.ingest` job."""
    dataset = Dataset.objects.select_related("organization").get(job=job)
    jobs.job_heartbeat(job, done=0, message="正在读取文件")
    parquet_name = dataset.data_file or storage.new_name(".parquet")

    def progress(done: int, total: int) -> None:
        jobs.job_heartbeat(job, done=done, total=total)

    try:
        outcome = ingest.ingest(
            kind=dataset.kind,
            organization=dataset.organization,
            raw_path=storage.path_of(storage.RAW, dataset.raw_file),
            filename=dataset.filename,
            parquet_name=parquet_name,
            progress=progress,
            today=timezone.localdate(),
        )
    except ValidationFailed as exc:
        raise jobs.JobFailed(exc.message) from None
    with transaction.atomic():
        jobs.job_heartbeat(job, done=outcome.rows_total, total=outcome.rows_total, message="")
        Dataset.objects.filter(pk=dataset.pk).update(
            status=DatasetStatus.READY,
            data_file=parquet_name,
            rows_total=outcome.rows_total,
            rows_valid=outcome.rows_valid,
            rows_failed=outcome.rows_failed,
            problems=[list(p) for p in outcome.problems],
            summary=outcome.summary,
        )
    return {"rows": outcome.rows_total, "rows_valid": outcome.rows_valid, "rows_failed": outcome.rows_failed}


def dataset_ingest_resumable(job: Job) -> str | None:
    """A failed read can be tried again while the upload is still kept."""
    dataset = Dataset.objects.filter(job=job).first()
    if dataset is None or not dataset.raw_file or not storage.path_of(storage.RAW, dataset.raw_file).is_file():
        return "上传的文件已不存在，请重新上传"
    return None


def dataset_job_changed(job: Job) -> None:
    """A dataset follows its job: failed or cancelled before it was read → not usable."""
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        Dataset.objects.filter(job=job).exclude(status=DatasetStatus.READY).update(status=DatasetStatus.FAILED)
    elif job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        Dataset.objects.filter(job=job, status=DatasetStatus.FAILED).update(status=DatasetStatus.PROCESSING)


def dataset_error_report(*, actor: Any, dataset: Dataset) -> Export:
    """The XLSX of the rows that did not parse: the file's own columns, 行号, 错误原因."""
    _require(actor, ScreeningPerm.DATASET_MANAGE, dataset.organization, "无权查看该数据的校验结果")
    if not dataset.problems:
        raise Conflict("该数据没有未通过校验的行")
    raw_path = storage.path_of(storage.RAW, dataset.raw_file)
    if not raw_path.is_file():
        raise Conflict("上传的文件已删除，无法生成错误报告")
    header = ingest.upload_header(raw_path=raw_path, filename=dataset.filename)
    return tabular.error_report(
        actor=actor,
        action="screening.dataset_error_report",
        filename="%s-未通过校验的行.xlsx" % Path(dataset.filename).stem,
        header=header,
        rows=ingest.error_rows(raw_path=raw_path, filename=dataset.filename, problems=dataset.problems),
        obj=dataset,
        organization=dataset.organization,
    )


def dataset_retire(*, actor: Any, dataset: Dataset) -> Dataset:
    """Stop using a dataset in new runs (runs that used it keep its record)."""
    _require(actor, ScreeningPerm.DATASET_MANAGE, dataset.organization, "无权停用该数据")
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if locked.status != DatasetStatus.READY:
            raise Conflict("只有可用的数据可以停用")
        locked.status = DatasetStatus.RETIRED
        locked.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="screening.dataset_retire",
            obj=locked,
            organization=locked.organization,
            detail={"dataset": locked.name, "version": locked.version},
        )
    return locked


def datasets_in_force(organization: Organization) -> dict[str, Dataset]:
    """The newest ready dataset of each kind uploaded at `organization` or an ancestor (the
    nearest one wins): what a run over `organization`'s sub-tree reads."""
    lineage = [org.pk for org in authorizer().lineage(organization)]
    depth = {pk: i for i, pk in enumerate(lineage)}
    found: dict[str, Dataset] = {}
    ready = Dataset.objects.filter(organization_id__in=lineage, status=DatasetStatus.READY).exclude(data_file="")
    for dataset in ready.order_by("-version"):
        best = found.get(dataset.kind)
        if best is None or depth[dataset.organization_id] > depth[best.organization_id]:
            found[dataset.kind] = dataset
    return found


# ---- rules ---------------------------------------------------------------------------------


def _shipped_fields(shipped: ShippedRule) -> dict[str, Any]:
    return {
        "name": shipped.name,
        "description": shipped.description,
        "condition_type": shipped.condition_type,
        "dataset_kinds": list(shipped.dataset_kinds),
        "threshold_fen": shipped.threshold_fen,
        "since": shipped.since,
        "since_days": shipped.since_days,
        "suggestion_kind": shipped.suggestion_kind,
        "suggestion": shipped.suggestion,
        "evidence": list(shipped.evidence),
    }


def shipped_rules_unsaved() -> list[Rule]:
    """Version 1 of the shipped rules as (unsaved) rows, for a benchmark or a test that runs
    them without a database."""
    return [Rule(key=r.key, version=1, **_shipped_fields(r)) for r in SHIPPED_RULES]


def rules_install_shipped() -> None:
    """Version 1 of each shipped rule, once (a rule an administrator changed keeps its versions)."""
    known = set(Rule.objects.values_list("key", flat=True).distinct())
    missing = [r for r in SHIPPED_RULES if r.key not in known]
    if not missing:
        return
    with transaction.atomic():
        for shipped in missing:
            Rule.objects.get_or_create(key=shipped.key, version=1, defaults=_shipped_fields(shipped))


def rules_in_force() -> list[Rule]:
    """The newest version of every rule key that is active."""
    rules_install_shipped()
    newest: dict[str, Rule] = {}
    for rule in Rule.objects.order_by("key", "-version"):
        newest.setdefault(rule.key, rule)
    return [r for r in newest.values() if r.is_active]


@dataclass(frozen=True, slots=True)
class RuleInput:
    name: str
    description: str
    condition_type: str
    dataset_kinds: list[str]
    threshold_fen: int | None
    since: str
    since_days: int | None
    suggestion_kind: str
    suggestion: str
    evidence: list[str]
    is_active: bool


def rule_input(data: Mapping[str, Any]) -> RuleInput:
    """A rule as submitted (a form's values), validated; raises ValidationFailed in Chinese."""
    errors: dict[str, str] = {}
    condition_type = str(data.get("condition_type", ""))
    if condition_type not in ConditionType.values:
        errors["condition_type"] = "请选择条件"
    kinds = [str(k) for k in data.get("dataset_kinds", [])]
    if not kinds or any(k not in DatasetKind.values for k in kinds) or len(set(kinds)) != len(kinds):
        errors["dataset_kinds"] = "请选择规则使用的数据"
    threshold: int | None = None
    if condition_type == ConditionType.YEARLY_SUM:
        try:
            threshold = parsing.parse_yuan(data.get("threshold"), label="金额门槛", allow_zero=False)
        except ValueError as exc:
            errors["threshold"] = str(exc)
        if any(KINDS[k].amount is None for k in kinds if k in KINDS):
            errors["dataset_kinds"] = "累计金额只能用于带金额的数据（如医保结算明细）"
    since = str(data.get("since", Since.ANY))
    if since not in Since.values:
        errors["since"] = "请选择日期范围"
    since_days: int | None = None
    if since in (Since.DAYS, Since.LAST_RUN):
        try:
            since_days = parsing.parse_int(data.get("since_days"), label="天数", minimum=1, maximum=3660)
        except ValueError as exc:
            errors["since_days"] = str(exc)
    suggestion_kind = str(data.get("suggestion_kind", ""))
    if suggestion_kind not in SuggestionKind.values:
        errors["suggestion_kind"] = "请选择建议"
    evidence = [str(e) for e in data.get("evidence", [])]
    if not evidence or any(e not in EVIDENCE_CHOICES for e in evidence):
        errors["evidence"] = "请选择要显示的证据"
    try:
        name = _clean_text(data.get("name"), label="名称", maximum=60)
    except ValidationFailed as exc:
        errors["name"] = exc.message
        name = ""
    try:
        suggestion = _clean_text(data.get("suggestion"), label="建议类别", maximum=40, field="suggestion")
    except ValidationFailed as exc:
        errors["suggestion"] = exc.message
        suggestion = ""
    description = " ".join(parsing.clean(data.get("description")).split())[:300]
    if errors:
        raise ValidationFailed("规则填写有误：%s" % "；".join(errors.values()), fields=errors)
    return RuleInput(
        name=name,
        description=description,
        condition_type=condition_type,
        dataset_kinds=kinds,
        threshold_fen=threshold,
        since=since,
        since_days=since_days,
        suggestion_kind=suggestion_kind,
        suggestion=suggestion,
        evidence=evidence,
        is_active=bool(data.get("is_active", True)),
    )


def _require_rule_manager(actor: Any) -> None:
    if actor is None or not authorizer().holds_at_root(actor, ScreeningPerm.RULE_MANAGE):
        raise PermissionDenied("筛查规则全省统一，只有省总工会的管理员可以修改")


def rule_save(*, actor: Any, key: str | None, data: Mapping[str, Any]) -> Rule:
    """Save a new version of rule `key` (a new rule when `key` is None)."""
    _require_rule_manager(actor)
    values = rule_input(data)
    with transaction.atomic():
        if key is None:
            key = "rule_%s" % timezone.now().strftime("%Y%m%d%H%M%S%f")
            version = 1
        else:
            latest = Rule.objects.select_for_update().filter(key=key).aggregate(v=Max("version"))["v"]
            if latest is None:
                raise NotFound("规则不存在")
            version = latest + 1
        rule = Rule.objects.create(key=key, version=version, created_by=actor, **asdict(values))
        audit.record(
            actor=actor,
            action="screening.rule_save",
            obj=rule,
            detail={"rule": rule.name, "rule_version": version},
        )
    return rule


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    sample: list[dict[str, Any]]
    datasets: list[Dataset]
    missing_kinds: list[str]


def rule_preview(
    *, actor: Any, organization: Organization, data: Mapping[str, Any], reference_date: dt.date
) -> Preview:
    """How many members of `organization`'s sub-tree a rule (as submitted, unsaved) would find
    today, with a masked sample. Nothing is stored but the audit event."""
    _require_rule_manager(actor)
    _require(actor, ScreeningPerm.VIEW, organization, "无权查看该组织的会员")
    values = rule_input(data)
    rule = Rule(key="preview", version=0, **asdict(values))
    in_force = datasets_in_force(organization)
    missing = [k for k in rule.dataset_kinds if k not in in_force]
    found: list[tuple[Any, ...]] = []
    with members_blind_index(organization) as (members_path, _count):
        tables = _tables(members_path, in_force)
        sql = compile_rule(rule, available=in_force, reference_date=reference_date, last_run_date=None)
        if sql is not None:
            with engines.engine_for(EngineName.DUCKDB).session(tables) as session:
                found = list(session.rows(sql))
    found.sort(key=lambda r: r[0])
    sample_ids = [r[0] for r in found[:PREVIEW_SAMPLE]]
    members = Member.objects.in_bulk(sample_ids)
    sample = [
        {"name": mask_name(members[r[0]].name), "lines": evidence_lines(_evidence(rule, r, in_force))}
        for r in found[:PREVIEW_SAMPLE]
        if r[0] in members
    ]
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="screening.rule_preview",
            organization=organization,
            detail={"rule": rule.name, "candidates": len(found)},
        )
    return Preview(count=len(found), sample=sample, datasets=list(in_force.values()), missing_kinds=missing)


# ---- runs ----------------------------------------------------------------------------------


def _members_rows(organization: Organization) -> Iterator[tuple[int, int, str]]:
    members = Member.objects.filter(organization__path__startswith=organization.path, status=MembershipStatus.ACTIVE)
    yield from members.values_list("id", "organization_id", "id_blind").iterator(chunk_size=20_000)


def _write_members_csv(organization: Organization, path: Path) -> int:
    """The scope's active members as (member id, grassroots union id, ID blind index): no
    plaintext, no name. On PostgreSQL the server joins them into CSV blocks of
    `EXPORT_BLOCK_ROWS` lines read through a server-side cursor (one row at a time would cost a
    round of the driver per member)."""
    if connection.vendor == "postgresql":
        members = Member.objects.filter(
            organization__path__startswith=organization.path, status=MembershipStatus.ACTIVE
        ).values_list("id", "organization_id", "id_blind")
        query, params = members.query.sql_with_params()
        # The ORM's own query as the inner one, its values bound.
        line = "concat_ws(',', s.id, s.organization_id, s.id_blind)"
        blocks = "SELECT count(*), string_agg(%s, E'\\n') FROM (%s) s GROUP BY s.id / %d" % (  # noqa: S608
            line,
            query,
            EXPORT_BLOCK_ROWS,
        )
        count = 0
        with (
            transaction.atomic(),
            path.open("w", encoding="utf-8") as handle,
            connection.connection.cursor(name="screening_members_export") as cursor,
        ):
            cursor.execute(blocks, params)
            for rows, text in cursor:
                handle.write(text)
                handle.write("\n")
                count += rows
        return count
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for row in _members_rows(organization):
            writer.writerow(row)
            count += 1
    return count


@contextlib.contextmanager
def members_blind_index(organization: Organization) -> Iterator[tuple[Path, int]]:
    """The blind-index table of the scope as a Parquet file (member id, grassroots union id,
    blind index), deleted afterwards."""
    scratch_csv = storage.path_of(storage.WORK, storage.new_name(".csv"))
    parquet = storage.path_of(storage.WORK, storage.new_name(".parquet"))
    try:
        count = _write_members_csv(organization, scratch_csv)
        db = ingest.duckdb_connect()
        try:
            ingest.copy_to_parquet(
                db,
                "SELECT * FROM read_csv(?, header = false, auto_detect = false, delim = ',', "
                "columns = {'member_id': 'BIGINT', 'org_id': 'BIGINT', 'id_blind': 'VARCHAR'})",
                [str(scratch_csv)],
                parquet,
            )
        finally:
            db.close()
        scratch_csv.unlink(missing_ok=True)
        yield parquet, count
    finally:
        scratch_csv.unlink(missing_ok=True)
        parquet.unlink(missing_ok=True)


def _tables(members_path: Path, in_force: Mapping[str, Dataset]) -> dict[str, Path]:
    tables = {MEMBERS_VIEW: members_path}
    for kind, dataset in in_force.items():
        tables[view_name(kind)] = storage.path_of(storage.DATA, dataset.data_file)
    return tables


KIND_LABELS = {str(value): str(label) for value, label in DatasetKind.choices}


def _evidence(rule: Rule, row: tuple[Any, ...], in_force: Mapping[str, Dataset]) -> dict[str, Any]:
    _member_id, _org_id, amount, day, count, category, source = row
    dataset = in_force.get(source)
    evidence: dict[str, Any] = {
        "suggestion": rule.suggestion,
        "source": KIND_LABELS.get(source, ""),
        "dataset": {"id": dataset.pk, "name": dataset.name, "version": dataset.version} if dataset else {},
    }
    values = {"amount_fen": amount, "event_date": day.isoformat() if day else None, "row_count": count}
    values["category"] = category or ""
    for key in rule.evidence:
        if key in values:
            evidence[key] = values[key]
    if rule.condition_type == ConditionType.YEARLY_SUM:
        evidence["amount_fen"] = amount
        evidence["threshold_fen"] = rule.threshold_fen
    return evidence


def evidence_key(rule_key: str, row: tuple[Any, ...]) -> str:
    """A digest of what was found (amount, date, count, category, source): a decision on a
    candidate holds while this stays the same."""
    _member_id, _org_id, amount, day, count, category, source = row
    text = json.dumps([rule_key, amount, day.isoformat() if day else None, count, category or "", source])
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def run_start(
    *,
    actor: Any,
    organization: Organization,
    reference_date: dt.date | None = None,
    engine: str | None = None,
    enqueue: bool = True,
) -> Run:
    """Queue a screening of `organization`'s sub-tree (one at a time per scope)."""
    _require(actor, ScreeningPerm.RUN, organization, "无权对该组织发起筛查")
    if organization.level == Level.GRASSROOTS:
        raise ValidationFailed("请选择基层工会以上的组织发起筛查（基层工会在此核实线索）")
    chosen = engine or settings.SCREENING_ENGINE
    if chosen not in EngineName.values:
        raise ValidationFailed("计算引擎无效", fields={"engine": "无效"})
    today = timezone.localdate()
    reference_date = reference_date or today
    if reference_date > today or reference_date.year < 2000:
        raise ValidationFailed("筛查基准日应在 2000 年以后、不晚于今天", fields={"reference_date": "无效"})
    with transaction.atomic():
        job = jobs.job_create(
            kind=RUN_JOB, organization=organization, created_by=actor, key="scope-%d" % organization.pk, enqueue=enqueue
        )
        run = Run.objects.create(
            organization=organization, job=job, engine=chosen, reference_date=reference_date, created_by=actor
        )
        audit.record(
            actor=actor,
            action="screening.run_start",
            obj=run,
            organization=organization,
            detail={"engine": chosen, "reference_date": reference_date.isoformat()},
        )
    return run


def run_job_changed(job: Job) -> None:
    status = {
        JobStatus.FAILED: RunStatus.FAILED,
        JobStatus.CANCELLED: RunStatus.CANCELLED,
        JobStatus.QUEUED: RunStatus.RUNNING,
        JobStatus.RUNNING: RunStatus.RUNNING,
    }.get(JobStatus(job.status))
    if status is not None:
        Run.objects.filter(job=job).exclude(status=RunStatus.SUCCEEDED).update(status=status)


def previous_run(run: Run) -> Run | None:
    return (
        Run.objects.filter(organization=run.organization, status=RunStatus.SUCCEEDED, pk__lt=run.pk)
        .order_by("-pk")
        .first()
    )


@dataclass
class RuleResult:
    rule: Rule
    sql: str | None
    rows: list[tuple[Any, ...]]


def execute_rules(
    *,
    engine: engines.Engine,
    tables: Mapping[str, Path],
    rules: list[Rule],
    available: set[str],
    reference_date: dt.date,
    last_run_date: dt.date | None,
) -> list[RuleResult]:
    """Every rule's SQL on one engine session; the rows of each, ordered by member."""
    results = []
    with engine.session(tables) as session:
        for rule in rules:
            sql = compile_rule(rule, available=available, reference_date=reference_date, last_run_date=last_run_date)
            rows = sorted(session.rows(sql), key=lambda r: r[0]) if sql is not None else []
            results.append(RuleResult(rule, sql, rows))
    return results


def run_job(job: Job) -> dict[str, Any]:
    """The runner of a `screening.run` job: everything is written in one transaction, so a run
    that dies wrote nothing and simply runs again."""
    run = Run.objects.select_related("organization").get(job=job)
    started = time.perf_counter()
    previous = previous_run(run)
    rules = rules_in_force()
    in_force = datasets_in_force(run.organization)
    jobs.job_heartbeat(job, done=0, total=len(rules) + 1, message="正在导出会员索引")
    with members_blind_index(run.organization) as (members_path, members_count):
        jobs.job_heartbeat(job, done=1, message="正在比对")
        results = execute_rules(
            engine=engines.engine_for(run.engine),
            tables=_tables(members_path, in_force),
            rules=rules,
            available=set(in_force),
            reference_date=run.reference_date,
            last_run_date=previous.reference_date if previous else None,
        )
    inputs = {
        "engine": run.engine,
        "members": members_count,
        "previous_run": previous.pk if previous else None,
        "datasets": [
            {"id": d.pk, "kind": d.kind, "name": d.name, "version": d.version, "rows": d.rows_valid}
            for d in in_force.values()
        ],
        "rules": [
            {"key": r.rule.key, "version": r.rule.version, "name": r.rule.name, "ran": r.sql is not None}
            for r in results
        ],
    }
    with transaction.atomic():
        jobs.job_heartbeat(job, done=len(rules), message="正在写入线索")
        counts = _store_candidates(run, results, in_force, previous)
        seconds = time.perf_counter() - started
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            previous=previous,
            inputs=inputs,
            members_scanned=members_count,
            seconds=round(seconds, 3),
            finished_at=timezone.now(),
            **counts,
        )
        audit.record(
            actor=run.created_by,
            action="screening.run_finish",
            obj=run,
            organization=run.organization,
            detail={
                "candidates": counts["candidates_count"],
                "new": counts["new_count"],
                "still": counts["still_count"],
                "gone": counts["gone_count"],
            },
        )
        jobs.job_heartbeat(job, done=len(rules) + 1, message="")
    return {"candidates": counts["candidates_count"], "members": members_count}


DECISION_FIELDS = ("status", "reason", "target_kind", "target_ref", "decided_by_id", "decided_at")
FOUND_FIELDS = (
    "run_id",
    "member_id",
    "organization_id",
    "rule_id",
    "rule_key",
    "evidence",
    "evidence_key",
    "change",
)
CANDIDATE_COLUMNS = (*FOUND_FIELDS, *DECISION_FIELDS)


def _insert_candidates(rows: Iterator[tuple[Any, ...]]) -> None:
    """Write the candidates: one COPY on PostgreSQL (a run of a province writes hundreds of
    thousands), batched `bulk_create` elsewhere."""
    if connection.vendor != "postgresql":
        batch: list[Candidate] = []
        for row in rows:
            batch.append(Candidate(**dict(zip(CANDIDATE_COLUMNS, row, strict=True))))
            if len(batch) >= WRITE_BATCH:
                Candidate.objects.bulk_create(batch)
                batch = []
        Candidate.objects.bulk_create(batch)
        return
    fields = {f.attname: f for f in Candidate._meta.concrete_fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(fields[name].column)) for name in CANDIDATE_COLUMNS)
    evidence_at = CANDIDATE_COLUMNS.index("evidence")
    statement = "COPY %s (%s) FROM STDIN" % (sql.table(Candidate), columns)
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = list(row)
            values[evidence_at] = json.dumps(values[evidence_at], ensure_ascii=False)
            copy.write_row(values)


def _store_candidates(
    run: Run, results: list[RuleResult], in_force: Mapping[str, Dataset], previous: Run | None
) -> dict[str, int]:
    before: set[tuple[int, str]] = set()
    if previous is not None:
        before = set(Candidate.objects.filter(run=previous).values_list("member_id", "rule_key").iterator(20_000))
    decided: dict[tuple[int, str, str], dict[str, Any]] = {}
    decisions = Candidate.objects.filter(
        organization__path__startswith=run.organization.path,
        status__in=(CandidateStatus.ACCEPTED, CandidateStatus.REJECTED),
    ).order_by("decided_at")
    fields = ("status", "reason", "target_kind", "target_ref", "decided_by_id", "decided_at")
    for d in decisions.values("member_id", "rule_key", "evidence_key", *fields):
        decided[(d["member_id"], d["rule_key"], d["evidence_key"])] = d
    counts = {"candidates_count": 0, "new_count": 0, "still_count": 0, "suppressed_count": 0}
    now_seen: set[tuple[int, str]] = set()

    def rows() -> Iterator[tuple[Any, ...]]:
        for result in results:
            rule = result.rule
            for row in result.rows:
                member_id, org_id = int(row[0]), int(row[1])
                key = evidence_key(rule.key, row)
                change = Change.STILL if (member_id, rule.key) in before else Change.NEW
                decision = decided.get((member_id, rule.key, key))
                if decision is None:
                    decision = {"status": CandidateStatus.OPEN, "reason": "", "target_kind": "", "target_ref": ""}
                    decision |= {"decided_by_id": None, "decided_at": None}
                else:
                    counts["suppressed_count"] += 1
                now_seen.add((member_id, rule.key))
                counts["candidates_count"] += 1
                counts["new_count" if change == Change.NEW else "still_count"] += 1
                evidence = _evidence(rule, row, in_force)
                decisions = (decision[name] for name in DECISION_FIELDS)
                yield (run.pk, member_id, org_id, rule.pk, rule.key, evidence, key, change, *decisions)

    _insert_candidates(rows())
    counts["gone_count"] = len(before - now_seen)
    return counts


# ---- review --------------------------------------------------------------------------------

ACCEPT_TARGETS = {
    SuggestionKind.FILE: "建立困难职工档案",
    SuggestionKind.CASE: "发起临时救助",
    SuggestionKind.MEDICAL: "发起大病救助",
    SuggestionKind.VISIT: "列入常态化慰问",
}


def _lock_open(candidate: Candidate) -> Candidate:
    locked = (
        Candidate.objects.select_for_update(of=("self",))
        .select_related("organization", "member", "rule")
        .get(pk=candidate.pk)
    )
    if locked.status != CandidateStatus.OPEN:
        raise Conflict("该线索已核实，不能重复处理")
    return locked


def candidate_accept(
    *, actor: Any, candidate: Candidate, target_kind: str, data: Mapping[str, Any] | None = None
) -> Candidate:
    """纳入: open the 困难职工档案 or relief case the candidate calls for, pre-filled from its
    evidence (`acceptance`), in the same transaction as the decision; a 常态化慰问 candidate
    is recorded with its visit group."""
    _require(actor, ScreeningPerm.REVIEW, candidate.organization, "无权核实该线索")
    if target_kind not in ACCEPT_TARGETS:
        raise ValidationFailed("请选择纳入方式", fields={"target_kind": "无效"})
    with transaction.atomic():
        locked = _lock_open(candidate)
        reference = acceptance.open_in_relief(actor=actor, candidate=locked, target_kind=target_kind, data=data or {})
        locked.status = CandidateStatus.ACCEPTED
        locked.target_kind = target_kind
        locked.target_ref = reference
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "target_kind", "target_ref", "decided_by", "decided_at"])
        audit.record(
            actor=actor,
            action="screening.candidate_accept",
            obj=locked,
            organization=locked.organization,
            detail={"rule": locked.rule_key, "target": target_kind, "reference": reference},
        )
    return locked


def candidate_reject(*, actor: Any, candidate: Candidate, reason: Any) -> Candidate:
    """排除 with a reason: the candidate does not come back while its evidence stays the same."""
    _require(actor, ScreeningPerm.REVIEW, candidate.organization, "无权核实该线索")
    text = " ".join(parsing.clean(reason).split())
    if len(text) < REASON_MIN:
        raise ValidationFailed("请填写排除原因（至少 2 个字）", fields={"reason": "必填"})
    if len(text) > REASON_MAX:
        raise ValidationFailed("排除原因不能超过 200 个字", fields={"reason": "过长"})
    with transaction.atomic():
        locked = _lock_open(candidate)
        locked.status = CandidateStatus.REJECTED
        locked.reason = text
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        audit.record(
            actor=actor,
            action="screening.candidate_reject",
            obj=locked,
            organization=locked.organization,
            detail={"rule": locked.rule_key, "reason": text},
        )
    return locked
