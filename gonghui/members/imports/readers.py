"""Reading CSV and XLSX files in chunks."""

import abc
import codecs
import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from gonghui.core import tabular_limits
from gonghui.core.errors import ValidationFailed
from gonghui.members.import_models import ImportFormat
from gonghui.members.imports.columns import CSV_BLOCK_BYTES, XLSX_CHUNK_ROWS


class _Reader(abc.ABC):
    """Header, row-count estimate and chunk tasks of one file."""

    header: list[str]
    estimate: int | None

    @abc.abstractmethod
    def tasks(self) -> Iterator[tuple[str, Any, str]]: ...

    def close(self) -> None:
        return None


def _record_end(data: bytes, start: int = 0) -> int:
    """Index just past the first newline after `start` that is outside quotes, or -1."""
    quotes = 0
    pos = start
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return -1
        quotes += data.count(b'"', pos, nl)
        if quotes % 2 == 0:
            return nl + 1
        pos = nl + 1


def _last_record_end(data: bytes) -> int:
    """Index just past the last newline outside quotes, or -1 (quotes never straddle a chunk)."""
    if b'"' not in data:
        return data.rfind(b"\n") + 1 or -1
    end = len(data)
    while True:
        nl = data.rfind(b"\n", 0, end)
        if nl < 0:
            return -1
        if data.count(b'"', 0, nl) % 2 == 0:
            return nl + 1
        end = nl


class _CsvReader(_Reader):
    def __init__(self, stream: IO[bytes], *, block_bytes: int = CSV_BLOCK_BYTES, max_rows: int | None = None):
        self.stream = stream
        self.block_bytes = block_bytes
        size = _stream_size(stream)
        tabular_limits.csv_check_size(size)
        self.max_bytes = settings.TABULAR_MAX_CSV_MB * 1024 * 1024
        self.max_lines = tabular_limits.max_rows(max_rows) + 1  # and the header
        if isinstance(stream, io.BytesIO):  # an upload held in memory: count its lines at once
            data = stream.getvalue()
            if max(data.count(b"\n"), data.count(b"\r")) > self.max_lines:
                raise tabular_limits.rows_refused(self.max_lines - 1)
        first = stream.read(max(block_bytes, 64 * 1024))
        # Old Mac exports end lines with CR alone: read them as LF (a lone CR in a quoted
        # cell of such a file was a line break there too).
        self.cr_only = b"\r" in first and b"\n" not in first
        if self.cr_only:
            first = first.replace(b"\r", b"\n")
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ValidationFailed("不支持 UTF-16 编码的文件，请另存为“CSV UTF-8”或 Excel 工作簿后重新上传")
        if first.startswith(b"\xef\xbb\xbf"):
            first = first[3:]
        self.encoding = _detect_encoding(first)
        end = _record_end(first)
        if end < 0:
            more = self._read(-1)
            first += more
            end = len(first)
        try:
            header_text = first[:end].decode(self.encoding)
        except UnicodeDecodeError:
            raise ValidationFailed("文件编码无法识别，请另存为“CSV UTF-8”或 Excel 工作簿后重新上传") from None
        try:
            rows = list(csv.reader(io.StringIO(header_text, newline="")))
        except csv.Error as exc:
            if tabular_limits.is_csv_field_limit(exc):
                raise tabular_limits.cell_refused(1) from None
            raise ValidationFailed("CSV 格式有误：%(error)s" % {"error": exc}) from None
        self.header = rows[0] if rows else []
        tabular_limits.check_cells(self.header, row_no=1)
        self.rest = first[end:]
        self.read_bytes = len(first)
        self.estimate = None
        if size and end:
            line_bytes = max(1, len(first) - end) / max(1, first.count(b"\n", end))
            self.estimate = max(1, int((size - end) / line_bytes))

    def _read(self, size: int) -> bytes:
        block = self.stream.read(size)
        self.read_bytes += len(block)
        if self.read_bytes > self.max_bytes:  # a stream of unknown size
            tabular_limits.csv_check_size(self.read_bytes)
        return block.replace(b"\r", b"\n") if self.cr_only else block

    def _counted(self, chunk: bytes) -> bytes:
        """`chunk`, after counting its lines against the row limit (a line break inside a
        quoted cell counts too: the limit is on lines, a little stricter than on records)."""
        self.lines += chunk.count(b"\n")
        if self.lines > self.max_lines:
            raise tabular_limits.rows_refused(self.max_lines - 1)
        return chunk

    def tasks(self) -> Iterator[tuple[str, Any, str]]:
        """Chunks of about `block_bytes`, each ending at a record boundary (a newline outside
        quotes), so no record is split between two workers."""
        buffer = self.rest
        self.lines = 1
        eof = False
        while True:
            while len(buffer) < self.block_bytes and not eof:
                block = self._read(self.block_bytes)
                eof = not block
                buffer += block
            if eof and len(buffer) <= self.block_bytes:
                if buffer:  # whitespace-only rows are counted as blank downstream
                    yield ("csv", self._counted(buffer), self.encoding)
                return
            cut = _last_record_end(buffer[: self.block_bytes])
            if cut <= 0:
                cut = _record_end(buffer)  # one record longer than a block
            if cut <= 0:
                if eof:
                    yield ("csv", self._counted(buffer), self.encoding)
                    return
                block = self._read(self.block_bytes)
                eof = not block
                buffer += block
                continue
            yield ("csv", self._counted(buffer[:cut]), self.encoding)
            buffer = buffer[cut:]


def _stream_size(stream: IO[bytes]) -> int | None:
    size = getattr(stream, "size", None)
    if size is not None:
        return int(size)
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _detect_encoding(sample: bytes) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).upper()
    return str(value)


class _XlsxReader(_Reader):
    def __init__(self, stream: IO[bytes], *, chunk_rows: int = XLSX_CHUNK_ROWS, max_rows: int | None = None):
        tabular_limits.xlsx_check(stream)
        self.max_rows = max_rows
        try:
            self.workbook = load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
            raise ValidationFailed("无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密") from None
        sheet = self.workbook.worksheets[0]
        self.rows = sheet.iter_rows(values_only=True)
        self.chunk_rows = chunk_rows
        header = next(self.rows, None)
        self.header = [_cell_text(v) for v in header] if header else []
        tabular_limits.check_cells(self.header, row_no=1)
        max_row = sheet.max_row
        self.estimate = max(0, max_row - 1) if max_row else None

    def tasks(self) -> Iterator[tuple[str, Any, str]]:
        chunk: list[list[str]] = []
        for row in tabular_limits.rows_within_limits(self.rows, limit=self.max_rows, first_row_no=2):
            chunk.append([_cell_text(v) for v in row])
            if len(chunk) >= self.chunk_rows:
                yield ("rows", chunk, "")
                chunk = []
        if chunk:
            yield ("rows", chunk, "")

    def close(self) -> None:
        self.workbook.close()


def detect_format(file_name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return ImportFormat.XLSX
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise ValidationFailed("无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密")
    if file_name.lower().endswith(".xls"):
        raise ValidationFailed("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后重新上传")
    return ImportFormat.CSV


def _open_reader(
    stream: IO[bytes], file_format: str, *, block_bytes: int = CSV_BLOCK_BYTES, max_rows: int | None = None
) -> _Reader:
    """The reader of `stream`, refusing it while reading at `max_rows` data rows (or the
    kernel's lower limit) and at the kernel's other file limits."""
    if file_format == ImportFormat.XLSX:
        return _XlsxReader(stream, max_rows=max_rows)
    return _CsvReader(stream, block_bytes=block_bytes, max_rows=max_rows)
