"""Health import batches move their lifecycle onto core.Job: every existing batch gets a job
carrying its status, times and error; a batch that still holds its upload expires
HEALTH_IMPORT_UPLOAD_KEEP_HOURS after it was uploaded, as a new one does."""

import datetime as dt

from django.conf import settings
from django.db import migrations

KIND = "health.import"
TO_JOB = {"queued": "queued", "running": "running", "done": "succeeded", "failed": "failed"}
FROM_JOB = {"queued": "queued", "running": "running", "succeeded": "done", "failed": "failed", "cancelled": "failed"}
COUNTS = ("imported", "checkups", "members", "skipped_existing", "problems")


def batches_to_jobs(apps, schema_editor):  # type: ignore[no-untyped-def]
    ImportBatch = apps.get_model("health", "ImportBatch")
    Job = apps.get_model("core", "Job")
    keep = dt.timedelta(hours=getattr(settings, "HEALTH_IMPORT_UPLOAD_KEEP_HOURS", 72))
    for batch in ImportBatch.objects.order_by("pk").iterator():
        summary = dict(batch.summary or {})
        status = TO_JOB[batch.status]
        observations = summary.get("observations") or 0
        job = Job.objects.create(
            kind=KIND,
            status=status,
            organization_id=batch.organization_id,
            created_by_id=batch.created_by_id,
            done=observations if status == "succeeded" else 0,
            total=observations if status == "succeeded" else 0,
            params={"batch": batch.pk, "dry_run": batch.dry_run},
            result={k: summary[k] for k in COUNTS if k in summary} if status == "succeeded" else {},
            error=str(summary.get("error", ""))[:500],
            attempts=1 if batch.started_at else 0,
            started_at=batch.started_at,
            heartbeat_at=batch.started_at or batch.created_at,
            finished_at=batch.finished_at,
            expires_at=batch.created_at + keep if batch.payload_encrypted else None,
        )
        Job.objects.filter(pk=job.pk).update(created_at=batch.created_at)
        summary.pop("status", None)
        summary.pop("error", None)
        ImportBatch.objects.filter(pk=batch.pk).update(job=job, summary=summary)


def jobs_to_batches(apps, schema_editor):  # type: ignore[no-untyped-def]
    ImportBatch = apps.get_model("health", "ImportBatch")
    for batch in ImportBatch.objects.select_related("job").order_by("pk").iterator():
        job = batch.job
        summary = dict(batch.summary or {})
        if job.status in ("succeeded", "failed", "cancelled"):
            summary["status"] = FROM_JOB[job.status]
        if job.error:
            summary["error"] = job.error
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=FROM_JOB[job.status],
            started_at=job.started_at,
            finished_at=job.finished_at,
            summary=summary,
            job=None,
        )
    apps.get_model("core", "Job").objects.filter(kind=KIND).delete()


class Migration(migrations.Migration):
    dependencies = [("health", "0006_import_batch_job")]

    operations = [migrations.RunPython(batches_to_jobs, jobs_to_batches)]
