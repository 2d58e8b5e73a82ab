"""Tables between the database and a run's scratch files, set-based.

A run moves whole tables: the scope's blind-index export out of the database, the previous
run's findings and the decisions in force out of it, the candidates back in. On PostgreSQL the
way in is one `COPY … FROM STDIN (FORMAT csv)` streamed in blocks from a file; the way out is
one query whose rows are blocks of CSV lines the database formats itself (`export_queryset`:
`COPY … TO STDOUT` hands the client one message per row, and reading a million of them cost
the client more than the database spent on the whole export). Elsewhere (the SQLite demo) the
same CSV is written and read through a cursor. The files are headerless CSV that DuckDB reads
with declared column types."""

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import connection, models

from gonghui.core import sql

BLOCK_BYTES = 1 << 20
# Rows per block of `export_queryset` (grouped by the first column: ids, so blocks of about
# this many rows where the ids are dense).
BLOCK_ROWS = 20_000


def export_csv(query: str, params: Sequence[Any], path: Path) -> int:
    """Write the rows of `query` (an ORM query's SQL and its parameters) to `path` as CSV, and
    return how many there were."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, path.open("wb") as handle:
            raw = cursor.cursor
            with raw.copy("COPY (%s) TO STDOUT (FORMAT csv)" % query, list(params)) as copy:
                for block in copy:
                    handle.write(block)
            return max(raw.rowcount, 0)
    count = 0
    with connection.cursor() as cursor, path.open("w", newline="", encoding="utf-8") as handle:
        cursor.execute(query, list(params))
        writer = csv.writer(handle)
        while rows := cursor.fetchmany(10_000):
            writer.writerows(rows)
            count += len(rows)
    return count


def _csv_field(column: str, output_field: Any) -> str:
    """The SQL of one CSV field as PostgreSQL's COPY writes it: NULL as an empty unquoted field,
    a number as it is, anything else as text in double quotes (a quote doubled)."""
    if isinstance(output_field, models.IntegerField):
        return "coalesce(%s::text, '')" % column
    return "coalesce('\"' || replace(%s::text, '\"', '\"\"') || '\"', '')" % column


def export_queryset(queryset: models.QuerySet[Any], path: Path) -> int:
    """Write the rows of a `values_list` queryset to `path` as CSV, and return how many there
    were. On PostgreSQL the database writes the CSV text, in blocks of rows grouped by the
    first column (an id); elsewhere `export_csv` of the queryset's SQL."""
    query, params = queryset.query.sql_with_params()
    if connection.vendor != "postgresql":
        return export_csv(query, params, path)
    fields = [col.output_field for col in queryset.query.select]
    if not fields or not isinstance(fields[0], models.IntegerField):
        raise ValueError("export_queryset needs a values_list whose first column is an id")
    names = ["c%d" % n for n in range(len(fields))]
    line = " || ',' || ".join(_csv_field(name, f) for name, f in zip(names, fields, strict=True))
    statement = (
        "SELECT string_agg(%s, E'\\n') || E'\\n', count(*) FROM (%s) AS q(%s) GROUP BY c0 / %d"  # noqa: S608
        % (line, query, ", ".join(names), BLOCK_ROWS)
    )
    count = 0
    with connection.cursor() as cursor, path.open("w", encoding="utf-8", newline="") as handle:
        cursor.execute(statement, list(params))
        while rows := cursor.fetchmany(16):
            for block, rows_in_block in rows:
                handle.write(block)
                count += rows_in_block
    return count


def import_csv(model: type[models.Model], columns: Sequence[str], path: Path) -> None:
    """Append the CSV at `path` (fields in the order of `columns`, the attribute names of the
    model's concrete fields) to the model's table with one COPY (PostgreSQL only)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(fields[name].column)) for name in columns)
    statement = "COPY %s (%s) FROM STDIN (FORMAT csv)" % (sql.table(model), names)
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy, path.open("rb") as handle:
        while block := handle.read(BLOCK_BYTES):
            copy.write(block)
