"""The same rules on DuckDB and on Spark (local mode) give the same candidates."""

import datetime as dt

import pytest

from gonghui.screening import engines, ingest, services, storage, synthetic
from gonghui.screening.models import Candidate
from gonghui.screening.rules import MEMBERS_VIEW, view_name
from gonghui.screening.tests import world as sw
from gonghui.screening.tests.helpers import run

pytestmark = pytest.mark.slow

KINDS = ("mz_dibao", "rs_unemployment", "rs_injury", "yb_settlement")


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("gonghui-screening-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .getOrCreate()
    )
    yield session
    engines.spark_shutdown()


def _synthetic_tables(members: int, claims: int, reference: dt.date) -> dict[str, object]:
    connection = ingest.duckdb_connect()
    tables = {MEMBERS_VIEW: storage.path_of(storage.WORK, "members.parquet")}
    targets = {kind: storage.path_of(storage.DATA, f"{kind}.parquet") for kind in KINDS}
    try:
        synthetic.members_parquet(
            connection, members=members, unions=40, first_org_id=1000, target=tables[MEMBERS_VIEW]
        )
        synthetic.agency_parquets(connection, members=members, claims=claims, reference_date=reference, targets=targets)
    finally:
        connection.close()
    tables.update({view_name(kind): path for kind, path in targets.items()})
    return tables


def test_all_shipped_rules_give_identical_results_on_duckdb_and_spark(spark):
    reference = dt.date(2026, 6, 30)
    tables = _synthetic_tables(2000, 20_000, reference)
    common = {
        "tables": tables,
        "rules": services.shipped_rules_unsaved(),
        "available": set(KINDS),
        "reference_date": reference,
        "last_run_date": reference - dt.timedelta(days=60),
    }
    on_duckdb = services.execute_rules(engine=engines.DuckDBEngine(), **common)
    on_spark = services.execute_rules(engine=engines.SparkEngine(), **common)
    for duck, sp in zip(on_duckdb, on_spark, strict=True):
        assert duck.sql == sp.sql  # one text for both engines
        assert duck.rows, duck.rule.key  # every rule finds someone in this data
        assert sorted(duck.rows) == sorted(sp.rows), duck.rule.key
    assert {r.rule.key: len(r.rows) for r in on_duckdb} == {r.rule.key: len(r.rows) for r in on_spark}


@pytest.mark.django_db
def test_a_run_on_spark_stores_the_same_candidates_as_on_duckdb(spark, world):
    screening = sw.build(world)
    # Two scopes holding the same members, so that neither run is the other's previous one.
    on_duckdb = run(world.federation_admin, world.city, reference_date=sw.REFERENCE, engine="duckdb")
    on_spark = run(world.federation_admin, world.street, reference_date=sw.REFERENCE, engine="spark")
    assert on_spark.previous is None and on_spark.members_scanned == on_duckdb.members_scanned
    assert on_spark.inputs["engine"] == "spark"

    def found(r):  # type: ignore[no-untyped-def]
        return sorted(
            Candidate.objects.filter(run=r).values_list("member_id", "rule_key", "evidence_key", "organization_id")
        )

    assert found(on_spark) == found(on_duckdb)
    assert len(found(on_spark)) == 4
    assert screening.sick.pk in {m for m, *_ in found(on_spark)}
