"""Reading an agency file into its normalised Parquet copy.

The file is read by the kernel's tabular reader (CSV, XLSX, Parquet; the kind's columns
resolved with the mapping saved on 列对应设置). Each row's ID number is validated and
normalised (15 → 18 digits, upper-case X) and blind-indexed with the key and purpose of the
members registry (`members.identity.ID_PURPOSE`), so that the engines match on the index
alone. Only the index, the date, the amount in fen and the category are written — to a
scratch CSV first, which DuckDB turns into the Parquet file and which is deleted at once; the
plaintext number is never written anywhere. Rows that do not parse are counted and kept as
(row number, reason); their values stay in the uploaded file, from which `error_rows` reads
them back for the error report."""

import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings

from gonghui.core import crypto, parsing, tabular
from gonghui.core.tabular import HeaderMap, TabularFile
from gonghui.members.identity import ID_PURPOSE
from gonghui.screening import storage
from gonghui.screening.ids import IdentifierError, normalise_agency_id
from gonghui.screening.kinds import NORMALISED_COLUMNS, column_spec_for, kind_def

PROBLEMS_KEPT = 20_000
PROGRESS_EVERY = 20_000
CATEGORY_CHARS = 40
EARLIEST = dt.date(1950, 1, 1)
_DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass
class IngestOutcome:
    rows_total: int = 0
    rows_valid: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    rows_failed: int = 0
    summary: dict[str, Any] = field(default_factory=dict)


def parse_cell_date(value: Any, *, today: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        text = parsing.clean(tabular.cell_text(value))
        match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
        if match is None:
            raise ValueError("日期格式应为 YYYY-MM-DD")
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError("日期不存在") from None
    if day < EARLIEST or day > today:
        raise ValueError("日期应在 %(a)s 到今天之间" % {"a": EARLIEST.isoformat()})
    return day


def _cell(row: Sequence[Any], hmap: HeaderMap, key: str) -> Any:
    position = hmap.positions.get(key)
    if position is None or position >= len(row):
        return None
    return row[position]


class RowReader:
    """Turns a data row into its normalised values, or raises ValueError with the reason."""

    def __init__(self, kind: str, hmap: HeaderMap, *, today: dt.date):
        self.definition = kind_def(kind)
        self.hmap = hmap
        self.today = today
        self.sealer = crypto.BulkSealer(ID_PURPOSE)

    def read(self, row: Sequence[Any]) -> tuple[str, str, str, str]:
        raw_id = _cell(row, self.hmap, "id_number")
        if isinstance(raw_id, float):
            raise ValueError("身份证号码被存成了数字（可能已丢失末位），请把该列设为文本格式")
        text = tabular.cell_text(raw_id)
        if not text.strip():
            raise ValueError("身份证号码为空")
        try:
            number = normalise_agency_id(text)
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None
        blind = self.sealer.blind(number)
        day = ""
        definition = self.definition
        if definition.date is not None:
            value = _cell(row, self.hmap, "event_date")
            if value is not None and tabular.cell_text(value).strip():
                day = parse_cell_date(value, today=self.today).isoformat()
            elif definition.date.required:
                raise ValueError("%(col)s为空" % {"col": self.hmap.headers["event_date"]})
        amount = ""
        if definition.amount is not None:
            value = _cell(row, self.hmap, "amount")
            if value is not None and tabular.cell_text(value).strip():
                amount = str(parsing.parse_yuan(tabular.cell_text(value), label=self.hmap.headers["amount"]))
            elif definition.amount.required:
                raise ValueError("%(col)s为空" % {"col": self.hmap.headers["amount"]})
        category = ""
        if definition.category is not None:
            category = parsing.clean(tabular.cell_text(_cell(row, self.hmap, "category")))[:CATEGORY_CHARS]
        return blind, day, amount, category


@contextlib.contextmanager
def open_upload(path: Path, filename: str) -> Iterator[TabularFile]:
    """The kept upload (sealed at rest), opened as a table."""
    with (
        io.BytesIO(storage.read_sealed(path)) as stream,
        tabular.open_tabular(stream, file_name=filename, max_rows=settings.SCREENING_MAX_ROWS) as table,
    ):
        yield table


def header_map(kind: str, organization: Any, header: list[str]) -> HeaderMap:
    spec = column_spec_for(kind)
    mapping = tabular.tabular_mapping_for_header(kind=spec.kind, organization=organization, header=header)
    return spec.resolve(header, mapping=mapping)


def duckdb_connect() -> Any:
    scratch = storage.directory(storage.WORK)
    return duckdb.connect(
        config={
            "threads": settings.SCREENING_DUCKDB_THREADS,
            "memory_limit": settings.SCREENING_DUCKDB_MEMORY,
            "temp_directory": str(scratch),
        }
    )


def _csv_columns() -> str:
    return "{%s}" % ", ".join("'%s': '%s'" % (name, kind) for name, kind in NORMALISED_COLUMNS)


def copy_to_parquet(connection: Any, select: str, params: list[Any], target: Path) -> None:
    """Write a SELECT's rows to a Parquet file. COPY … TO takes a literal path only: `target`
    is a path this app built (storage.path_of), quoted."""
    quoted = str(target).replace("'", "''")
    connection.execute("COPY (%s) TO '%s' (FORMAT parquet)" % (select, quoted), params)


def csv_to_parquet(csv_path: Path, parquet_path: Path) -> dict[str, Any]:
    """The normalised scratch CSV as a Parquet file, and the aggregates of its rows."""
    connection = duckdb_connect()
    try:
        source = (
            "read_csv(?, header = false, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            "columns = %s, nullstr = '')" % _csv_columns()
        )
        copy_to_parquet(connection, "SELECT * FROM %s" % source, [str(csv_path)], parquet_path)  # noqa: S608
        found = connection.execute(
            "SELECT count(*), count(DISTINCT id_blind), min(event_date), max(event_date), sum(amount_fen) "
            "FROM read_parquet(?)",
            [str(parquet_path)],
        ).fetchone()
    finally:
        connection.close()
    assert found is not None
    rows, people, first, last, amount = found
    return {
        "rows": int(rows),
        "people": int(people),
        "first_date": first.isoformat() if first else "",
        "last_date": last.isoformat() if last else "",
        "amount_fen": int(amount or 0),
    }


def ingest(
    *,
    kind: str,
    organization: Any,
    raw_path: Path,
    filename: str,
    parquet_name: str,
    progress: Callable[[int, int], None],
    today: dt.date,
) -> IngestOutcome:
    """Read the upload at `raw_path` into `DATA/parquet_name`. Raises ValidationFailed when the
    file itself is refused (format, limits, missing columns)."""
    outcome = IngestOutcome()
    scratch = storage.path_of(storage.WORK, storage.new_name(".csv"))
    parquet_path = storage.path_of(storage.DATA, parquet_name)
    try:
        with open_upload(raw_path, filename) as table:
            hmap = header_map(kind, organization, table.header)
            reader = RowReader(kind, hmap, today=today)
            estimate = table.estimate or 0
            with scratch.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                for row_no, row in enumerate(table.rows(), start=2):
                    outcome.rows_total += 1
                    try:
                        blind, day, amount, category = reader.read(row)
                    except ValueError as exc:
                        outcome.rows_failed += 1
                        if len(outcome.problems) < PROBLEMS_KEPT:
                            outcome.problems.append((row_no, str(exc)))
                        continue
                    writer.writerow((blind, day, amount, category, row_no))
                    outcome.rows_valid += 1
                    if outcome.rows_total % PROGRESS_EVERY == 0:
                        progress(outcome.rows_total, max(estimate, outcome.rows_total))
        outcome.summary = csv_to_parquet(scratch, parquet_path)
    except BaseException:
        parquet_path.unlink(missing_ok=True)
        raise
    finally:
        scratch.unlink(missing_ok=True)
    return outcome


def error_rows(*, raw_path: Path, filename: str, problems: list[list[Any]]) -> Iterator[tabular.RowError]:
    """The failed rows of an upload, read back from the file as uploaded, with their reasons."""
    reasons = {int(row_no): str(reason) for row_no, reason in problems}
    with open_upload(raw_path, filename) as table:
        for row_no, row in enumerate(table.rows(), start=2):
            reason = reasons.get(row_no)
            if reason is not None:
                yield tabular.RowError(row_no=row_no, cells=row, reason=reason)


def upload_header(*, raw_path: Path, filename: str) -> list[str]:
    with open_upload(raw_path, filename) as table:
        return list(table.header)
