"""`python manage.py import_members PATH --org CODE [--dry-run] [--keep-good-rows]`

Imports a CSV or XLSX member file as the system actor (audited like any import) and prints a
final JSON line: {"rows": …, "valid": …, "invalid": …, "created": …, "updated": …}."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.core.errors import DomainError
from gonghui.members import imports
from gonghui.organizations.models import Organization


class Command(BaseCommand):
    help = "Import members from a CSV or XLSX file into a union (dry run with --dry-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="CSV or XLSX file in the import template's layout")
        parser.add_argument(
            "--org",
            required=True,
            help="code of the grassroots union (or of a higher union whose file has a 工会代码 column)",
        )
        parser.add_argument("--dry-run", action="store_true", help="validate and report only; write nothing")
        parser.add_argument(
            "--keep-good-rows", action="store_true", help="import the valid rows even if some rows are invalid"
        )
        parser.add_argument("--workers", type=int, default=imports.default_workers(), help="validation processes")
        parser.add_argument("--show-issues", type=int, default=20, help="how many problem rows to print")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(code=options["org"]).first()
        if organization is None:
            raise CommandError("no organisation with code %r" % options["org"])

        def progress(done: int, total: int) -> None:
            sys.stderr.write(f"\r{done}/{total}")
            sys.stderr.flush()

        outcome: imports.Outcome | None = None
        failure: str | None = None
        try:
            _batch, outcome = imports.import_file(
                path=options["path"],
                organization=organization,
                dry_run=options["dry_run"],
                keep_good_rows=options["keep_good_rows"],
                workers=options["workers"],
                on_progress=progress if options["verbosity"] >= 1 and sys.stderr.isatty() else None,
            )
        except imports.Rejected as exc:
            outcome, failure = exc.outcome, exc.message
        except DomainError as exc:
            raise CommandError(exc.message) from None
        except FileNotFoundError:
            raise CommandError("file not found: %s" % options["path"]) from None
        if options["verbosity"] >= 1 and sys.stderr.isatty():
            sys.stderr.write("\n")
        for issue in outcome.issues[: options["show_issues"]]:
            sys.stderr.write(
                "第 %(row)s 行：%(errors)s\n"
                % {"row": issue.row_no, "errors": "；".join(f"{c}：{m}" for c, m in issue.errors)}
            )
        summary = outcome.as_json()
        if failure is not None:
            summary["created"] = summary["updated"] = 0
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if failure is not None:
            raise CommandError(failure)
