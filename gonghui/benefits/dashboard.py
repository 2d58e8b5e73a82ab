"""The benefits cards of the console home: 结算 for 财务 and today's redemptions for 核销员."""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from gonghui.benefits import selectors
from gonghui.benefits.forms import fen_to_yuan
from gonghui.benefits.permissions import BenefitPerm
from gonghui.core.dashboard import Card, Figure, Todo, register

SETTLEMENT_ROWS_SHOWN = 8


def settlement_card(actor: Any) -> Card:
    due = selectors.settlement_due_for_actor(actor=actor, today=timezone.localdate())
    settlement_url = reverse("benefits:settlement")
    period = {"from": due.last_month_from.isoformat(), "to": due.last_month_to.isoformat()}
    return Card(
        key="benefits.settlement",
        title="核销结算",
        icon="bi-cash-coin",
        figures=[
            Figure("上月待结算（元）", fen_to_yuan(due.last_month_fen)),
            Figure("上月核销笔数", str(due.last_month_count)),
            Figure("本月至今（元）", fen_to_yuan(due.month_to_date_fen)),
            Figure("本月至今笔数", str(due.month_to_date_count)),
        ],
        todos=[
            Todo(
                "%(point)s：上月 %(n)s 笔，¥%(yuan)s 待对账结算"
                % {"point": p.point_name, "n": p.count, "yuan": fen_to_yuan(p.value_fen)},
                url="%s?%s" % (settlement_url, urlencode({"point": p.point_id, **period})),
            )
            for p in due.last_month[:SETTLEMENT_ROWS_SHOWN]
        ],
        empty_todo="上月没有需要结算的核销",
        link_url=settlement_url,
        link_label="结算对账",
    )


def clerk_card(actor: Any) -> Card:
    day = selectors.clerk_day_for_actor(actor=actor, today=timezone.localdate())
    return Card(
        key="benefits.clerk",
        title="今日核销",
        icon="bi-qr-code-scan",
        figures=[
            Figure("今日核销笔数", str(day.count)),
            Figure("今日核销金额（元）", fen_to_yuan(day.value_fen)),
            Figure("今日已冲正", str(day.reversed_count)),
        ],
        todos=[
            Todo(
                "%(point)s：%(n)s 笔，¥%(yuan)s"
                % {"point": p.point_name, "n": p.count, "yuan": fen_to_yuan(p.value_fen)}
            )
            for p in day.points
        ],
        empty_todo="今天还没有核销",
        link_url=reverse("benefits:clerk_home"),
        link_label="去核销",
    )


def register_cards() -> None:
    register("benefits.settlement", perm=BenefitPerm.CAMPAIGN_REPORT, order=20, build=settlement_card)
    register("benefits.clerk", perm=BenefitPerm.COUPON_REDEEM, order=10, build=clerk_card)
