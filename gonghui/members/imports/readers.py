"""The member import's view of the kernel's tabular reader (`gonghui.core.tabular`): the
header, a row-count estimate and the chunk tasks the worker processes validate. A CSV is cut
into record-aligned byte chunks that the workers decode (`tabular.decode_chunk`); XLSX rows
are read in the main process and sent as text rows."""

from collections.abc import Iterator
from typing import IO, Any

from gonghui.core import tabular
from gonghui.core.errors import ValidationFailed
from gonghui.members.import_models import ImportFormat
from gonghui.members.imports.columns import CSV_BLOCK_BYTES, XLSX_CHUNK_ROWS

Task = tuple[str, Any, str]


class _Reader:
    """Header, row-count estimate and chunk tasks of one file."""

    def __init__(self, table: tabular.TabularFile, *, block_bytes: int, chunk_rows: int = XLSX_CHUNK_ROWS):
        self.table = table
        self.header = table.header
        self.estimate = table.estimate
        self.block_bytes = block_bytes
        self.chunk_rows = chunk_rows

    def tasks(self) -> Iterator[Task]:
        if isinstance(self.table, tabular.CsvFile):
            encoding = self.table.encoding
            for data in self.table.chunks(self.block_bytes):
                yield ("csv", data, encoding)
            return
        chunk: list[list[str]] = []
        for row in self.table.text_rows():
            chunk.append(row)
            if len(chunk) >= self.chunk_rows:
                yield ("rows", chunk, "")
                chunk = []
        if chunk:
            yield ("rows", chunk, "")

    def close(self) -> None:
        self.table.close()


def detect_format(file_name: str, head: bytes) -> str:
    """CSV or XLSX, told by the kernel; a Parquet file is refused (the batch keeps CSV or XLSX)."""
    file_format = tabular.detect_format(file_name, head)
    if file_format == tabular.Format.PARQUET:
        raise ValidationFailed("会员导入支持 CSV 和 Excel 工作簿（.xlsx），请另存为其中一种后重新上传")
    return ImportFormat(str(file_format))


def _open_reader(
    stream: IO[bytes], file_format: str, *, block_bytes: int = CSV_BLOCK_BYTES, max_rows: int | None = None
) -> _Reader:
    """The reader of `stream`, refusing it while reading at `max_rows` data rows (or the
    kernel's lower limit) and at the kernel's other file limits."""
    kernel_format = tabular.Format.XLSX if file_format == ImportFormat.XLSX else tabular.Format.CSV
    table = tabular.open_tabular(stream, file_format=kernel_format, max_rows=max_rows)
    return _Reader(table, block_bytes=block_bytes)
