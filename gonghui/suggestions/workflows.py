"""The item's declared workflow (see `gonghui.core.workflow`): union staff accept, merge or
decline an item, send it to departments (整改通知单) and close it (销账); the submitter —
the member who filed it, or whoever holds an anonymous item's tracking code — confirms the
closure with a score or re-opens it, as applicant's transitions of the same workflow."""

from typing import Any

from gonghui.core.workflow import Transition, Workflow
from gonghui.suggestions.models import Item, ItemStatus
from gonghui.suggestions.permissions import SuggestionPerm
from gonghui.suggestions.tracking import code_matches

S = ItemStatus


def is_submitter(item: Item, actor: Any, code: str) -> bool:
    """An anonymous item's submitter is whoever holds its tracking code; a member's item's is
    the member's own account."""
    if code:
        return code_matches(item.tracking_hash, code)
    user_id = getattr(actor, "pk", None)
    member = item.member if item.member_id is not None else None
    return user_id is not None and member is not None and member.user_id == user_id


ITEM = Workflow(
    name="suggestion",
    noun="该诉求",
    model=Item,
    states=ItemStatus,
    applicant=is_submitter,
    applicant_label="提出人",
    transitions=(
        Transition("accept", "受理", (S.SUBMITTED,), S.ACCEPTED, SuggestionPerm.HANDLE),
        Transition(
            "decline", "不予受理", (S.SUBMITTED, S.ACCEPTED), S.DECLINED, SuggestionPerm.HANDLE, reason_required=True
        ),
        Transition("merge", "合并", (S.SUBMITTED, S.ACCEPTED), S.MERGED, SuggestionPerm.HANDLE),
        Transition("assign", "发整改通知单", (S.ACCEPTED, S.IN_PROGRESS), S.IN_PROGRESS, SuggestionPerm.HANDLE),
        Transition("close", "销账", (S.ACCEPTED, S.IN_PROGRESS), S.CLOSED, SuggestionPerm.HANDLE),
        Transition("confirm", "确认并评价", (S.CLOSED,), S.CLOSED, by_applicant=True),
        Transition(
            "reopen", "重新办理", (S.CLOSED,), S.IN_PROGRESS, by_applicant=True, reason_required=True, reason_max=300
        ),
    ),
)
