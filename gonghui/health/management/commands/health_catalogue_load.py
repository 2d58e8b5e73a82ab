"""`python manage.py health_catalogue_load [PATH]`: load a reviewed catalogue release (the
shipped `data/catalogue.json` by default). A version already loaded is left as it is; a new
version retires changed intervals (results keep pointing at the ones they were judged by)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from gonghui.health.catalogue import (
    CATALOGUE_FILE,
    CatalogueError,
    forget_catalogue,
    load_catalogue,
    read_catalogue_file,
)
from gonghui.health.models import CatalogueRelease, Indicator, ReferenceInterval


class Command(BaseCommand):
    help = "Load the reviewed indicator catalogue into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(CATALOGUE_FILE))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = read_catalogue_file(Path(options["path"]))
        except (OSError, ValueError, KeyError, CatalogueError) as exc:
            raise CommandError("catalogue file refused: %s" % exc) from exc
        models = {"CatalogueRelease": CatalogueRelease, "Indicator": Indicator, "ReferenceInterval": ReferenceInterval}
        with transaction.atomic():
            release, created = load_catalogue(data, models=models)
        forget_catalogue()
        self.stdout.write(
            "%s catalogue %s (%d indicators)"
            % ("loaded" if created else "already loaded", release.version, len(data["indicators"]))
        )
