"""Synthetic registry and agency data for the benchmark and the engine-equivalence test, written
by DuckDB straight to Parquet (never through Python lists), so ten million rows cost seconds
and no memory to speak of.

A synthetic member g (1…N) has the blind index md5('gonghui-synthetic-' || g): the same text in
DuckDB and PostgreSQL, so the registry the benchmark writes to the database matches the agency
files written here. Agency rows name people 1…k·N, so only some of them are members, and each
kind picks its people with its own stride."""

import datetime as dt
from pathlib import Path
from typing import Any

from gonghui.screening import ingest

PREFIX = "gonghui-synthetic-"


def blind_sql(person: str) -> str:
    """The synthetic blind index of person number `person` (an SQL expression)."""
    return "md5('%s' || CAST(%s AS VARCHAR))" % (PREFIX, person)


def _write(connection: Any, select: str, target: Path) -> None:
    ingest.copy_to_parquet(connection, select, [], target)


def members_parquet(connection: Any, *, members: int, unions: int, first_org_id: int, target: Path) -> None:
    """The blind-index table of N synthetic members spread over `unions` union ids."""
    _write(
        connection,
        "SELECT CAST(g AS BIGINT) AS member_id, CAST(%(org)d + g %% %(unions)d AS BIGINT) AS org_id, "  # noqa: S608
        "%(blind)s AS id_blind FROM range(1, %(n)d + 1) t(g)"
        % {"org": first_org_id, "unions": unions, "blind": blind_sql("g"), "n": members},
        target,
    )


def _agency(
    connection: Any,
    *,
    rows: int,
    people: int,
    stride: int,
    date_from: dt.date,
    days: int,
    amount: str,
    category: str,
    target: Path,
) -> None:
    """`rows` normalised rows naming people 1…people (person = i·stride mod people + 1)."""
    select = (  # noqa: S608 - numbers and constant expressions of this module only
        "SELECT %(blind)s AS id_blind, "
        "CAST(CAST('%(start)s' AS DATE) + CAST(i %% %(days)d AS INTEGER) AS DATE) AS event_date, "
        "CAST(%(amount)s AS BIGINT) AS amount_fen, CAST(%(category)s AS VARCHAR) AS category, "
        "CAST(i + 2 AS BIGINT) AS row_no "
        "FROM range(0, %(rows)d) t(i)"
    ) % {
        "blind": blind_sql("(i * %d) %% %d + 1" % (stride, people)),
        "start": date_from.isoformat(),
        "days": max(days, 1),
        "amount": amount,
        "category": category,
        "rows": rows,
    }
    _write(connection, select, target)


def agency_parquets(
    connection: Any, *, members: int, claims: int, reference_date: dt.date, targets: dict[str, Path]
) -> None:
    """N rows each of 低保, 失业登记 and 工伤认定, and `claims` 医保 settlement rows, for kinds
    present in `targets` (kind → Parquet path)."""
    year_start = dt.date(reference_date.year, 1, 1)
    specs = {
        # One in twenty listed people is a member.
        "mz_dibao": {
            "rows": members,
            "people": 20 * members,
            "stride": 7919,
            "date_from": reference_date - dt.timedelta(days=1500),
            "days": 1400,
            "amount": "78000",
            "category": "'城市低保'",
        },
        "rs_unemployment": {
            "rows": members,
            "people": 20 * members,
            "stride": 104723,
            "date_from": reference_date - dt.timedelta(days=180),
            "days": 180,
            "amount": "NULL",
            "category": "'合同期满'",
        },
        "rs_injury": {
            "rows": members,
            "people": 20 * members,
            "stride": 15485863,
            "date_from": reference_date - dt.timedelta(days=730),
            "days": 730,
            "amount": "NULL",
            "category": "CASE WHEN i % 5 = 0 THEN '职业病' ELSE '工伤' END",
        },
        # Half the insured people are members; a few settlements are large.
        "yb_settlement": {
            "rows": claims,
            "people": 2 * members,
            "stride": 1299709,
            "date_from": year_start,
            "days": max(1, (reference_date - year_start).days + 1),
            "amount": "CASE WHEN i % 61 = 0 THEN 3000000 + (i * 7919) % 5000000 ELSE (i * 104729) % 400000 END",
            "category": "CASE WHEN i % 3 = 0 THEN '住院' ELSE '门诊' END",
        },
    }
    for kind, target in targets.items():
        _agency(connection, target=target, **specs[kind])  # type: ignore[arg-type]
