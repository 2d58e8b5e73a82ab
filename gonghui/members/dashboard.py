"""The members card of the console home: who saw members' sensitive data lately (审计员)."""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.core.models import AuditResult
from gonghui.core.permissions import Perm
from gonghui.core.selectors import recent_audit_events_for_actor

SENSITIVE_ACTIONS = {
    "member.reveal_id": "查看完整证件号码",
    "member.export": "导出会员信息",
    "member.card_export": "导出制卡数据",
}
RECENT = 8


def sensitive_reveals_card(actor: Any) -> Card:
    events = recent_audit_events_for_actor(actor=actor, actions=tuple(SENSITIVE_ACTIONS), limit=RECENT)
    audit_url = reverse("core:audit_list")
    return Card(
        key="members.sensitive_reveals",
        title="近期敏感信息查看",
        icon="bi-eye",
        figures=[
            Figure("近期记录（最多 %(n)s 条）" % {"n": RECENT}, str(len(events))),
            Figure("其中被拒绝", str(sum(1 for e in events if e.result == AuditResult.DENIED))),
        ],
        todos=[
            Todo(
                "%(at)s %(who)s %(what)s%(refused)s"
                % {
                    "at": timezone.localtime(e.created_at).strftime("%m-%d %H:%M"),
                    "who": e.actor_label or "系统",
                    "what": SENSITIVE_ACTIONS[e.action],
                    "refused": "（被拒绝）" if e.result == AuditResult.DENIED else "",
                },
                url="%s?%s" % (audit_url, urlencode({"action": e.action, "object_id": e.object_id})),
            )
            for e in events
        ],
        empty_todo="近期没有敏感信息查看记录",
        link_url="%s?%s" % (audit_url, urlencode({"action": "member."})),
        link_label="会员相关审计日志",
    )


def register_cards() -> None:
    register("members.sensitive_reveals", perm=Perm.AUDIT_READ, order=60, build=sensitive_reveals_card)
