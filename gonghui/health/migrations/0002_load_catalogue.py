"""Load the reviewed indicator catalogue (data/catalogue.json). Later releases of the file
are loaded with `manage.py health_catalogue_load`; loading a version twice does nothing."""

from django.db import migrations


def load(apps, schema_editor):
    from gonghui.health.catalogue import load_catalogue, read_catalogue_file

    models = {name: apps.get_model("health", name) for name in ("CatalogueRelease", "Indicator", "ReferenceInterval")}
    load_catalogue(read_catalogue_file(), models=models)


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
