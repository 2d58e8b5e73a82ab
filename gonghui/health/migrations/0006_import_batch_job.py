import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Health import batches point at a core.Job (filled in by the next migration)."""

    dependencies = [
        ("health", "0005_critical_limits_as_policy"),
        ("core", "0008_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="job",
            field=models.OneToOneField(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="health_import", to="core.job"
            ),
        ),
    ]
