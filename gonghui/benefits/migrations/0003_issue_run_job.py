import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """定向发放 runs point at a core.Job (filled in by the next migration)."""

    dependencies = [
        ("benefits", "0002_issue_run_progressed_at"),
        ("core", "0008_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="issuerun",
            name="job",
            field=models.OneToOneField(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="issue_run", to="core.job"
            ),
        ),
        # The job's own constraints take over: one active job per campaign key, done within total.
        migrations.RemoveConstraint(model_name="issuerun", name="issue_run_one_active"),
        migrations.RemoveConstraint(model_name="issuerun", name="issue_run_processed_within_total"),
    ]
