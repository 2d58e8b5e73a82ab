"""The engines that run the rules' SQL: DuckDB in-process (the default) and Apache Spark
(local mode, a master URL, or a Spark Connect URL, from settings).

Both implement `Engine.session(tables, local=…)`: the inputs registered under their view
names — a dataset's Parquet file, or a headerless CSV with declared columns (the run's
blind-index export of the registry) — and then either `rows(sql)`, which streams a query's
result as tuples, or `collect(sql, table=…)`, which lands the result as a table of the run's
local DuckDB connection, where the candidates are shaped and diffed set-based (`services`).
The SQL is the same text for both (see `rules`, which keeps to the subset both accept and
uses no function whose name differs between them)."""

import abc
import contextlib
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from gonghui.screening import ingest, storage
from gonghui.screening.models import EngineName

FETCH_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class Source:
    """An input table: a Parquet file, or (`columns` given) a headerless CSV of those columns
    and engine types."""

    path: Path
    columns: tuple[tuple[str, str], ...] | None = None


Tables = Mapping[str, "Path | Source"]


def _source(value: "Path | Source") -> Source:
    return value if isinstance(value, Source) else Source(value)


class EngineSession(abc.ABC):
    @abc.abstractmethod
    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]: ...

    @abc.abstractmethod
    def collect(self, sql: str, *, table: str) -> None:
        """Append the result of `sql` to `table` (its columns in the same order) of the
        session's local DuckDB connection."""

    def collect_all(
        self, parts: Sequence[str], *, table: str, landed: Callable[[list[int]], None] | None = None
    ) -> None:
        """`collect` the rows of every SELECT of `parts` (the same columns), calling `landed`
        with the positions of the parts whose rows are in: here as one statement, their
        UNION ALL."""
        if parts:
            self.collect(" UNION ALL ".join(parts), table=table)
            if landed is not None:
                landed(list(range(len(parts))))


class Engine(abc.ABC):
    name: str

    @abc.abstractmethod
    def session(self, tables: Tables, *, local: Any) -> contextlib.AbstractContextManager[EngineSession]: ...


def quoted(path: Path) -> str:
    return "'%s'" % str(path).replace("'", "''")


def duckdb_csv(path: Path, columns: tuple[tuple[str, str], ...]) -> str:
    """DuckDB's reader of a headerless CSV with declared columns (empty unquoted field: NULL)."""
    declared = ", ".join("'%s': '%s'" % (name, kind) for name, kind in columns)
    return (
        "read_csv(%s, header = false, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        "columns = {%s})" % (quoted(path), declared)
    )


class DuckDBSession(EngineSession):
    def __init__(self, connection: Any):
        self.connection = connection

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        cursor = self.connection.execute(sql)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch

    def collect(self, sql: str, *, table: str) -> None:
        self.connection.execute("INSERT INTO %s %s" % (table, sql))

    def collect_all(
        self, parts: Sequence[str], *, table: str, landed: Callable[[list[int]], None] | None = None
    ) -> None:
        """One statement per part, `landed` after each. DuckDB runs the branches of a UNION ALL
        side by side — every rule's join on the registry and the year's settlement aggregate
        at once — and the shipped rules cost it about a third more CPU that way than one after
        the other (4.2 s against 2.9 s on the 1,000,000-member benchmark)."""
        for position, sql in enumerate(parts):
            self.collect(sql, table=table)
            if landed is not None:
                landed([position])


class DuckDBEngine(Engine):
    """The rules run in the run's own local connection: a CSV input is loaded once as a table
    (the registry export, joined by every rule), a Parquet file is a view scanned where used."""

    name = EngineName.DUCKDB

    @contextlib.contextmanager
    def session(self, tables: Tables, *, local: Any = None) -> Iterator[EngineSession]:
        connection = local if local is not None else ingest.duckdb_connect()
        created: list[tuple[str, str]] = []
        try:
            for view, value in tables.items():
                source = _source(value)
                if source.columns is None:
                    sql = "CREATE TEMP VIEW %s AS SELECT * FROM read_parquet(%s)" % (view, quoted(source.path))  # noqa: S608
                    created.append(("VIEW", view))
                else:
                    reader = duckdb_csv(source.path, source.columns)
                    sql = "CREATE TEMP TABLE %s AS SELECT * FROM %s" % (view, reader)  # noqa: S608 - our names
                    created.append(("TABLE", view))
                connection.execute(sql)
            yield DuckDBSession(connection)
        finally:
            if local is None:
                connection.close()
            else:
                for what, name in reversed(created):
                    connection.execute("DROP %s IF EXISTS %s" % (what, name))


def spark_session() -> Any:
    """The process's Spark session (created once; the test suite's fixture creates it first)."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 - the JVM starts only when Spark is chosen

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("gonghui-screening")
    if settings.SCREENING_SPARK_REMOTE:
        return builder.remote(settings.SCREENING_SPARK_REMOTE).getOrCreate()
    return (
        builder.master(settings.SCREENING_SPARK_MASTER)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .getOrCreate()
    )


def spark_shutdown() -> None:
    """Stop the process's Spark session and end its JVM (`stop()` leaves the JVM running for the
    life of the process): the test suite and the benchmark leave no child process behind."""
    from pyspark import SparkContext  # noqa: PLC0415 - only where Spark ran
    from pyspark.sql import SparkSession  # noqa: PLC0415

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    gateway.shutdown()
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None


class SparkSessionRows(EngineSession):
    def __init__(self, spark: Any, local: Any):
        self.spark = spark
        self.local = local

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        for row in self.spark.sql(sql).toLocalIterator():
            yield tuple(row)

    def collect(self, sql: str, *, table: str) -> None:
        """Spark writes the result as Parquet into the scratch directory (the same storage it
        read the inputs from), which the local DuckDB connection then loads."""
        folder = storage.path_of(storage.WORK, storage.new_name(".spark"))
        try:
            self.spark.sql(sql).write.mode("overwrite").parquet(str(folder))
            if any(folder.glob("*.parquet")):
                self.local.execute(
                    "INSERT INTO %s SELECT * FROM read_parquet(%s)"  # noqa: S608 - our names
                    % (table, quoted(folder / "*.parquet"))
                )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _spark_schema(columns: tuple[tuple[str, str], ...]) -> str:
    return ", ".join("%s %s" % (name, "STRING" if kind == "VARCHAR" else kind) for name, kind in columns)


class SparkEngine(Engine):
    name = EngineName.SPARK

    @contextlib.contextmanager
    def session(self, tables: Tables, *, local: Any = None) -> Iterator[EngineSession]:
        spark = spark_session()
        for view, value in tables.items():
            source = _source(value)
            if source.columns is None:
                frame = spark.read.parquet(str(source.path))
            else:
                frame = spark.read.csv(str(source.path), schema=_spark_schema(source.columns), header=False)
            frame.createOrReplaceTempView(view)
        try:
            yield SparkSessionRows(spark, local)
        finally:
            for view in tables:
                spark.catalog.dropTempView(view)


ENGINES: dict[str, type[Engine]] = {EngineName.DUCKDB: DuckDBEngine, EngineName.SPARK: SparkEngine}


def engine_for(name: str | None = None) -> Engine:
    chosen = name or settings.SCREENING_ENGINE
    if chosen not in ENGINES:
        raise ValueError("unknown screening engine %r" % chosen)
    return ENGINES[chosen]()
