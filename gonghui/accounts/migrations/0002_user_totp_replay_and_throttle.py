from django.db import migrations, models


class Migration(migrations.Migration):
    """The last accepted TOTP time step (a code is good once) and the wrong-code throttle."""

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="totp_last_t",
            field=models.BigIntegerField(default=-1),
        ),
        migrations.AddField(
            model_name="user",
            name="totp_failures",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="user",
            name="totp_failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
