from django.db import migrations, models


def flag_existing_staff(apps, schema_editor):
    """Existing staff are the accounts holding a role that are not a member's SMS account."""
    User = apps.get_model("accounts", "User")
    User.objects.filter(role_assignments__isnull=False, member_profile__isnull=True).update(is_staff_account=True)


class Migration(migrations.Migration):
    """Only staff accounts may hold roles: the flag tells them from members' SMS accounts."""

    dependencies = [
        ("accounts", "0002_user_totp_replay_and_throttle"),
        ("organizations", "0001_initial"),
        ("members", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_staff_account",
            field=models.BooleanField(default=False, verbose_name="工作人员账号"),
        ),
        migrations.RunPython(flag_existing_staff, migrations.RunPython.noop),
    ]
