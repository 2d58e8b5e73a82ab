"""Keyed audit hashes: `AuditEvent.hash_version` and `AuditChainHead.mac`.

Events recorded so far keep their plain SHA-256 hashes and get version 1 (adding a column with
a constant default rewrites no rows, so the append-only trigger is not involved); every event
recorded from now on is version 2, an HMAC under settings.AUDIT_HMAC_KEY, and every append
signs its chain head. Run `manage.py audit_anchor` once after this migration so that the
unkeyed part of each chain is covered by a signed anchor too (docs/operations.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_audit_parallel_chains"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="mac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
    ]
