"""Adjudicate stays with the shipped plans, for checking the rules from outside: JSON lines in
(stdin or a file), one JSON line out per input. A bad line answers {"line", "error"} in
Chinese and the next line is read."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gonghui.mutual_aid.lines import LineError, adjudicate_line


class Command(BaseCommand):
    help = "按内置互助方案（standard、day_allowance）逐行计算住院互助金"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="JSON lines 文件；省略时读标准输入")

    def handle(self, *args: Any, **options: Any) -> None:
        source = open(options["path"], encoding="utf-8") if options["path"] else sys.stdin  # noqa: SIM115
        try:
            for number, raw in enumerate(source, start=1):
                line = raw.strip()
                if not line:
                    continue
                try:
                    answer: dict[str, Any] = adjudicate_line(line)
                except LineError as exc:
                    answer = {"line": number, "error": str(exc)}
                self.stdout.write(json.dumps(answer, ensure_ascii=False))
        finally:
            if source is not sys.stdin:
                source.close()
