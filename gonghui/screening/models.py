"""Screening against other agencies' data (职工困难动态监测 / 大数据筛查比对).

* `Dataset`: one uploaded agency file of a kind (民政 低保 …), versioned per organisation and
  kind. Its rows are not ORM rows: the upload is kept as received in private storage
  (`settings.SCREENING_DIR`, never served), and its normalised rows — the ID number's blind
  index, a date, an amount in fen, a category — in a Parquet file the engines read.
* `Rule`: a screening rule as data, versioned: what it reads, its condition, what it suggests
  and which evidence it shows. A run stores the versions it used.
* `Run`: one screening of an organisation's sub-tree (a `core.Job`), with its inputs recorded.
* `Candidate`: a member a rule found, with masked or aggregated evidence, for the member's
  grassroots union to accept or reject."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from gonghui.core.models import Job
from gonghui.members.models import Member
from gonghui.organizations.models import Organization
from gonghui.screening.kinds import DatasetKind


class DatasetStatus(models.TextChoices):
    PROCESSING = "processing", "处理中"
    READY = "ready", "可用"
    FAILED = "failed", "失败"
    RETIRED = "retired", "已停用"


class Dataset(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="screening_datasets")
    kind = models.CharField("数据类别", max_length=20, choices=DatasetKind.choices)
    name = models.CharField("名称", max_length=100)
    version = models.PositiveIntegerField("版本")
    status = models.CharField("状态", max_length=12, choices=DatasetStatus.choices, default=DatasetStatus.PROCESSING)
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="screening_dataset")
    filename = models.CharField("文件名", max_length=200)
    # Bare file names inside SCREENING_DIR (written by the app itself, never taken from a request).
    raw_file = models.CharField(max_length=80, blank=True)
    data_file = models.CharField(max_length=80, blank=True)
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_valid = models.PositiveIntegerField("有效行数", default=0)
    rows_failed = models.PositiveIntegerField("未通过校验", default=0)
    # The failed rows as (row number, reason) — never their values (see `error_report`).
    problems = models.JSONField(default=list, blank=True)
    # Aggregates of the valid rows: first and last date, the amount's sum in fen.
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # When it went out of use (停用, or replaced by a newer version): its files are removed
    # SCREENING_DATASET_KEEP_DAYS later; the row stays, as the runs that read it name it.
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "version"], name="screening_dataset_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="screening_dataset_version_positive"),
        ]
        indexes = [models.Index(fields=["organization", "kind", "-version"], name="screening_dataset_newest")]

    def __str__(self) -> str:
        return "%s v%s" % (self.name, self.version)


class ConditionType(models.TextChoices):
    LISTED = "listed", "名单比中"
    YEARLY_SUM = "yearly_sum", "年度累计金额超过"


class Since(models.TextChoices):
    ANY = "any", "不限日期"
    LAST_RUN = "last_run", "上次筛查以来"
    DAYS = "days", "最近若干天"


class SuggestionKind(models.TextChoices):
    FILE = "file", "建立困难职工档案"
    CASE = "case", "临时救助"
    VISIT = "visit", "常态化慰问"
    MEDICAL = "medical", "大病救助"


class Rule(models.Model):
    """One version of a screening rule. The rule is its `key`; a save adds a version, and a run
    uses each key's newest active version and records which."""

    key = models.SlugField("规则代码", max_length=40)
    version = models.PositiveIntegerField("版本")
    name = models.CharField("名称", max_length=60)
    description = models.CharField("说明", max_length=300, blank=True)
    condition_type = models.CharField("条件", max_length=12, choices=ConditionType.choices)
    dataset_kinds = models.JSONField("使用的数据", default=list)
    threshold_fen = models.BigIntegerField("金额门槛（分）", null=True, blank=True)
    since = models.CharField("日期范围", max_length=10, choices=Since.choices, default=Since.ANY)
    since_days = models.PositiveIntegerField("天数", null=True, blank=True)
    suggestion_kind = models.CharField("建议", max_length=10, choices=SuggestionKind.choices)
    suggestion = models.CharField("建议类别", max_length=40)
    evidence = models.JSONField("显示的证据", default=list)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="screening_rule_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="screening_rule_version_positive"),
            models.CheckConstraint(
                condition=Q(threshold_fen__isnull=True) | Q(threshold_fen__gte=0), name="screening_rule_threshold"
            ),
        ]

    def __str__(self) -> str:
        return "%s v%s" % (self.name, self.version)


class EngineName(models.TextChoices):
    DUCKDB = "duckdb", "DuckDB（本机）"
    SPARK = "spark", "Spark"


class RunStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


class Run(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="screening_runs")
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="screening_run")
    status = models.CharField("状态", max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    engine = models.CharField("计算引擎", max_length=10, choices=EngineName.choices)
    reference_date = models.DateField("筛查基准日")
    previous = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What the run read: dataset versions, rule versions, the members scanned, the cut-off dates.
    inputs = models.JSONField(default=dict, blank=True)
    members_scanned = models.PositiveIntegerField("比对会员数", default=0)
    candidates_count = models.PositiveIntegerField("线索数", default=0)
    new_count = models.PositiveIntegerField("新增", default=0)
    still_count = models.PositiveIntegerField("持续", default=0)
    gone_count = models.PositiveIntegerField("消失", default=0)
    suppressed_count = models.PositiveIntegerField("已核实未变", default=0)
    seconds = models.FloatField("用时（秒）", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organization", "status", "-id"], name="screening_run_scope")]

    def __str__(self) -> str:
        return "筛查 #%s" % self.pk


class Change(models.TextChoices):
    NEW = "new", "新增"
    STILL = "still", "持续"


class CandidateStatus(models.TextChoices):
    OPEN = "open", "待核实"
    ACCEPTED = "accepted", "已纳入"
    REJECTED = "rejected", "已排除"


class Candidate(models.Model):
    """A run writes its candidates in one COPY (a province's run: hundreds of thousands), so
    the table carries only the indexes its pages read: the run's candidates
    (screening_candidate_once, which also serves the rule filter within a run), a union's
    (screening_candidate_org) and the decisions a run carries forward
    (screening_candidate_decided, partial: decided rows only); screening_candidate_decider
    (partial: decided rows only) is there for the PROTECT lookup when a user is deleted.

    No key has a database constraint. A deferred foreign key queues one check per inserted row
    and runs them all at commit — each a lookup and a row lock on the row referred to — which
    was the largest cost of writing a run; the run job instead checks each key set-based in
    the same transaction (`services._lock_referenced`): the few distinct runs, unions, rule
    versions and deciders its candidates name are locked FOR KEY SHARE and must all exist,
    which is the insert-time guarantee of the constraint, once per key value. Afterwards the
    rows referred to are not deleted: rules only gain versions, a union with members cannot be
    deleted (the member's own organization key), a run and a user go through the ORM, whose
    on_delete (CASCADE, PROTECT) is done in Python whatever the database holds. The member is
    one of the registry export the run took in the same job, and members are never deleted."""

    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="candidates", db_index=False, db_constraint=False
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    # The member's grassroots union, whose staff review the candidate.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    rule_key = models.SlugField(max_length=40, db_index=False)
    # Masked or aggregated values only (amounts in fen, dates, categories, dataset versions).
    evidence = models.JSONField(default=dict)
    # A digest of the evidence that matters: a decision on it holds until it changes.
    evidence_key = models.CharField(max_length=32)
    change = models.CharField("变化", max_length=6, choices=Change.choices)
    status = models.CharField("状态", max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.OPEN)
    reason = models.CharField("排除原因", max_length=200, blank=True)
    target_kind = models.CharField("纳入方式", max_length=10, choices=SuggestionKind.choices, blank=True)
    target_ref = models.CharField("纳入结果", max_length=60, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "member", "rule_key"], name="screening_candidate_once"),
        ]
        indexes = [
            models.Index(fields=["organization", "run"], name="screening_candidate_org"),
            models.Index(
                fields=["organization"],
                condition=~Q(status=CandidateStatus.OPEN),
                name="screening_candidate_decided",
            ),
            models.Index(
                fields=["decided_by"], condition=Q(decided_by__isnull=False), name="screening_candidate_decider"
            ),
        ]

    def __str__(self) -> str:
        return "筛查线索 #%s" % self.pk
