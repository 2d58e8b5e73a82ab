"""Member benchmarks (PostgreSQL).

`bench import --rows N`: writes N synthetic member rows to a CSV in the import template's
layout, imports them through the real import path (validation, encryption, blind index,
upsert, history, audit — `imports.import_file`, the code behind `import_members`), then loads
the same file with a plain `COPY` into a bare table shaped like the member table (same columns
and the same indexes, no validation, no encryption) and prints both rates and their ratio.

`bench pages`: with 1,000,000 members in the registry (filled through the import path when
missing), the p95 of the member list page and its search variants, through the Django test
client, for a province admin and for the staff of one grassroots union. Every request of a
variant runs on one database connection (checked), at least 20 times: PostgreSQL may switch
a statement prepared on the server to a generic plan after its fifth execution there, so a
plan that only goes wrong from the eleventh request on shows in the p95 (core.plans).

`bench export --members N`: a province admin's export of the whole registry of N members
(1,000,000 by default, written by SQL into a union of its own) as the background export job
(`core.export_jobs`: server-side cursor, write-only workbook on disk), timed and with the
process's peak memory; then, in the same run, the baseline the kernel issue names: the old
in-request export, which built the workbook in memory and stopped at 100,000 rows. Prints rows
per second of both, their ratio and the peak memory each added.
"""

import argparse
import csv
import datetime as dt
import math
import os
import random
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.test import Client

from gonghui.accounts.models import User
from gonghui.core import export_jobs, jobs
from gonghui.core import exports as exports_kernel
from gonghui.core.identifiers import make_resident_id
from gonghui.core.middleware import SESSION_OTP_OK
from gonghui.core.models import JobStatus
from gonghui.core.permissions import Role
from gonghui.members import exports, imports, selectors
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import (
    Education,
    HardshipClass,
    HouseholdType,
    JoinMethod,
    Member,
    MemberHistory,
    ModelWorkerLevel,
    Tag,
)
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create, role_grant

HEADER = (
    "工会代码",
    "姓名",
    "证件号码",
    "手机号",
    "民族",
    "学历",
    "户籍类型",
    "工作单位",
    "入会日期",
    "入会方式",
    "标签",
    "劳模/工匠",
    "困难职工类别",
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅林飞鹏辉俊峰文斌宇浩凯晨欣雪琳婷倩慧佳颖晓"
ETHNIC = ("汉族",) * 18 + ("回族", "壮族")
UNITS = tuple(
    f"{city}{word}{kind}"
    for city in ("苏州", "无锡", "常州", "南通")
    for word in ("恒通", "华盛", "新源", "东方", "宏达", "瑞丰", "长江", "天顺", "金鼎", "星辰")
    for kind in ("物流有限公司", "科技有限公司", "餐饮管理有限公司", "环境服务有限公司", "机械制造有限公司")
)
IMPORT_REGIONS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111")
# Each benchmark draws ID numbers from regions of its own, so one never finds its rows already
# registered by another (the benefits and health benchmarks and the demo use 320508 and the
# demo's districts; `bench import` uses Beijing's).
PAGES_REGIONS = ("320505", "320507", "320509", "320581", "320582", "320585", "320612", "320613")


def _coprime_step(count: int) -> int:
    """A large step with no factor in common with `count`: i → i·step mod count is a permutation."""
    step = 1_000_003
    while math.gcd(step, count) != 1:
        step += 2
    return step


def synthetic_rows(
    count: int, *, seed: int, regions: tuple[str, ...], org_codes: list[str] | None = None, start: int = 0
) -> Iterator[list[str]]:
    """Valid, realistic rows. Each row gets an ID number of its own: number `k` (region, birth
    date and sequence all follow from `k`) for a `k` in `start … start+count`, visited in a
    scrambled order — a real member list is sorted by unit or name, never by ID number. Runs
    from a lower `start` and different region sets never meet."""
    rng = random.Random(seed)
    step = _coprime_step(count)
    educations = [label for _, label in Education.choices]
    households = [label for _, label in HouseholdType.choices]
    methods = [label for _, label in JoinMethod.choices]
    tag_labels = [t.label for t in Tag]
    base = dt.date(1966, 1, 1)
    for i in range(start, start + count):
        block, seq = divmod(start + (i - start) * step % count, 500)
        region = regions[block % len(regions)]
        birth = base + dt.timedelta(days=(block // len(regions)) * 53 % 14000)
        sex = "M" if rng.random() < 0.55 else "F"
        tags = ";".join(rng.sample(tag_labels, rng.choice((0, 0, 1, 1, 2))))
        row = [
            rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))),
            make_resident_id(region, birth, seq, sex),
            f"1{rng.choice('35789')}{rng.randrange(10**9):09d}",
            rng.choice(ETHNIC),
            rng.choice(educations),
            rng.choice(households),
            rng.choice(UNITS),
            _join_date(birth, rng).isoformat(),
            rng.choice(methods),
            tags,
            ModelWorkerLevel.CITY.label if rng.random() < 0.01 else "",
            HardshipClass.RELATIVE.label if rng.random() < 0.02 else "",
        ]
        if org_codes is not None:
            row.insert(0, org_codes[i % len(org_codes)])
        yield row


JOIN_FROM, JOIN_UNTIL = dt.date(2000, 1, 1), dt.date(2024, 8, 1)


def _join_date(birth: dt.date, rng: random.Random) -> dt.date:
    """A day between 2000 and mid-2024, and never before the member turned 16 (the import
    refuses that, as a real registry would)."""
    try:
        sixteen = birth.replace(year=birth.year + 16)
    except ValueError:  # born on 29 February
        sixteen = dt.date(birth.year + 16, 3, 1)
    first = max(JOIN_FROM, sixteen)
    return first + dt.timedelta(days=rng.randrange(max(1, (JOIN_UNTIL - first).days)))


def write_csv(
    path: str,
    count: int,
    *,
    seed: int,
    regions: tuple[str, ...],
    org_codes: list[str] | None = None,
    start: int = 0,
) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER if org_codes is not None else HEADER[1:])
        writer.writerows(synthetic_rows(count, seed=seed, regions=regions, org_codes=org_codes, start=start))


def _org(code: str, *, parent: Organization | None, level: int, name: str, region: str) -> Organization:
    existing = Organization.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return organization_create(actor=None, parent=parent, code=code, name=name, level=level, region_code=region)


def _checkpoint() -> None:
    """Start each timed phase from the same place (superuser only; skipped otherwise)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass  # not a superuser: run without it


def _vacuum(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("this benchmark needs PostgreSQL (set DATABASE_URL)")


# ---- bench import ---------------------------------------------------------------------------


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=imports.default_workers())
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the imported members afterwards")


def _prepare_baseline(org_id: int) -> None:
    """A bare table with the member table's columns and indexes, holding the rows the member
    table holds now (so both start with indexes of the same size); columns the file does not
    carry get constant or sequence defaults."""
    table = Member._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_member_copy")
        cursor.execute("DROP SEQUENCE IF EXISTS bench_member_copy_seq")
        cursor.execute("CREATE SEQUENCE bench_member_copy_seq")
        cursor.execute(
            f"CREATE TABLE bench_member_copy (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)"
        )
        cursor.execute(f"INSERT INTO bench_member_copy SELECT * FROM {table}")  # noqa: S608 - constant name
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('bench_member_copy', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM bench_member_copy), false)"
        )
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s", [table]
        )
        for i, (definition,) in enumerate(cursor.fetchall()):
            cursor.execute(
                re.sub(
                    r"^CREATE (UNIQUE )?INDEX \S+ ON \S+",
                    rf"CREATE \1INDEX bench_member_copy_{i} ON bench_member_copy",
                    definition,
                )
            )
        cursor.execute("ALTER TABLE bench_member_copy ADD COLUMN tags_text varchar(60) NOT NULL DEFAULT ''")
        defaults = {
            "organization_id": str(org_id),
            "member_no": "'HY' || lpad(nextval('bench_member_copy_seq')::text, 14, '0')",
            "card_no": "'8' || lpad(currval('bench_member_copy_seq')::text, 18, '0')",
            # What the import derives, drawn at random so these indexes do the same work.
            "name_initials": "substr(md5(random()::text), 1, 3)",
            "tags": "CASE WHEN random() < 0.6 THEN 1 << floor(random() * 8)::int ELSE 0 END",
            "sex": "'M'",
            "birth_date": "'1980-01-01'",
            "id_type": "'resident'",
            "id_number_encrypted": "'v1:demo1:' || repeat('A', 56)",
            "id_masked": "'0000**********0000'",
            "skill_level": "''",
            "political_status": "''",
            "household_place": "''",
            "status": "'active'",
            "version": "1",
            "created_at": "now()",
            "updated_at": "now()",
        }
        for column, default in defaults.items():
            cursor.execute(f"ALTER TABLE bench_member_copy ALTER COLUMN {column} SET DEFAULT {default}")
    _vacuum("bench_member_copy")


def _copy_baseline(path: str) -> float:
    """COPY the file into the bare table: no validation, no encryption, no upsert."""
    _checkpoint()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        columns = (
            "name, id_blind, phone, ethnicity, education, household_type, work_unit, joined_on, join_method, "
            "tags_text, model_worker_level, hardship_class"
        )
        with (
            open(path, "rb") as handle,
            cursor.cursor.copy(
                f"COPY bench_member_copy ({columns}) FROM STDIN (FORMAT csv, HEADER true, FORCE_NOT_NULL ({columns}))"
            ) as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_member_copy")
        cursor.execute("DROP SEQUENCE bench_member_copy_seq")
    return elapsed


def run_import(*, stdout: Any, rows: int, workers: int, seed: int, keep: bool, **_: Any) -> dict[str, Any]:
    _require_postgresql()
    province = _org("BENCH-IMP-P", parent=None, level=Level.PROVINCE, name="导入基准测试省总工会", region="110000")
    union = _org("BENCH-IMP-G", parent=province, level=Level.GRASSROOTS, name="导入基准测试基层工会", region="110101")
    _clear(union, stdout)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "members.csv")
        started = time.perf_counter()
        write_csv(path, rows, seed=seed, regions=IMPORT_REGIONS)
        stdout.write(
            f"generated {rows} rows ({os.path.getsize(path) / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s"
        )
        _prepare_baseline(union.pk)
        _checkpoint()
        started = time.perf_counter()
        _batch, outcome = imports.import_file(path=path, organization=union, workers=workers)
        import_seconds = time.perf_counter() - started
        if outcome.created != rows:
            raise SystemExit(f"expected {rows} new members, import reported {outcome.as_json()}")
        stdout.write(f"import: {import_seconds:.1f}s")
        copy_seconds = _copy_baseline(path)
        stdout.write(f"copy baseline: {copy_seconds:.1f}s")
    if not keep:
        _clear(union, stdout)
    import_rate = rows / import_seconds
    copy_rate = rows / copy_seconds
    return {
        "load_average": round(os.getloadavg()[0], 2),
        "rows": rows,
        "workers": workers,
        "import_seconds": round(import_seconds, 2),
        "copy_seconds": round(copy_seconds, 2),
        "import_rows_per_s": round(import_rate),
        "copy_rows_per_s": round(copy_rate),
        "ratio": round(import_rate / copy_rate, 3),
    }


def _clear(union: Organization, stdout: Any) -> None:
    """Remove the benchmark's members (in SQL: the ORM's cascade collector would fetch every id
    first). Only import history can point at them; anything else makes the DELETE fail loudly."""
    members = Member._meta.db_table
    history = MemberHistory._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {history} WHERE member_id IN (SELECT id FROM {members} WHERE organization_id = %s)",  # noqa: S608
            [union.pk],
        )
        cursor.execute(f"DELETE FROM {members} WHERE organization_id = %s", [union.pk])  # noqa: S608
        deleted = cursor.rowcount
    if deleted:
        stdout.write(f"removed {deleted} rows of an earlier run; vacuuming")
        _vacuum(Member._meta.db_table)


# ---- bench pages ----------------------------------------------------------------------------


def add_pages_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--unions", type=int, default=2000, help="grassroots unions the members spread over")
    parser.add_argument(
        "--repeat", type=int, default=40, help=f"timed requests per variant and user (at least {MIN_REPEAT})"
    )
    parser.add_argument("--workers", type=int, default=imports.default_workers())


def _bench_tree(unions: int) -> tuple[Organization, list[Organization], list[Organization]]:
    """Province → 4 cities → 4 districts each → streets → `unions` grassroots unions."""
    province = _org("BENCH-PG-P", parent=None, level=Level.PROVINCE, name="页面基准测试省总工会", region="320000")
    cities = [
        _org(f"BENCH-PG-C{c}", parent=province, level=Level.CITY, name=f"基准第{c}市总工会", region="320500")
        for c in range(4)
    ]
    streets: list[Organization] = []
    for c, city in enumerate(cities):
        for d in range(4):
            county = _org(
                f"BENCH-PG-C{c}D{d}", parent=city, level=Level.COUNTY, name=f"基准{c}市{d}区总工会", region="320508"
            )
            for s in range(5):
                streets.append(
                    _org(
                        f"BENCH-PG-C{c}D{d}S{s}",
                        parent=county,
                        level=Level.STREET,
                        name=f"基准{c}市{d}区{s}街道总工会",
                        region="320508",
                    )
                )
    grassroots = [
        _org(
            f"BENCH-PG-G{g:05d}",
            parent=streets[g % len(streets)],
            level=Level.GRASSROOTS,
            name=f"基准{g}号公司工会",
            region="320508",
        )
        for g in range(unions)
    ]
    return province, cities, grassroots


def _staff(username: str, org: Organization, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_staff_user(username=username, display_name=username)
        role_grant(actor=None, user=user, organization=org, role=role)
    return user


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    session = client.session
    session[SESSION_OTP_OK] = True
    session.save()
    return client


# More than the executions after which a prepared statement may go generic (5 before psycopg
# prepares it, 5 custom plans on the server), with room for the p95 to see the rest.
MIN_REPEAT = 20


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    for _ in range(2):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[18], 1)


def run_pages(*, stdout: Any, members: int, unions: int, repeat: int, workers: int, **_: Any) -> dict[str, Any]:
    if repeat < MIN_REPEAT:
        raise SystemExit(f"--repeat must be at least {MIN_REPEAT}: a generic plan shows from the eleventh request on")
    _require_postgresql()
    province, cities, grassroots = _bench_tree(unions)
    _vacuum(Organization._meta.db_table)  # fresh statistics, or the planner guesses one union per prefix
    present = Member.objects.filter(organization__path__startswith=province.path).count()
    if present < members:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "fill.csv")
            codes = [g.code for g in grassroots]
            write_csv(path, members - present, seed=present + 7, regions=PAGES_REGIONS, org_codes=codes, start=present)
            started = time.perf_counter()
            _batch, outcome = imports.import_file(path=path, organization=province, workers=workers)
            stdout.write(
                f"filled {outcome.created} members through the import path in {time.perf_counter() - started:.1f}s"
            )
        _vacuum(Member._meta.db_table)
    total = Member.objects.count()
    union = grassroots[len(grassroots) // 3]
    sample = Member.objects.filter(organization=union).order_by("id").first()
    if sample is None:
        raise SystemExit("the sample union has no members")

    full_id = decrypt_id_number(sample.id_number_encrypted)
    users = {
        "province_admin": _staff("bench_pg_province_admin", province, Role.ADMIN),
        "grassroots_staff": _staff("bench_pg_grassroots_staff", union, Role.HANDLER),
    }
    variants = {
        "list": {},
        "list_page_3": {"page": "3"},
        "name_prefix": {"q": sample.name[0]},
        "name_prefix_2": {"q": sample.name[:2]},
        "pinyin_initials": {"q": sample.name_initials},
        "phone_prefix": {"q": sample.phone[:7]},
        "full_id_number": {"q": full_id},
        "org_filter_city": {"org": cities[0].code},
        "org_filter_union": {"org": union.code},
        "tag_filter": {"tag": str(Tag.FOOD_DELIVERY.value)},
        "tag_and_name": {"tag": str(Tag.MIGRANT.value), "q": sample.name[0]},
        "member_no": {"q": sample.member_no},
        "work_unit_prefix": {"unit": sample.work_unit[:4]},
    }
    result: dict[str, Any] = {"members": total, "repeat": repeat}
    worst = 0.0
    for who, user in users.items():
        client = _client(user)
        for name, params in variants.items():
            if who == "grassroots_staff" and name == "org_filter_city":
                continue  # outside that user's scope: a 404 page, not a list
            url = "/console/members/"

            def get(url: str = url, params: dict[str, str] = params, client: Client = client) -> None:
                response = client.get(url, params)
                if response.status_code != 200:
                    raise SystemExit(f"{url} {params} answered {response.status_code}")

            pid = _backend_pid()
            samples = _timed(get, repeat)
            if _backend_pid() != pid:
                raise SystemExit(f"{who} {name}: the requests did not all run on one database connection")
            p95 = _p95(samples)
            worst = max(worst, p95)
            result[f"{who}.{name}_p95_ms"] = p95
            stdout.write(
                f"{who:17s} {name:16s} p50 {statistics.median(samples):7.1f} ms  p95 {p95:7.1f} ms"
                f"  p95 from the 11th request {_p95(samples[8:]):7.1f} ms"
            )
    result["worst_p95_ms"] = worst
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result


# ---- bench export ---------------------------------------------------------------------------

OLD_REQUEST_LIMIT = 100_000  # where the in-request member export used to stop


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic members afterwards")


def _fill(union: Organization, count: int) -> None:
    """`count` members in `union`, written by one INSERT … SELECT (the export reads them; how
    they were registered does not matter here). Numbers come from a range no other run uses."""
    columns = [
        ("organization_id", "%s"),
        ("member_no", "'BX' || lpad(g::text, 14, '0')"),
        ("card_no", "'7' || lpad(g::text, 18, '0')"),
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
        ("id_blind", "'bx' || md5(g::text) || lpad(g::text, 30, '0')"),
        ("id_masked", "'3205**********' || lpad((g %% 10000)::text, 4, '0')"),
        ("phone", "'13' || lpad((g %% 1000000000)::text, 9, '0')"),
        ("education", "''"),
        ("skill_level", "''"),
        ("political_status", "''"),
        ("household_type", "''"),
        ("household_place", "''"),
        ("work_unit", "'苏州恒通物流有限公司'"),
        ("status", "'active'"),
        ("joined_on", "DATE '2015-01-01' + (g %% 3000)"),
        ("join_method", "'unit'"),
        ("tags", "g %% 4"),
        ("model_worker_level", "''"),
        ("hardship_class", "''"),
        ("version", "1"),
        ("created_at", "now()"),
        ("updated_at", "now()"),
    ]
    table = Member._meta.db_table
    names = ", ".join(name for name, _ in columns)
    values = ", ".join(value for _, value in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {values} FROM generate_series(1, %s) AS g",  # noqa: S608 - constant SQL
            [union.pk, count],
        )
    _vacuum(table)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_export(*, stdout: Any, members: int, keep: bool, **_: Any) -> dict[str, Any]:
    _require_postgresql()
    province = _org("BENCH-EXP-P", parent=None, level=Level.PROVINCE, name="导出基准测试省总工会", region="330000")
    union = _org("BENCH-EXP-G", parent=province, level=Level.GRASSROOTS, name="导出基准测试基层工会", region="330102")
    _clear(union, stdout)
    started = time.perf_counter()
    _fill(union, members)
    stdout.write(f"wrote {members} members in {time.perf_counter() - started:.1f}s")
    admin = _staff("bench_export_admin", province, Role.ADMIN)
    params = {"org": province.code}

    rss_before = _peak_rss_mb()
    job = export_jobs.export_start(actor=admin, name=exports.MEMBERS_EXPORT, params=params, organization=province)
    started = time.perf_counter()
    finished = jobs.job_execute(job_id=job.pk)
    job_seconds = time.perf_counter() - started
    job_peak = _peak_rss_mb() - rss_before
    if finished is None or finished.status != JobStatus.SUCCEEDED or finished.result["rows"] != members:
        raise SystemExit(f"the export job did not write {members} rows: {finished and finished.result}")
    path = export_jobs.export_dir() / finished.result["file"]
    size_mb = path.stat().st_size / 1e6
    stdout.write(f"export job: {members} rows, {size_mb:.0f} MB, {job_seconds:.1f}s, peak +{job_peak:.0f} MB")

    # The baseline: the old request built the workbook in memory and stopped at 100,000 rows.
    qs, _org_unused = selectors.member_list_from_filters(actor=admin, params=params)
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    content, rows = exports_kernel.xlsx_bytes(
        [exports_kernel.Sheet("会员", exports.HEADERS, exports._rows(qs[:OLD_REQUEST_LIMIT], exports._member_row))]
    )
    old_seconds = time.perf_counter() - started
    old_peak = max(0.0, _peak_rss_mb() - rss_before)
    stdout.write(f"old in-request export: {rows} rows, {len(content) / 1e6:.0f} MB, {old_seconds:.1f}s")
    del content
    path.unlink(missing_ok=True)
    if not keep:
        _clear(union, stdout)
    job_rate = members / job_seconds
    old_rate = rows / old_seconds
    return {
        "load_average": round(os.getloadavg()[0], 2),
        "members": members,
        "job_seconds": round(job_seconds, 1),
        "job_rows_per_s": round(job_rate),
        "job_peak_rss_added_mb": round(job_peak),
        "file_mb": round(size_mb),
        "old_rows": rows,
        "old_seconds": round(old_seconds, 1),
        "old_rows_per_s": round(old_rate),
        "old_peak_rss_added_mb": round(old_peak),
        "ratio": round(job_rate / old_rate, 3),
    }


BENCHMARKS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[..., dict[str, Any]]]] = {
    "import": (add_import_arguments, run_import),
    "pages": (add_pages_arguments, run_pages),
    "export": (add_export_arguments, run_export),
}
