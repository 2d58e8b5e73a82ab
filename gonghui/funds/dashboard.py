"""The funds card of the console home: this year's budgets of the user's organisation."""

from typing import Any

from django.urls import reverse
from django.utils import timezone

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.core.parsing import format_yuan
from gonghui.funds import selectors
from gonghui.funds.permissions import FundPerm


def funds_card(actor: Any) -> Card:
    year = timezone.localdate().year
    figures = selectors.home_figures(actor=actor, year=year)
    link = reverse("funds:budget_list")
    if figures is None:
        return Card(key="funds.usage", title="帮扶资金", icon="bi-cash-coin", link_url=link, link_label="资金预算")
    todos = [
        Todo(
            "“%(budget)s”已使用 %(usage)s，剩余 ¥%(left)s"
            % {"budget": b, "usage": b.usage_label, "left": format_yuan(b.remaining_fen)},
            url=reverse("funds:budget_detail", args=[b.pk]),
        )
        for b in figures.nearly_used
    ]
    return Card(
        key="funds.usage",
        title=(
            "帮扶资金 · %(org)s %(year)s 年" % {"org": figures.organization.name, "year": year}
            if figures.organization
            else "帮扶资金 · %(year)s 年" % {"year": year}
        ),
        icon="bi-cash-coin",
        figures=[
            Figure("预算", "¥" + format_yuan(figures.amount_fen)),
            Figure("已支出", "¥" + format_yuan(figures.spent_fen)),
            Figure("剩余", "¥" + format_yuan(figures.remaining_fen)),
            Figure("使用率", figures.usage_label),
        ],
        todos=todos,
        empty_todo="没有即将用完的预算" if figures.amount_fen else "本年度尚未编制帮扶资金预算",
        link_url=link,
        link_label="资金预算",
    )


def register_cards() -> None:
    register("funds.usage", perm=FundPerm.FUND_VIEW, order=40, build=funds_card)
