"""CSV and XLSX results.

Two layouts, which may be mixed in one file:

* long — one row per result, with columns for the ID number, exam date, item code or name,
  value, unit, and optionally the laboratory's range, report number and centre;
* wide — one row per exam, one column per item, the unit in the header (`空腹血糖(mmol/L)`)
  or given in the mapping.

Headers are recognised by the usual Chinese and English names; a mapping overrides them:
`{"fields": {"id_number": "证件号", ...}, "columns": {"FBG": {"code": "GLU", "unit": "mmol/L"}},
"centre": "某体检中心"}`."""

import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gonghui.core import tabular
from gonghui.core.errors import ValidationFailed
from gonghui.health.cleaning import clean_text
from gonghui.health.importers.base import FileRefused, Observation, ParseStream, Problem

FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "身份证", "证件号码", "证件号", "id_number", "idcard", "id"),
    "exam_date": ("体检日期", "检查日期", "检验日期", "报告日期", "采样日期", "日期", "exam_date", "date"),
    "code": ("项目代码", "项目编码", "指标代码", "检验代码", "代码", "loinc", "code"),
    "name": ("项目名称", "指标名称", "检验项目", "项目", "name", "item"),
    "value": ("结果", "结果值", "检验结果", "测定值", "value", "result"),
    "unit": ("单位", "unit", "units"),
    "ref_range": ("参考范围", "参考值", "参考区间", "ref_range", "reference", "range"),
    "report_no": ("体检编号", "体检号", "报告编号", "报告号", "report_no", "report"),
    "centre": ("体检机构", "体检中心", "机构", "centre", "center"),
}
# The long-layout fields, declared once in the kernel: the first synonym is the template's header
# (`import_templates.TABULAR_HEADER`), the others are aliases, in order of preference.
RESULT_COLUMNS = tabular.register_columns(
    "health.results",
    label="体检结果",
    columns=[tabular.Column(key, synonyms[0], aliases=synonyms[1:]) for key, synonyms in FIELD_SYNONYMS.items()],
)
_UNIT_IN_HEADER = re.compile(r"^(?P<name>.+?)\s*[（(](?P<unit>[^()（）]*)[)）]$")
MAX_ROWS = 500_000


MAPPING_KEYS = ("fields", "columns", "centre")


def validate_mapping(mapping: object) -> dict[str, Any]:
    """The column mapping, checked for shape before any file is read; `FileRefused` says what
    is wrong in terms of the mapping's own keys."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise FileRefused('列映射必须是 JSON 对象，例如 {"fields": {"id_number": "证件号"}}')
    unknown = [str(k)[:40] for k in mapping if k not in MAPPING_KEYS]
    if unknown:
        raise FileRefused(
            "列映射中有无法识别的项：%(keys)s（可用 fields、columns、centre）" % {"keys": "、".join(unknown[:5])}
        )
    fields = mapping.get("fields") or {}
    if not isinstance(fields, dict):
        raise FileRefused('列映射的 fields 必须是对象：{"字段名": "文件中的列名"}')
    for key, column in fields.items():
        if key not in FIELD_SYNONYMS:
            raise FileRefused(
                "列映射 fields 中的字段“%(key)s”无法识别（可用 %(known)s）"
                % {"key": str(key)[:40], "known": "、".join(FIELD_SYNONYMS)}
            )
        if not isinstance(column, str):
            raise FileRefused("列映射 fields.%(key)s 必须是文件中的列名（文本）" % {"key": key})
    columns = mapping.get("columns") or {}
    if not isinstance(columns, dict):
        raise FileRefused('列映射的 columns 必须是对象：{"文件中的列名": {"code": "项目代码", "unit": "单位"}}')
    for header, spec in columns.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("code"), str) or not spec["code"].strip():
            raise FileRefused(
                '列映射 columns 中“%(col)s”的写法应为 {"code": "项目代码", "unit": "单位"}' % {"col": str(header)[:40]}
            )
        if not isinstance(spec.get("unit", ""), str) or set(spec) - {"code", "unit"}:
            raise FileRefused("列映射 columns 中“%(col)s”只能包含 code 和 unit（文本）" % {"col": str(header)[:40]})
    if not isinstance(mapping.get("centre", ""), str):
        raise FileRefused("列映射的 centre 必须是体检机构名称（文本）")
    return mapping


def _norm(header: object) -> str:
    return clean_text(header).lower().replace(" ", "")


def _layout(
    headers: list[str], mapping: dict[str, Any], is_known_code: Callable[[str], bool]
) -> tuple[dict[str, int], dict[int, tuple[str, str]]]:
    """Column positions of the long-layout fields and of the wide-layout item columns."""
    positions = {_norm(h): i for i, h in enumerate(headers) if _norm(h)}
    overrides = {key: column for key, column in (mapping.get("fields") or {}).items() if column}
    try:
        fields = RESULT_COLUMNS.resolve(headers, mapping=overrides, strict=False).positions
    except ValidationFailed as exc:
        raise FileRefused(exc.message) from None
    used = set(fields.values())
    wide: dict[int, tuple[str, str]] = {}
    configured = {_norm(k): v for k, v in (mapping.get("columns") or {}).items()}
    for i, header in enumerate(headers):
        if i in used or not _norm(header):
            continue
        spec = configured.get(_norm(header))
        if spec is not None:
            wide[i] = (str(spec.get("code", "")), str(spec.get("unit", "")))
            continue
        text = clean_text(header)
        match = _UNIT_IN_HEADER.match(text)
        name, unit = (match["name"], match["unit"]) if match else (text, "")
        if is_known_code(name):
            wide[i] = (name, unit)
    for header in configured:
        if header not in positions:
            raise FileRefused("映射中的列“%(col)s”在文件中不存在" % {"col": header})
    missing = [label for field, label in (("id_number", "身份证号"), ("exam_date", "体检日期")) if field not in fields]
    long_ok = "value" in fields and ("code" in fields or "name" in fields)
    if not long_ok and not wide:
        missing.append("项目代码/项目名称 + 结果（或每个项目一列）")
    if missing:
        raise FileRefused("缺少必需的列：%(cols)s" % {"cols": "、".join(missing)})
    return fields, wide


def _cell(row: list[Any], index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    return row[index]


def _text(value: Any) -> str:
    return "" if value is None else clean_text(value)


def rows_to_observations(
    rows: Iterable[list[Any]], mapping: dict[str, Any], is_known_code: Callable[[str], bool]
) -> ParseStream:
    iterator = iter(rows)
    headers: list[str] | None = None
    line = 0
    for row in iterator:
        line += 1
        if any(_text(v) for v in row):
            headers = [_text(v) for v in row]
            break
    if headers is None:
        raise FileRefused("文件为空")
    mapping = validate_mapping(mapping)
    fields, wide = _layout(headers, mapping, is_known_code)
    default_centre = str(mapping.get("centre") or "")
    long_ok = "value" in fields and ("code" in fields or "name" in fields)
    for row in iterator:
        line += 1
        if line > MAX_ROWS:
            yield Problem("第 %(n)s 行" % {"n": line}, "too_many_rows", "超过 50 万行，其余未读取")
            return
        if not any(_text(v) for v in row):
            continue
        where = "第 %(n)s 行" % {"n": line}
        raw_id = _cell(row, fields.get("id_number"))
        if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
            yield Problem(where, "id_as_number", "证件号码被存为数字（可能已丢失末位），请将该列设为文本后重新导出")
            continue
        common = {
            "id_number": _text(raw_id),
            "exam_date": _cell(row, fields.get("exam_date")),
            "report_no": _text(_cell(row, fields.get("report_no"))),
            "centre": _text(_cell(row, fields.get("centre"))) or default_centre,
        }
        if long_ok:
            code = _text(_cell(row, fields.get("code"))) or _text(_cell(row, fields.get("name")))
            value = _cell(row, fields.get("value"))
            if code or _text(value):
                yield Observation(
                    where=where,
                    code=code,
                    name=_text(_cell(row, fields.get("name"))),
                    value=value,
                    unit=_text(_cell(row, fields.get("unit"))),
                    ref_range=_text(_cell(row, fields.get("ref_range"))),
                    **common,
                )
        for index, (code, unit) in wide.items():
            value = _cell(row, index)
            if _text(value):
                yield Observation(
                    where="%(w)s “%(col)s”列" % {"w": where, "col": headers[index]},
                    code=code,
                    value=value,
                    unit=unit,
                    **common,
                )


def _open(content: bytes, file_format: tabular.Format) -> tabular.TabularFile:
    """The file opened by the kernel's tabular reader (encoding, delimiter, limits), refused
    now if it cannot be read at all."""
    try:
        return tabular.open_tabular(io.BytesIO(content), file_format=file_format, delimiters=",;\t|")
    except ValidationFailed as exc:
        raise FileRefused(exc.message) from None


def _rows(table: tabular.TabularFile) -> Iterator[list[Any]]:
    """Every row of the file, the header first; a limit the reader hits is `FileRefused`."""
    with table:
        yield table.header
        try:
            yield from table.rows()
        except ValidationFailed as exc:
            raise FileRefused(exc.message) from None


def parse_csv(content: bytes, mapping: dict[str, Any], is_known_code: Callable[[str], bool]) -> ParseStream:
    return rows_to_observations(_rows(_open(content, tabular.Format.CSV)), mapping, is_known_code)


def parse_xlsx(content: bytes, mapping: dict[str, Any], is_known_code: Callable[[str], bool]) -> ParseStream:
    return rows_to_observations(_rows(_open(content, tabular.Format.XLSX)), mapping, is_known_code)
