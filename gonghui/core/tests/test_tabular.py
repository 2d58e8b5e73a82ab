"""The one tabular reader (core/tabular.py): formats, encodings, limits, header mapping and the
per-row error report."""

import io
import re
import time
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest
from django.conf import LazySettings
from openpyxl import load_workbook

from gonghui.core import tabular
from gonghui.core.errors import ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.core.tabular import Column, ColumnSpec, Format, RowError
from gonghui.site.testing import make_user, xlsx_of, xlsx_shared_string_bomb

TEXT = '姓名,身份证号,备注\r\n张三,110101199003070011,"含,逗号"\r\n李四,110101199003070038,\r\n'
EXPECTED = [["张三", "110101199003070011", "含,逗号"], ["李四", "110101199003070038", ""]]


def _open(content: bytes, name: str = "名单.csv", **kwargs: object) -> tabular.TabularFile:
    return tabular.open_tabular(io.BytesIO(content), file_name=name, **kwargs)  # type: ignore[arg-type]


def _refused(content: bytes, name: str = "名单.csv", **kwargs: object) -> str:
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as refused, _open(content, name, **kwargs) as table:
        list(table.rows())
    assert time.monotonic() - started < 3
    return refused.value.message


@pytest.mark.parametrize(
    ("codec", "internal"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("gb18030", "gb18030"),
        ("gbk", "gb18030"),
        ("utf-16", "utf-8"),  # with a byte-order mark
        ("utf-16-le", "utf-8"),  # without one: told by the NUL bytes
        ("utf-16-be", "utf-8"),
    ],
)
def test_every_encoding_reads_the_chinese_header_and_rows(codec: str, internal: str) -> None:
    with _open(TEXT.encode(codec)) as table:
        assert table.format == Format.CSV
        assert table.encoding == internal
        assert table.header == ["姓名", "身份证号", "备注"]
        assert list(table.rows()) == EXPECTED


def test_detect_encoding_names_the_codec() -> None:
    assert tabular.detect_encoding("姓名".encode()) == "utf-8"
    assert tabular.detect_encoding(b"\xef\xbb\xbf" + "姓名".encode()) == "utf-8-sig"
    assert tabular.detect_encoding("姓名".encode("gbk")) == "gb18030"
    assert tabular.detect_encoding("姓名,id\n".encode("utf-16")) == "utf-16"
    assert tabular.detect_encoding("姓名,id\n".encode("utf-16-le")) == "utf-16-le"
    assert tabular.detect_encoding("姓名,id\n".encode("utf-16-be")) == "utf-16-be"
    # GB18030 characters outside GBK (a four-byte sequence) are read too
    assert tabular.decode_text("𠀀姓名".encode("gb18030")) == "𠀀姓名"
    assert tabular.decode_text(b"\xef\xbb\xbfabc") == "abc"


def test_an_undecodable_file_is_refused_in_chinese() -> None:
    message = "文件编码无法识别（支持 UTF-8、GBK/GB18030 和 UTF-16），请另存为“CSV UTF-8”或 Excel 工作簿后重新上传"
    assert _refused(b"\xff\xfe\xfe\xff\x00\xd8\x00\xd8") == message  # a BOM, then lone surrogates
    assert _refused(b"name\n\x81\x20\xff") == message  # neither UTF-8 nor GB18030
    with pytest.raises(ValidationFailed) as refused:
        tabular.decode_text(b"\x81\x20")
    assert refused.value.message == message
    assert _refused(b"a\x00\x00b\x00\x00\x00c\x00d\x00") == (
        "文件不是文本格式的 CSV，请另存为“CSV UTF-8”或 Excel 工作簿后重新上传"
    )


def test_a_long_utf16_file_streams_across_blocks_and_cuts_into_chunks() -> None:
    body = "".join("会员%05d,1101011990%08d,“引号”\n" % (n, n) for n in range(20_000))
    content = ("姓名,身份证号,备注\n" + body).encode("utf-16")
    assert len(content) > 4 * tabular.SAMPLE_BYTES
    with _open(content) as table:
        rows = list(table.rows())
    assert len(rows) == 20_000
    assert rows[-1] == ["会员19999", "110101199000019999", "“引号”"]
    with _open(content) as table:
        chunks = list(table.chunks(block_bytes=64 * 1024))  # type: ignore[attr-defined]
        assert len(chunks) > 3
        decoded = [row for chunk in chunks for row in tabular.decode_chunk(chunk, table.encoding)]
    assert decoded == rows


def test_a_quoted_line_break_is_never_cut_between_chunks() -> None:
    body = "".join('张%d,"第一行\n第二行",x\n' % n for n in range(5000))
    content = ("姓名,备注,其他\n" + body).encode()
    with _open(content) as table:
        chunks = list(table.chunks(block_bytes=4096))  # type: ignore[attr-defined]
        rows = [row for chunk in chunks for row in tabular.decode_chunk(chunk, table.encoding)]
    assert len(rows) == 5000
    assert all(row[1] == "第一行\n第二行" for row in rows)


def test_old_mac_line_ends_and_sniffed_delimiters() -> None:
    with _open("姓名,证件号码\r张三,1\r李四,2\r".encode()) as table:
        assert list(table.rows()) == [["张三", "1"], ["李四", "2"]]
    with _open("姓名;证件号码\n张三;1\n".encode(), delimiters=",;\t|") as table:
        assert table.header == ["姓名", "证件号码"]
        assert list(table.rows()) == [["张三", "1"]]


def test_format_is_told_by_magic_bytes_then_by_name() -> None:
    assert tabular.detect_format("x.csv", b"PK\x03\x04....") == Format.XLSX
    assert tabular.detect_format("x.txt", b"PAR1....") == Format.PARQUET
    assert tabular.detect_format("名单.txt", "姓名".encode()) == Format.CSV
    for name, head, message in (
        ("名单.xlsx", b"\xd0\xcf\x11\xe0", "无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密"),
        ("名单.xls", b"\xd0\xcf", "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后重新上传"),
        ("名单.dat", b"\xd0\xcf\x11\xe0\xa1\xb1", "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后重新上传"),
        ("名单.parquet", b"abc", "无法读取该 Parquet 文件，请确认文件完整"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            tabular.detect_format(name, head)
        assert refused.value.message == message


def test_xlsx_rows_keep_their_types_and_cell_text_renders_them() -> None:
    content = xlsx_of([["姓名", "数量", "日期"], ["张三", 3, None], [None], ["李四", 1.5, True]])
    with _open(content, "名单.xlsx") as table:
        assert table.format == Format.XLSX
        assert table.header == ["姓名", "数量", "日期"]
        # a row ends at its last cell: the declared width of the sheet is not trusted
        assert list(table.rows()) == [["张三", 3], [], ["李四", 1.5, True]]
    with _open(content, "名单.xlsx") as table:
        assert list(table.text_rows()) == [["张三", "3"], [], ["李四", "1.5", "是"]]


def test_an_xlsx_declaring_huge_dimensions_is_read_as_what_it_holds() -> None:
    buffer = io.BytesIO(xlsx_of([["姓名"], ["张三"]]))
    source = zipfile.ZipFile(buffer)
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension ref=\"[^\"]*\"", b'<dimension ref="A1:XFD1048576"', data)
                if b"<dimension" not in data:
                    data = data.replace(b"<sheetData", b'<dimension ref="A1:XFD1048576"/><sheetData')
                assert b"XFD1048576" in data
            target.writestr(item, data)
    with _open(patched.getvalue(), "名单.xlsx") as table:
        assert list(table.rows()) == [["张三"]]


def test_parquet_is_read_with_its_chinese_column_names(tmp_path: Path) -> None:
    path = tmp_path / "名单.parquet"
    duckdb.sql("SELECT '张' || i AS 姓名, i AS 数量, DATE '2024-01-01' AS 日期 FROM range(1200) t(i)").write_parquet(
        str(path)
    )
    content = path.read_bytes()
    with _open(content, "upload.bin") as table:
        assert table.format == Format.PARQUET
        assert table.header == ["姓名", "数量", "日期"]
        assert table.estimate == 1200
        rows = list(table.text_rows())
    assert len(rows) == 1200
    assert rows[0] == ["张0", "0", "2024-01-01"]
    assert rows[-1] == ["张1199", "1199", "2024-01-01"]
    assert _refused(content, "upload.parquet", max_rows=1000) == "文件超过 1000 行，请拆分后再导入"
    assert _refused(b"PAR1 not really parquet", "a.parquet") == "无法读取该 Parquet 文件，请确认文件完整"


def test_a_parquet_file_expanding_past_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, settings: LazySettings
) -> None:
    path = tmp_path / "bomb.parquet"
    duckdb.sql("SELECT repeat(md5(i::VARCHAR), 10) AS 姓名 FROM range(20000) t(i)").write_parquet(str(path))
    settings.TABULAR_MAX_UNCOMPRESSED_MB = 1
    message = _refused(path.read_bytes(), "bomb.parquet")
    assert message == "文件解压后过大（超过 1 MB），请拆分后再导入"


def test_a_zip_bomb_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the spreadsheet was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    assert _refused(xlsx_shared_string_bomb(20_000_000), "名单.xlsx") == (
        "文件压缩比异常（解压后超过原大小的 100 倍），可能是恶意构造的文件，请另存为普通 Excel 工作簿后再导入"
    )


def test_too_many_rows_or_columns_or_a_huge_cell_are_refused(settings: LazySettings) -> None:
    settings.TABULAR_MAX_ROWS = 10
    rows = [["姓名"]] + [["张%d" % n] for n in range(11)]
    assert _refused(xlsx_of(rows), "名单.xlsx") == "文件超过 10 行，请拆分后再导入"
    csv_text = "\n".join(r[0] for r in rows).encode()
    assert _refused(csv_text) == "文件超过 10 行，请拆分后再导入"
    assert _refused(csv_text, max_rows=5) == "文件超过 5 行，请拆分后再导入"
    with _open("\n".join(r[0] for r in rows[:11]).encode()) as table:  # exactly 10 data rows
        assert len(list(table.rows())) == 10
    settings.TABULAR_MAX_COLUMNS = 5
    wide = ",".join("列%d" % n for n in range(6)).encode()
    assert _refused(wide) == "第 1 行超过 5 列，请删除多余的列后再导入"
    assert _refused(xlsx_of([["姓名"], ["a", "b", "c", "d", "e", "f"]]), "名单.xlsx") == (
        "第 2 行超过 5 列，请删除多余的列后再导入"
    )
    settings.TABULAR_MAX_CELL_CHARS = 20
    assert _refused(("姓名\n" + "长" * 21 + "\n").encode()) == "第 2 行有单元格超过 20 个字符，请检查文件内容"
    settings.TABULAR_MAX_CSV_MB = 1
    assert _refused(b"a\n" * 600_000) == "文件超过 1 MB，请拆分后再导入"


SPEC = ColumnSpec(
    "core.test",
    label="测试名单",
    columns=(
        Column("name", "姓名", required=True, aliases=("会员姓名", "职工姓名")),
        Column("id_number", "证件号码", required=True, aliases=("身份证号", "身份证号码")),
        Column("phone", "手机号", aliases=("手机号码", "联系电话")),
    ),
    missing_hint="请使用导入模板",
)


def test_aliases_resolve_to_canonical_keys() -> None:
    mapped = SPEC.resolve(["＊会员姓名（必填）", "其他", " 身份证号: ", "联系电话"])
    assert mapped.positions == {"name": 0, "id_number": 2, "phone": 3}
    assert mapped.headers == {"name": "＊会员姓名（必填）", "id_number": "身份证号:", "phone": "联系电话"}
    assert mapped.ignored == ["其他"]


def test_missing_and_duplicate_columns_are_refused_in_chinese() -> None:
    with pytest.raises(ValidationFailed) as missing:
        SPEC.resolve(["姓名", "手机号"])
    assert missing.value.message == "文件缺少必填列：证件号码。请使用导入模板"
    with pytest.raises(ValidationFailed) as twice:
        SPEC.resolve(["姓名", "身份证号", "证件号码"])
    assert twice.value.message == "表头中“证件号码”出现了两次"
    lenient = SPEC.resolve(["身份证号", "姓名", "证件号码"], strict=False)
    assert lenient.positions == {"id_number": 2, "name": 1}  # the template's own header ranks first
    assert lenient.ignored == ["身份证号"]
    assert SPEC.resolve(["手机号"], strict=False).positions == {"phone": 0}


def test_a_saved_mapping_takes_precedence() -> None:
    mapped = SPEC.resolve(["姓名", "公民号", "证件号码"], mapping={"id_number": "公民号"})
    assert mapped.positions == {"name": 0, "id_number": 1}
    assert mapped.ignored == ["证件号码"]
    with pytest.raises(ValidationFailed) as absent:
        SPEC.resolve(["姓名", "证件号码"], mapping={"id_number": "公民号"})
    assert absent.value.message == "映射中的列“公民号”在文件中不存在"
    with pytest.raises(ValidationFailed) as unknown:
        SPEC.resolve(["姓名", "证件号码"], mapping={"salary": "工资"})
    assert unknown.value.message == "列映射中的字段“salary”无法识别"


def test_a_kind_is_registered_once() -> None:
    spec = tabular.register_columns("core.test_once", label="一次", columns=SPEC.columns)
    assert tabular.register_columns("core.test_once", label="一次", columns=SPEC.columns) is spec
    assert tabular.column_spec("core.test_once") is spec
    with pytest.raises(Exception, match="declared twice"):
        tabular.register_columns("core.test_once", label="一次", columns=SPEC.columns[:1])
    with pytest.raises(Exception, match="names two columns"):
        ColumnSpec("core.bad", label="坏", columns=(Column("a", "姓名"), Column("b", "名字", aliases=("姓名",))))


@pytest.mark.django_db
def test_the_error_report_has_the_original_columns_an_error_column_and_no_formula() -> None:
    actor = make_user()
    export = tabular.error_report(
        actor=actor,
        action="core.test_report",
        filename="问题行.xlsx",
        header=["姓名", "证件号码"],
        rows=[
            RowError(3, ['=HYPERLINK("http://x","点我")', "110101"], "证件号码位数不对"),
            RowError(7, ["李四"], "请填写证件号码"),
        ],
    )
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    assert sheet.title == "未通过校验的行"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["行号", "姓名", "证件号码", "错误原因"],
        [3, '=HYPERLINK("http://x","点我")', "110101", "证件号码位数不对"],
        [7, "李四", None, "请填写证件号码"],
    ]
    assert sheet["B2"].data_type == "s"
    assert export.rows == 2
    event = AuditEvent.objects.get(action="core.test_report")
    assert event.detail == {"export": "问题行.xlsx", "rows": 2}
