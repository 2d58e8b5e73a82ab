"""The mutual-aid card of the console home: the claims waiting in the user's sub-tree."""

from typing import Any

from django.urls import reverse

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.mutual_aid import selectors
from gonghui.mutual_aid.models import ClaimStatus
from gonghui.mutual_aid.permissions import AidPerm


def claims_card(actor: Any) -> Card:
    counts = selectors.claim_counts_for_actor(actor=actor)
    link = reverse("mutual_aid:claim_list")
    waiting = [(ClaimStatus.SUBMITTED, "待初审"), (ClaimStatus.REVIEWED, "待审批"), (ClaimStatus.APPROVED, "待支付")]
    return Card(
        key="mutual_aid.claims",
        title="医疗互助结报",
        icon="bi-hospital",
        figures=[
            Figure(label, str(counts.get(status, 0)), url="%s?status=%s" % (link, status)) for status, label in waiting
        ],
        todos=[
            Todo("%(n)s 笔结报%(label)s" % {"n": counts[status], "label": label}, url="%s?status=%s" % (link, status))
            for status, label in waiting
            if counts.get(status)
        ],
        empty_todo="没有等待办理的结报",
        link_url=link,
        link_label="结报",
    )


def register_cards() -> None:
    register("mutual_aid.claims", perm=AidPerm.CLAIM_HANDLE, order=45, build=claims_card)
