"""Screening writes: one function per business action, owning its transaction and audit event.

Datasets: `dataset_upload` keeps the file as received in private storage and queues a
`screening.ingest` job (`dataset_ingest_job`) that writes the normalised Parquet copy.
Rules: `rules_install_shipped`, `rule_save` (a new version), `rule_preview` (count and masked
sample, nothing saved). Runs: `run_start` queues a `screening.run` job (`run_job`) that exports
the scope's blind indexes, runs every active rule on the chosen engine, writes the candidates
and the diff with the previous run of the same scope. Review: `candidate_accept`,
`candidate_reject`."""

import contextlib
import datetime as dt
import functools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from gonghui.core import audit, jobs, parsing, sql, tabular
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.exports import Export
from gonghui.core.models import Job, JobStatus
from gonghui.core.workflow import authorizer
from gonghui.members.identity import mask_name
from gonghui.members.models import Member, MembershipStatus
from gonghui.organizations.models import Level, Organization
from gonghui.screening import acceptance, engines, ingest, storage, transfer
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
    MEMBERS_COLUMNS,
    MEMBERS_VIEW,
    SHIPPED_RULES,
    ShippedRule,
    compile_rule_parts,
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
        locked.retired_at = timezone.now()
        locked.save(update_fields=["status", "retired_at"])
        audit.record(
            actor=actor,
            action="screening.dataset_retire",
            obj=locked,
            organization=locked.organization,
            detail={"dataset": locked.name, "version": locked.version},
        )
    return locked


def datasets_files_expire() -> int:
    """Housekeeping: the files of datasets out of use for SCREENING_DATASET_KEEP_DAYS — 停用,
    replaced by a newer ready version of the same union and kind, or failed — are deleted (the
    upload as received and the Parquet copy). The row stays: the runs that read it name it in
    their inputs and their candidates' evidence, which is all a run's explanation needs; a
    replaced version is marked 停用 so it never comes back in force without its data.
    Returns the number of files removed."""
    now = timezone.now()
    cutoff = now - dt.timedelta(days=settings.SCREENING_DATASET_KEEP_DAYS)
    replaced_by = Dataset.objects.filter(
        organization=OuterRef("organization"),
        kind=OuterRef("kind"),
        version__gt=OuterRef("version"),
        status=DatasetStatus.READY,
        job__finished_at__lt=cutoff,
    )
    stale = Dataset.objects.filter(
        Q(status=DatasetStatus.RETIRED, retired_at__lt=cutoff)
        | Q(status=DatasetStatus.RETIRED, retired_at__isnull=True, created_at__lt=cutoff)
        | Q(status=DatasetStatus.FAILED, job__finished_at__lt=cutoff)
        | Q(Exists(replaced_by), status=DatasetStatus.READY)
    ).exclude(raw_file="", data_file="")
    removed = 0
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            dataset = Dataset.objects.select_for_update().filter(pk=pk).first()
            if dataset is None or dataset.status in (DatasetStatus.PROCESSING,):
                continue
            files = [(storage.RAW, dataset.raw_file), (storage.DATA, dataset.data_file)]
            replaced = dataset.status == DatasetStatus.READY
            dataset.raw_file = dataset.data_file = ""
            if replaced:
                dataset.status = DatasetStatus.RETIRED
            dataset.retired_at = dataset.retired_at or now
            dataset.save(update_fields=["raw_file", "data_file", "status", "retired_at"])
            audit.record(
                actor=None,
                action="screening.dataset_files_expire",
                obj=dataset,
                organization=dataset.organization,
                detail={"dataset": dataset.name, "version": dataset.version, "replaced": replaced},
            )
            kept = [(part, name) for part, name in files if name]
            for part, name in kept:
                transaction.on_commit(functools.partial(storage.remove, part, name))
            removed += len(kept)
    return removed


def raw_uploads_kept() -> Iterator[Path]:
    """The sealed agency files still kept (for key rotation)."""
    names = Dataset.objects.exclude(raw_file="").order_by("pk").values_list("raw_file", flat=True)
    for name in names.iterator():
        yield storage.path_of(storage.RAW, name)


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
    local = ingest.duckdb_connect()
    try:
        with members_blind_index(organization) as (export, _count):
            find_candidates(
                engine=engines.engine_for(EngineName.DUCKDB),
                local=local,
                tables=_tables(export, in_force),
                rules=[rule],
                available=set(in_force),
                reference_date=reference_date,
                last_run_date=None,
            )
        shape_candidates(local, rules=[rule], in_force=in_force)
        total = local.execute("SELECT count(*) FROM shaped").fetchone()
        first = local.execute("SELECT member_id, evidence FROM shaped ORDER BY member_id LIMIT ?", [PREVIEW_SAMPLE])
        found = first.fetchall()
    finally:
        local.close()
    members = Member.objects.in_bulk([member_id for member_id, _evidence in found])
    sample = [
        {"name": mask_name(members[member_id].name), "lines": evidence_lines(json.loads(evidence))}
        for member_id, evidence in found
        if member_id in members
    ]
    count = int(total[0]) if total else 0
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="screening.rule_preview",
            organization=organization,
            detail={"rule": rule.name, "candidates": count},
        )
    return Preview(count=count, sample=sample, datasets=list(in_force.values()), missing_kinds=missing)


# ---- runs ----------------------------------------------------------------------------------

# The local DuckDB tables of a run (see `find_candidates` and `shape_candidates`).
FOUND_SCHEMA = (
    ("rule_no", "INT"),
    ("member_id", "BIGINT"),
    ("org_id", "BIGINT"),
    ("amount_fen", "BIGINT"),
    ("event_date", "DATE"),
    ("row_count", "BIGINT"),
    ("category", "VARCHAR"),
    ("source", "VARCHAR"),
)
BEFORE_COLUMNS = (("member_id", "BIGINT"), ("rule_key", "VARCHAR"))
DECIDED_COLUMNS = (
    ("member_id", "BIGINT"),
    ("rule_key", "VARCHAR"),
    ("evidence_key", "VARCHAR"),
    ("status", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("target_kind", "VARCHAR"),
    ("target_ref", "VARCHAR"),
    ("decided_by_id", "BIGINT"),
    # Kept as the database's own text: it goes back unchanged, and its text order is time order.
    ("decided_at", "VARCHAR"),
)
KIND_LABELS = {str(value): str(label) for value, label in DatasetKind.choices}
# What each evidence choice shows, as an expression over `found` (f) and the rule (r).
EVIDENCE_SQL = {
    "amount_fen": "f.amount_fen",
    "event_date": "CAST(f.event_date AS VARCHAR)",
    "row_count": "f.row_count",
    "category": "coalesce(f.category, '')",
}


def _scope_members(organization: Organization) -> Any:
    """The scope's active members. The sub-tree's union ids are listed first: with them the
    planner sees how much of the registry the scope holds (a city's export is one scan; joined
    by path it guessed one union and fetched the members union by union)."""
    unions = list(Organization.objects.filter(path__startswith=organization.path).values_list("pk", flat=True))
    members = Member.objects.filter(organization_id__in=unions, status=MembershipStatus.ACTIVE)
    return members.values_list("id", "organization_id", "id_blind")


@contextlib.contextmanager
def scratch_path(suffix: str) -> Iterator[Path]:
    """A fresh file name in the scratch directory, deleted afterwards."""
    path = storage.path_of(storage.WORK, storage.new_name(suffix))
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def members_blind_index(organization: Organization) -> Iterator[tuple[engines.Source, int]]:
    """The blind-index table of the scope — member id, grassroots union id, blind index; no
    plaintext, no name — as a CSV the database writes itself (one COPY), deleted afterwards."""
    with scratch_path(".csv") as path:
        count = transfer.export_queryset(_scope_members(organization), path)
        yield engines.Source(path, MEMBERS_COLUMNS), count


def _tables(members: engines.Source, in_force: Mapping[str, Dataset]) -> dict[str, Path | engines.Source]:
    tables: dict[str, Path | engines.Source] = {MEMBERS_VIEW: members}
    for kind, dataset in in_force.items():
        tables[view_name(kind)] = storage.path_of(storage.DATA, dataset.data_file)
    return tables


def _create(local: Any, table: str, columns: tuple[tuple[str, str], ...], path: Path | None = None) -> None:
    """A local table of `columns`, loaded from the CSV at `path` when given."""
    declared = ", ".join("%s %s" % pair for pair in columns)
    local.execute("CREATE TEMP TABLE %s (%s)" % (table, declared))
    if path is not None:
        local.execute("INSERT INTO %s SELECT * FROM %s" % (table, engines.duckdb_csv(path, columns)))  # noqa: S608


def find_candidates(
    *,
    engine: engines.Engine,
    local: Any,
    tables: Mapping[str, Path | engines.Source],
    rules: list[Rule],
    available: set[str],
    reference_date: dt.date,
    last_run_date: dt.date | None,
    landed: Callable[[list[int]], None] | None = None,
) -> tuple[str | None, list[bool]]:
    """Every rule's SELECT on `engine` (`EngineSession.collect_all`: Spark one UNION ALL,
    DuckDB one after the other); their rows land in the local table `found` (`FOUND_SCHEMA`),
    and `landed` is called with the positions in `rules` of those whose rows are in.
    Returns the rules' UNION ALL (what either engine computes) and whether each rule ran."""
    parts, ran = compile_rule_parts(
        rules, available=available, reference_date=reference_date, last_run_date=last_run_date
    )
    numbers = [n for n, did in enumerate(ran) if did]
    local.execute("DROP TABLE IF EXISTS found")
    _create(local, "found", FOUND_SCHEMA)
    if parts:
        with engine.session(tables, local=local) as session:
            session.collect_all(
                parts,
                table="found",
                landed=None if landed is None else (lambda positions: landed([numbers[i] for i in positions])),
            )
    return (" UNION ALL ".join(parts) if parts else None), ran


def _evidence_sql(rule: Rule) -> str:
    """The evidence of `rule`'s candidates as a JSON object: what it suggests, the source and
    its dataset version, and the values the rule shows (masked or aggregated only)."""
    pairs = {
        "suggestion": "r.suggestion",
        "source": "coalesce(s.label, '')",
        "dataset": "CAST(coalesce(s.dataset, '{}') AS JSON)",
    }
    for key in rule.evidence:
        if key in EVIDENCE_SQL:
            pairs[key] = EVIDENCE_SQL[key]
    if rule.condition_type == ConditionType.YEARLY_SUM:
        pairs["amount_fen"] = EVIDENCE_SQL["amount_fen"]
        pairs["threshold_fen"] = "r.threshold_fen"
    return "json_object(%s)" % ", ".join("'%s', %s" % item for item in pairs.items())


def shape_prepare(
    local: Any,
    *,
    rules: list[Rule],
    in_force: Mapping[str, Dataset],
    before: Path | None = None,
    decided: Path | None = None,
) -> None:
    """The local tables `shape_found` reads — the previous run's findings (`before`: member,
    rule key), the decisions in force (`decided`), the rules and the sources — and `shaped`,
    empty."""
    _create(local, "before", BEFORE_COLUMNS, before)
    _create(local, "decided", DECIDED_COLUMNS, decided)
    local.execute(
        "CREATE TEMP TABLE rules_meta (rule_no INT, rule_id BIGINT, rule_key VARCHAR, suggestion VARCHAR, "
        "threshold_fen BIGINT)"
    )
    local.executemany(
        "INSERT INTO rules_meta VALUES (?, ?, ?, ?, ?)",
        [(n, r.pk, r.key, r.suggestion, r.threshold_fen) for n, r in enumerate(rules)],
    )
    local.execute("CREATE TEMP TABLE sources (source VARCHAR, label VARCHAR, dataset VARCHAR)")
    local.executemany(
        "INSERT INTO sources VALUES (?, ?, ?)",
        [
            (kind, KIND_LABELS.get(kind, ""), json.dumps({"id": d.pk, "name": d.name, "version": d.version}))
            for kind, d in in_force.items()
        ]
        or [("", "", "{}")],
    )
    # `shaped` takes its columns from its statement, over `found` (here empty, if the rules
    # have not run yet: `find_candidates` makes it afresh).
    declared = ", ".join("%s %s" % pair for pair in FOUND_SCHEMA)
    local.execute("CREATE TEMP TABLE IF NOT EXISTS found (%s)" % declared)
    local.execute("CREATE TEMP TABLE shaped AS %s" % _shaped_sql(rules, "FALSE"))


def _shaped_sql(rules: list[Rule], where: str) -> str:
    evidence = " ".join("WHEN %d THEN %s" % (n, _evidence_sql(rule)) for n, rule in enumerate(rules))
    # numbers, whitelisted keys and choice words of this module only
    template = """
        WITH keyed AS (
            SELECT f.*, r.rule_id, r.rule_key, md5(concat_ws('|', r.rule_key,
                coalesce(CAST(f.amount_fen AS VARCHAR), ''), coalesce(CAST(f.event_date AS VARCHAR), ''),
                CAST(f.row_count AS VARCHAR), coalesce(f.category, ''), coalesce(f.source, ''))) AS evidence_key
            FROM found f JOIN rules_meta r USING (rule_no)
            WHERE %(where)s
        ), latest AS (
            SELECT * FROM decided
            QUALIFY row_number() OVER (PARTITION BY member_id, rule_key, evidence_key ORDER BY decided_at DESC) = 1
        )
        SELECT f.rule_no, f.member_id, f.org_id, f.rule_id, f.rule_key,
            CASE f.rule_no %(evidence)s END AS evidence, f.evidence_key,
            CASE WHEN b.member_id IS NULL THEN %(new)s ELSE %(still)s END AS change,
            d.member_id IS NOT NULL AS suppressed,
            coalesce(d.status, %(open)s) AS status, coalesce(d.reason, '') AS reason,
            coalesce(d.target_kind, '') AS target_kind, coalesce(d.target_ref, '') AS target_ref,
            d.decided_by_id, d.decided_at
        FROM keyed f
        JOIN rules_meta r USING (rule_no)
        LEFT JOIN sources s ON s.source = f.source
        LEFT JOIN before b ON b.member_id = f.member_id AND b.rule_key = f.rule_key
        LEFT JOIN latest d ON d.member_id = f.member_id AND d.rule_key = f.rule_key
            AND d.evidence_key = f.evidence_key
        """
    return template % {
        "where": where,
        "evidence": evidence or "WHEN -1 THEN NULL",
        "new": sql.choice(Change.NEW),
        "still": sql.choice(Change.STILL),
        "open": sql.choice(CandidateStatus.OPEN),
    }


def shape_found(local: Any, *, rules: list[Rule], numbers: list[int]) -> None:
    """Append to `shaped` the rows of `found` of the rules at `numbers` as candidates: their
    evidence, the digest of that evidence (`evidence_key`: a decision holds while it stays the
    same), new or still against the previous run's findings, and the decision in force on the
    same evidence, in one statement."""
    if numbers:
        where = "f.rule_no IN (%s)" % ", ".join(str(int(n)) for n in numbers)
        local.execute("INSERT INTO shaped %s" % _shaped_sql(rules, where))


def shape_candidates(
    local: Any,
    *,
    rules: list[Rule],
    in_force: Mapping[str, Dataset],
    before: Path | None = None,
    decided: Path | None = None,
) -> None:
    """The local table `shaped`: every row of `found` as a candidate (`shape_prepare`, then
    `shape_found` of every rule)."""
    shape_prepare(local, rules=rules, in_force=in_force, before=before, decided=decided)
    shape_found(local, rules=rules, numbers=list(range(len(rules))))


def shaped_counts(local: Any) -> dict[str, int]:
    found = local.execute(
        "SELECT count(*), count(*) FILTER (WHERE change = %s), count(*) FILTER (WHERE change = %s), "  # noqa: S608
        "count(*) FILTER (WHERE suppressed) FROM shaped" % (sql.choice(Change.NEW), sql.choice(Change.STILL))
    ).fetchone()
    gone = local.execute(
        "SELECT count(*) FROM before b ANTI JOIN shaped s ON s.member_id = b.member_id AND s.rule_key = b.rule_key"
    ).fetchone()
    assert found is not None and gone is not None
    total, new, still, suppressed = (int(v) for v in found)
    return {
        "candidates_count": total,
        "new_count": new,
        "still_count": still,
        "suppressed_count": suppressed,
        "gone_count": int(gone[0]),
    }


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
    tables: Mapping[str, Path | engines.Source],
    rules: list[Rule],
    available: set[str],
    reference_date: dt.date,
    last_run_date: dt.date | None,
) -> list[RuleResult]:
    """`find_candidates` on a connection of its own: the statement and each rule's rows
    (`RESULT_COLUMNS`), ordered by member — what the engine-equivalence test compares."""
    local = ingest.duckdb_connect()
    try:
        statement, _ran = find_candidates(
            engine=engine,
            local=local,
            tables=tables,
            rules=rules,
            available=available,
            reference_date=reference_date,
            last_run_date=last_run_date,
        )
        found = local.execute("SELECT * FROM found ORDER BY rule_no, member_id").fetchall()
    finally:
        local.close()
    return [RuleResult(rule, statement, [row[1:] for row in found if row[0] == n]) for n, rule in enumerate(rules)]


def _decisions(organization: Organization) -> Any:
    """The decisions on candidates of the scope, for `shape_candidates` (newest wins)."""
    unions = Organization.objects.filter(path__startswith=organization.path).values_list("pk", flat=True)
    decided = Candidate.objects.filter(organization_id__in=list(unions)).exclude(status=CandidateStatus.OPEN)
    return decided.values_list("member_id", "rule_key", "evidence_key", *DECISION_FIELDS)


def run_job(job: Job) -> dict[str, Any]:
    """The runner of a `screening.run` job. Set-based from end to end: the scope's blind
    indexes leave the database in one query (with the previous run's findings and the
    decisions in force), the engine runs the rules, the local DuckDB connection shapes and
    diffs each landing's candidates in one statement, and they go back by COPY while the next
    rule runs (`find_and_write`) — in one transaction, so a run that dies wrote nothing and
    simply runs again."""
    run = Run.objects.select_related("organization").get(job=job)
    started = time.perf_counter()
    previous = previous_run(run)
    rules = rules_in_force()
    in_force = datasets_in_force(run.organization)
    jobs.job_heartbeat(job, done=0, total=4, message="正在导出会员索引")
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round(now - mark, 3)
        mark = now

    local = ingest.duckdb_connect()
    try:
        with (
            members_blind_index(run.organization) as (members, members_count),
            scratch_path(".csv") as before,
            scratch_path(".csv") as decided,
        ):
            if previous is not None:
                transfer.export_queryset(
                    Candidate.objects.filter(run=previous).values_list("member_id", "rule_key"), before
                )
            transfer.export_queryset(_decisions(run.organization), decided)
            shape_prepare(
                local,
                rules=rules,
                in_force=in_force,
                before=before if previous is not None else None,
                decided=decided,
            )
            phase("export")
            jobs.job_heartbeat(job, done=1, message="正在比对并写入线索")
            with transaction.atomic():
                ran = find_and_write(
                    local,
                    run,
                    engine=engines.engine_for(run.engine),
                    tables=_tables(members, in_force),
                    rules=rules,
                    available=set(in_force),
                    reference_date=run.reference_date,
                    last_run_date=previous.reference_date if previous else None,
                )
                phase("rules_and_write")
                counts = shaped_counts(local)
                inputs = {
                    "engine": run.engine,
                    "members": members_count,
                    "previous_run": previous.pk if previous else None,
                    "datasets": [
                        {"id": d.pk, "kind": d.kind, "name": d.name, "version": d.version, "rows": d.rows_valid}
                        for d in in_force.values()
                    ],
                    "rules": [
                        {"key": r.key, "version": r.version, "name": r.name, "ran": did}
                        for r, did in zip(rules, ran, strict=True)
                    ],
                }
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
                jobs.job_heartbeat(job, done=4, message="")
        phase("commit")
    finally:
        local.close()
    return {"candidates": counts["candidates_count"], "members": members_count, "seconds": phases}


DECISION_FIELDS = ("status", "reason", "target_kind", "target_ref", "decided_by_id", "decided_at")
CANDIDATE_COLUMNS = (
    "run_id",
    "member_id",
    "organization_id",
    "rule_id",
    "rule_key",
    "evidence",
    "evidence_key",
    "change",
    *DECISION_FIELDS,
)
SHAPED_COLUMNS = "member_id, org_id, rule_id, rule_key, evidence, evidence_key, change, " + ", ".join(DECISION_FIELDS)


def _decided_at(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


References = list[tuple[type[models.Model], set[int]]]


def _referenced(local: Any, run: Run, where: str = "TRUE") -> References:
    """Each model the `shaped` rows (those passing `where`) refer to, with the distinct ids
    they name (a handful each)."""
    found: References = [(Run, {run.pk})]
    for column, model in (("org_id", Organization), ("rule_id", Rule), ("decided_by_id", get_user_model())):
        rows = local.execute(
            "SELECT DISTINCT %s FROM shaped WHERE %s AND %s IS NOT NULL" % (column, where, column)  # noqa: S608
        ).fetchall()
        found.append((model, {int(value) for (value,) in rows}))
    return found


def _lock_referenced(run: Run, referenced: References) -> None:
    """What the candidates' foreign keys would check, once per referred row instead of once
    per candidate (see `Candidate`): every run, union, rule version and decider in
    `referenced` exists, and is locked FOR KEY SHARE until the transaction ends, as the
    constraint's trigger locks it. On SQLite, whose writers take the whole database, the
    existence check alone."""
    for model, ids in referenced:
        if not ids:
            continue
        pk = connection.ops.quote_name(str(model._meta.pk.column))
        lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT %s FROM %s WHERE %s IN (%s)%s"  # noqa: S608 - names from the models, ids as parameters
                % (pk, sql.table(model), pk, ", ".join(["%s"] * len(ids)), lock),
                sorted(ids),
            )
            missing = ids - {int(value) for (value,) in cursor.fetchall()}
        if missing:
            raise IntegrityError(
                "screening candidates of run %s name missing %s rows: %s"
                % (run.pk, model._meta.label, ", ".join(map(str, sorted(missing)[:10])))
            )


def _shaped_select(run: Run, where: str) -> str:
    return "SELECT %d AS run_id, %s FROM shaped WHERE %s ORDER BY rule_no, member_id" % (  # noqa: S608
        run.pk,
        SHAPED_COLUMNS,
        where,
    )


def _insert_candidates(local: Any, run: Run) -> None:
    """Write all the `shaped` candidates with batched `bulk_create` (SQLite: PostgreSQL takes
    them by COPY, `find_and_write`), the rows they refer to checked first."""
    _lock_referenced(run, _referenced(local, run))
    cursor = local.execute(_shaped_select(run, "TRUE"))
    while rows := cursor.fetchmany(WRITE_BATCH):
        batch = []
        for row in rows:
            values = dict(zip(CANDIDATE_COLUMNS, row, strict=True))
            values["evidence"] = json.loads(values["evidence"])
            values["decided_at"] = _decided_at(values["decided_at"])
            batch.append(Candidate(**values))
        Candidate.objects.bulk_create(batch)


@dataclass(frozen=True, slots=True)
class _Part:
    """The candidates of some rules, as CSV in a scratch file, and the rows they refer to."""

    path: Path
    referenced: References


def _load_part(run: Run, part: _Part) -> None:
    try:
        _lock_referenced(run, part.referenced)
        transfer.import_csv(Candidate, CANDIDATE_COLUMNS, part.path)
    finally:
        part.path.unlink(missing_ok=True)


def find_and_write(
    local: Any,
    run: Run,
    *,
    engine: engines.Engine,
    tables: Mapping[str, Path | engines.Source],
    rules: list[Rule],
    available: set[str],
    reference_date: dt.date,
    last_run_date: dt.date | None,
) -> list[bool]:
    """Run the rules (`find_candidates`), shape their rows as they land (`shape_found`) and
    write them, in the caller's transaction; returns whether each rule ran.

    On PostgreSQL each landing's candidates go in as CSV by one COPY (a province's run writes
    hundreds of thousands). With DuckDB, which lands one rule at a time, the engine works in a
    thread of its own (DuckDB lets go of the GIL while it computes) and this thread copies a
    rule's candidates into the database while the next rule runs: the write overlaps the
    rules instead of following them. The local connection is used by one thread only, and
    the database connection by this one. Elsewhere (SQLite) the candidates are written once
    all have landed (`_insert_candidates`)."""
    postgres = connection.vendor == "postgresql"
    threaded = postgres and engine.name == EngineName.DUCKDB
    handed: queue.Queue[_Part | BaseException | None] = queue.Queue()

    def landed(numbers: list[int]) -> None:
        shape_found(local, rules=rules, numbers=numbers)
        if not postgres:
            return
        where = "rule_no IN (%s)" % ", ".join(str(int(n)) for n in numbers)
        path = storage.path_of(storage.WORK, storage.new_name(".csv"))
        local.execute("COPY (%s) TO %s (FORMAT csv, HEADER false)" % (_shaped_select(run, where), engines.quoted(path)))
        part = _Part(path, _referenced(local, run, where))
        if threaded:
            handed.put(part)
        else:
            _load_part(run, part)

    def find() -> list[bool]:
        _statement, ran = find_candidates(
            engine=engine,
            local=local,
            tables=tables,
            rules=rules,
            available=available,
            reference_date=reference_date,
            last_run_date=last_run_date,
            landed=landed,
        )
        return ran

    if not threaded:
        ran = find()
        if not postgres:
            _insert_candidates(local, run)
        return ran
    outcome: list[list[bool]] = []

    def work() -> None:
        try:
            outcome.append(find())
            handed.put(None)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            handed.put(exc)

    worker = threading.Thread(target=work, name="screening-run-%d" % run.pk, daemon=True)
    worker.start()
    try:
        while (item := handed.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            _load_part(run, item)
    finally:
        worker.join()
        while not handed.empty():
            left = handed.get()
            if isinstance(left, _Part):
                left.path.unlink(missing_ok=True)
    return outcome[0]


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
