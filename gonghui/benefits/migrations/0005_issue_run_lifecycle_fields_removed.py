import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A run's status, times, progress and error now live on its job."""

    dependencies = [("benefits", "0004_issue_runs_to_jobs")]

    operations = [
        migrations.RemoveField(model_name="issuerun", name="error"),
        migrations.RemoveField(model_name="issuerun", name="finished_at"),
        migrations.RemoveField(model_name="issuerun", name="processed"),
        migrations.RemoveField(model_name="issuerun", name="progressed_at"),
        migrations.RemoveField(model_name="issuerun", name="started_at"),
        migrations.RemoveField(model_name="issuerun", name="status"),
        migrations.RemoveField(model_name="issuerun", name="total"),
        migrations.AlterField(
            model_name="issuerun",
            name="job",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT, related_name="issue_run", to="core.job"
            ),
        ),
    ]
