"""Tables between the database and a run's scratch files, set-based.

A run moves whole tables: the scope's blind-index export out of the database, the previous
run's findings and the decisions in force out of it, the candidates back in. On PostgreSQL each
is one `COPY … (FORMAT csv)` streamed in blocks to or from a file (no row passes through
Python); elsewhere (the SQLite demo) the same CSV is written and read through a cursor. The
files are headerless CSV that DuckDB reads with declared column types."""

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import connection, models

from gonghui.core import sql

BLOCK_BYTES = 1 << 20


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


def export_queryset(queryset: models.QuerySet[Any], path: Path) -> int:
    """`export_csv` of a `values_list` queryset: its SQL, as the ORM compiles it."""
    query, params = queryset.query.sql_with_params()
    return export_csv(query, params, path)


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
