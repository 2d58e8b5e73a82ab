"""A coupon target list that is a decompression bomb or too long is refused before (or while)
it is read, and the campaign's list is left as it was (issue 9 item 13)."""

import io
import time

import openpyxl
import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile

from gonghui.benefits import services
from gonghui.benefits.models import CampaignTarget
from gonghui.core.errors import ValidationFailed
from gonghui.site.testing import xlsx_of, xlsx_shared_string_bomb

pytestmark = pytest.mark.django_db


def _refused(name: str, content: bytes) -> str:
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as refused:
        services.target_list_read(file_name=name, stream=SimpleUploadedFile(name, content))
    assert time.monotonic() - started < 2
    assert CampaignTarget.objects.count() == 0
    return refused.value.message


def test_a_shared_string_bomb_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the spreadsheet was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    assert _refused("名单.xlsx", xlsx_shared_string_bomb(20_000_000)) == (
        "文件压缩比异常（解压后超过原大小的 100 倍），可能是恶意构造的文件，请另存为普通 Excel 工作簿后再导入"
    )


def test_lists_longer_than_the_row_limit_are_refused(settings: LazySettings) -> None:
    settings.TABULAR_MAX_ROWS = 10
    rows = [["身份证号"]] + [["HY%014d" % n] for n in range(30)]
    assert _refused("名单.xlsx", xlsx_of(rows)) == "文件超过 10 行，请拆分后再导入"
    text = "\n".join(r[0] for r in rows).encode()
    assert _refused("名单.csv", text) == "文件超过 10 行，请拆分后再导入"


def test_a_csv_larger_than_the_limit_is_refused(settings: LazySettings) -> None:
    settings.TABULAR_MAX_CSV_MB = 1
    assert _refused("名单.csv", b"HY00000000000001\n" * 70_000) == "文件超过 1 MB，请拆分后再导入"


def test_an_ordinary_list_is_read() -> None:
    content = xlsx_of([["身份证号"], ["HY00000000000001"], [None]])
    stream = io.BytesIO(content)
    assert services.target_list_read(file_name="名单.xlsx", stream=stream) == ["身份证号", "HY00000000000001", ""]


@pytest.mark.parametrize("codec", ["utf-8-sig", "gbk", "utf-16", "utf-16-le"])
def test_a_text_list_is_read_in_any_encoding_chinese_systems_export(codec: str) -> None:
    content = '身份证号,备注\r\nHY00000000000001,"甲,乙"\r\n\r\n'.encode(codec)
    stream = SimpleUploadedFile("名单.csv", content)
    assert services.target_list_read(file_name="名单.csv", stream=stream) == ["身份证号", "HY00000000000001", ""]


def test_an_old_excel_file_is_refused_in_chinese() -> None:
    assert _refused("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") == (
        "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后重新上传"
    )
