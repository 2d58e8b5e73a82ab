"""The dry run: every kind of bad row is reported with the member form's own message, and the
fast paths of the row validator agree with the shared rules they stand in for."""

import csv
import datetime as dt
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from gonghui.core import crypto
from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.core.identifiers import IdentifierError, id_check_char, make_resident_id, parse_resident_id, validate_phone
from gonghui.core.models import AuditEvent
from gonghui.members import imports
from gonghui.members.identity import ID_PURPOSE, id_blind_index, luhn_check_digit
from gonghui.members.import_models import ImportBatch, ImportIssue, ImportStatus
from gonghui.members.imports import readers as import_readers
from gonghui.members.models import Member, Tag
from gonghui.site.testing import World, make_member

HEADER = [
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
]


def person(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "姓名": "王小明",
        "证件号码": make_resident_id("110101", dt.date(1990, 1, 1) + dt.timedelta(days=n // 400), n % 400, "M"),
        "手机号": f"1390000{n:04d}",
        "民族": "汉族",
        "学历": "本科",
        "户籍类型": "农业户口",
        "工作单位": "苏州恒通物流有限公司",
        "入会日期": "2021-03-01",
        "入会方式": "单位集体入会",
        "标签": "外卖骑手;农民工",
        "劳模/工匠": "",
        "困难职工类别": "",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict[str, str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return buffer.getvalue().encode(encoding)


def issues_of(batch: ImportBatch) -> dict[int, list[str]]:
    return {issue.row_no: issue.messages for issue in ImportIssue.objects.filter(batch=batch)}


def upload(world: World, rows: list[dict[str, str]], **kwargs: object) -> ImportBatch:
    return imports.import_batch_upload(
        actor=kwargs.get("actor", world.staff_a),
        organization=kwargs.get("organization", world.union_a),
        file_name="会员.csv",
        content=csv_bytes(rows, **{k: v for k, v in kwargs.items() if k in ("header", "encoding")}),  # type: ignore[arg-type]
    )


def bad_check_digit(number: str) -> str:
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong


def with_birth(text: str) -> str:
    first17 = f"110101{text}123"
    return first17 + id_check_char(first17)


@pytest.mark.django_db
def test_every_kind_of_bad_row_is_reported_with_the_shared_message(world: World) -> None:
    registered_elsewhere = Member.objects.get(pk=world.member_b.pk)
    number_b = crypto.decrypt(registered_elsewhere.id_number_encrypted, purpose=ID_PURPOSE)
    rows = [
        person(1),  # row 2: fine
        person(2, 证件号码=bad_check_digit(person(2)["证件号码"])),  # row 3
        person(3, 证件号码=with_birth("19900230")),  # row 4
        person(4, 证件号码=person(1)["证件号码"]),  # row 5: same as row 2
        person(5, 证件号码=number_b),  # row 6: registered in union B
        person(6, 姓名=""),  # row 7
        person(7, 手机号="2345"),  # row 8
        person(8, 标签="外卖骑手;快递小哥"),  # row 9
        person(9, 入会日期=""),  # row 10
        person(10, 学历="大学"),  # row 11
        person(11, 证件号码=""),  # row 12
        person(12, 证件号码=with_birth("20990101")),  # row 13
        person(13, 入会日期="2999-01-01"),  # row 14
    ]
    before = Member.objects.count()
    batch = upload(world, rows)
    assert batch.status == ImportStatus.VALIDATED
    assert (batch.rows_total, batch.rows_valid, batch.rows_invalid) == (13, 1, 12)
    assert (batch.planned_create, batch.planned_update, batch.planned_unchanged) == (1, 0, 0)
    assert issues_of(batch) == {
        3: ["证件号码：身份证号码校验位错误"],
        4: ["证件号码：身份证号码中的出生日期不存在"],
        5: ["证件号码：与第 2 行的证件号码重复（以第一次出现的行为准）"],
        6: ["证件号码：该证件号码已在其他工会登记为会员，不能重复登记；如需调入请联系原工会办理转会"],
        7: ["姓名：请填写姓名"],
        8: ["手机号：手机号码应为11位、以1开头的中国大陆号码"],
        9: [
            "标签：未知标签“快递小哥”（可填：农民工、新就业形态、快递员、外卖骑手、网约车司机、货车司机、户外劳动者、环卫工人）"
        ],
        10: ["入会日期：请填写入会日期"],
        11: ["学历：学历取值无效（可填：小学及以下、初中、高中/中专/技校、大专、本科、研究生）"],
        12: ["证件号码：请填写证件号码"],
        13: ["证件号码：身份证号码中的出生日期不合理"],
        14: ["入会日期：入会日期不能晚于今天"],
    }
    assert Member.objects.count() == before
    issue = ImportIssue.objects.get(batch=batch, row_no=6)
    assert issue.id_masked == crypto.mask_middle(number_b)
    assert json.loads(crypto.decrypt(issue.raw_encrypted, purpose=imports.ROW_PURPOSE))[1] == number_b
    event = AuditEvent.objects.get(action="member.import_validate", object_id=str(batch.pk))
    assert event.actor_id == world.staff_a.pk
    assert (event.detail["rows"], event.detail["valid"], event.detail["invalid"]) == (13, 1, 12)


@pytest.mark.django_db
def test_a_registered_number_in_a_union_the_actor_can_see_names_the_union(world: World) -> None:
    number_b = crypto.decrypt(world.member_b.id_number_encrypted, purpose=ID_PURPOSE)
    batch = upload(world, [person(1, 证件号码=number_b)], actor=world.federation_admin)
    assert issues_of(batch) == {
        2: ["证件号码：该证件号码已在“苏州乙公司工会”登记为会员，不能重复登记；如需调入请办理转会"]
    }


@pytest.mark.django_db
def test_a_registered_number_in_the_same_union_is_an_update(world: World) -> None:
    number_a = crypto.decrypt(world.member_a.id_number_encrypted, purpose=ID_PURPOSE)
    batch = upload(world, [person(1, 证件号码=number_a, 姓名="张三"), person(2)])
    assert (batch.rows_valid, batch.rows_invalid) == (2, 0)
    assert (batch.planned_create, batch.planned_update, batch.planned_unchanged) == (1, 1, 0)


@pytest.mark.django_db
def test_gbk_csv_quoted_newlines_blank_rows_and_header_aliases(world: World) -> None:
    header = ["会员姓名", "身份证号码", "手机号码", "入会时间", "工作单位", "标签"]
    rows = [
        {
            "会员姓名": "李娜",
            "身份证号码": person(1)["证件号码"].lower(),
            "手机号码": "+86 139-0000-0001",
            "入会时间": "2020/5/1",
            "工作单位": "甲公司",
            "标签": "环卫工人、户外劳动者",
        },
        {},
        {
            "会员姓名": "赵六",
            "身份证号码": person(2)["证件号码"],
            "手机号码": "13900000002",
            "入会时间": "2020年5月1日",
            "工作单位": "乙公司\n二车间",
        },
    ]
    batch = upload(world, rows, header=header, encoding="gb18030")
    assert (batch.rows_total, batch.rows_valid) == (2, 1)
    assert issues_of(batch) == {4: ["工作单位：含有换行符等不可见字符"]}
    assert batch.columns == header


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_bom_files_with_chinese_headers_are_read(world: World, encoding: str) -> None:
    header = ["＊会员姓名（必填）", "身份证号码", "手机号码", "入会时间"]
    rows = [
        {
            "＊会员姓名（必填）": "钱七",
            "身份证号码": person(1)["证件号码"],
            "手机号码": "13900000001",
            "入会时间": "2020-05-01",
        },
        {"＊会员姓名（必填）": "孙八", "身份证号码": "123", "手机号码": "13900000002", "入会时间": "2020-05-01"},
    ]
    batch = upload(world, rows, header=header, encoding=encoding)
    assert (batch.rows_total, batch.rows_valid) == (2, 1)
    assert list(issues_of(batch)) == [3]
    assert batch.columns == header


@pytest.mark.django_db
def test_a_parquet_file_is_refused_in_chinese(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        imports.import_batch_upload(
            actor=world.staff_a, organization=world.union_a, file_name="会员.parquet", content=b"PAR1\x15\x04"
        )
    assert refused.value.message == "会员导入支持 CSV 和 Excel 工作簿（.xlsx），请另存为其中一种后重新上传"


@pytest.mark.django_db
def test_chunk_boundaries_inside_quoted_cells_do_not_split_records(world: World) -> None:
    rows = [person(i, 工作单位=f'苏州"恒通",物流{i}') for i in range(300)]
    outcome = imports.ImportRun(
        organization=world.union_a,
        stream=io.BytesIO(csv_bytes(rows)),
        file_format="csv",
        dry_run=True,
        keep_good_rows=False,
        actor_id=world.staff_a.pk,
        view_paths=None,
        block_bytes=97,
    ).execute()
    assert (outcome.rows, outcome.valid, outcome.invalid, outcome.created) == (300, 300, 0, 300)


@pytest.mark.django_db
def test_xlsx_with_numbers_and_dates_in_cells(world: World) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "证件号码", "手机号", "入会日期", "劳模/工匠"])
    sheet.append(["孙七", person(1)["证件号码"], 13900000001, dt.datetime(2020, 5, 1), "市级劳模"])
    sheet.append(["周八", 1.10101199001011e17, 13900000002, dt.date(2020, 5, 1), ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = imports.import_batch_upload(
        actor=world.staff_a, organization=world.union_a, file_name="会员.xlsx", content=buffer.getvalue()
    )
    assert batch.file_format == "xlsx"
    assert (batch.rows_total, batch.rows_valid) == (2, 1)
    assert issues_of(batch) == {3: ["证件号码：证件号码被表格软件转成了科学计数法，请把该列设为文本格式后重新填写"]}


@pytest.mark.django_db
def test_file_level_problems_are_refused_before_anything_is_kept(world: World) -> None:
    with pytest.raises(ValidationFailed) as missing:
        upload(world, [person(1)], header=["姓名", "手机号"])
    assert missing.value.message == "文件缺少必填列：证件号码、入会日期。请使用导入模板，表头放在第一行"
    with pytest.raises(ValidationFailed) as higher:
        upload(world, [person(1)], organization=world.street, actor=world.federation_admin)
    assert higher.value.message == "导入到上级工会时，文件必须包含“工会代码”列，写明每位会员所属的基层工会"
    with pytest.raises(ValidationFailed) as empty:
        upload(world, [])
    assert empty.value.message == "文件里没有会员数据（第一行应为表头，从第二行起每行一位会员）"
    with pytest.raises(ValidationFailed) as old_excel:
        imports.import_batch_upload(
            actor=world.staff_a, organization=world.union_a, file_name="a.xls", content=b"\xd0\xcf"
        )
    assert old_excel.value.message == "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后重新上传"
    with pytest.raises(PermissionDenied):
        upload(world, [person(1)], actor=world.staff_b)
    assert ImportBatch.objects.count() == 0
    assert not AuditEvent.objects.filter(action="member.import_validate").exists()


@pytest.mark.django_db
def test_per_row_union_codes_stay_inside_the_chosen_union(world: World) -> None:
    header = ["工会代码", *HEADER]
    rows = [
        person(1, 工会代码=world.union_a.code),
        person(2, 工会代码=world.union_b.code),
        person(3, 工会代码=world.street.code),
        person(4, 工会代码="NO-SUCH"),
        person(5, 工会代码=world.city.code),
        person(6, 工会代码=""),
    ]
    batch = upload(world, rows, header=header, organization=world.street, actor=world.federation_admin)
    assert batch.per_row_org is True
    assert (batch.rows_valid, batch.planned_create) == (2, 2)
    assert issues_of(batch) == {
        4: [f"工会代码：工会代码“{world.street.code}”不是基层工会，会员只能归属于基层工会"],
        5: ["工会代码：工会代码“NO-SUCH”不存在或不在本次导入的范围内"],
        6: [f"工会代码：工会代码“{world.city.code}”不存在或不在本次导入的范围内"],
        7: ["工会代码：请填写会员所属基层工会的工会代码"],
    }
    narrowed = upload(world, [person(1, 工会代码=world.union_b.code)], header=header)
    assert issues_of(narrowed) == {2: [f"工会代码：工会代码“{world.union_b.code}”不存在或不在本次导入的范围内"]}


def test_template_has_the_chinese_headers_and_reads_back() -> None:
    workbook = load_workbook(io.BytesIO(imports.import_template()))
    assert workbook.sheetnames == ["会员信息", "可选值", "填写说明"]
    headers = [cell.value for cell in workbook["会员信息"][1]]
    assert headers == [c.header for c in imports.COLUMNS]
    assert {
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
        "工会代码",
    } <= set(headers)
    assert workbook["会员信息"]["B1"].font.color.rgb.endswith("C0392B")  # 姓名 is required
    assert imports.map_header(headers).ignored == []


# ---- the fast paths agree with the rules they stand in for --------------------------------


def transformer() -> imports.RowTransformer:
    header = imports.map_header(HEADER)
    return imports.RowTransformer(
        imports.TransformSpec(
            positions=header.positions,
            width=len(HEADER),
            headers=header.headers,
            today=dt.datetime.now(tz=dt.UTC).date(),
            timestamp="2026-01-01T00:00:00+08:00",
        )
    )


ID_LIKE = st.one_of(
    st.builds(
        lambda region, days, seq, sex: make_resident_id(
            region, dt.date(1900, 1, 1) + dt.timedelta(days=days), seq, sex
        ),
        st.sampled_from(["110101", "320508", "650102"]),
        st.integers(0, 50_000),
        st.integers(0, 499),
        st.sampled_from(["M", "F"]),
    ),
    st.text(alphabet="0123456789Xx", min_size=16, max_size=19),
    st.text(alphabet="0123456789０１２ E+.", min_size=17, max_size=19),
)


@settings(max_examples=400, deadline=None)
@given(ID_LIKE)
def test_fast_identity_check_agrees_with_parse_resident_id(raw: str) -> None:
    result = transformer().identity(raw.strip())
    try:
        resident = parse_resident_id(raw.strip())
    except IdentifierError as exc:
        assert isinstance(result, str)
        assert result in (str(exc), "证件号码被表格软件转成了科学计数法，请把该列设为文本格式后重新填写")
    else:
        assert result == (resident.number, resident.birth_date.isoformat(), resident.sex)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+- ", min_size=0, max_size=15))
def test_fast_phone_check_agrees_with_validate_phone(raw: str) -> None:
    value, message = transformer()._phone(raw.strip())
    if not raw.strip():
        assert message == "请填写手机号"
        return
    try:
        expected = validate_phone(raw.strip())
    except IdentifierError as exc:
        assert (value, message) == ("", str(exc))
    else:
        assert (value, message) == (expected, None)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789X", min_size=18, max_size=18))
def test_bulk_encryption_and_blind_index_match_the_crypto_module(number: str) -> None:
    sealer = crypto.BulkSealer(ID_PURPOSE)
    assert sealer.blind(number) == id_blind_index(number) == crypto.blind_index(number, purpose=ID_PURPOSE)
    for sealed in (sealer.encrypt(number, b"\x01" * 12), sealer.encrypt(number)):
        assert sealed.startswith("v1:demo1:")
        assert crypto.decrypt(sealed, purpose=ID_PURPOSE) == number
    assert sealer.encrypt(number) != sealer.encrypt(number)  # a fresh nonce each time


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_fast_luhn_matches_the_card_number_rule(body: str) -> None:
    assert imports.fast_luhn_check_digit(body) == luhn_check_digit(body)


def test_tag_cells_map_to_the_member_tag_bits() -> None:
    t = transformer()
    assert t._clean("tags", "外卖骑手;农民工") == (str(Tag.FOOD_DELIVERY | Tag.MIGRANT), None)
    assert t._clean("tags", "外卖骑手，快递员、 环卫工人") == (
        str(Tag.FOOD_DELIVERY | Tag.COURIER | Tag.SANITATION),
        None,
    )
    assert t._clean("tags", "") == ("0", None)
    assert t._clean("household_type", "农转居") == ("converted", None)
    assert t._clean("model_worker_level", "无") == ("", None)
    assert t._clean("join_method", "") == ("unit", None)
    assert t._clean("ethnicity", "") == ("汉族", None)
    assert t._clean("ethnicity", "火星族") == ("", "民族取值无效")


@pytest.mark.django_db
def test_member_in_the_registry_is_found_through_the_blind_index(world: World) -> None:
    existing = make_member(world.union_a, name="钱九")
    number = crypto.decrypt(existing.id_number_encrypted, purpose=ID_PURPOSE)
    batch = upload(world, [person(1, 证件号码=number, 姓名="钱九", 手机号=existing.phone)])
    assert (batch.planned_create, batch.planned_update) == (0, 1)


CELL = st.text(alphabet='ab,"\n\r张 ', max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=30), st.integers(1, 64))
def test_csv_chunks_end_on_record_boundaries(records: list[list[str]], block: int) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["h1", "h2"])
    writer.writerows(records)
    data = buffer.getvalue().encode()
    reader = import_readers._open_reader(io.BytesIO(data), "csv", block_bytes=block)
    parsed = []
    for _kind, chunk, encoding in reader.tasks():
        parsed += list(csv.reader(io.StringIO(chunk.decode(encoding), newline="")))
    assert reader.header == ["h1", "h2"]
    assert parsed == list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]


@pytest.mark.django_db
def test_cr_only_line_endings_and_full_width_id_digits_are_read(world: World) -> None:
    number = person(1)["证件号码"]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    content = csv_bytes([person(1, 证件号码=full_width), person(2)]).replace(b"\r\n", b"\r")
    assert b"\n" not in content
    batch = upload_bytes(world, content)
    assert (batch.rows_total, batch.rows_valid, issues_of(batch)) == (2, 2, {})


def upload_bytes(world: World, content: bytes) -> ImportBatch:
    return imports.import_batch_upload(
        actor=world.staff_a, organization=world.union_a, file_name="会员.csv", content=content
    )
