import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A batch's status and times now live on its job."""

    dependencies = [("health", "0007_import_batches_to_jobs")]

    operations = [
        migrations.RemoveField(model_name="importbatch", name="finished_at"),
        migrations.RemoveField(model_name="importbatch", name="started_at"),
        migrations.RemoveField(model_name="importbatch", name="status"),
        migrations.AlterField(
            model_name="importbatch",
            name="job",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT, related_name="health_import", to="core.job"
            ),
        ),
    ]
