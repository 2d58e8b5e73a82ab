"""`python manage.py import_health_results PATH --format csv|xlsx|hl7|fhir [--dry-run]`

Imports check-up results for members of an organisation's sub-tree (`--org CODE`, default the
root of the federation tree) through the same path as the console upload, then prints a final
JSON summary line: counts, problems by reason, and the first problems with their location."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.core.errors import DomainError
from gonghui.health import services
from gonghui.health.models import ImportFormat
from gonghui.organizations.models import Organization


class Command(BaseCommand):
    help = "Import check-up results (CSV/XLSX with a mapping, HL7 v2 ORU^R01, FHIR R4)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", required=True, choices=ImportFormat.values, dest="fmt")
        parser.add_argument("--dry-run", action="store_true", help="check and report without storing anything")
        parser.add_argument("--org", default="", help="organisation code whose sub-tree is matched (default: root)")
        parser.add_argument("--mapping", default="", help="JSON file with a column mapping (CSV/XLSX)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError("file not found: %s" % path)
        if options["org"]:
            organization = Organization.objects.filter(code=options["org"]).first()
            if organization is None:
                raise CommandError("unknown organisation code %r" % options["org"])
        else:
            roots = list(Organization.objects.filter(parent__isnull=True)[:2])
            if len(roots) != 1:
                raise CommandError("pass --org CODE: there is not exactly one root organisation")
            organization = roots[0]
        mapping = None
        if options["mapping"]:
            try:
                mapping = json.loads(Path(options["mapping"]).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise CommandError("cannot read mapping: %s" % exc) from exc
        content = path.read_bytes()
        try:
            batch = services.import_batch_create(
                actor=None,
                organization=organization,
                fmt=options["fmt"],
                filename=path.name,
                content=content,
                mapping=mapping,
                dry_run=options["dry_run"],
                enqueue=False,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        summary = services.import_batch_run(batch_id=batch.pk)
        for problem in summary.get("problem_list", [])[:20]:
            self.stderr.write("%s: %s" % (problem["where"], problem["reason"]))
        line = {k: v for k, v in summary.items() if k not in ("problem_list", "warning_list", "skipped_reports")}
        line["problem_examples"] = summary.get("problem_list", [])[:10]
        self.stdout.write(json.dumps(line, ensure_ascii=False, default=str))
