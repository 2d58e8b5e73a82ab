"""Append the signed heads of every audit chain to a file outside the database.

Run it on a schedule (cron, hourly) with the file on storage the database's administrators
cannot write; `audit_verify --anchors FILE` then proves that no event up to each anchor has been
rewritten or deleted, even by someone who recomputed every hash."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gonghui.core.audit import anchor_append, anchor_take


class Command(BaseCommand):
    help = "Append the signed audit chain heads to an anchor file (kept outside the database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, required=True, help="anchor file, appended to")

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = anchor_take()
        anchor_append(options["output"], anchor)
        events = sum(seq for _, seq, _ in anchor.heads)
        self.stdout.write(json.dumps({"at": anchor.at, "chains": len(anchor.heads), "events": events}))
