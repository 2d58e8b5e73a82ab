"""`manage.py relief_paperwork_escalate` (daily, from cron): fast-track cases whose papers are
past due are reported to the union above, once each (`cases.paperwork_escalate`)."""

from typing import Any

from django.core.management.base import BaseCommand

from gonghui.relief.cases import paperwork_escalate


class Command(BaseCommand):
    help = "将逾期未补手续的先行救助案件上报上级工会"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("已上报 %d 件逾期未补手续的先行救助案件" % paperwork_escalate())
