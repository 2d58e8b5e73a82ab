"""Spreadsheet exports of member lists. Sensitive columns are always masked."""

import io
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from openpyxl import Workbook

from gonghui.core import audit
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


def _xlsx(
    title: str, headers: tuple[str, ...], qs: QuerySet[Member], row: Callable[[Member], tuple[Any, ...]]
) -> tuple[bytes, int]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    rows = 0
    for member in qs.select_related("organization")[:EXPORT_ROW_LIMIT].iterator(chunk_size=2000):
        sheet.append(row(member))
        rows += 1
    if rows == EXPORT_ROW_LIMIT:
        sheet.append((f"（仅导出前 {EXPORT_ROW_LIMIT} 条，请缩小筛选范围）",))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), rows


def members_xlsx(qs: QuerySet[Member]) -> tuple[bytes, int]:
    return _xlsx(
        "会员",
        HEADERS,
        qs,
        lambda member: (
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
        ),
    )


def members_export(*, actor: Any, qs: QuerySet[Member], filters: dict[str, str]) -> bytes:
    """Export a list the actor's selector produced; the export and its size are audited."""
    content, rows = members_xlsx(qs)
    audit.record(actor=actor, action="member.export", detail={"rows": rows, "filters": filters})
    return content


def card_number_printed(card_no: str) -> str:
    """`8320500000000012345` → `8320 5000 0000 0012 345`, as embossed on a card."""
    return " ".join(card_no[i : i + 4] for i in range(0, len(card_no), 4))


def cards_export(*, actor: Any, qs: QuerySet[Member], filters: dict[str, str]) -> bytes:
    """制卡数据: what a card printer needs for the members in good standing of a list — the
    card face (name, card number, union, date joined) and nothing more; audited like any
    export."""
    content, rows = _xlsx(
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
    audit.record(actor=actor, action="member.card_export", detail={"rows": rows, "filters": filters})
    return content
