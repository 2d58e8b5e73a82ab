"""Where rows go: PostgreSQL with COPY, or the ORM (SQLite, the demo)."""

import abc
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import F

from gonghui.core.errors import Conflict
from gonghui.members.imports.columns import INSERT_COLUMNS, ROW_COLUMNS, UPDATABLE
from gonghui.members.models import (
    Member,
    MemberHistory,
)
from gonghui.organizations.models import Organization


class Existing(NamedTuple):
    id: int
    organization_id: int
    organization_path: str
    version: int
    values: dict[str, str]


@dataclass
class MemberUpdate:
    member_id: int
    version: int
    values: dict[str, str]
    changes: dict[str, list[Any]]


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\")


class _Sink(abc.ABC):
    """Where validated rows go: PostgreSQL through COPY, or any database through the ORM."""

    def __init__(self, *, actor_id: int | None, reason: str, now: dt.datetime):
        self.actor_id = actor_id
        self.reason = reason
        self.now = now

    @abc.abstractmethod
    def lookup(self, blinds: list[str], *, lock: bool) -> dict[str, Existing]: ...

    @abc.abstractmethod
    def insert(self, lines: list[str]) -> None: ...

    @abc.abstractmethod
    def update(self, rows: list[MemberUpdate]) -> None: ...

    def prepare(self) -> None:
        return None


class PostgresSink(_Sink):
    """New members: `COPY` straight into the member table. Members already registered: merged
    values `COPY`-ed into a temporary table, history rows and the update each one statement."""

    staging = "members_import_update"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.table = Member._meta.db_table
        self.org_table = Organization._meta.db_table
        self.history_table = MemberHistory._meta.db_table
        self.staging_ready = False

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            # Foreign keys are checked after each statement instead of all at COMMIT, so the
            # progress bar keeps moving and a bad reference fails early.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def lookup(self, blinds: list[str], *, lock: bool) -> dict[str, Existing]:
        if not blinds:
            return {}
        fields = ", ".join(f"m.{name}" for name in UPDATABLE)
        sql = (
            f"SELECT m.id_blind, m.id, m.organization_id, o.path, m.version, {fields} "  # noqa: S608 - names are constants
            f"FROM {self.table} m JOIN {self.org_table} o ON o.id = m.organization_id "
            "WHERE m.id_blind = ANY(string_to_array(%s, ','))"
        )
        if lock:
            sql += " FOR UPDATE OF m"
        with connection.cursor() as cursor:
            cursor.execute(sql, [",".join(blinds)])
            rows = cursor.fetchall()
        return {
            row[0]: Existing(
                row[1], row[2], row[3], row[4], {n: _text(v) for n, v in zip(UPDATABLE, row[5:], strict=True)}
            )
            for row in rows
        }

    def insert(self, lines: list[str]) -> None:
        columns = ", ".join(INSERT_COLUMNS)
        payload = "".join(lines).encode()
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy,
        ):
            for start in range(0, len(payload), 1 << 20):
                copy.write(payload[start : start + (1 << 20)])

    def update(self, rows: list[MemberUpdate]) -> None:
        if not rows:
            return
        columns = ", ".join(f"{name} text" for name in UPDATABLE)
        with connection.cursor() as cursor:
            if not self.staging_ready:
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {self.staging} "
                    f"(member_id bigint, version integer, changes jsonb, {columns}) ON COMMIT DROP"
                )
                self.staging_ready = True
            cursor.execute(f"TRUNCATE {self.staging}")
            payload = "".join(
                "\t".join(
                    (
                        str(row.member_id),
                        str(row.version),
                        _copy_escape(json.dumps(row.changes, ensure_ascii=False)),
                        *(_copy_escape(row.values[name]) for name in UPDATABLE),
                    )
                )
                + "\n"
                for row in rows
            ).encode()
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(
                    f"COPY {self.staging} (member_id, version, changes, {', '.join(UPDATABLE)}) FROM STDIN"
                ) as copy,
            ):
                copy.write(payload)
            cursor.execute(
                f"INSERT INTO {self.history_table} (member_id, version, changed_at, actor_id, action, changes, reason) "  # noqa: S608
                f"SELECT member_id, version + 1, %s, %s, 'import', changes, %s FROM {self.staging}",
                [self.now, self.actor_id, self.reason],
            )
            assignments = ", ".join(
                f"{name} = s.{name}::date"
                if name == "joined_on"
                else f"{name} = s.{name}::integer"
                if name == "tags"
                else f"{name} = s.{name}"
                for name in UPDATABLE
            )
            cursor.execute(
                f"UPDATE {self.table} m SET {assignments}, version = m.version + 1, updated_at = %s "  # noqa: S608
                f"FROM {self.staging} s WHERE m.id = s.member_id AND m.version = s.version",
                [self.now],
            )
            if cursor.rowcount != len(rows):
                raise Conflict("导入期间有会员信息被他人修改，请重新导入")


class OrmSink(_Sink):
    """The same writes through the ORM, for SQLite (the demo) and any other database."""

    lookup_batch = 500

    def lookup(self, blinds: list[str], *, lock: bool) -> dict[str, Existing]:
        found: dict[str, Existing] = {}
        for start in range(0, len(blinds), self.lookup_batch):
            qs = Member.objects.filter(id_blind__in=blinds[start : start + self.lookup_batch])
            if lock:
                qs = qs.select_for_update()
            for row in qs.values_list("id_blind", "id", "organization_id", "organization__path", "version", *UPDATABLE):
                found[row[0]] = Existing(
                    row[1], row[2], row[3], row[4], {n: _text(v) for n, v in zip(UPDATABLE, row[5:], strict=True)}
                )
        return found

    def insert(self, lines: list[str]) -> None:
        members = []
        for line in lines:
            values = [v.replace("\\\\", "\\") for v in line[:-1].split("\t")]
            row = dict(zip(INSERT_COLUMNS, values, strict=True))
            members.append(
                Member(
                    organization_id=int(row["organization_id"]),
                    **{name: row[name] for name in ROW_COLUMNS if name not in ("birth_date", "joined_on", "tags")},
                    birth_date=dt.date.fromisoformat(row["birth_date"]),
                    joined_on=dt.date.fromisoformat(row["joined_on"]),
                    tags=int(row["tags"]),
                    status=row["status"],
                    version=1,
                )
            )
        Member.objects.bulk_create(members, batch_size=500)

    def update(self, rows: list[MemberUpdate]) -> None:
        history = []
        for row in rows:
            values: dict[str, Any] = dict(row.values)
            values["joined_on"] = dt.date.fromisoformat(values["joined_on"])
            values["tags"] = int(values["tags"])
            changed = Member.objects.filter(pk=row.member_id, version=row.version).update(
                **values, version=F("version") + 1, updated_at=self.now
            )
            if changed != 1:
                raise Conflict("导入期间有会员信息被他人修改，请重新导入")
            history.append(
                MemberHistory(
                    member_id=row.member_id,
                    version=row.version + 1,
                    actor_id=self.actor_id,
                    action="import",
                    changes=row.changes,
                    reason=self.reason,
                )
            )
        MemberHistory.objects.bulk_create(history, batch_size=500)


def make_sink(engine: str, **kwargs: Any) -> _Sink:
    if engine == "auto":
        engine = "postgresql" if connection.vendor == "postgresql" else "orm"
    return PostgresSink(**kwargs) if engine == "postgresql" else OrmSink(**kwargs)
