"""The relief card of the console home: files by class, overdue visits, notices to decide."""

from typing import Any

from django.urls import reverse
from django.utils import timezone

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.relief import selectors
from gonghui.relief.permissions import ReliefPerm
from gonghui.relief.rules import HardshipClass


def relief_card(actor: Any) -> Card:
    today = timezone.localdate()
    counts = selectors.counts_for_actor(actor=actor, today=today)
    figures = [
        Figure(str(c.label), str(counts.by_class[c.value]), reverse("relief:file_list") + "?class=" + c.value)
        for c in HardshipClass
        if c != HardshipClass.NONE
    ]
    figures.append(Figure("走访逾期", str(counts.overdue), reverse("relief:overdue")))
    todos = []
    if counts.overdue:
        todos.append(
            Todo(
                "%(n)s 户困难家庭超过 6 个月未走访，请尽快安排走访" % {"n": counts.overdue},
                url=reverse("relief:overdue"),
            )
        )
    awaiting = selectors.notices_awaiting_decision_for_actor(actor=actor).count()
    if awaiting:
        todos.append(Todo("%(n)s 户退档公示待审批" % {"n": awaiting}, url=reverse("relief:notices")))
    return Card(
        key="relief.files",
        title="困难帮扶",
        icon="bi-house-heart",
        figures=figures,
        todos=todos,
        empty_todo="没有逾期走访或待审批的退档",
        link_url=reverse("relief:home"),
        link_label="困难职工档案",
    )


def register_cards() -> None:
    register("relief.files", perm=ReliefPerm.VIEW, order=40, build=relief_card)
