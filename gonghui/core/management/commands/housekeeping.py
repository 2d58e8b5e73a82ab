import json
from typing import Any

from django.core.management.base import BaseCommand

from gonghui.core import housekeeping


class Command(BaseCommand):
    help = "Prune rows that only matter for a while (nonces, idempotent answers, old uploads …)."

    def handle(self, *args: Any, **options: Any) -> None:
        removed: dict[str, int] = {}
        for chore in housekeeping.chores():
            removed[chore.name] = chore.run()
            self.stderr.write(f"{chore.label}：清理 {removed[chore.name]} 条")
        self.stdout.write(json.dumps({"removed": removed}, ensure_ascii=False))
