"""The commit: what lands in the registry, upserts with history, all-or-nothing, keep-good-rows,
audit — through the PostgreSQL COPY path and the ORM path alike."""

import datetime as dt
import hashlib
import io
import multiprocessing
from typing import Any

import pytest
from django.db import connection

from gonghui.core import crypto
from gonghui.core.errors import Conflict
from gonghui.core.models import AuditEvent
from gonghui.members import imports
from gonghui.members.identity import ID_PURPOSE, id_blind_index
from gonghui.members.import_models import ImportBatch, ImportIssue, ImportSource, ImportStatus
from gonghui.members.imports import rows as import_rows
from gonghui.members.imports import run as import_run
from gonghui.members.models import Member, MemberHistory, Tag
from gonghui.members.tests.test_import_validation import HEADER, csv_bytes, person
from gonghui.site.testing import World

ENGINES = ["postgresql", "orm"]


def registry_fingerprint() -> tuple[int, str]:
    """Every member row, every column: equal fingerprints mean an untouched table."""
    rows = Member.objects.order_by("id").values_list()
    digest = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return Member.objects.count(), digest


def commit(
    world: World,
    rows: list[dict[str, str]],
    *,
    engine: str,
    keep_good_rows: bool = False,
    header: list[str] = HEADER,
    organization: Any = None,
    actor: Any = None,
    workers: int = 1,
    block_bytes: int = imports.CSV_BLOCK_BYTES,
) -> tuple[ImportBatch, imports.Outcome]:
    actor = actor or world.staff_a
    batch = ImportBatch.objects.create(
        organization=organization or world.union_a,
        uploader=actor,
        source=ImportSource.WEB,
        file_name="会员.csv",
        file_format="csv",
        keep_good_rows=keep_good_rows,
        status=ImportStatus.RUNNING,
    )
    outcome = imports.commit_stream(
        batch,
        actor=actor,
        stream=io.BytesIO(csv_bytes(rows, header=header)),
        engine=engine,
        workers=workers,
        block_bytes=block_bytes,
    )
    batch.refresh_from_db()
    return batch, outcome


def member_by_number(number: str) -> Member:
    return Member.objects.get(id_blind=id_blind_index(number))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.django_db
def test_new_members_are_stored_like_the_form_stores_them(world: World, engine: str) -> None:
    row = person(1, 姓名="欧阳娜娜", 学历="研究生", 户籍类型="非农", 困难职工类别="相对困难")
    row["劳模/工匠"] = "省部级劳模/工匠"
    batch, outcome = commit(world, [row, person(2, 标签="")], engine=engine)
    assert outcome.as_json() == {"rows": 2, "valid": 2, "invalid": 0, "created": 2, "updated": 0}
    assert (batch.status, batch.created, batch.updated, batch.rows_total) == (ImportStatus.SUCCEEDED, 2, 0, 2)
    member = member_by_number(row["证件号码"])
    assert member.organization_id == world.union_a.pk
    assert member.name == "欧阳娜娜"
    assert member.name_initials == "oynn"
    assert (member.sex, member.birth_date) == ("M", dt.date(1990, 1, 1))
    assert crypto.decrypt(member.id_number_encrypted, purpose=ID_PURPOSE) == row["证件号码"]
    assert member.id_masked == row["证件号码"][:4] + "**********" + row["证件号码"][-4:]
    assert member.phone == row["手机号"]
    assert (member.education, member.household_type, member.work_unit) == ("postgrad", "urban", "苏州恒通物流有限公司")
    assert (member.joined_on, member.join_method) == (dt.date(2021, 3, 1), "unit")
    assert member.tags == Tag.FOOD_DELIVERY | Tag.MIGRANT
    assert (member.model_worker_level, member.hardship_class) == ("provincial", "relative")
    assert (member.status, member.version) == ("active", 1)
    assert member.member_no.startswith("HY") and len(member.member_no) == 16
    assert member.card_no.startswith("8") and len(member.card_no) == 19
    assert member_by_number(person(2)["证件号码"]).tags == 0
    event = AuditEvent.objects.get(action="member.import", object_id=str(batch.pk))
    assert (event.actor_id, event.result, event.organization_id) == (world.staff_a.pk, "ok", world.union_a.pk)
    assert (event.detail["created"], event.detail["updated"], event.detail["rows"]) == (2, 0, 2)
    assert AuditEvent.objects.filter(action="member.import").count() == 1
    assert not MemberHistory.objects.filter(member__organization=world.union_a, action="import").exists()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.django_db
def test_upsert_updates_the_columns_in_the_file_and_keeps_history(world: World, engine: str) -> None:
    number_a = crypto.decrypt(world.member_a.id_number_encrypted, purpose=ID_PURPOSE)
    before = Member.objects.get(pk=world.member_a.pk)
    header = ["姓名", "证件号码", "手机号", "入会日期", "标签"]
    rows = [
        {"姓名": "张三丰", "证件号码": number_a, "手机号": "13900000001", "入会日期": "2020-05-01", "标签": "货车司机"},
        person(2),
    ]
    batch, outcome = commit(world, rows, engine=engine, header=header)
    assert (outcome.created, outcome.updated, outcome.unchanged) == (1, 1, 0)
    after = Member.objects.get(pk=world.member_a.pk)
    assert (after.name, after.name_initials, after.tags, after.version) == ("张三丰", "zsf", Tag.TRUCK_DRIVER, 2)
    # Columns absent from the file are left as they were.
    assert (after.education, after.work_unit, after.ethnicity) == (before.education, before.work_unit, before.ethnicity)
    assert (after.member_no, after.card_no, after.id_number_encrypted) == (
        before.member_no,
        before.card_no,
        before.id_number_encrypted,
    )
    history = MemberHistory.objects.get(member=after, action="import")
    assert history.version == 2
    assert history.actor_id == world.staff_a.pk
    assert history.changes == {"name": ["张三", "张三丰"], "tags": [0, int(Tag.TRUCK_DRIVER)]}
    assert history.reason == "批量导入：会员.csv（批次 %s）" % batch.pk

    again, outcome = commit(world, rows, engine=engine, header=header)
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 2)
    assert Member.objects.get(pk=world.member_a.pk).version == 2
    assert MemberHistory.objects.filter(member=after, action="import").count() == 1
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.django_db
def test_one_bad_row_blocks_the_whole_batch(world: World, engine: str) -> None:
    number_a = crypto.decrypt(world.member_a.id_number_encrypted, purpose=ID_PURPOSE)
    rows = [person(i) for i in range(40)]
    rows.insert(5, person(99, 姓名="张三改", 证件号码=number_a))
    rows.append(person(100, 手机号="12345"))
    before = registry_fingerprint()
    with pytest.raises(imports.Rejected) as rejected:
        commit(world, rows, engine=engine, block_bytes=500)
    assert rejected.value.message == "有 1 行未通过校验，整批未导入，登记库没有任何改动"
    assert registry_fingerprint() == before
    assert not MemberHistory.objects.filter(action="import").exists()
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created, batch.updated, batch.rows_invalid, batch.rows_valid) == (
        ImportStatus.FAILED,
        0,
        0,
        1,
        41,
    )
    assert [(i.row_no, i.messages) for i in ImportIssue.objects.filter(batch=batch)] == [
        (43, ["手机号：手机号码应为11位、以1开头的中国大陆号码"])
    ]
    event = AuditEvent.objects.get(action="member.import", object_id=str(batch.pk))
    assert (event.result, event.detail["invalid"], event.detail["message"]) == (
        "failed",
        1,
        "有 1 行未通过校验，整批未导入，登记库没有任何改动",
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.django_db
def test_keep_good_rows_imports_the_rest(world: World, engine: str) -> None:
    number_b = crypto.decrypt(world.member_b.id_number_encrypted, purpose=ID_PURPOSE)
    rows = [person(1), person(2, 证件号码=number_b), person(3), person(4, 证件号码=person(1)["证件号码"])]
    before_b = Member.objects.get(pk=world.member_b.pk)
    batch, outcome = commit(world, rows, engine=engine, keep_good_rows=True)
    assert outcome.as_json() == {"rows": 4, "valid": 2, "invalid": 2, "created": 2, "updated": 0}
    assert (batch.status, batch.rows_invalid, batch.created) == (ImportStatus.SUCCEEDED, 2, 2)
    assert Member.objects.get(pk=world.member_b.pk) == before_b
    assert Member.objects.get(pk=world.member_b.pk).organization_id == world.union_b.pk
    assert {i.row_no for i in ImportIssue.objects.filter(batch=batch)} == {3, 5}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.django_db
def test_per_row_union_codes_place_members_in_their_unions(world: World, engine: str) -> None:
    header = ["工会代码", *HEADER]
    rows = [person(1, 工会代码=world.union_a.code), person(2, 工会代码=world.union_b.code)]
    _batch, outcome = commit(
        world, rows, engine=engine, header=header, organization=world.street, actor=world.federation_admin
    )
    assert outcome.created == 2
    assert member_by_number(rows[0]["证件号码"]).organization_id == world.union_a.pk
    assert member_by_number(rows[1]["证件号码"]).organization_id == world.union_b.pk


@pytest.mark.django_db
def test_worker_processes_give_the_same_result_as_one_process(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    pools: list[int] = []
    real_context = multiprocessing.get_context

    def get_context(method: str) -> Any:
        pools.append(1)
        return real_context(method)

    monkeypatch.setattr(import_run, "POOL_MIN_ROWS", 0)
    monkeypatch.setattr(multiprocessing, "get_context", get_context)
    rows = [person(i, 姓名=f"王{'小大老'[i % 3]}{'明红刚'[i % 7 % 3]}") for i in range(600)]
    rows[300] = person(300, 手机号="1")
    serial = imports.ImportRun(
        organization=world.union_a,
        stream=io.BytesIO(csv_bytes(rows)),
        file_format="csv",
        dry_run=True,
        keep_good_rows=True,
        actor_id=None,
        view_paths=None,
        block_bytes=4000,
    ).execute()
    _batch, pooled = commit(world, rows, engine="postgresql", keep_good_rows=True, workers=2, block_bytes=4000)
    assert pools == [1]  # the commit ran in worker processes, the dry run in this one
    assert pooled.as_json() == {"rows": 600, "valid": 599, "invalid": 1, "created": 599, "updated": 0}
    assert serial.as_json() == {"rows": 600, "valid": 599, "invalid": 1, "created": 599, "updated": 0}
    assert (
        [(i.row_no, i.errors) for i in pooled.issues]
        == [(i.row_no, i.errors) for i in serial.issues]
        == [(302, [("手机号", "手机号码应为11位、以1开头的中国大陆号码")])]
    )
    assert Member.objects.filter(organization=world.union_a).count() == 600  # 599 + member_a
    assert Member.objects.get(id_blind=id_blind_index(rows[7]["证件号码"])).name == rows[7]["姓名"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.django_db
def test_a_member_number_already_taken_is_drawn_again(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = Member.objects.get(pk=world.member_b.pk)
    draws = iter([(int(taken.member_no[2:]), 0), (int(taken.member_no[2:]), 1)])
    real = import_rows._number_starts

    def number_starts(count: int) -> tuple[int, int]:
        return next(draws, None) or real(count)

    monkeypatch.setattr(import_rows, "_number_starts", number_starts)  # numbers for a chunk
    monkeypatch.setattr(import_run, "_number_starts", number_starts)  # and for a redraw
    _batch, outcome = commit(world, [person(1)], engine=engine)
    assert outcome.created == 1
    fresh = member_by_number(person(1)["证件号码"])
    assert fresh.member_no != taken.member_no
    assert next(draws, None) is None  # both colliding draws were used, then a fresh one
    assert fresh.card_no.startswith("8") and len(fresh.card_no) == 19


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.django_db
def test_a_member_changed_meanwhile_fails_the_import(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    number_a = crypto.decrypt(world.member_a.id_number_encrypted, purpose=ID_PURPOSE)
    real_merge = imports.ImportRun._merge

    def merge_then_edit(self: imports.ImportRun, match: imports.Existing, line: str) -> Any:
        update = real_merge(self, match, line)
        Member.objects.filter(pk=match.id).update(version=match.version + 5)
        return update

    monkeypatch.setattr(imports.ImportRun, "_merge", merge_then_edit)
    with pytest.raises(Conflict):
        commit(world, [person(1, 证件号码=number_a, 姓名="张三改")], engine=engine)
    member = Member.objects.get(pk=world.member_a.pk)
    assert (member.name, member.version) == ("张三", 1)
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


@pytest.mark.django_db
def test_postgres_path_keeps_foreign_keys_checked(world: World) -> None:
    assert connection.vendor == "postgresql"
    _batch, outcome = commit(world, [person(1)], engine="postgresql")
    assert outcome.created == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM members_member m LEFT JOIN organizations_organization o ON o.id = m.organization_id "
            "WHERE o.id IS NULL"
        )
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db
def test_the_filled_in_template_imports(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(imports.import_template()))
    sheet = workbook["会员信息"]
    headers = [c.value for c in sheet[1]]
    for n in (1, 2):
        row = person(n) | {"工会代码": world.union_a.code, "证件类型": "居民身份证"}
        for col, header in enumerate(headers, start=1):
            sheet.cell(row=n + 1, column=col, value=row.get(header, ""))
    path = tmp_path / "模板.xlsx"
    workbook.save(path)
    batch, outcome = imports.import_file(path=str(path), organization=world.union_a)
    assert batch.file_format == "xlsx"
    assert outcome.as_json() == {"rows": 2, "valid": 2, "invalid": 0, "created": 2, "updated": 0}
    member = member_by_number(person(2)["证件号码"])
    assert (member.organization_id, member.tags, member.education) == (
        world.union_a.pk,
        Tag.FOOD_DELIVERY | Tag.MIGRANT,
        "bachelor",
    )


@pytest.mark.django_db
def test_new_members_skip_the_registry_probe_until_one_is_registered(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    number_a = crypto.decrypt(world.member_a.id_number_encrypted, purpose=ID_PURPOSE)
    probes: list[int] = []
    real_lookup = imports.PostgresSink.lookup

    def lookup(self: imports.PostgresSink, blinds: list[str], *, lock: bool) -> dict[str, imports.Existing]:
        probes.append(len(blinds))
        return real_lookup(self, blinds, lock=lock)

    monkeypatch.setattr(imports.PostgresSink, "lookup", lookup)
    rows = [person(0, 证件号码=number_a, 姓名="张三")] + [person(i) for i in range(1, 40)]
    _batch, outcome = commit(world, rows, engine="postgresql", block_bytes=600)
    assert (outcome.created, outcome.updated) == (39, 1)
    # Chunk 1 holds member_a: its COPY is refused and the chunk is probed; chunk 2 is probed
    # too and holds only new members, so every later chunk is written without a probe.
    assert len(probes) == 2
    assert Member.objects.filter(organization=world.union_a).count() == 40
