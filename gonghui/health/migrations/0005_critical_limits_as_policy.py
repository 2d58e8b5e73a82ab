import django.db.models.deletion
from django.db import migrations, models


def _limits_to_policy_versions(apps, schema_editor):
    """Each organisation's critical limits become version 1 of its `health.critical_limits`
    policy, approved by whoever last changed one of them, valid from that day."""
    CriticalLimit = apps.get_model("health", "CriticalLimit")
    PolicyVersion = apps.get_model("organizations", "PolicyVersion")
    by_org = {}
    for row in CriticalLimit.objects.select_related("indicator").order_by("organization_id", "updated_at"):
        by_org.setdefault(row.organization_id, []).append(row)
    for organization_id, rows in by_org.items():
        last = rows[-1]
        limits = {
            r.indicator.code: {
                "low": None if r.low is None else str(r.low.normalize()),
                "high": None if r.high is None else str(r.high.normalize()),
            }
            for r in rows
        }
        PolicyVersion.objects.create(
            kind="health.critical_limits",
            organization_id=organization_id,
            version=1,
            valid_from=last.updated_at.date(),
            body={"limits": limits},
            note="由原危急值设置迁移",
            status="approved",
            created_by_id=last.updated_by_id,
            approved_by_id=last.updated_by_id,
            approved_at=last.updated_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0004_import_mapping"),
        ("organizations", "0003_policy_version"),
    ]

    operations = [
        migrations.RunPython(_limits_to_policy_versions, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="criticallimit",
            name="critical_limit_once",
        ),
        migrations.RemoveConstraint(
            model_name="criticallimit",
            name="critical_ordered",
        ),
        migrations.AddField(
            model_name="checkup",
            name="critical_policy",
            field=models.ForeignKey(
                blank=True,
                help_text="判定危急值所依据的政策版本；空为目录默认值",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organizations.policyversion",
            ),
        ),
        migrations.DeleteModel(
            name="CriticalLimit",
        ),
    ]
