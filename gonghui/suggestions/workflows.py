"""The item's declared workflow (see `gonghui.core.workflow`): union staff accept, merge or
decline an item, send it to departments (整改通知单) and close it (销账). The submitter's own
steps (confirming with a score, re-opening) are taken by `services` for someone who holds no
staff role; they are written into the same history."""

from gonghui.core.workflow import Transition, Workflow
from gonghui.suggestions.models import Item, ItemStatus
from gonghui.suggestions.permissions import SuggestionPerm

S = ItemStatus

ITEM = Workflow(
    name="suggestion",
    noun="该诉求",
    model=Item,
    states=ItemStatus,
    transitions=(
        Transition("accept", "受理", (S.SUBMITTED,), S.ACCEPTED, SuggestionPerm.HANDLE),
        Transition(
            "decline", "不予受理", (S.SUBMITTED, S.ACCEPTED), S.DECLINED, SuggestionPerm.HANDLE, reason_required=True
        ),
        Transition("merge", "合并", (S.SUBMITTED, S.ACCEPTED), S.MERGED, SuggestionPerm.HANDLE),
        Transition("assign", "发整改通知单", (S.ACCEPTED, S.IN_PROGRESS), S.IN_PROGRESS, SuggestionPerm.HANDLE),
        Transition("close", "销账", (S.ACCEPTED, S.IN_PROGRESS), S.CLOSED, SuggestionPerm.HANDLE),
    ),
)
