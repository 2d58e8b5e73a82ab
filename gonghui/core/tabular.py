"""The one reader of uploaded tables: CSV, XLSX and Parquet.

`open_tabular(stream, file_name=...)` detects the format (by the file's first bytes, then its
name), and for a CSV the encoding, and returns a `TabularFile`: its header (the first row, as
text), an estimate of its data rows, and `rows()`, the data rows streamed in bounded memory and
held to the kernel's limits (`tabular_limits`) while they are read:

- CSV is read block by block through an incremental decoder. Encodings: UTF-8 with or without
  a byte-order mark, UTF-16 LE/BE with a BOM or without one (recognised by the NUL bytes every
  ASCII character carries), and GB18030, the superset of GBK and GB2312 that Chinese systems
  export. A CSV can also be cut into record-aligned byte chunks (`chunks`) for worker
  processes, which decode them with `decode_chunk`.
- XLSX is read by openpyxl in read-only mode, after the zip directory has been checked against
  the decompression-bomb limits; the sheet's declared dimensions are not trusted.
- Parquet is read by DuckDB, after the file's metadata (row count, column count, declared
  uncompressed size) has been checked against the same limits.

A cell is what the format holds: text in a CSV, numbers, dates and text in XLSX and Parquet;
`cell_text` turns any of them into the text a form would have received.

Header mapping: an app declares the columns of a kind of file once (`register_columns`), with
the canonical key, the Chinese header the template writes, the aliases other systems use and
whether it is required; `ColumnSpec.resolve` maps a file's header row to the keys, with a saved
mapping (`{key: header in the file}`) taking precedence, and refuses missing required and
duplicated columns in Chinese.

A union whose files name a column in a way no alias knows saves a mapping for the kind
(`tabular_mapping_save`, versioned, audited, allowed to whoever holds the kind's permission);
`tabular_mapping_for` returns the one in force for an organisation (its own, else its nearest
ancestor's), to pass to `resolve`.

`error_report` writes the per-row report of a dry run: the rows as uploaded, 行号 in front and
an 错误原因 column after, every cell written as text and never as a formula."""

import abc
import codecs
import csv
import datetime as dt
import decimal
import io
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

import openpyxl
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from openpyxl.utils.exceptions import InvalidFileException

from gonghui.core import audit, exports, tabular_limits, workflow
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import TabularMapping

_MB = 1024 * 1024
SAMPLE_BYTES = 64 * 1024
CSV_BLOCK_BYTES = 1 << 20
PARQUET_FETCH_ROWS = 512
REPORT_ROW_NO = "行号"
REPORT_ERROR = "错误原因"
MAPPING_HEADER_CHARS = 100

UNREADABLE_XLSX = "无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密"
OLD_XLS = "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后重新上传"
UNREADABLE_PARQUET = "无法读取该 Parquet 文件，请确认文件完整"
UNKNOWN_ENCODING = "文件编码无法识别（支持 UTF-8、GBK/GB18030 和 UTF-16），请另存为“CSV UTF-8”或 Excel 工作簿后重新上传"
BINARY_TEXT = "文件不是文本格式的 CSV，请另存为“CSV UTF-8”或 Excel 工作簿后重新上传"


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"


# ---- format and encoding ---------------------------------------------------------------------


def detect_format(file_name: str, head: bytes) -> Format:
    """The format of a file from its first bytes (a zip is an XLSX, `PAR1` a Parquet file), then
    its name; anything else is taken as CSV. Old binary Excel files are refused in Chinese."""
    name = file_name.lower()
    if head.startswith(b"PK\x03\x04"):
        return Format.XLSX
    if head.startswith(b"PAR1"):
        return Format.PARQUET
    if name.endswith((".xlsx", ".xlsm")):
        raise ValidationFailed(UNREADABLE_XLSX)  # an encrypted workbook is an OLE file, not a zip
    if name.endswith(".xls") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationFailed(OLD_XLS)
    if name.endswith(".parquet"):
        raise ValidationFailed(UNREADABLE_PARQUET)
    return Format.CSV


def _utf16_without_bom(sample: bytes) -> str | None:
    """`utf-16-le` or `utf-16-be` if the NUL bytes of `sample` sit on one side of the code
    units, as the high (or low) byte of every ASCII character does; None if there are none."""
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if not even and not odd:
        return None
    if odd >= 9 * even and odd * 8 >= len(sample) // 2:
        return "utf-16-le"
    if even >= 9 * odd and even * 8 >= len(sample) // 2:
        return "utf-16-be"
    return ""


def _decodes(sample: bytes, codec: str, *, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes, *, complete: bool = False) -> str:
    """The codec that reads `sample` (the start of a text file, or the whole of it when
    `complete`): `utf-8-sig` / `utf-16` when a byte-order mark says so, `utf-16-le` /
    `utf-16-be` by the NUL pattern, else `utf-8` if it decodes, else `gb18030`. A sample none
    of them reads is refused in Chinese."""
    if sample.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    else:
        utf16 = _utf16_without_bom(sample[: 2 * SAMPLE_BYTES])
        if utf16 == "":
            raise ValidationFailed(BINARY_TEXT)
        codec = utf16 or ("utf-8" if _decodes(sample, "utf-8", complete=complete) else "gb18030")
    if not _decodes(sample, codec, complete=complete):
        raise ValidationFailed(UNKNOWN_ENCODING)
    return codec


def decode_text(content: bytes) -> str:
    """The whole of a small text file, in the encoding `detect_encoding` finds (BOM dropped)."""
    try:
        return content.decode(detect_encoding(content, complete=True))
    except UnicodeDecodeError:
        raise ValidationFailed(UNKNOWN_ENCODING) from None


def cell_text(value: Any) -> str:
    """A cell as the text a form would have received: dates as ISO dates, whole numbers without
    `.0`, booleans as 是/否, an empty cell as ""."""
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
    if isinstance(value, decimal.Decimal):
        return format(value.normalize() if value == value.to_integral_value() else value, "f")
    return str(value)


def _stream_size(stream: IO[bytes]) -> int | None:
    size = getattr(stream, "size", None)
    if size is not None:
        return int(size)
    if isinstance(stream, io.BytesIO):
        return len(stream.getbuffer())
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _check_width(row: Sequence[Any], row_no: int) -> None:
    limit = settings.TABULAR_MAX_COLUMNS
    if len(row) > limit and any(v not in (None, "") for v in row[limit:]):
        raise tabular_limits.columns_refused(row_no)


# ---- the files -------------------------------------------------------------------------------


class TabularFile(abc.ABC):
    """An open table: `header` (row 1, as text), `estimate` (data rows, when known), `rows()`
    (the data rows from row 2, each checked against the limits as it is read)."""

    format: Format
    header: list[str]
    estimate: int | None = None
    encoding: str = ""

    def __init__(self, *, max_rows: int | None) -> None:
        self.max_rows = tabular_limits.max_rows(max_rows)

    @abc.abstractmethod
    def _raw_rows(self) -> Iterator[Sequence[Any]]: ...

    def _checked_rows(self) -> Iterator[Sequence[Any]]:
        """The raw rows, refused at the row, cell-length and column limits (in one pass: this
        is the hot loop of a large XLSX import)."""
        allowed = self.max_rows
        cell_chars = settings.TABULAR_MAX_CELL_CHARS
        columns = settings.TABULAR_MAX_COLUMNS
        for index, row in enumerate(self._raw_rows()):
            if index >= allowed:
                raise tabular_limits.rows_refused(allowed)
            if len(row) > columns:
                _check_width(row, index + 2)
            for value in row:
                if value.__class__ is str and len(value) > cell_chars:
                    raise tabular_limits.cell_refused(index + 2)
            yield row

    def rows(self) -> Iterator[list[Any]]:
        """The data rows from row 2, as lists of cell values."""
        for row in self._checked_rows():
            yield list(row)

    def text_rows(self) -> Iterator[list[str]]:
        """The data rows from row 2, every cell as text (`cell_text`)."""
        text = cell_text
        for row in self._checked_rows():
            yield [value if value.__class__ is str else text(value) for value in row]

    def close(self) -> None:
        return None

    def __enter__(self) -> "TabularFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


def _csv_error(exc: csv.Error, row_no: int | None = None) -> ValidationFailed:
    if tabular_limits.is_csv_field_limit(exc):
        return tabular_limits.cell_refused(row_no)
    return ValidationFailed("CSV 格式有误：%(error)s" % {"error": exc})


def decode_chunk(chunk: bytes, encoding: str) -> list[list[str]]:
    """The records of a chunk from `CsvFile.chunks` (for a worker process)."""
    try:
        text = chunk.decode(encoding)
    except UnicodeDecodeError:
        raise ValidationFailed(UNKNOWN_ENCODING) from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _csv_error(exc) from None


class CsvFile(TabularFile):
    """A CSV file. Internally the bytes after the header are kept in an ASCII-compatible
    encoding (UTF-8 or GB18030, where a newline or a quote byte is never part of another
    character), so records can be cut at byte level; a UTF-16 file is transcoded to UTF-8 as
    it is read. Old Mac files that end lines with CR alone are read as LF."""

    format = Format.CSV

    def __init__(self, stream: IO[bytes], *, max_rows: int | None = None, delimiters: str | None = None):
        super().__init__(max_rows=max_rows)
        self.stream = stream
        size = _stream_size(stream)
        tabular_limits.csv_check_size(size)
        self.max_bytes = settings.TABULAR_MAX_CSV_MB * _MB
        self.read_bytes = 0
        self.max_lines = self.max_rows + 1  # and the header
        if isinstance(stream, io.BytesIO):  # an upload held in memory: count its lines at once
            data = stream.getvalue()
            if max(data.count(b"\n"), data.count(b"\r")) > self.max_lines:
                raise tabular_limits.rows_refused(self.max_rows)
            del data
        raw = self._read_raw(SAMPLE_BYTES)
        source_codec = detect_encoding(raw, complete=len(raw) < SAMPLE_BYTES)
        self.transcoder = None
        if source_codec.startswith("utf-16"):
            self.transcoder = codecs.getincrementaldecoder(source_codec)()
            self.encoding = "utf-8"
        else:
            self.encoding = "gb18030" if source_codec == "gb18030" else "utf-8"
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
        self.eof = not raw
        first = self._normalise(raw, final=self.eof)
        self.cr_only = b"\r" in first and b"\n" not in first
        if self.cr_only:
            first = first.replace(b"\r", b"\n")
        end = _record_end(first)
        while end < 0 and not self.eof:
            first += self._read(SAMPLE_BYTES)
            end = _record_end(first)
        if end < 0:
            end = len(first)
        try:
            header_text = first[:end].decode(self.encoding)
        except UnicodeDecodeError:
            raise ValidationFailed(UNKNOWN_ENCODING) from None
        self.dialect: Any = csv.excel
        if delimiters:
            try:
                self.dialect = csv.Sniffer().sniff(first[: 4 * 1024].decode(self.encoding, "ignore"), delimiters)
            except csv.Error:
                self.dialect = csv.excel
        try:
            rows = list(csv.reader(io.StringIO(header_text, newline=""), self.dialect))
        except csv.Error as exc:
            raise _csv_error(exc, 1) from None
        self.header = rows[0] if rows else []
        tabular_limits.check_cells(self.header, row_no=1)
        _check_width(self.header, 1)
        self.rest = first[end:]
        if size and end:
            scale = len(first) / max(1, len(raw))  # UTF-16 shrinks to about half in UTF-8
            line_bytes = max(1, len(first) - end) / max(1, first.count(b"\n", end))
            self.estimate = max(1, int((size * scale - end) / line_bytes))

    def _read_raw(self, size: int) -> bytes:
        block = self.stream.read(size)
        self.read_bytes += len(block)
        if self.read_bytes > self.max_bytes:  # a stream of unknown size
            tabular_limits.csv_check_size(self.read_bytes)
        return block

    def _normalise(self, raw: bytes, *, final: bool) -> bytes:
        if self.transcoder is None:
            return raw
        try:
            return self.transcoder.decode(raw, final=final).encode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed(UNKNOWN_ENCODING) from None

    def _read(self, size: int) -> bytes:
        """The next bytes after the sample, normalised; b"" at the end of the file."""
        if self.eof:
            return b""
        raw = self._read_raw(size)
        self.eof = not raw
        block = self._normalise(raw, final=self.eof)
        if self.eof and not block:
            return b""
        if not block:  # half a UTF-16 code unit: read on
            return self._read(size)
        return block.replace(b"\r", b"\n") if self.cr_only else block

    def _counted(self, chunk: bytes) -> bytes:
        """`chunk`, after counting its lines against the row limit (a line break inside a
        quoted cell counts too: the limit is on lines, a little stricter than on records)."""
        self.lines += chunk.count(b"\n")
        if self.lines > self.max_lines:
            raise tabular_limits.rows_refused(self.max_rows)
        return chunk

    def chunks(self, block_bytes: int = CSV_BLOCK_BYTES) -> Iterator[bytes]:
        """The data rows as byte chunks of about `block_bytes` in `self.encoding`, each ending
        at a record boundary (a newline outside quotes), so no record is split between two
        workers. Whitespace-only rows are left in (callers count them as blank)."""
        buffer = self.rest
        self.lines = 1
        while True:
            while len(buffer) < block_bytes and not self.eof:
                buffer += self._read(block_bytes)
            if self.eof and len(buffer) <= block_bytes:
                if buffer:
                    yield self._counted(buffer)
                return
            cut = _last_record_end(buffer[:block_bytes])
            if cut <= 0:
                cut = _record_end(buffer)  # one record longer than a block
            if cut <= 0:
                if self.eof:
                    yield self._counted(buffer)
                    return
                buffer += self._read(block_bytes)
                continue
            yield self._counted(buffer[:cut])
            buffer = buffer[cut:]

    def _raw_rows(self) -> Iterator[Sequence[Any]]:
        row_no = 1
        try:
            for chunk in self.chunks(SAMPLE_BYTES):
                text = chunk.decode(self.encoding)
                for row in csv.reader(io.StringIO(text, newline=""), self.dialect):
                    row_no += 1
                    yield row
        except UnicodeDecodeError:
            raise ValidationFailed(UNKNOWN_ENCODING) from None
        except csv.Error as exc:
            raise _csv_error(exc, row_no + 1) from None


class XlsxFile(TabularFile):
    """The first worksheet of an XLSX workbook."""

    format = Format.XLSX

    def __init__(self, stream: IO[bytes], *, max_rows: int | None = None):
        super().__init__(max_rows=max_rows)
        tabular_limits.xlsx_check(stream)
        try:
            self.workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
            raise ValidationFailed(UNREADABLE_XLSX) from None
        try:
            sheet = self.workbook.worksheets[0]
            declared = sheet.max_row
        except (IndexError, KeyError, ValueError, OSError):
            self.close()
            raise ValidationFailed(UNREADABLE_XLSX) from None
        # The declared dimensions are the file's word, not its content: a sheet that claims
        # A1:XFD1048576 would otherwise be padded to 16,384 columns and a million rows.
        sheet.reset_dimensions()
        self.sheet_rows = sheet.iter_rows(values_only=True)
        try:
            first = next(self.sheet_rows, None)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError) as exc:
            self.close()
            raise ValidationFailed(UNREADABLE_XLSX) from exc
        _check_width(first or (), 1)
        self.header = [cell_text(v) for v in first] if first else []
        tabular_limits.check_cells(self.header, row_no=1)
        self.estimate = max(0, declared - 1) if declared else None

    def _raw_rows(self) -> Iterator[Sequence[Any]]:
        try:
            yield from self.sheet_rows
        except (zipfile.BadZipFile, KeyError, OSError, SyntaxError) as exc:
            raise ValidationFailed(UNREADABLE_XLSX) from exc

    def close(self) -> None:
        self.workbook.close()


class ParquetFile(TabularFile):
    """A Parquet file, read by DuckDB from a private temporary copy, its metadata checked
    against the limits before a value is read."""

    format = Format.PARQUET

    def __init__(self, stream: IO[bytes], *, max_rows: int | None = None):
        import duckdb  # noqa: PLC0415 - heavy to load, and only a Parquet upload needs it

        super().__init__(max_rows=max_rows)
        tabular_limits.csv_check_size(_stream_size(stream))
        self.directory = tempfile.mkdtemp(prefix="gonghui-parquet-")
        self.connection: Any = None
        try:
            path = os.path.join(self.directory, "upload.parquet")
            with open(path, "wb") as copy:
                packed = 0
                while block := stream.read(CSV_BLOCK_BYTES):
                    packed += len(block)
                    tabular_limits.csv_check_size(packed)
                    copy.write(block)
            self.connection = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
            try:
                # Only this one file may be read, and the restriction cannot be lifted later.
                self.connection.execute("SET allowed_paths = ?", [[path]])
                self.connection.execute("SET enable_external_access = false")
                meta = self.connection.execute(
                    "SELECT num_rows FROM parquet_file_metadata(?)",
                    [path],
                ).fetchone()
                sizes = self.connection.execute(
                    "SELECT coalesce(sum(total_uncompressed_size), 0), count(DISTINCT column_id) "
                    "FROM parquet_metadata(?)",
                    [path],
                ).fetchone()
                self.cursor = self.connection.execute("SELECT * FROM read_parquet(?)", [path])
            except duckdb.Error:
                raise ValidationFailed(UNREADABLE_PARQUET) from None
            assert meta is not None and sizes is not None
            rows, (expanded, _columns) = int(meta[0]), sizes
            self._check(rows=rows, expanded=int(expanded), packed=packed)
            self.header = [str(d[0]) for d in self.cursor.description]
            _check_width(self.header, 1)
            tabular_limits.check_cells(self.header, row_no=1)
            self.estimate = rows
            self.duckdb_error = duckdb.Error
        except BaseException:
            self.close()
            raise

    def _check(self, *, rows: int, expanded: int, packed: int) -> None:
        if rows > self.max_rows:
            raise tabular_limits.rows_refused(self.max_rows)
        tabular_limits.expansion_check(expanded=expanded, packed=packed, resave="普通 Parquet 文件或 CSV")

    def _raw_rows(self) -> Iterator[Sequence[Any]]:
        while True:
            try:
                batch = self.cursor.fetchmany(PARQUET_FETCH_ROWS)
            except self.duckdb_error:
                raise ValidationFailed(UNREADABLE_PARQUET) from None
            if not batch:
                return
            yield from batch

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        shutil.rmtree(self.directory, ignore_errors=True)


def open_tabular(
    stream: IO[bytes],
    *,
    file_name: str = "",
    file_format: str | None = None,
    max_rows: int | None = None,
    delimiters: str | None = None,
) -> TabularFile:
    """The open table of `stream` (format detected unless given), refused while it is read at
    `max_rows` data rows (or the kernel's lower limit) and at the kernel's other limits.
    `delimiters`: let a CSV's delimiter be sniffed among these (default: a comma)."""
    if file_format is None:
        start = stream.tell()
        head = stream.read(8)
        stream.seek(start)
        file_format = detect_format(file_name, head)
    if file_format == Format.XLSX:
        return XlsxFile(stream, max_rows=max_rows)
    if file_format == Format.PARQUET:
        return ParquetFile(stream, max_rows=max_rows)
    return CsvFile(stream, max_rows=max_rows, delimiters=delimiters)


# ---- header mapping ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a kind of file: the canonical `key`, the Chinese `header` the template
    writes, the `aliases` other systems use, and what the template shows about it."""

    key: str
    header: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""
    choices: tuple[str, ...] = ()
    width: int = 14
    text: bool = False


@dataclass
class HeaderMap:
    """Where each key's column is (0-based), the header each key had in the file (or its
    template header when absent), and the file's columns no key claimed."""

    positions: dict[str, int]
    headers: dict[str, str]
    ignored: list[str] = field(default_factory=list)


_HEADER_MARKS = re.compile(r"[\s*:]|\(必填\)|\(选填\)")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))


def normalise_header(text: str) -> str:
    """A header as compared: full-width forms folded (NFKC), invisible characters, spaces,
    asterisks, colons and 必填/选填 marks removed, letters in lower case."""
    folded = unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE)
    return _HEADER_MARKS.sub("", folded).casefold()


class ColumnSpec:
    """The declared columns of one kind of file (see `register_columns`)."""

    def __init__(
        self,
        kind: str,
        *,
        label: str,
        columns: Sequence[Column],
        missing_hint: str = "",
        perm: str = "",
        picker: str = "",
    ):
        self.kind = kind
        self.label = label
        self.perm = perm
        # The organisation-picker purpose that offers the organisations whose mapping the
        # holder of `perm` may edit (列对应设置).
        self.picker = picker
        self.columns = tuple(columns)
        self.missing_hint = missing_hint or "请检查表头是否在第一行"
        self.by_key = {c.key: c for c in self.columns}
        if len(self.by_key) != len(self.columns):
            raise ImproperlyConfigured("columns of %s: a key is declared twice" % kind)
        # normalised header → (key, rank): rank 0 is the template header, then the aliases in order
        self.lookup: dict[str, tuple[str, int]] = {}
        for column in self.columns:
            for rank, alias in enumerate((column.header, *column.aliases)):
                name = normalise_header(alias)
                other = self.lookup.setdefault(name, (column.key, rank))
                if other[0] != column.key:
                    raise ImproperlyConfigured("columns of %s: header %r names two columns" % (kind, alias))

    def resolve(
        self, header: Sequence[str], *, mapping: Mapping[str, str] | None = None, strict: bool = True
    ) -> HeaderMap:
        """The keys of a file's header row. `mapping` (a saved one: key → the file's header)
        is applied first; the other columns are recognised by header or alias. `strict`: a key
        claimed by two columns is refused and missing required columns too; otherwise the
        column with the better-ranked alias wins (then the first) and nothing is required."""
        names = [normalise_header(text or "") for text in header]
        positions: dict[str, int] = {}
        headers = {c.key: c.header for c in self.columns}
        for key, wanted in (mapping or {}).items():
            if key not in self.by_key:
                raise ValidationFailed("列映射中的字段“%(key)s”无法识别" % {"key": str(key)[:40]})
            target = normalise_header(wanted)
            if not target or target not in names:
                raise ValidationFailed("映射中的列“%(col)s”在文件中不存在" % {"col": str(wanted)[:40]})
            positions[key] = names.index(target)
        taken = set(positions.values())
        ranks: dict[str, int] = {}
        ignored: list[str] = []
        for i, name in enumerate(names):
            label = (header[i] or "").strip()
            if not name or i in taken:
                continue
            found = self.lookup.get(name)
            if found is None or (found[0] in positions and found[0] not in ranks):
                ignored.append(label)  # unknown, or its key was mapped to another column
                continue
            key, rank = found
            if key in ranks:
                if strict:
                    raise ValidationFailed("表头中“%(column)s”出现了两次" % {"column": self.by_key[key].header})
                if rank >= ranks[key]:
                    ignored.append(label)
                    continue
                ignored.append((header[positions[key]] or "").strip())
            positions[key] = i
            ranks[key] = rank
        for key, i in positions.items():
            headers[key] = (header[i] or "").strip()
        missing = [c.header for c in self.columns if c.required and c.key not in positions]
        if strict and missing:
            raise ValidationFailed(
                "文件缺少必填列：%(columns)s。%(hint)s" % {"columns": "、".join(missing), "hint": self.missing_hint}
            )
        return HeaderMap(positions, headers, ignored)

    def clean_mapping(self, columns: object) -> dict[str, str]:
        """A mapping as submitted ({key: header in the file}), checked: known keys, headers as
        short texts, no header given to two keys; a blank header drops its key."""
        if not isinstance(columns, Mapping):
            raise ValidationFailed("列对应必须是“字段: 文件中的列名”的对应表")
        cleaned: dict[str, str] = {}
        owners: dict[str, str] = {}
        for key, header in columns.items():
            if key not in self.by_key:
                raise ValidationFailed("列映射中的字段“%(key)s”无法识别" % {"key": str(key)[:40]})
            if not isinstance(header, str):
                raise ValidationFailed("“%(column)s”对应的列名必须是文本" % {"column": self.by_key[key].header})
            text = header.strip()
            if not text:
                continue
            if len(text) > MAPPING_HEADER_CHARS:
                raise ValidationFailed(
                    "“%(column)s”对应的列名超过 %(n)s 个字符"
                    % {"column": self.by_key[key].header, "n": MAPPING_HEADER_CHARS}
                )
            name = normalise_header(text)
            if name in owners:
                raise ValidationFailed(
                    "文件中的列“%(header)s”不能同时对应“%(a)s”和“%(b)s”"
                    % {"header": text, "a": self.by_key[owners[name]].header, "b": self.by_key[key].header}
                )
            owners[name] = key
            cleaned[key] = text
        return cleaned


_SPECS: dict[str, ColumnSpec] = {}


def register_columns(
    kind: str,
    *,
    label: str,
    columns: Sequence[Column],
    missing_hint: str = "",
    perm: str = "",
    picker: str = "",
) -> ColumnSpec:
    """Declare the columns of a kind of file (`members.import`, `health.results`, …) once, at
    import time of the app's module; the same declaration again returns the same spec. `perm`:
    the permission that lets a user save the kind's column mapping for an organisation (none:
    the kind has no saved mappings); `picker`: the organisation-picker purpose offering those
    organisations on the 列对应设置 page."""
    spec = ColumnSpec(kind, label=label, columns=columns, missing_hint=missing_hint, perm=perm, picker=picker)
    known = _SPECS.get(kind)
    if known is not None:
        if known.columns != spec.columns or known.label != label or known.perm != perm or known.picker != picker:
            raise ImproperlyConfigured("columns of %s are declared twice, differently" % kind)
        return known
    _SPECS[kind] = spec
    return spec


def column_spec(kind: str) -> ColumnSpec:
    try:
        return _SPECS[kind]
    except KeyError:
        raise ImproperlyConfigured("no columns are declared for %s" % kind) from None


def column_specs() -> list[ColumnSpec]:
    return sorted(_SPECS.values(), key=lambda s: s.kind)


# ---- saved mappings --------------------------------------------------------------------------


def tabular_mapping_save(*, actor: Any, kind: str, organization: Any, columns: object) -> TabularMapping:
    """Save a new version of `organization`'s column mapping for `kind` (audited)."""
    spec = column_spec(kind)
    if not spec.perm or not workflow.authorizer().has_perm(actor, spec.perm, organization):
        raise PermissionDenied("无权修改该组织的“%(label)s”列对应" % {"label": spec.label})
    cleaned = spec.clean_mapping(columns)
    with transaction.atomic():
        latest = (
            TabularMapping.objects.filter(kind=kind, organization=organization)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        try:
            with transaction.atomic():
                mapping = TabularMapping.objects.create(
                    kind=kind, organization=organization, version=(latest or 0) + 1, columns=cleaned, created_by=actor
                )
        except IntegrityError:
            raise Conflict("列对应刚被他人修改，请刷新后重试") from None
        audit.record(
            actor=actor,
            action="tabular.mapping_save",
            obj=mapping,
            organization=organization,
            detail={"kind": kind, "version": mapping.version, "columns": cleaned},
        )
    return mapping


def tabular_mapping_in_force(*, kind: str, organization: Any) -> TabularMapping | None:
    """The saved mapping applied to `organization`'s files of `kind`: the newest version saved
    for it, else for its nearest ancestor; None if none was saved."""
    lineage = [org.pk for org in workflow.authorizer().lineage(organization)]
    newest: dict[int, TabularMapping] = {}
    saved = TabularMapping.objects.filter(kind=kind, organization_id__in=lineage).select_related(
        "organization", "created_by"
    )
    for mapping in saved.order_by("organization_id", "-version"):
        newest.setdefault(mapping.organization_id, mapping)
    for org_id in reversed(lineage):
        if org_id in newest:
            return newest[org_id]
    return None


def tabular_mapping_for(*, kind: str, organization: Any) -> dict[str, str]:
    """The columns of the mapping in force (`tabular_mapping_in_force`); {} if none was saved."""
    mapping = tabular_mapping_in_force(kind=kind, organization=organization)
    return dict(mapping.columns) if mapping is not None else {}


def tabular_mapping_for_header(*, kind: str, organization: Any, header: Sequence[str]) -> dict[str, str]:
    """The mapping in force, as applied to one file: the entries whose column this file has.
    A file laid out like the template (or another system's export) is still recognised by
    its headers and aliases; a saved mapping only adds what they do not know."""
    names = {normalise_header(text or "") for text in header}
    saved = tabular_mapping_for(kind=kind, organization=organization)
    return {key: text for key, text in saved.items() if normalise_header(text) in names}


def tabular_mapping_history(*, kind: str, organization: Any, limit: int = 20) -> list[TabularMapping]:
    """The versions saved for `organization` itself, newest first (the caller has scoped it)."""
    saved = TabularMapping.objects.filter(kind=kind, organization=organization).select_related("created_by")
    return list(saved.order_by("-version")[:limit])


# ---- the per-row report --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    """One row that failed: its number as the user sees it, its cells as uploaded, why."""

    row_no: int
    cells: Sequence[Any]
    reason: str


def error_report(
    *,
    actor: Any,
    action: str,
    filename: str,
    header: Sequence[str],
    rows: Iterable[RowError],
    obj: Any = None,
    organization: Any = None,
    title: str = "未通过校验的行",
) -> exports.Export:
    """The XLSX of a dry run's failed rows: 行号, the file's own columns, 错误原因. The user
    fixes the rows in place and uploads the file again. Every uploaded cell is written back as
    text, never as a formula (`exports`), and the download is audited as `action`."""
    width = len(header)

    def lines() -> Iterator[list[Any]]:
        for row in rows:
            cells = [cell_text(v) for v in row.cells]
            cells += [""] * (width - len(cells))
            yield [row.row_no, *cells, row.reason]

    return exports.xlsx_export(
        actor=actor,
        action=action,
        filename=filename,
        sheets=[exports.Sheet(title=title, header=[REPORT_ROW_NO, *header, REPORT_ERROR], rows=lines())],
        obj=obj,
        organization=organization,
    )
