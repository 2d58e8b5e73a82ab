"""Verify the audit trail: every chain's links, its head (sequence, hash and signature) and,
with `--anchors FILE`, the signed anchors `audit_anchor` wrote outside the database."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.core.audit import VerifyResult, anchors_read, remember_verification, verify_anchors, verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains (and signed anchors) and report the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--anchors", type=Path, help="the file audit_anchor appends signed chain heads to")

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        remember_verification(result)
        anchored: VerifyResult | None = None
        if result.broken_seq is None and options["anchors"] is not None:
            path: Path = options["anchors"]
            if not path.is_file():
                raise CommandError(f"锚点文件不存在：{path}")
            anchored = verify_anchors(anchors_read(path))
        failed = result if result.reason else anchored if anchored is not None and anchored.reason else None
        report: dict[str, Any] = {"ok": failed is None, "checked": result.checked}
        if anchored is not None:
            report["anchors_checked"] = anchored.checked
        if result.unkeyed_chains:
            report["unkeyed_chains"] = list(result.unkeyed_chains)
        if failed is not None:
            report.update(broken_chain=failed.broken_chain, first_broken_seq=failed.broken_seq, reason=failed.reason)
        self.stdout.write(json.dumps(report, ensure_ascii=False))
        if failed is None:
            return
        if failed.broken_chain is None:
            raise CommandError(f"审计锚点校验失败：{failed.reason}")
        raise CommandError(f"第 {failed.broken_chain} 条审计链在第 {failed.broken_seq} 条记录处断裂：{failed.reason}")
