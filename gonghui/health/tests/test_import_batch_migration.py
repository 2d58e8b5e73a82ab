"""Migrations 0006–0008 carry every existing health import batch onto a core.Job, and back."""

import datetime as dt

import pytest
from django.utils import timezone

from gonghui.core.models import Job, JobStatus
from gonghui.health.models import ImportBatch
from gonghui.site.testing import migrate_all, migrate_app

BEFORE = ("health", "0005_critical_limits_as_policy")
AFTER = ("health", "0008_import_batch_lifecycle_fields_removed")


@pytest.mark.django_db(transaction=True)
def test_existing_batches_get_a_job_with_their_status_times_and_error(world) -> None:  # type: ignore[no-untyped-def]
    try:
        old = migrate_app(*BEFORE)
        OldBatch = old.get_model("health", "ImportBatch")
        started = timezone.now() - dt.timedelta(hours=2)
        common = {"organization_id": world.union_a.pk, "created_by_id": world.staff_a.pk, "format": "csv"}
        done = OldBatch.objects.create(
            **common,
            filename="done.csv",
            status="done",
            started_at=started,
            finished_at=started + dt.timedelta(seconds=5),
            summary={"status": "done", "observations": 4, "imported": 3, "checkups": 1, "members": 1, "problems": 1},
        )
        failed = OldBatch.objects.create(
            **common,
            filename="failed.csv",
            status="failed",
            started_at=started,
            finished_at=started,
            summary={"status": "failed", "error": "缺少必需的列"},
        )
        waiting = OldBatch.objects.create(**common, filename="waiting.csv", payload_encrypted="ciphertext")
        migrate_app(*AFTER)
        carried = {b.pk: b for b in ImportBatch.objects.select_related("job")}
        a, b, c = carried[done.pk], carried[failed.pk], carried[waiting.pk]
        assert (a.job.kind, a.job.status, a.job.done, a.job.total, a.job.result["imported"]) == (
            "health.import",
            JobStatus.SUCCEEDED,
            4,
            4,
            3,
        )
        assert (a.job.started_at, a.job.finished_at, a.job.created_by_id, a.job.created_at) == (
            started,
            started + dt.timedelta(seconds=5),
            world.staff_a.pk,
            a.created_at,
        )
        assert "status" not in a.summary and a.summary["imported"] == 3 and a.job.expires_at is None
        assert (b.job.status, b.job.error, "error" in b.summary) == (JobStatus.FAILED, "缺少必需的列", False)
        assert (c.job.status, c.job.attempts) == (JobStatus.QUEUED, 0)
        assert c.job.expires_at == c.created_at + dt.timedelta(hours=72)
        assert Job.objects.count() == 3
        old = migrate_app(*BEFORE)
        back = {r.pk: r for r in old.get_model("health", "ImportBatch").objects.all()}
        assert (back[done.pk].status, back[done.pk].summary["status"]) == ("done", "done")
        assert (back[failed.pk].status, back[failed.pk].summary["error"]) == ("failed", "缺少必需的列")
        assert back[waiting.pk].status == "queued"
        assert old.get_model("core", "Job").objects.count() == 0
    finally:
        migrate_all()
