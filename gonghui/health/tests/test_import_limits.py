"""A health results file that is a decompression bomb, too long or has a huge cell fails its
batch with a Chinese reason before anything is stored; problems are stored clipped (issue 9
item 13)."""

import time

import pytest
from django.conf import LazySettings

from gonghui.core.models import JobStatus
from gonghui.health import services
from gonghui.health.importers import tabular
from gonghui.health.models import Checkup, ImportBatch, Result
from gonghui.site.testing import World, xlsx_shared_string_bomb

pytestmark = pytest.mark.django_db


def _run(world: World, fmt: str, content: bytes) -> ImportBatch:
    batch = services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt=fmt,
        filename="results." + fmt,
        content=content,
        mapping=None,
        enqueue=False,
    )
    started = time.monotonic()
    services.import_batch_run(batch_id=batch.pk)
    assert time.monotonic() - started < 2
    batch = ImportBatch.objects.select_related("job").get(pk=batch.pk)
    assert (batch.job.status, batch.payload_encrypted) == (JobStatus.FAILED, "")
    assert (Checkup.objects.count(), Result.objects.count()) == (0, 0)
    return batch


def test_a_shared_string_bomb_fails_the_batch_before_parsing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the spreadsheet was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    batch = _run(world, "xlsx", xlsx_shared_string_bomb(20_000_000))
    assert batch.job.error == (
        "文件压缩比异常（解压后超过原大小的 100 倍），可能是恶意构造的文件，请另存为普通 Excel 工作簿后再导入"
    )


def test_a_csv_with_more_rows_than_the_limit_fails_the_batch(
    world: World, ids: dict[str, str], settings: LazySettings
) -> None:
    settings.TABULAR_MAX_ROWS = 20
    content = "身份证号,体检日期,项目代码,结果,单位\n" + "".join(
        "%s,2025-06-03,GLU,5.%d,mmol/L\n" % (ids["a"], n % 10) for n in range(40)
    )
    assert _run(world, "csv", content.encode()).job.error == "文件超过 20 行，请拆分后再导入"


def test_a_huge_cell_fails_the_batch(world: World, ids: dict[str, str], settings: LazySettings) -> None:
    settings.TABULAR_MAX_CELL_CHARS = 1000
    content = "身份证号,体检日期,项目代码,结果,单位\n%s,2025-06-03,GLU,%s,mmol/L\n" % (ids["a"], "5" * 5000)
    assert _run(world, "csv", content.encode()).job.error == "第 2 行有单元格超过 1000 个字符，请检查文件内容"


def test_a_problem_quoting_a_long_header_is_stored_clipped() -> None:
    problem = tabular.Problem("第 2 行 “%s”列" % ("列" * 3000), "code_unknown", "项目“%s”不在指标目录中" % ("X" * 3000))
    stored = problem.as_dict()
    assert (len(stored["where"]), len(stored["reason"])) == (500, 500)
    assert stored["where"].endswith("…") and stored["code"] == "code_unknown"
