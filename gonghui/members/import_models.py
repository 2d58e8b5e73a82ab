"""Bulk member import (信息采集 → 数据核对 → 系统导入): one `ImportBatch` per uploaded file and
one `ImportIssue` per row that failed validation.

Valid rows are never staged in a table of their own: the commit re-reads the (encrypted) upload,
validates every row again against the registry as it is at that moment, and streams the rows
into the member table inside one transaction. Only the problems are kept, for the report."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from gonghui.core.fields import EncryptedFileNameField, EncryptedTextField
from gonghui.organizations.models import Organization

__all__ = ["ImportBatch", "ImportFormat", "ImportIssue", "ImportSource", "ImportStatus"]


class ImportStatus(models.TextChoices):
    VALIDATED = "validated", "待确认导入"
    QUEUED = "queued", "排队中"
    RUNNING = "running", "导入中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "导入失败"
    CANCELLED = "cancelled", "已取消"


class ImportSource(models.TextChoices):
    WEB = "web", "网页上传"
    COMMAND = "command", "命令行"


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel 工作簿"


class ImportBatch(models.Model):
    """One uploaded file. `organization` is the union the file is imported into: a grassroots
    union, or a higher union whose file names each row's grassroots union in a 工会代码 column."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="member_imports", verbose_name="导入工会"
    )
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.CharField(max_length=10, choices=ImportSource.choices, default=ImportSource.WEB)
    file_name = models.CharField("文件名", max_length=200)
    file_format = models.CharField(max_length=5, choices=ImportFormat.choices)
    file_size = models.PositiveBigIntegerField(default=0)
    # Where the encrypted upload waits between the dry run and the commit (storage name).
    stored_file = EncryptedFileNameField(max_length=200, blank=True, purpose="members.import_upload")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.VALIDATED)
    keep_good_rows = models.BooleanField(
        "只导入校验通过的行",
        default=False,
        help_text="不勾选时整批要么全部导入、要么全部不导入；勾选后跳过有问题的行。",
    )
    per_row_org = models.BooleanField(default=False)
    columns = models.JSONField(default=list)
    ignored_columns = models.JSONField(default=list)
    rows_total = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    planned_create = models.PositiveIntegerField(default=0)
    planned_update = models.PositiveIntegerField(default=0)
    planned_unchanged = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_message = models.CharField(max_length=500, blank=True)
    # The background job of the latest commit (queued, claimed, its attempts and heartbeat,
    # recovered after a dead worker); `status` follows it (`batches.import_job_changed`).
    job = models.ForeignKey("core.Job", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["organization", "-id"], name="member_import_org_recent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rows_valid__lte=F("rows_total")) & Q(rows_invalid__lte=F("rows_total")),
                name="member_import_counts_within_total",
            ),
            models.CheckConstraint(
                condition=Q(created__lte=F("rows_total")) & Q(updated__lte=F("rows_total")),
                name="member_import_written_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportIssue(models.Model):
    """A row that failed validation: what was wrong, and the row as uploaded (encrypted: it
    holds an ID number) so the error report can give the row back with an error column."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="issues")
    row_no = models.PositiveIntegerField("行号")
    name = models.CharField("姓名", max_length=50, blank=True)
    id_masked = models.CharField("证件号码", max_length=24, blank=True)
    errors = models.JSONField(default=list)
    raw_encrypted = EncryptedTextField(purpose="members.import_row")

    class Meta:
        ordering = ["row_no"]
        constraints = [models.UniqueConstraint(fields=["batch", "row_no"], name="member_import_issue_row_unique")]

    def __str__(self) -> str:
        return f"第{self.row_no}行"

    @property
    def messages(self) -> list[str]:
        return ["%(column)s：%(message)s" % e if e.get("column") else e["message"] for e in self.errors]
