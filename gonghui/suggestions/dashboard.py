"""The suggestions card of the console home: open items, at risk and overdue."""

from typing import Any

from django.urls import reverse

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.suggestions import selectors, sla
from gonghui.suggestions.models import OPEN_STATUSES, ItemStatus
from gonghui.suggestions.permissions import SuggestionPerm


def suggestions_card(actor: Any) -> Card:
    open_items = list(
        selectors.items_for_actor(actor=actor).filter(status__in=OPEN_STATUSES).order_by("received_at")[:200]
    )
    rows = selectors.with_clocks(open_items)
    breached = [r for r in rows if r.clock and r.clock.state == sla.SlaState.BREACHED]
    at_risk = [r for r in rows if r.clock and r.clock.state == sla.SlaState.AT_RISK]
    waiting = sum(1 for i in open_items if i.status == ItemStatus.SUBMITTED)
    return Card(
        key="suggestions.open",
        title="职工诉求",
        icon="bi-envelope-paper",
        figures=[
            Figure("办理中", str(len(open_items)), reverse("suggestions:inbox")),
            Figure("待受理", str(waiting), reverse("suggestions:inbox") + "?status=submitted"),
            Figure("临期", str(len(at_risk))),
            Figure("超时", str(len(breached))),
        ],
        todos=[
            Todo(
                "超时：%(n)s %(t)s" % {"n": r.item.number, "t": r.item.title},
                reverse("suggestions:item", args=[r.item.pk]),
            )
            for r in breached[:5]
        ],
        empty_todo="没有超时的诉求",
        link_url=reverse("suggestions:inbox"),
        link_label="诉求台账",
    )


def register_cards() -> None:
    register("suggestions.open", perm=SuggestionPerm.VIEW, order=50, build=suggestions_card)
