"""`python manage.py bench screening --members N --claims M [--engine spark]`

Writes a synthetic registry of N members into the database (one INSERT … SELECT), and agency
data with DuckDB straight to Parquet: N rows each of 低保, 失业登记 and 工伤认定 and M 医保
settlement rows (`synthetic`). Then it runs every shipped rule through the real run path — a
`screening.run` job: the blind-index export of the registry, the engine, the candidates and
the diff written to the database — and, for comparison, one hand-written DuckDB query that
computes the same candidates from the same files. `seconds` times the run, not the data
generation; `ratio` is baseline / real (1.0: no overhead). `peak_rss_mb` is the peak resident
memory of the whole process, with the Spark JVM (a child process) added when it runs."""

import argparse
import datetime as dt
import os
import resource
import time
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core import jobs, sql
from gonghui.core.models import Job, JobStatus
from gonghui.core.permissions import Role
from gonghui.members.models import Member
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create, role_grant
from gonghui.screening import engines, ingest, services, storage, synthetic
from gonghui.screening.models import Candidate, Dataset, DatasetStatus, Run, RunStatus
from gonghui.screening.rules import MEDICAL_THRESHOLD_FEN

UNIONS = 50
CODE = "BENCH-SCR"
KINDS = {
    "mz_dibao": "低保名单（合成）",
    "rs_unemployment": "失业登记（合成）",
    "rs_injury": "工伤认定（合成）",
    "yb_settlement": "医保结算明细（合成）",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=10_000_000)
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic data afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the synthetic data a --keep run left behind when it has the same sizes (only the runs are cleared)",
    )


def _org(code: str, *, parent: Organization | None, level: int, name: str, region: str) -> Organization:
    existing = Organization.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return organization_create(actor=None, parent=parent, code=code, name=name, level=level, region_code=region)


def _tree() -> tuple[Organization, Organization, list[Organization]]:
    province = _org(f"{CODE}-P", parent=None, level=Level.PROVINCE, name="筛查基准测试省总工会", region="340000")
    city = _org(f"{CODE}-C", parent=province, level=Level.CITY, name="筛查基准测试市总工会", region="340100")
    unions = [
        _org(f"{CODE}-G{i:03d}", parent=city, level=Level.GRASSROOTS, name=f"筛查基准测试工会{i}", region="340102")
        for i in range(UNIONS)
    ]
    return province, city, unions


def _clear_runs(city: Organization, unions: list[Organization]) -> None:
    """Remove earlier runs and their candidates (in SQL: the ORM's collector would fetch every
    id first)."""
    runs = list(Run.objects.filter(organization=city).values_list("pk", "job_id"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM %s WHERE organization_id = ANY(%%s)" % sql.table(Candidate),  # noqa: S608
            [[u.pk for u in unions]],
        )
        Run.objects.filter(pk__in=[r for r, _ in runs]).delete()
        Job.objects.filter(pk__in=[j for _, j in runs]).delete()


def _clear(city: Organization, unions: list[Organization]) -> None:
    """Remove an earlier run's rows: runs, datasets and members."""
    _clear_runs(city, unions)
    union_ids = [u.pk for u in unions]
    datasets = list(Dataset.objects.filter(organization=city).values_list("pk", "job_id", "data_file"))
    with transaction.atomic(), connection.cursor() as cursor:
        Dataset.objects.filter(pk__in=[d for d, _, _ in datasets]).delete()
        Job.objects.filter(pk__in=[j for _, j, _ in datasets]).delete()
        cursor.execute(
            "DELETE FROM %s WHERE organization_id = ANY(%%s)" % sql.table(Member),  # noqa: S608
            [union_ids],
        )
    for _pk, _job, name in datasets:
        storage.remove(storage.DATA, name)


def _fill_members(unions: list[Organization], count: int) -> None:
    """N members over the unions, the synthetic blind index of member g being that of person g."""
    ids = "ARRAY[%s]" % ",".join(str(u.pk) for u in unions)
    columns = [
        ("organization_id", f"({ids})[1 + g %% {len(unions)}]"),
        ("member_no", "'BS' || lpad(g::text, 14, '0')"),
        ("card_no", "'6' || lpad(g::text, 18, '0')"),
        (
            "name",
            "(ARRAY['王','李','张','刘','陈','杨'])[1 + g %% 6] || (ARRAY['伟','芳','娜','强','磊','静'])[1 + g / 6 %% 6]",
        ),
        ("name_initials", "'wl'"),
        ("sex", "CASE WHEN g %% 2 = 0 THEN 'M' ELSE 'F' END"),
        ("birth_date", "DATE '1970-01-01' + (g %% 12000)"),
        ("ethnicity", "'汉族'"),
        ("id_type", "'resident'"),
        ("id_number_encrypted", "'v1:bench:' || md5(g::text)"),
        ("id_blind", "md5('%s' || g::text)" % synthetic.PREFIX),
        ("id_masked", "'3401**********' || lpad((g %% 10000)::text, 4, '0')"),
        ("phone", "'15' || lpad((g %% 1000000000)::text, 9, '0')"),
        ("education", "''"),
        ("skill_level", "''"),
        ("political_status", "''"),
        ("household_type", "''"),
        ("household_place", "''"),
        ("work_unit", "'合肥恒通物流有限公司'"),
        ("status", "'active'"),
        ("joined_on", "DATE '2015-01-01' + (g %% 3000)"),
        ("join_method", "'unit'"),
        ("tags", "0"),
        ("model_worker_level", "''"),
        ("hardship_class", "''"),
        ("version", "1"),
        ("created_at", "now()"),
        ("updated_at", "now()"),
    ]
    names = ", ".join(name for name, _ in columns)
    values = ", ".join(value for _, value in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {sql.table(Member)} ({names}) SELECT {values} FROM generate_series(1, %s) AS g",  # noqa: S608
            [count],
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {sql.table(Member)}")


def _datasets(city: Organization, *, members: int, claims: int, reference: dt.date) -> dict[str, Path]:
    """The four agency files as normalised Parquet, registered as ready datasets of the city."""
    targets = {kind: storage.path_of(storage.DATA, storage.new_name(".parquet")) for kind in KINDS}
    db = ingest.duckdb_connect()
    try:
        synthetic.agency_parquets(db, members=members, claims=claims, reference_date=reference, targets=targets)
    finally:
        db.close()
    for kind, label in KINDS.items():
        job = jobs.job_create(kind=services.INGEST_JOB, organization=city, enqueue=False)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now())
        rows = claims if kind == "yb_settlement" else members
        Dataset.objects.create(
            organization=city,
            kind=kind,
            name=label,
            version=1,
            job=job,
            filename="synthetic.parquet",
            data_file=targets[kind].name,
            status=DatasetStatus.READY,
            rows_total=rows,
            rows_valid=rows,
        )
    return targets


def _kept(city: Organization, unions: list[Organization], *, members: int, claims: int) -> dict[str, Path] | None:
    """The agency files of a kept run of the same sizes (None: none, or of other sizes)."""
    datasets = {d.kind: d for d in Dataset.objects.filter(organization=city, status=DatasetStatus.READY)}
    if set(datasets) != set(KINDS):
        return None
    targets = {kind: storage.path_of(storage.DATA, d.data_file) for kind, d in datasets.items()}
    sizes = {kind: claims if kind == "yb_settlement" else members for kind in KINDS}
    if any(datasets[kind].rows_valid != rows or not targets[kind].exists() for kind, rows in sizes.items()):
        return None
    if Member.objects.filter(organization__in=unions).count() != members:
        return None
    return targets


def baseline_sql(reference: dt.date, *, since_unemployment: dt.date, since_injury: dt.date) -> str:
    """The same candidates as the shipped rules, written by hand in one DuckDB query."""
    year = reference.year
    return f"""
        WITH spend AS (
            SELECT id_blind FROM yb GROUP BY id_blind
            HAVING sum(amount_fen) FILTER (WHERE event_date >= DATE '{year}-01-01'
                                           AND event_date < DATE '{year + 1}-01-01') > {MEDICAL_THRESHOLD_FEN}
        )
        SELECT m.member_id, 'medical_spend' FROM spend JOIN members m USING (id_blind)
        UNION ALL
        SELECT DISTINCT m.member_id, 'civil_aid' FROM dibao d JOIN members m USING (id_blind)
        WHERE d.event_date IS NULL OR d.event_date <= DATE '{reference}'
        UNION ALL
        SELECT DISTINCT m.member_id, 'unemployment_new' FROM unemployment u JOIN members m USING (id_blind)
        WHERE u.event_date > DATE '{since_unemployment}' AND u.event_date <= DATE '{reference}'
        UNION ALL
        SELECT DISTINCT m.member_id, 'work_injury' FROM injury i JOIN members m USING (id_blind)
        WHERE i.event_date > DATE '{since_injury}' AND i.event_date <= DATE '{reference}'
    """  # noqa: S608 - dates and a constant of this module


def _baseline(
    targets: dict[str, Path], members: engines.Source, reference: dt.date
) -> tuple[set[tuple[int, str]], float]:
    """The hand-written query over the same files; the registry export is loaded into a table
    first (not timed: only the query is)."""
    db = ingest.duckdb_connect()
    try:
        assert members.columns is not None
        db.execute("CREATE TABLE members AS SELECT * FROM %s" % engines.duckdb_csv(members.path, members.columns))  # noqa: S608
        views = {"dibao": targets["mz_dibao"], "unemployment": targets["rs_unemployment"]}
        views |= {"injury": targets["rs_injury"], "yb": targets["yb_settlement"]}
        for view, path in views.items():
            db.execute("CREATE VIEW %s AS SELECT * FROM read_parquet(%s)" % (view, engines.quoted(path)))  # noqa: S608
        query = baseline_sql(
            reference,
            since_unemployment=reference - dt.timedelta(days=90),
            since_injury=reference - dt.timedelta(days=365),
        )
        started = time.perf_counter()
        found = {(int(m), str(k)) for m, k in db.execute(query).fetchall()}
        return found, time.perf_counter() - started
    finally:
        db.close()


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                for child in handle.read().split():
                    found.append(int(child))
                    found.extend(_descendants(int(child)))
    except OSError:
        return found
    return found


def peak_rss_mb() -> float:
    """This process's peak resident memory, plus the peak of its live children (the JVM)."""
    total_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for pid in _descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)


def run(
    *, stdout: Any, members: int, claims: int, engine: str, keep: bool, reuse: bool = False, **_: Any
) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise SystemExit("this benchmark needs PostgreSQL (set DATABASE_URL)")
    reference = timezone.localdate()
    province, city, unions = _tree()
    kept = _kept(city, unions, members=members, claims=claims) if reuse else None
    if kept is not None:
        _clear_runs(city, unions)
        targets = kept
        stdout.write(f"reusing the kept {members} members and {claims} claims rows")
    else:
        _clear(city, unions)
        started = time.perf_counter()
        _fill_members(unions, members)
        targets = _datasets(city, members=members, claims=claims, reference=reference)
        stdout.write(f"generated {members} members and {claims} claims rows in {time.perf_counter() - started:.1f}s")
    admin = User.objects.filter(username="bench_screening_admin").first()
    if admin is None:
        admin = User.objects.create_staff_user(username="bench_screening_admin", display_name="筛查基准测试")
        role_grant(actor=None, user=admin, organization=province, role=Role.ADMIN)
    services.rules_install_shipped()

    screening_run = services.run_start(
        actor=admin, organization=city, reference_date=reference, engine=engine, enqueue=False
    )
    started = time.perf_counter()
    jobs.job_execute(job_id=screening_run.job_id)
    seconds = time.perf_counter() - started
    finished = Run.objects.get(pk=screening_run.pk)
    if finished.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"the run did not succeed: {finished.job.error}")
    stdout.write(f"run #{finished.pk} on {engine}: {finished.candidates_count} candidates in {seconds:.2f}s")
    stdout.write(f"phases (seconds): {finished.job.result.get('seconds')}")

    # The baseline reads the same blind-index export the run made (not timed: only the query is).
    with services.members_blind_index(city) as (members_table, _count):
        expected, baseline_seconds = _baseline(targets, members_table, reference)
    got = set(Candidate.objects.filter(run=finished).values_list("member_id", "rule_key").iterator(50_000))
    stdout.write(f"baseline DuckDB query: {len(expected)} candidates in {baseline_seconds:.2f}s")
    peak = peak_rss_mb()
    if not keep:
        _clear(city, unions)
    return {
        "members": members,
        "claims_rows": claims,
        "engine": engine,
        "seconds": round(seconds, 3),
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(baseline_seconds / seconds, 3) if seconds else None,
        "candidates": finished.candidates_count,
        "same_candidates": got == expected,
        "peak_rss_mb": peak,
    }


BENCHMARKS = {"screening": (add_arguments, run)}
