import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Device.organization_id was a plain integer; it becomes a foreign key on the same column.
    The first step only renames the field in Django's state (the column keeps its name), the
    second adds the constraint and index, so existing rows keep their organisation."""

    dependencies = [
        ("core", "0006_workflow_cases_and_steps"),
        ("organizations", "0003_policy_version"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="device", name="organization_id"),
                migrations.AddField(
                    model_name="device",
                    name="organization",
                    field=models.BigIntegerField(db_column="organization_id", default=0),
                    preserve_default=False,
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="device",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="organizations.organization"
            ),
        ),
    ]
