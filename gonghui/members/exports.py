"""Spreadsheet exports of member lists. Sensitive columns are always masked."""

import io
from typing import Any

from django.db.models import QuerySet
from openpyxl import Workbook

from gonghui.core import audit
from gonghui.members.models import Member

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


def members_xlsx(qs: QuerySet[Member]) -> tuple[bytes, int]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("会员")
    sheet.append(HEADERS)
    rows = 0
    for member in qs.select_related("organization")[:EXPORT_ROW_LIMIT].iterator(chunk_size=2000):
        sheet.append(
            (
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
        )
        rows += 1
    if rows == EXPORT_ROW_LIMIT:
        sheet.append((f"（仅导出前 {EXPORT_ROW_LIMIT} 条，请缩小筛选范围）",))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), rows


def members_export(*, actor: Any, qs: QuerySet[Member], filters: dict[str, str]) -> bytes:
    """Export a list the actor's selector produced; the export and its size are audited."""
    content, rows = members_xlsx(qs)
    audit.record(actor=actor, action="member.export", detail={"rows": rows, "filters": filters})
    return content
