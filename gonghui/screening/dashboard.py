"""The screening card of the console home: candidates waiting to be checked."""

from typing import Any

from django.urls import reverse

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.screening import selectors
from gonghui.screening.permissions import ScreeningPerm


def screening_card(actor: Any) -> Card:
    open_count = selectors.open_candidates_count(actor=actor)
    todos = []
    if open_count:
        todos.append(
            Todo(
                "最近一次筛查有 %(n)s 条线索待核实" % {"n": open_count},
                url=reverse("screening:candidates"),
            )
        )
    return Card(
        key="screening.review",
        title="筛查比对",
        icon="bi-search",
        figures=[
            Figure("待核实线索", str(open_count)),
            Figure("可用比对数据", str(selectors.datasets_ready_count(actor=actor))),
        ],
        todos=todos,
        empty_todo="没有待核实的筛查线索",
        link_url=reverse("screening:home"),
        link_label="筛查比对",
    )


def register_cards() -> None:
    register("screening.review", perm=ScreeningPerm.REVIEW, order=40, build=screening_card)
