"""Spreadsheet exports of member lists. Sensitive columns are always masked.

A list of up to `settings.EXPORT_SYNC_ROWS` members downloads at once; a longer one (a
province's registry) is a background export job (`core.export_jobs`) that streams every row."""

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.db.models import QuerySet

from gonghui.core import exports
from gonghui.core.export_jobs import ExportPlan
from gonghui.core.plans import custom_plans
from gonghui.members import export_names, selectors
from gonghui.members.models import Member, MembershipStatus
from gonghui.members.permissions import MemberPerm

MEMBERS_EXPORT = "members.list"
CARDS_EXPORT = "members.cards"
HEADERS = (
    "会员编号",
    "姓名",
    "性别",
    "出生日期",
    "证件号码",
    "手机号",
    "所属工会",
    "工会代码",
    "会籍状态",
    "入会日期",
    "标签",
)
CARD_HEADERS = ("会员卡号", "姓名", "性别", "所属工会", "工会代码", "入会时间", "会员编号")


def _rows(qs: QuerySet[Member], row: Callable[[Member], tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    # A server-side cursor on PostgreSQL: rows stream in chunks, memory stays flat.
    for member in qs.select_related("organization").iterator(chunk_size=2000):
        yield row(member)


def _sheet(
    title: str, headers: tuple[str, ...], qs: QuerySet[Member], row: Callable[[Member], tuple[Any, ...]]
) -> exports.Sheet:
    return exports.Sheet(title=title, header=headers, rows=_rows(qs, row))


def _member_row(member: Member) -> tuple[Any, ...]:
    return (
        member.member_no,
        member.name,
        member.get_sex_display(),
        member.birth_date.isoformat(),
        member.id_masked,
        member.phone_masked,
        member.organization.name,
        member.organization.code,
        member.get_status_display(),
        member.joined_on.isoformat(),
        "、".join(member.tag_labels),
    )


def members_export(*, actor: Any, qs: QuerySet[Member], filters: dict[str, str], filename: str) -> exports.Export:
    """Export a list the actor's selector produced; the export and its size are audited."""
    return exports.xlsx_export(
        actor=actor,
        action="member.export",
        filename=filename,
        sheets=[_sheet("会员", HEADERS, qs, _member_row)],
        detail={"filters": filters},
    )


def card_number_printed(card_no: str) -> str:
    """`8320500000000012345` → `8320 5000 0000 0012 345`, as embossed on a card."""
    return " ".join(card_no[i : i + 4] for i in range(0, len(card_no), 4))


def _card_row(member: Member) -> tuple[Any, ...]:
    return (
        card_number_printed(member.card_no),
        member.name,
        member.get_sex_display(),
        member.organization.name,
        member.organization.code,
        member.joined_on.strftime("%Y年%m月"),
        member.member_no,
    )


def cards_export(*, actor: Any, qs: QuerySet[Member], filters: dict[str, str], filename: str) -> exports.Export:
    """制卡数据: what a card printer needs for the members in good standing of a list — the
    card face (name, card number, union, date joined) and nothing more; audited like any
    export."""
    return exports.xlsx_export(
        actor=actor,
        action="member.card_export",
        filename=filename,
        sheets=[_sheet("制卡数据", CARD_HEADERS, qs.filter(status=MembershipStatus.ACTIVE), _card_row)],
        detail={"filters": filters},
    )


def card_list(qs: QuerySet[Member]) -> QuerySet[Member]:
    return qs.filter(status=MembershipStatus.ACTIVE)


def _plan(actor: Any, params: Mapping[str, Any], *, perm: str, cards: bool) -> ExportPlan:
    qs, org = selectors.member_list_from_filters(actor=actor, params=params, perm=perm)
    if cards:
        qs = card_list(qs)
        name = export_names.cards_export_name(actor=actor, perm=perm, organization=org)
    else:
        name = export_names.members_export_name(actor=actor, perm=perm, organization=org)
    with custom_plans():
        total = qs.count()
    return ExportPlan(
        filename=name,
        title="制卡数据" if cards else "会员",
        header=CARD_HEADERS if cards else HEADERS,
        rows=_rows(qs, _card_row if cards else _member_row),
        total=total,
        detail={"filters": dict(params)},
    )


def members_export_plan(actor: Any, params: Mapping[str, Any]) -> ExportPlan:
    """The whole filtered list, for the background export job."""
    return _plan(actor, params, perm=MemberPerm.MEMBER_VIEW, cards=False)


def cards_export_plan(actor: Any, params: Mapping[str, Any]) -> ExportPlan:
    return _plan(actor, params, perm=MemberPerm.MEMBER_EDIT, cards=True)
