"""Spreadsheet exports of member lists. Sensitive columns are always masked."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from gonghui.core import exports
from gonghui.members.models import Member, MembershipStatus

EXPORT_ROW_LIMIT = 100_000
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


def _limit_note(rows: int) -> tuple[str, ...]:
    if rows < EXPORT_ROW_LIMIT:
        return ()
    return ("（仅导出前 %(n)s 条，请缩小筛选范围）" % {"n": EXPORT_ROW_LIMIT},)


def _sheet(
    title: str, headers: tuple[str, ...], qs: QuerySet[Member], row: Callable[[Member], tuple[Any, ...]]
) -> exports.Sheet:
    members = qs.select_related("organization")[:EXPORT_ROW_LIMIT].iterator(chunk_size=2000)
    return exports.Sheet(title=title, header=headers, rows=(row(m) for m in members), footer=_limit_note)


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


def cards_export(*, actor: Any, qs: QuerySet[Member], filters: dict[str, str], filename: str) -> exports.Export:
    """制卡数据: what a card printer needs for the members in good standing of a list — the
    card face (name, card number, union, date joined) and nothing more; audited like any
    export."""
    return exports.xlsx_export(
        actor=actor,
        action="member.card_export",
        filename=filename,
        sheets=[
            _sheet(
                "制卡数据",
                CARD_HEADERS,
                qs.filter(status=MembershipStatus.ACTIVE),
                lambda member: (
                    card_number_printed(member.card_no),
                    member.name,
                    member.get_sex_display(),
                    member.organization.name,
                    member.organization.code,
                    member.joined_on.strftime("%Y年%m月"),
                    member.member_no,
                ),
            )
        ],
        detail={"filters": filters},
    )
