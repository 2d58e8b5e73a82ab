"""The relief card of the console home: files by class, overdue visits, notices to decide."""

from typing import Any

from django.urls import reverse
from django.utils import timezone

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.relief import selectors
from gonghui.relief.models import CaseStatus
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
    overdue_papers = selectors.paperwork_overdue_for_actor(actor=actor, today=today)
    paperwork = overdue_papers.count()
    if paperwork:
        escalated = overdue_papers.filter(paperwork_escalated_at__isnull=False).count()
        text = "%(n)s 件先行救助案件逾期未补手续，请催办" % {"n": paperwork}
        if escalated:
            text += "（其中 %(m)s 件已上报上级）" % {"m": escalated}
        todos.append(Todo(text, url=reverse("relief:paperwork")))
    pending = selectors.cases_for_actor(actor=actor).filter(
        status__in=(CaseStatus.SUBMITTED, CaseStatus.REVIEWED, CaseStatus.ESCALATED)
    )
    waiting = pending.count()
    if waiting:
        todos.append(Todo("%(n)s 件救助申请待审核或审批" % {"n": waiting}, url=reverse("relief:case_list")))
    awaiting = selectors.notices_awaiting_decision_for_actor(actor=actor).count()
    if awaiting:
        todos.append(Todo("%(n)s 户退档公示待审批" % {"n": awaiting}, url=reverse("relief:notices")))
    return Card(
        key="relief.files",
        title="困难帮扶",
        icon="bi-house-heart",
        figures=figures,
        todos=todos,
        empty_todo="没有逾期走访、待办的救助申请或待审批的退档",
        link_url=reverse("relief:home"),
        link_label="困难职工档案",
    )


def register_cards() -> None:
    register("relief.files", perm=ReliefPerm.VIEW, order=40, build=relief_card)
