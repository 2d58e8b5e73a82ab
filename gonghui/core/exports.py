"""Exports: every spreadsheet or CSV file a user downloads is built here.

A cell of an export holds what a member or an uploaded file typed, and a spreadsheet program
runs a text that starts with `=` (or, in CSV, `+ - @`, a tab or a CR) as a formula: a member
named `=HYPERLINK("http://x","点我")` would put a live link into the reader's workbook. So:

- XLSX: every text is written as a text cell (`data_type` "s"), never as a formula; numbers,
  decimals and dates stay what they are.
- CSV: a text that starts with one of those characters is prefixed with `'`, which the
  spreadsheet shows as text and drops from the display.

Every export is audited — an event naming the export and its row count, in the caller's
transaction — and is downloaded with `Cache-Control: no-store` under a name that may be
Chinese (`filename*`, RFC 5987). Build with `xlsx_export` / `csv_export`, answer with
`download`.
"""

import contextlib
import csv
import datetime as dt
import decimal
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db import transaction
from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gonghui.core import audit
from gonghui.core.downloads import CSV, XLSX, attachment_response

CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True)


@dataclass
class Sheet:
    """One worksheet: a bold header row, then data rows (an iterable, consumed once)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    width: int | None = None
    # Closing lines below the data, given the sheet's row count (e.g. "only the first N rows").
    footer: Callable[[int], Sequence[str]] | None = None


@dataclass(frozen=True)
class Export:
    """A built file: what to send and how many data rows it holds."""

    content: bytes
    filename: str
    content_type: str
    rows: int


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal | dt.date | dt.time)
    ):
        value = str(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # openpyxl marks a text that starts with "=" as a formula; it is data here.
        cell.data_type = "s"
    if bold:
        cell.font = _HEADER_FONT
    return cell


def _xlsx_value(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """A data cell's value as openpyxl takes it: numbers and dates as they are, everything else
    as text. Only a text that openpyxl would read as a formula (it starts with "=") needs a
    cell object of its own; the rest go in as plain values, which the write-only sheet writes
    through one reused cell (several times faster on a long export)."""
    if value is None or (
        not isinstance(value, bool) and isinstance(value, int | float | decimal.Decimal | dt.date | dt.time)
    ):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith("="):
        return _xlsx_cell(sheet, text)
    return text


def xlsx_bytes(sheets: Sequence[Sheet]) -> tuple[bytes, int]:
    """The workbook (streamed, write-only) and the number of data rows over all sheets."""
    buffer = io.BytesIO()
    count = xlsx_write(buffer, sheets)
    return buffer.getvalue(), count


def xlsx_write(target: str | os.PathLike[str] | IO[bytes], sheets: Sequence[Sheet]) -> int:
    """Write the workbook to a path or binary file, streaming: rows go to openpyxl's write-only
    sheets (temporary files), so memory stays flat however many rows there are. Returns the
    number of data rows."""
    workbook = Workbook(write_only=True)
    count = 0
    try:
        for spec in sheets:
            count += _write_sheet(workbook, spec)
    except BaseException:
        # Stopped half-way (a cancelled export): close what was opened, its temporary files too.
        for opened in workbook.worksheets:
            with contextlib.suppress(Exception):
                opened.close()
        raise
    workbook.save(target)
    return count


def _write_sheet(workbook: Workbook, spec: Sheet) -> int:
    sheet = workbook.create_sheet(spec.title)
    if spec.width:
        for index in range(1, len(spec.header) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = spec.width
    sheet.append([_xlsx_cell(sheet, title, bold=True) for title in spec.header])
    rows = 0
    for row in spec.rows:
        sheet.append([_xlsx_value(sheet, value) for value in row])
        rows += 1
    for line in spec.footer(rows) if spec.footer else ():
        sheet.append([_xlsx_value(sheet, line)])
    return rows


def csv_text(value: Any) -> Any:
    """A CSV cell: texts that a spreadsheet would run as a formula get a leading `'`."""
    if value is None:
        return ""
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return value
    text = value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
    if text.startswith(CSV_FORMULA_STARTS):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> tuple[bytes, int]:
    """UTF-8 with a byte-order mark (so Excel reads the Chinese) and the number of data rows."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([csv_text(title) for title in header])
    count = 0
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
        count += 1
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), count


def _audited(
    export: Export,
    *,
    actor: Any,
    action: str,
    obj: Any,
    organization: Any,
    detail: dict[str, Any] | None,
) -> Export:
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=action,
            obj=obj,
            organization=organization if organization is not None else getattr(obj, "organization", None),
            detail={"export": export.filename, "rows": export.rows, **(detail or {})},
        )
    return export


def xlsx_export(
    *,
    actor: Any,
    action: str,
    filename: str,
    sheets: Sequence[Sheet],
    obj: Any = None,
    organization: Any = None,
    detail: dict[str, Any] | None = None,
) -> Export:
    """Build an XLSX export and audit it as `action` (the event names the file and its rows)."""
    content, rows = xlsx_bytes(sheets)
    return _audited(
        Export(content=content, filename=filename, content_type=XLSX, rows=rows),
        actor=actor,
        action=action,
        obj=obj,
        organization=organization,
        detail=detail,
    )


def csv_export(
    *,
    actor: Any,
    action: str,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    obj: Any = None,
    organization: Any = None,
    detail: dict[str, Any] | None = None,
) -> Export:
    """Build a CSV export and audit it as `action` (the event names the file and its rows)."""
    content, count = csv_bytes(header, rows)
    return _audited(
        Export(content=content, filename=filename, content_type=CSV, rows=count),
        actor=actor,
        action=action,
        obj=obj,
        organization=organization,
        detail=detail,
    )


def download(export: Export) -> HttpResponse:
    return attachment_response(export.content, export.filename, export.content_type)
