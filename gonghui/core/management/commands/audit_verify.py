import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gonghui.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        if result.broken_seq is None:
            self.stdout.write(json.dumps({"ok": True, "checked": result.checked}, ensure_ascii=False))
            return
        self.stdout.write(
            json.dumps(
                {
                    "ok": False,
                    "checked": result.checked,
                    "broken_chain": result.broken_chain,
                    "first_broken_seq": result.broken_seq,
                    "reason": result.reason,
                },
                ensure_ascii=False,
            )
        )
        raise CommandError(f"第 {result.broken_chain} 条审计链在第 {result.broken_seq} 条记录处断裂：{result.reason}")
