"""Limits on every uploaded spreadsheet and CSV file, checked before and while it is read, so a
small file that expands to gigabytes (a decompression bomb) or to millions of rows is refused
cheaply instead of being parsed.

An XLSX is a zip archive: `xlsx_check` reads only its central directory (the member sizes the
archive declares, and `zipfile` refuses to inflate a member past its declared size) and refuses
a file whose members add up to more than TABULAR_MAX_UNCOMPRESSED_MB, or that expands more than
TABULAR_MAX_COMPRESSION_RATIO times (`expansion_check`, which a Parquet file's metadata goes
through too). The tabular reader (`gonghui/core/tabular.py`) then stops at the first row past
the row limit (`max_rows`), the first cell longer than TABULAR_MAX_CELL_CHARS (`check_cells`)
or the first row wider than TABULAR_MAX_COLUMNS; CSV and Parquet files are also held to
TABULAR_MAX_CSV_MB. The limits are settings (see docs/operations.md);
a caller may ask for a lower row limit than the setting, never a higher one.

`clip` shortens a text kept about a file (a problem report, a copy of a bad row) so that one
huge cell cannot make a huge stored row."""

import io
import zipfile
from collections.abc import Iterable
from typing import IO, Any

from django.conf import settings

from gonghui.core.errors import ValidationFailed

STORED_TEXT_CHARS = 500
# Below this much uncompressed data a high ratio is harmless (a nearly empty template).
_RATIO_FLOOR_BYTES = 8 * 1024 * 1024
_MB = 1024 * 1024


class TabularRefused(ValidationFailed):
    """The file breaks one of the limits; `message` says which, in Chinese."""

    code = "file_too_large"


def max_rows(requested: int | None = None) -> int:
    """The row limit in force: the setting, or `requested` if that is lower."""
    limit = settings.TABULAR_MAX_ROWS
    return limit if requested is None else min(limit, requested)


def rows_refused(limit: int) -> TabularRefused:
    return TabularRefused("文件超过 %(limit)s 行，请拆分后再导入" % {"limit": limit})


def xlsx_check(source: bytes | IO[bytes]) -> None:
    """Refuse an XLSX whose members would expand past the limits, reading only the zip
    directory. A file that is not a zip at all is left for the spreadsheet reader to refuse."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    start = stream.tell()
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    finally:
        stream.seek(start)
    expansion_check(expanded=sum(m.file_size for m in members), packed=sum(m.compress_size for m in members))


def expansion_check(*, expanded: int, packed: int, resave: str = "普通 Excel 工作簿") -> None:
    """Refuse a compressed file (an XLSX's zip, a Parquet file's pages) that declares more than
    TABULAR_MAX_UNCOMPRESSED_MB of data, or more than TABULAR_MAX_COMPRESSION_RATIO times its
    packed size (`resave`: what the message asks the user to save the file as)."""
    limit_mb = settings.TABULAR_MAX_UNCOMPRESSED_MB
    if expanded > limit_mb * _MB:
        raise TabularRefused("文件解压后过大（超过 %(limit)s MB），请拆分后再导入" % {"limit": limit_mb})
    ratio = settings.TABULAR_MAX_COMPRESSION_RATIO
    if expanded > _RATIO_FLOOR_BYTES and expanded > ratio * max(packed, 1):
        raise TabularRefused(
            "文件压缩比异常（解压后超过原大小的 %(ratio)s 倍），可能是恶意构造的文件，请另存为%(resave)s后再导入"
            % {"ratio": ratio, "resave": resave}
        )


def csv_check_size(size: int | None) -> None:
    """Refuse a CSV larger than TABULAR_MAX_CSV_MB (`size` None: unknown, checked by the reader)."""
    limit_mb = settings.TABULAR_MAX_CSV_MB
    if size is not None and size > limit_mb * _MB:
        raise TabularRefused("文件超过 %(limit)s MB，请拆分后再导入" % {"limit": limit_mb})


def cell_refused(row_no: int | None = None) -> TabularRefused:
    limit = settings.TABULAR_MAX_CELL_CHARS
    if row_no is None:
        return TabularRefused("文件中有单元格超过 %(limit)s 个字符，请检查文件内容" % {"limit": limit})
    return TabularRefused(
        "第 %(row)s 行有单元格超过 %(limit)s 个字符，请检查文件内容" % {"row": row_no, "limit": limit}
    )


def columns_refused(row_no: int) -> TabularRefused:
    limit = settings.TABULAR_MAX_COLUMNS
    return TabularRefused("第 %(row)s 行超过 %(limit)s 列，请删除多余的列后再导入" % {"row": row_no, "limit": limit})


def is_csv_field_limit(error: Exception) -> bool:
    """Whether `csv` refused a cell longer than its own field limit (131,072 characters)."""
    return "field larger than field limit" in str(error)


def check_cells(cells: Iterable[Any], *, row_no: int) -> None:
    """Refuse a row holding a text cell longer than TABULAR_MAX_CELL_CHARS."""
    limit = settings.TABULAR_MAX_CELL_CHARS
    for value in cells:
        if isinstance(value, str) and len(value) > limit:
            raise cell_refused(row_no)


def clip(text: str, limit: int = STORED_TEXT_CHARS) -> str:
    """`text` cut to `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
