"""Hand-written statements for the hot paths: a device's request (its lookup, nonce,
idempotency key and redemption), a member's claim and the audit append. Each ORM statement
costs about a millisecond of CPU to compile (measured on the device redemption path, where it
was most of the request), so these paths state their SQL directly. The SQL is the subset
PostgreSQL and SQLite share (`INSERT … RETURNING`, `ON CONFLICT … DO NOTHING`); values go
through the model fields' own database preparation, so they are stored exactly as the ORM
stores them."""

import datetime as dt
import functools
import re
from collections.abc import Iterable
from typing import Any, cast

from django.db import connection, models
from django.db.backends.utils import CursorWrapper
from django.db.models import DEFERRED
from django.utils import timezone


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def table(model: type[models.Model]) -> str:
    """A model's table, quoted, for a hand-written statement (names come from the models, never
    typed out)."""
    return _table(model)


_PLAIN_CHOICE = re.compile(r"[a-z][a-z0-9_]*")


def choice(value: models.Choices) -> str:
    """A `TextChoices` member as an SQL string literal, so a hand-written statement names a
    status through its enum while its text (and so its plan) stays that of a constant. Only
    plain lower-case words qualify: nothing in them needs escaping."""
    text = str(value.value)
    if not _PLAIN_CHOICE.fullmatch(text):
        raise ValueError("not a plain choice value: %r" % text)
    return "'%s'" % text


def _column(field: models.Field) -> str:
    return connection.ops.quote_name(cast(str, field.column))  # a concrete field always has one


def _fields(model: type[models.Model], names: Iterable[str]) -> list[models.Field]:
    by_name = {f.name: f for f in model._meta.concrete_fields}
    return [by_name[name] for name in names]


def one(query: str, params: list[Any]) -> dict[str, Any] | None:
    """The first row of a hand-written query by column name, or None."""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
        return None if row is None else dict(zip((col[0] for col in cursor.description), row, strict=True))


def db_datetime(value: dt.datetime | None) -> Any:
    """A datetime as the connection stores it (SQLite keeps naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime column read by hand: PostgreSQL answers aware, SQLite naive UTC."""
    if value is None or timezone.is_aware(value):
        return value
    return value.replace(tzinfo=dt.UTC)


def loaded[M: models.Model](model: type[M], **values: Any) -> M:
    """An instance as if loaded from the database with just these fields (by attname); the
    others are deferred, so reading one fetches it rather than giving a default. (What
    `Model.from_db` does, with the field layout worked out once per model and set of names.)"""
    present = _layout(model, frozenset(values))
    instance = model(*[DEFERRED if name is None else values[name] for name in present])
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@functools.cache
def _layout(model: type[models.Model], names: frozenset[str]) -> tuple[str | None, ...]:
    """Each concrete field's attname if it is among `names`, else None (deferred)."""
    return tuple(f.attname if f.attname in names else None for f in model._meta.concrete_fields)


@functools.cache
def _insert_sql(model: type[models.Model], vendor: str) -> tuple[str, tuple[models.Field, ...]]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    sql = "INSERT INTO %s (%s) VALUES (%s) RETURNING %s" % (  # noqa: S608 - identifiers from model metadata, quoted
        _table(model),
        ", ".join(_column(f) for f in fields),
        ", ".join(["%s"] * len(fields)),
        _column(model._meta.pk),
    )
    return sql, fields


def insert(cursor: CursorWrapper, instance: models.Model) -> models.Model:
    """INSERT one new row (every concrete field but the primary key) and set its primary key:
    what `instance.save()` does for a new row, without signals or a compiled query."""
    db = cursor.db
    sql, fields = _insert_sql(type(instance), db.vendor)
    cursor.execute(sql, [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields])
    instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = db.alias
    return instance


def insert_and_update(cursor: CursorWrapper, instance: models.Model, update: str, params: list[Any]) -> int:
    """INSERT one new row (as `insert` does) and run one hand-written UPDATE in the same
    transaction; returns how many rows the UPDATE changed. On PostgreSQL both go in one round
    trip (two data-modifying CTEs, which run on the same snapshot whatever the outer query
    reads); elsewhere as two statements. The caller makes sure the UPDATE cannot depend on
    the new row."""
    db = cursor.db
    sql, fields = _insert_sql(type(instance), db.vendor)
    values = [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields]
    if db.vendor == "postgresql":
        cursor.execute(
            "WITH inserted AS (%s), updated AS (%s RETURNING 1)"  # noqa: S608 - statements built from model metadata
            " SELECT (SELECT * FROM inserted), (SELECT count(*) FROM updated)" % (sql, update),
            values + params,
        )
        pk, changed = cursor.fetchone()
    else:
        cursor.execute(sql, values)
        pk = cursor.fetchone()[0]
        cursor.execute(update, params)
        changed = cursor.rowcount
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = db.alias
    return int(changed)


def insert_unless_exists(
    cursor: CursorWrapper, model: type[models.Model], values: dict[str, Any], *, unique: tuple[str, ...]
) -> bool:
    """INSERT a row unless one with the same `unique` columns exists; True if it went in.

    A row another transaction has inserted but not yet committed makes this wait for that
    transaction and then answer False (or True, had it rolled back): the unique index is the
    lock, so two copies of one request cannot both get True."""
    sql, fields = _insert_unless_exists_sql(model, tuple(values), unique, cursor.db.vendor)
    cursor.execute(sql, [f.get_db_prep_save(values[f.name], cursor.db) for f in fields])
    return cursor.rowcount == 1


@functools.cache
def _insert_unless_exists_sql(
    model: type[models.Model], names: tuple[str, ...], unique: tuple[str, ...], vendor: str
) -> tuple[str, list[models.Field]]:
    fields = _fields(model, names)
    sql = "INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO NOTHING" % (  # noqa: S608 - identifiers from model metadata
        _table(model),
        ", ".join(_column(f) for f in fields),
        ", ".join(["%s"] * len(fields)),
        ", ".join(_column(f) for f in _fields(model, unique)),
    )
    return sql, fields


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_rows(model: type[models.Model], names: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert many new rows of `model`, each a tuple of plain values (ints, bools, strings,
    dates, None) for the fields `names` in that order — every column without a database
    default must be named (a model field's default is Python's, not the table's). On
    PostgreSQL one `COPY … FROM STDIN` (text format, written in 1 MB blocks); elsewhere one
    prepared INSERT run for every row. Returns how many rows. For set-based writes of
    hundreds of thousands of rows, where `bulk_create`'s compiler is most of the time."""
    fields = _fields(model, names)
    columns = ", ".join(_column(f) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The driver's COPY, wrapped so that a violated constraint is Django's IntegrityError.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy("COPY %s (%s) FROM STDIN" % (_table(model), columns)) as copy,
            ):
                block: list[str] = []
                size = 0
                for row in rows:
                    line = "\t".join(map(_copy_text, row)) + "\n"
                    block.append(line)
                    size += len(line)
                    count += 1
                    if size >= 1 << 20:
                        copy.write("".join(block))
                        block, size = [], 0
                if block:
                    copy.write("".join(block))
        else:
            values = [tuple(row) for row in rows]
            count = len(values)
            if values:
                cursor.executemany(
                    "INSERT INTO %s (%s) VALUES (%s)" % (_table(model), columns, ", ".join(["%s"] * len(fields))),  # noqa: S608 - identifiers from model metadata
                    values,
                )
    return count


def update_rows(objs: Iterable[models.Model], names: Iterable[str]) -> int:
    """Write the fields `names` of each of `objs` (one model, already in the database) back by
    primary key: what `bulk_update` does, in one `UPDATE … FROM (VALUES …)` per 500 rows on
    PostgreSQL (each value cast to its column's type) and one prepared UPDATE run per row
    elsewhere — without `bulk_update`'s CASE expressions, whose compilation was most of a
    batch's time. Values go through the fields' own database preparation. Returns how many
    rows were written."""
    items = list(objs)
    if not items:
        return 0
    model = type(items[0])
    fields = _fields(model, names)
    pk = model._meta.pk
    db = connection
    rows = [[f.get_db_prep_save(getattr(obj, f.attname), db) for f in fields] + [obj.pk] for obj in items]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            sets = ", ".join("%s = v.c%d::%s" % (_column(f), i, f.db_type(db)) for i, f in enumerate(fields))
            names_sql = ", ".join(["c%d" % i for i in range(len(fields))] + ["k"])
            for start in range(0, len(rows), 500):
                chunk = rows[start : start + 500]
                values = ", ".join(["(%s)" % ", ".join(["%s"] * (len(fields) + 1))] * len(chunk))
                cursor.execute(
                    "UPDATE %s SET %s FROM (VALUES %s) AS v(%s) WHERE %s.%s = v.k::%s"  # noqa: S608 - identifiers from model metadata
                    % (_table(model), sets, values, names_sql, _table(model), _column(pk), pk.db_type(db)),
                    [value for row in chunk for value in row],
                )
        else:
            cursor.executemany(
                "UPDATE %s SET %s WHERE %s = %%s"  # noqa: S608 - identifiers from model metadata
                % (_table(model), ", ".join("%s = %%s" % _column(f) for f in fields), _column(pk)),
                rows,
            )
    return len(rows)
