"""A member's 修改历史 as a person reads it: Chinese action names, field labels (the model's
verbose names) and the Chinese names of choice values, instead of the stored codes."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist

from gonghui.members.models import Member, MemberHistory, tags_from_mask

ACTION_LABELS = {
    "create": "登记入会",
    "update": "修改资料",
    "status": "变更会籍状态",
    "transfer": "转会",
    "import": "批量导入更新",
}
EMPTY = "（空）"


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    changed_at: Any
    actor: Any
    action: str
    reason: str
    changes: list[Change]


def _label(field_name: str) -> str:
    try:
        field = Member._meta.get_field(field_name)
    except FieldDoesNotExist:
        return field_name
    return str(getattr(field, "verbose_name", field_name))


def _value(field_name: str, value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if field_name == "tags":
        return "、".join(tags_from_mask(int(value))) or EMPTY
    try:
        field = Member._meta.get_field(field_name)
    except FieldDoesNotExist:
        return str(value)
    choices = dict(getattr(field, "flatchoices", ())) if getattr(field, "choices", None) else {}
    return str(choices.get(value, value))


def history_entry(row: MemberHistory) -> HistoryEntry:
    return HistoryEntry(
        version=row.version,
        changed_at=row.changed_at,
        actor=row.actor,
        action=ACTION_LABELS.get(row.action, row.action),
        reason=row.reason,
        changes=[
            Change(label=_label(name), old=_value(name, pair[0]), new=_value(name, pair[1]))
            for name, pair in row.changes.items()
        ],
    )


def member_history(*, member: Member, limit: int = 50) -> list[HistoryEntry]:
    """The latest `limit` entries of a member the caller has already fetched for its actor."""
    rows = member.history.select_related("actor").order_by("-version")[:limit]
    return [history_entry(row) for row in rows]
