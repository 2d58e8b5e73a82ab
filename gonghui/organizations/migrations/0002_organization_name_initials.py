from django.db import migrations, models
from pypinyin import Style, pinyin


def _initials(name):
    out = []
    for char in name:
        if char.isascii():
            out.append(char.lower() if char.isalnum() else "")
            continue
        first = pinyin(char, style=Style.FIRST_LETTER, heteronym=False, errors="ignore")
        out.append(first[0][0].lower() if first and first[0] else "")
    return "".join(out)[:120]


def fill_initials(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    batch = []
    for org in Organization.objects.only("id", "name").iterator(chunk_size=2000):
        org.name_initials = _initials(org.name)
        batch.append(org)
        if len(batch) >= 2000:
            Organization.objects.bulk_update(batch, ["name_initials"])
            batch = []
    if batch:
        Organization.objects.bulk_update(batch, ["name_initials"])


class Migration(migrations.Migration):
    dependencies = [("organizations", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="name_initials",
            field=models.CharField(blank=True, editable=False, max_length=120, verbose_name="名称拼音首字母"),
        ),
        migrations.RunPython(fill_initials, migrations.RunPython.noop),
    ]
