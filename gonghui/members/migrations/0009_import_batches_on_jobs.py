"""The commit of a member import runs as a core.Job: the batch points at its job, which keeps
the attempts and times. A batch caught queued or running by the upgrade lost its worker (its
transaction was rolled back, the registry is unchanged): it waits for its uploader again."""

import django.db.models.deletion
from django.db import migrations, models

INTERRUPTED = "系统升级时该批次的导入被中断，登记库没有任何改动；可重新导入或取消该批次"


def interrupted_to_failed(apps, schema_editor):  # type: ignore[no-untyped-def]
    ImportBatch = apps.get_model("members", "ImportBatch")
    ImportBatch.objects.filter(status__in=["queued", "running"]).update(status="failed", error_message=INTERRUPTED)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_tabular_mapping"),
        ("members", "0008_join_application_checked_step"),
    ]

    operations = [
        migrations.RunPython(interrupted_to_failed, migrations.RunPython.noop),
        migrations.RemoveField(model_name="importbatch", name="attempts"),
        migrations.RemoveField(model_name="importbatch", name="queued_at"),
        migrations.RemoveField(model_name="importbatch", name="started_at"),
        migrations.AddField(
            model_name="importbatch",
            name="job",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="core.job"
            ),
        ),
    ]
