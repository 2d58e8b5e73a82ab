from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q

from gonghui.core import registry
from gonghui.core.fields import EncryptedTextField


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditResult(models.TextChoices):
    OK = "ok", "成功"
    DENIED = "denied", "拒绝"
    FAILED = "failed", "失败"


class AuditEvent(models.Model):
    """One link of the append-only, hash-chained audit trail.

    The trail is a fixed set of parallel chains (`settings.AUDIT_CHAINS`) so that concurrent
    transactions append without queueing on one lock. Within its chain an event has `seq` and
    `hash = HMAC(AUDIT_HMAC_KEY, prev_hash ‖ canonical(event))` (plain SHA-256 for events
    recorded before keyed hashes, `hash_version` 1); `id` gives the overall order. Rows are
    written by `gonghui.core.audit.record` only, in the transaction of the change they
    describe. A trigger refuses UPDATE and DELETE (PostgreSQL and SQLite); the model refuses
    them everywhere.
    """

    chain = models.PositiveSmallIntegerField(default=1)
    seq = models.BigIntegerField()
    created_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=150, blank=True)
    organization_id = models.BigIntegerField(null=True, blank=True)
    organization_path = models.CharField(max_length=255, blank=True, db_index=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=AuditResult.choices, default=AuditResult.OK)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # How `hash` was computed: 1 = plain SHA-256 (events recorded before keyed hashes), 2 =
    # HMAC-SHA256 under settings.AUDIT_HMAC_KEY. Within a chain the version never goes down.
    hash_version = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit events are append-only")

    @property
    def detail_pairs(self) -> list[tuple[str, str]]:
        """The detail as `key: value` lines for a page: yes/no for booleans, lists joined."""
        return [(str(key), _detail_value(value)) for key, value in (self.detail or {}).items()]


class AuditChainHead(models.Model):
    """The tip of one audit chain (`id` is the chain number); locked while a link is appended.
    `mac` is an HMAC of (chain, seq, hash) under settings.AUDIT_HMAC_KEY, so a tip moved back
    over deleted events or onto rewritten ones is detected; empty on a chain that has had no
    event since keyed hashes were introduced."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    mac = models.CharField(max_length=64, blank=True, default="")


class Device(models.Model):
    """A machine that calls the device API with its own secret: a vending machine, a clerk
    terminal, a 健康小屋 station. Requests are signed with HMAC-SHA256 (see `signing.py`)."""

    key_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    # Each app declares its kinds (`registry.device_kind` in its AppConfig.ready()).
    kind = models.CharField(max_length=20, choices=registry.device_kind_choices)
    # The tenant layer's model, named by label: the kernel imports no app's code.
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    organization_path = models.CharField(max_length=255, db_index=True)
    secret_encrypted = EncryptedTextField(purpose="device.secret")
    is_active = models.BooleanField(default=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"


class DeviceNonce(models.Model):
    """Nonces seen from a device inside the freshness window; the unique key refuses a replay."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="nonces")
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "nonce"], name="device_nonce_once")]


class IdempotentResponse(models.Model):
    """The stored answer to a request that carried an idempotency key (member claims,
    device request ids), so a retry gets exactly the first answer back."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotent_scope_key")]


def _detail_value(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(_detail_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join("%(k)s：%(v)s" % {"k": k, "v": _detail_value(v)} for k, v in value.items()) or "—"
    return str(value)


class WorkflowCase(models.Model):
    """Where a case of a declared workflow (`gonghui.core.workflow`) stands: its state (a copy
    of the object's own state field, kept in the same transaction), the organisation a decision
    was escalated to, and when the current state falls due, so that escalated and overdue
    lists are plain queries. Written only by the workflow service."""

    workflow = models.CharField(max_length=40)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    state = models.CharField(max_length=20)
    escalated_org_id = models.BigIntegerField(null=True, blank=True)
    escalated_org_path = models.CharField(max_length=255, blank=True, db_index=True)
    entered_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workflow", "due_at"], name="workflow_case_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="workflow_case_one_per_object"),
        ]


class WorkflowStep(models.Model):
    """One transition taken by a case: the history shown on the object's page."""

    workflow = models.CharField(max_length=40)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    transition = models.CharField(max_length=40)
    label = models.CharField(max_length=40)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="workflow_step_object_idx")]


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


JOB_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """One background job of a registered kind (`gonghui.core.jobs`): where it stands, how far
    it got and when its worker last said so. Written only by the job service; a domain row
    (an 定向发放 run, an import batch) points at its job and keeps its own business counters.

    `attempts` counts the claims: a worker writes progress only while the job is still running
    under its own attempt, so a worker that was given up for dead and replaced cannot write
    over its successor. `checkpoint` is where a resumed run continues; `expires_at` is when an
    unconfirmed upload or a downloadable output is deleted (`expired_at` once it has been)."""

    kind = models.CharField(max_length=60)
    # What the job works on ("campaign:42"): at most one active job of a kind per key.
    key = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # The tenant layer's model, named by label: the kernel imports no app's code.
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    message = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    checkpoint = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "kind", "heartbeat_at"], name="job_status_heartbeat_idx"),
            models.Index(fields=["organization", "-created_at"], name="job_org_created_idx"),
            models.Index(fields=["expires_at"], condition=Q(expires_at__isnull=False), name="job_expires_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total=0) | Q(done__lte=F("total")), name="job_done_within_total"),
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="job_status_known"),
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(key=""),
                name="job_one_active_per_key",
            ),
        ]

    def __str__(self) -> str:
        return "%(kind)s #%(id)s" % {"kind": self.kind, "id": self.pk}

    @property
    def is_active(self) -> bool:
        return self.status in JOB_ACTIVE

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        return min(100, int(self.done * 100 / self.total)) if self.total else 0


class TabularMapping(models.Model):
    """How one organisation's files of one kind (`core.tabular.register_columns`) name the
    columns the aliases do not recognise: `columns` is {canonical key: the header in its files}.
    Saving makes a new version; the newest version of the organisation, or else of its nearest
    ancestor, is the one applied (`core.tabular.tabular_mapping_for`)."""

    kind = models.CharField("文件种类", max_length=60)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    columns = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "organization_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "organization", "version"], name="tabular_mapping_version_once"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="tabular_mapping_version_positive"),
        ]
