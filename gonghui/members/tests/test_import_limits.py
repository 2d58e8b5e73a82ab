"""Decompression bombs and oversized files are refused before (or while) they are read, with
a Chinese message, and nothing is stored; problem rows are stored clipped (issue 9 item 13)."""

import json
import time

import openpyxl
import pytest
from django.conf import LazySettings

from gonghui.core import crypto
from gonghui.core.errors import ValidationFailed
from gonghui.members import imports
from gonghui.members.import_models import ImportBatch, ImportIssue
from gonghui.members.imports import batches, readers, rows
from gonghui.members.imports.columns import ROW_PURPOSE
from gonghui.members.models import Member
from gonghui.members.tests.test_import_validation import HEADER, csv_bytes, person
from gonghui.site.testing import World, xlsx_of, xlsx_shared_string_bomb

pytestmark = pytest.mark.django_db

BOMB_CHARS = 20_000_000


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return xlsx_shared_string_bomb(BOMB_CHARS)


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the spreadsheet was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)


def _upload(world: World, name: str, content: bytes) -> ImportBatch:
    return imports.import_batch_upload(actor=world.staff_a, organization=world.union_a, file_name=name, content=content)


def _refused(world: World, name: str, content: bytes) -> str:
    members = Member.objects.count()
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as refused:
        _upload(world, name, content)
    assert time.monotonic() - started < 2
    assert (ImportBatch.objects.count(), ImportIssue.objects.count(), Member.objects.count()) == (0, 0, members)
    return refused.value.message


def test_a_shared_string_bomb_is_refused_by_its_compression_ratio_before_parsing(
    world: World, bomb: bytes, no_parsing: None
) -> None:
    assert len(bomb) < 100_000
    assert _refused(world, "会员.xlsx", bomb) == (
        "文件压缩比异常（解压后超过原大小的 100 倍），可能是恶意构造的文件，请另存为普通 Excel 工作簿后再导入"
    )


def test_an_xlsx_expanding_past_the_size_limit_is_refused_before_parsing(
    world: World, bomb: bytes, no_parsing: None, settings: LazySettings
) -> None:
    settings.TABULAR_MAX_UNCOMPRESSED_MB = 10
    assert _refused(world, "会员.xlsx", bomb) == "文件解压后过大（超过 10 MB），请拆分后再导入"


def test_an_xlsx_with_more_rows_than_the_limit_is_refused(world: World, settings: LazySettings) -> None:
    settings.TABULAR_MAX_ROWS = 50
    rows = [HEADER] + [[person(n)[h] for h in HEADER] for n in range(120)]
    assert _refused(world, "会员.xlsx", xlsx_of(rows)) == "文件超过 50 行，请拆分后再导入"


def test_a_csv_with_more_rows_than_the_limit_is_refused(world: World, settings: LazySettings) -> None:
    settings.TABULAR_MAX_ROWS = 50
    assert _refused(world, "会员.csv", csv_bytes([person(n) for n in range(120)])) == "文件超过 50 行，请拆分后再导入"


@pytest.mark.parametrize("name", ["会员.csv", "会员.xlsx"])
def test_a_web_upload_past_the_web_row_limit_is_refused_before_a_row_is_checked(
    world: World, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(batches, "WEB_MAX_ROWS", 30)
    if name.endswith(".csv"):
        monkeypatch.setattr(rows.RowTransformer, "run", lambda self, rows: pytest.fail("a row was checked"))
        content = csv_bytes([person(n) for n in range(31)])
    else:
        content = xlsx_of([HEADER] + [[person(n)[h] for h in HEADER] for n in range(31)])
    assert _refused(world, name, content) == "文件超过 30 行，请拆分后再导入"


def test_exactly_the_row_limit_is_accepted(world: World, settings: LazySettings) -> None:
    settings.TABULAR_MAX_ROWS = 50
    assert _upload(world, "会员.csv", csv_bytes([person(n) for n in range(50)])).rows_total == 50


def test_a_csv_larger_than_the_limit_is_refused(world: World, settings: LazySettings) -> None:
    settings.TABULAR_MAX_CSV_MB = 1
    content = csv_bytes([person(n) for n in range(2)]) + b"\n" * (1024 * 1024)

    class Sized:  # an upload that says its size, as Django's UploadedFile does
        def __init__(self, data: bytes):
            import io

            self.buffer = io.BytesIO(data)
            self.size = len(data)

        def read(self, n: int = -1) -> bytes:
            return self.buffer.read(n)

    with pytest.raises(ValidationFailed) as refused:
        readers._open_reader(Sized(content), "csv")  # type: ignore[arg-type]
    assert refused.value.message == "文件超过 1 MB，请拆分后再导入"


ANY_ROW = "文件中有单元格超过 1000 个字符，请检查文件内容"


@pytest.mark.parametrize(
    ("name", "long_cell", "message"),
    [
        ("会员.csv", 5000, ANY_ROW),
        ("会员.csv", 200_000, ANY_ROW),  # past the csv module's own field limit
        ("会员.xlsx", 5000, "第 3 行有单元格超过 1000 个字符，请检查文件内容"),
    ],
)
def test_a_cell_longer_than_the_limit_is_refused(
    world: World, settings: LazySettings, name: str, long_cell: int, message: str
) -> None:
    settings.TABULAR_MAX_CELL_CHARS = 1000
    rows = [person(0), person(1, 工作单位="某" * long_cell)]
    table = [HEADER] + [[r[h] for h in HEADER] for r in rows]
    content = csv_bytes(rows) if name.endswith(".csv") else xlsx_of(table)
    assert _refused(world, name, content) == message


def test_a_problem_row_is_stored_with_its_cells_clipped(world: World) -> None:
    batch = _upload(world, "会员.csv", csv_bytes([person(0), person(1, 学历="博" * 20_000)]))
    issue = ImportIssue.objects.get(batch=batch)
    cells = json.loads(crypto.decrypt(issue.raw_encrypted, purpose=ROW_PURPOSE))
    assert max(len(c) for c in cells) == 500 and cells[HEADER.index("学历")] == "博" * 499 + "…"
    assert all(len(e["message"]) <= 500 for e in issue.errors)
