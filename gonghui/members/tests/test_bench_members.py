"""The member benchmarks run end to end on a small scale (the real figures come from running
them by hand at 1,000,000 rows; see the benchmark module)."""

import json

import pytest
from django.core.management import call_command

from gonghui.members import benchmarks
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.models import Member
from gonghui.organizations.models import Organization


def final_json(capsys) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bench_import_measures_the_import_against_copy(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("bench", "import", "--rows", "1500", "--workers", "1")
    result = final_json(capsys)
    assert result["rows"] == 1500
    assert result["import_rows_per_s"] > 0 and result["copy_rows_per_s"] > 0
    # The ratio comes from the unrounded rates: from the printed (rounded) ones it may differ in the
    # last digit, never by more.
    assert abs(result["ratio"] - result["import_rows_per_s"] / result["copy_rows_per_s"]) < 0.0015
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created) == (ImportStatus.SUCCEEDED, 1500)
    # The bench members are removed afterwards and the bare table is gone.
    assert not Member.objects.filter(organization__code="BENCH-IMP-G").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bench_pages_fills_the_registry_and_times_every_search(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("bench", "pages", "--members", "2000", "--unions", "8", "--repeat", "20", "--workers", "1")
    result = final_json(capsys)
    province = Organization.objects.get(code="BENCH-PG-P")
    assert Member.objects.filter(organization__path__startswith=province.path).count() == 2000
    assert result["members"] == 2000
    expected = {
        f"{who}.{name}_p95_ms"
        for who in ("province_admin", "grassroots_staff")
        for name in (
            "list",
            "list_page_3",
            "name_prefix",
            "name_prefix_2",
            "pinyin_initials",
            "phone_prefix",
            "full_id_number",
            "org_filter_union",
            "tag_filter",
            "tag_and_name",
            "member_no",
            "work_unit_prefix",
        )
    } | {"province_admin.org_filter_city_p95_ms"}
    assert expected <= set(result)
    assert result["worst_p95_ms"] == max(result[k] for k in expected)


def test_bench_pages_refuses_fewer_repeats_than_a_generic_plan_needs_to_show() -> None:
    with pytest.raises(SystemExit, match="--repeat must be at least 20"):
        benchmarks.run_pages(stdout=None, members=10, unions=1, repeat=19, workers=1)


def test_the_benchmarks_and_the_demo_draw_id_numbers_from_regions_of_their_own() -> None:
    """`bench pages` once rejected rows as registered in another union: its regions overlapped
    the benefits and health benchmarks' (320508) and the demo's districts."""
    from gonghui.organizations.demo import CITIES

    demo = {code for _city, (city_code, districts) in CITIES.items() for code in (city_code, *districts.values())}
    others = demo | {"320508"} | set(benchmarks.IMPORT_REGIONS)
    assert set(benchmarks.PAGES_REGIONS) & others == set()
    assert set(benchmarks.IMPORT_REGIONS) & (demo | {"320508"}) == set()


@pytest.mark.django_db
def test_every_member_tag_has_its_partial_index() -> None:
    import importlib

    from django.db import connection

    from gonghui.members.models import Tag

    migration = importlib.import_module("gonghui.members.migrations.0003_member_tag_partial_indexes")
    bits = migration.TAG_BITS
    assert bits == tuple(t.value for t in Tag)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'members_member' "
            "AND indexname LIKE 'member_tag_%%_recent_idx' ORDER BY indexname"
        )
        found = dict(cursor.fetchall())
    assert set(found) == {f"member_tag_{t.value}_recent_idx" for t in Tag}
    assert found["member_tag_8_recent_idx"].endswith(
        "USING btree (id DESC) INCLUDE (organization_id) WHERE ((tags & 8) = 8)"
    )


@pytest.mark.django_db
def test_every_member_tag_has_expression_statistics() -> None:
    import importlib

    from django.db import connection

    from gonghui.members.models import Tag

    migration = importlib.import_module("gonghui.members.migrations.0004_member_tag_statistics")
    bits = migration.TAG_BITS
    assert bits == tuple(t.value for t in Tag)
    with connection.cursor() as cursor:
        cursor.execute("SELECT stxname FROM pg_statistic_ext WHERE stxname LIKE 'member_tag_%%_stats'")
        found = {name for (name,) in cursor.fetchall()}
    assert found == {f"member_tag_{t.value}_stats" for t in Tag}
