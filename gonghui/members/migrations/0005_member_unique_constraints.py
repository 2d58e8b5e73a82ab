"""Unique keys of the member table as constraints, and no separate organisation index.

`unique=True` on a CharField gives PostgreSQL a second, varchar_pattern_ops index per column;
member numbers, card numbers and blind indexes are only ever looked up exactly, so those
indexes cost every insert and served no query. The organisation's own index duplicated the
leading column of member_org_recent_idx."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_member_tag_statistics"),
        ("organizations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="card_no",
            field=models.CharField(max_length=19, verbose_name="会员卡号"),
        ),
        migrations.AlterField(
            model_name="member",
            name="id_blind",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="member",
            name="member_no",
            field=models.CharField(max_length=20, verbose_name="会员编号"),
        ),
        migrations.AlterField(
            model_name="member",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="members",
                to="organizations.organization",
                verbose_name="所属基层工会",
            ),
        ),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(fields=("member_no",), name="member_no_unique"),
        ),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(fields=("card_no",), name="member_card_no_unique"),
        ),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(fields=("id_blind",), name="member_id_blind_unique"),
        ),
    ]
