"""Refuse UPDATE and DELETE of audit events on SQLite too (the demo's database), as 0002 does on
PostgreSQL.

SQLite rebuilds a table for most column changes (new table, copy, drop the old one) and the
old table's triggers go with it: a later migration that alters `core_auditevent` on SQLite must
create these triggers again."""

from django.db import migrations

CREATE = [
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
]

DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_keyed_hashes")]

    operations = [migrations.RunPython(forwards, backwards)]
