"""The spreadsheets of an import: the template and the error report."""

import io
import json
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from gonghui.core import crypto, exports, tabular
from gonghui.members.import_models import ImportBatch
from gonghui.members.imports.batches import _check_import_perm
from gonghui.members.imports.columns import COLUMNS, ROW_PURPOSE

_HEADER_FILL = PatternFill("solid", fgColor="FDE9E7")
_REQUIRED_FONT = Font(bold=True, color="C0392B")
_OPTIONAL_FONT = Font(bold=True)


def import_template() -> bytes:
    """The XLSX template: one header row with Chinese headers (required ones in red), drop-down
    lists for the choice columns, text format for numbers that must not turn into numbers, and
    a sheet explaining every column."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "会员信息"
    lists = workbook.create_sheet("可选值")
    help_sheet = workbook.create_sheet("填写说明")
    rows = 5000
    for col, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=col).column_letter
        cell = sheet.cell(row=1, column=col, value=column.header)
        cell.font = _REQUIRED_FONT if column.required else _OPTIONAL_FONT
        cell.fill = _HEADER_FILL
        if column.help:
            cell.comment = Comment(column.help, "工会服务平台")
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            for row in range(2, rows + 2):
                sheet.cell(row=row, column=col).number_format = "@"
        if column.choices and column.key != "tags":
            lists.cell(row=1, column=col, value=column.header)
            for i, label in enumerate(column.choices, start=2):
                lists.cell(row=i, column=col, value=label)
            last = len(column.choices) + 1
            validation = DataValidation(
                type="list",
                formula1=f"='可选值'!${letter}$2:${letter}${last}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="取值无效",
                error="请从下拉列表中选择",
            )
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{rows + 1}")
    sheet.freeze_panes = "A2"
    help_sheet.append(["列名", "是否必填", "说明", "可填的值"])
    for cell in help_sheet[1]:
        cell.font = _OPTIONAL_FONT
    for column in COLUMNS:
        help_sheet.append(
            [
                column.header,
                "必填" if column.required else "选填",
                column.help,
                "、".join(c for c in column.choices if c),
            ]
        )
    help_sheet.append([])
    help_sheet.append(
        [
            "说明",
            "",
            "第一行是表头，请勿修改；从第二行起每行一位会员。证件号码已登记的会员会按文件更新信息（文件中没有的列保持不变）。",
        ]
    )
    help_sheet.append(
        ["", "", "整批导入时，只要有一行未通过校验，整批都不会导入；也可以在确认导入时选择只导入校验通过的行。"]
    )
    for letter, width in (("A", 14), ("B", 10), ("C", 60), ("D", 60)):
        help_sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_error_report(*, actor: Any, batch: ImportBatch) -> exports.Export:
    """The rows that failed, as uploaded, with 行号 in front and an error column after
    (`tabular.error_report`): fix them in place and upload the file again. Uploaded cells are
    written back as text, never as formulas."""
    _check_import_perm(actor, batch.organization)

    def rows() -> Iterator[tabular.RowError]:
        for issue in batch.issues.order_by("row_no").iterator(chunk_size=2000):
            cells = json.loads(crypto.decrypt(issue.raw_encrypted, purpose=ROW_PURPOSE))
            yield tabular.RowError(issue.row_no, cells, "；".join(issue.messages))

    return tabular.error_report(
        actor=actor,
        action="member.import_report",
        filename="导入问题行_批次%(id)s.xlsx" % {"id": batch.pk},
        header=batch.columns,
        rows=rows(),
        obj=batch,
        organization=batch.organization,
    )
