"""The kernel's own card on the console home: the state of the audit trail's hash chain."""

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from gonghui.core import audit
from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.core.permissions import Perm

TAIL_PER_CHAIN = 200


def audit_chain_card(actor: Any) -> Card:
    tail = audit.verify_chain_tail(per_chain=TAIL_PER_CHAIN)
    last = audit.last_verification()
    todos: list[Todo] = []
    if tail.broken_seq is not None:
        todos.append(
            Todo(
                "第 %(chain)s 条审计链在第 %(seq)s 条记录处断裂：%(reason)s，请立即运行完整校验并上报"
                % {"chain": tail.broken_chain, "seq": tail.broken_seq, "reason": tail.reason}
            )
        )
    if last is None:
        last_label = "尚未运行"
        todos.append(Todo("尚无完整校验记录：请运维人员运行 manage.py audit_verify"))
    else:
        at = timezone.localtime(dt.datetime.fromisoformat(last["at"]))
        last_label = "%(at)s %(state)s" % {
            "at": at.strftime("%Y-%m-%d %H:%M"),
            "state": "通过" if last["ok"] else "未通过",
        }
        if not last["ok"]:
            todos.append(Todo("上次完整校验未通过：%(reason)s" % {"reason": last["reason"]}))
    return Card(
        key="core.audit_chain",
        title="审计链",
        icon="bi-link-45deg",
        figures=[
            Figure("最新记录抽查", "完好" if tail.broken_seq is None else "断裂"),
            Figure("抽查记录数", str(tail.checked)),
            Figure("上次完整校验", last_label),
        ],
        todos=todos,
        empty_todo="审计链完好，无待办事项",
        link_url=reverse("core:audit_list"),
        link_label="审计日志",
    )


def register_cards() -> None:
    register("core.audit_chain", perm=Perm.AUDIT_READ, order=50, build=audit_chain_card)
