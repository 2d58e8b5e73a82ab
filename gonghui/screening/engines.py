"""The engines that run the rules' SQL: DuckDB in-process (the default) and Apache Spark
(local mode, a master URL, or a Spark Connect URL, from settings).

Both implement `Engine.session(tables)`: the Parquet files registered as views under the
given names, then `rows(sql)` streams a query's result as tuples. The SQL is the same text
for both (see `rules`, which keeps to the subset both accept and uses no function whose name
differs between them)."""

import abc
import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

from gonghui.screening import ingest
from gonghui.screening.models import EngineName

FETCH_ROWS = 10_000


class EngineSession(abc.ABC):
    @abc.abstractmethod
    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]: ...


class Engine(abc.ABC):
    name: str

    @abc.abstractmethod
    def session(self, tables: Mapping[str, Path]) -> contextlib.AbstractContextManager[EngineSession]: ...


def _quoted(path: Path) -> str:
    return "'%s'" % str(path).replace("'", "''")


class DuckDBSession(EngineSession):
    def __init__(self, connection: Any):
        self.connection = connection

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        cursor = self.connection.execute(sql)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch


class DuckDBEngine(Engine):
    name = EngineName.DUCKDB

    @contextlib.contextmanager
    def session(self, tables: Mapping[str, Path]) -> Iterator[EngineSession]:
        connection = ingest.duckdb_connect()
        try:
            for view, path in tables.items():
                sql = "CREATE VIEW %s AS SELECT * FROM read_parquet(%s)" % (view, _quoted(path))  # noqa: S608 - our names
                connection.execute(sql)
            yield DuckDBSession(connection)
        finally:
            connection.close()


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
    def __init__(self, spark: Any):
        self.spark = spark

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        for row in self.spark.sql(sql).toLocalIterator():
            yield tuple(row)


class SparkEngine(Engine):
    name = EngineName.SPARK

    @contextlib.contextmanager
    def session(self, tables: Mapping[str, Path]) -> Iterator[EngineSession]:
        spark = spark_session()
        for view, path in tables.items():
            spark.read.parquet(str(path)).createOrReplaceTempView(view)
        try:
            yield SparkSessionRows(spark)
        finally:
            for view in tables:
                spark.catalog.dropTempView(view)


ENGINES: dict[str, type[Engine]] = {EngineName.DUCKDB: DuckDBEngine, EngineName.SPARK: SparkEngine}


def engine_for(name: str | None = None) -> Engine:
    chosen = name or settings.SCREENING_ENGINE
    if chosen not in ENGINES:
        raise ValueError("unknown screening engine %r" % chosen)
    return ENGINES[chosen]()
