"""定向发放 runs move their lifecycle onto core.Job: every existing run gets a job carrying its
status, progress, times and error; the run keeps issued, skipped and its cursor."""

from django.db import migrations

KIND = "benefits.issue_run"
TO_JOB = {"queued": "queued", "running": "running", "done": "succeeded", "failed": "failed"}
FROM_JOB = {"queued": "queued", "running": "running", "succeeded": "done", "failed": "failed", "cancelled": "failed"}


def runs_to_jobs(apps, schema_editor):  # type: ignore[no-untyped-def]
    IssueRun = apps.get_model("benefits", "IssueRun")
    Job = apps.get_model("core", "Job")
    for run in IssueRun.objects.order_by("pk").iterator():
        job = Job.objects.create(
            kind=KIND,
            key="campaign:%d" % run.campaign_id,
            status=TO_JOB[run.status],
            organization_id=run.organization_id,
            created_by_id=run.started_by_id,
            done=run.processed,
            total=run.total,
            params={"campaign": run.campaign_id},
            result={"issued": run.issued, "skipped": run.skipped} if run.status == "done" else {},
            error=run.error,
            attempts=1 if run.started_at else 0,
            started_at=run.started_at,
            heartbeat_at=run.progressed_at or run.started_at or run.created_at,
            finished_at=run.finished_at,
        )
        Job.objects.filter(pk=job.pk).update(created_at=run.created_at)
        IssueRun.objects.filter(pk=run.pk).update(job=job)


def jobs_to_runs(apps, schema_editor):  # type: ignore[no-untyped-def]
    IssueRun = apps.get_model("benefits", "IssueRun")
    for run in IssueRun.objects.select_related("job").order_by("pk").iterator():
        job = run.job
        IssueRun.objects.filter(pk=run.pk).update(
            status=FROM_JOB[job.status],
            processed=job.done,
            total=max(job.total, job.done),
            error=(job.error or ("已取消" if job.status == "cancelled" else ""))[:200],
            started_at=job.started_at,
            progressed_at=job.heartbeat_at,
            finished_at=job.finished_at,
            job=None,
        )
    apps.get_model("core", "Job").objects.filter(kind=KIND).delete()


class Migration(migrations.Migration):
    dependencies = [("benefits", "0003_issue_run_job")]

    operations = [migrations.RunPython(runs_to_jobs, jobs_to_runs)]
