"""Bulk member import (信息采集 → 数据核对 → 系统导入).

Upload (CSV or XLSX) → dry run: every row is validated with the same rules as the member form
(`services.clean_member_fields`, `core.identifiers`) and checked against the registry; the
problems are kept as `ImportIssue` rows for the report → commit, as a background task: the file
is read again, every row validated again, and the rows stream into the member table inside ONE
transaction, so a failed or killed import leaves the registry exactly as it was.

Speed (a province imports hundreds of thousands of rows at a time):
- rows are parsed, validated, encrypted and blind-indexed in chunks, by a pool of forked worker
  processes when the file is large; per-field validation results are memoised per distinct value
  (a 民族 or 入会日期 column holds few of them), the ID number check digit and birth date are
  computed from memoised parts, and AES-GCM / HMAC keys are set up once per worker;
- on PostgreSQL new members go straight into the member table with `COPY` (every constraint
  still enforced by the database), members already registered are locked, merged in Python and
  written through a temporary table with one `UPDATE … FROM`; SQLite (the demo) uses the ORM;
- progress goes to the cache (file cache in the demo, Redis in production), so a page can
  show it while the import transaction is still open.
"""

import abc
import binascii
import codecs
import csv
import ctypes
import datetime as dt
import io
import json
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from gonghui.core import audit, crypto
from gonghui.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.identifiers import ID_CHECK_CHARS, ID_WEIGHTS, IdentifierError, parse_resident_id
from gonghui.core.models import AuditResult
from gonghui.core.permissions import Perm
from gonghui.members.identity import ID_PURPOSE, name_initials
from gonghui.members.import_models import ImportBatch, ImportFormat, ImportIssue, ImportSource, ImportStatus
from gonghui.members.models import (
    ETHNICITIES,
    Education,
    HardshipClass,
    HouseholdType,
    IdType,
    JoinMethod,
    Member,
    MemberHistory,
    MembershipStatus,
    ModelWorkerLevel,
    Tag,
)
from gonghui.members.services import EDITABLE_FIELDS, clean_member_fields
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.selectors import has_perm_on, scope_paths, scope_q

UPLOAD_PURPOSE = "members.import_upload"
ROW_PURPOSE = "members.import_row"
WEB_MAX_BYTES = 30 * 1024 * 1024
WEB_MAX_ROWS = 300_000
MAX_ISSUES_KEPT = 50_000
CSV_BLOCK_BYTES = 1 << 20
XLSX_CHUNK_ROWS = 4000
POOL_MIN_ROWS = 20_000
POOL_IN_FLIGHT = 6
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PROGRESS_TTL_SECONDS = 7 * 24 * 3600
HEADER_ROW = 1


def stale_after_seconds() -> int:
    """A running import whose progress has not moved for this long is taken as interrupted."""
    return settings.MEMBER_IMPORT_STALE_SECONDS


def default_workers() -> int:
    return settings.MEMBER_IMPORT_WORKERS


# ---- the columns of the file ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""
    choices: tuple[str, ...] = ()
    width: int = 14
    text: bool = False


def _labels(choices: Any, *, skip_blank: bool = True) -> tuple[str, ...]:
    return tuple(label for value, label in choices.choices if value or not skip_blank)


TAG_SEPARATORS = re.compile(r"[;；,，、/|\s]+")

COLUMNS: tuple[Column, ...] = (
    Column(
        "org_code",
        "工会代码",
        aliases=("基层工会代码", "组织代码", "所属工会代码"),
        help="导入到上级工会时必填：会员所属基层工会的组织代码；导入到某个基层工会时可不填",
        width=14,
        text=True,
    ),
    Column("name", "姓名", required=True, aliases=("会员姓名", "职工姓名"), width=10),
    Column(
        "id_type",
        "证件类型",
        aliases=("证件种类",),
        help="可不填；批量导入只支持居民身份证",
        choices=(IdType.RESIDENT.label,),
        width=12,
    ),
    Column(
        "id_number",
        "证件号码",
        required=True,
        aliases=("身份证号", "身份证号码", "公民身份号码", "身份证件号码"),
        help="18位居民身份证号码，末位可为X；请把该列设为文本格式，避免被转成科学计数法",
        width=22,
        text=True,
    ),
    Column(
        "phone",
        "手机号",
        required=True,
        aliases=("手机号码", "手机", "联系电话", "移动电话"),
        help="11位中国大陆手机号码",
        width=14,
        text=True,
    ),
    Column("ethnicity", "民族", help="不填视为汉族", choices=ETHNICITIES, width=10),
    Column("education", "学历", aliases=("文化程度",), choices=_labels(Education), width=14),
    Column("household_type", "户籍类型", aliases=("户口性质", "户籍性质"), choices=_labels(HouseholdType), width=12),
    Column("household_place", "户籍所在地", aliases=("户籍地",), width=18),
    Column("work_unit", "工作单位", aliases=("单位名称", "所在单位"), width=24),
    Column("skill_level", "技能等级", width=12),
    Column("political_status", "政治面貌", width=12),
    Column(
        "joined_on",
        "入会日期",
        required=True,
        aliases=("入会时间",),
        help="如 2020-05-01、2020/5/1 或 2020年5月1日，不能晚于今天",
        width=12,
        text=True,
    ),
    Column("join_method", "入会方式", help="不填视为单位集体入会", choices=_labels(JoinMethod), width=14),
    Column(
        "tags",
        "标签",
        aliases=("会员标签", "人员类别"),
        help="可填多个，用分号隔开，如：外卖骑手;农民工",
        choices=tuple(t.label for t in Tag),
        width=20,
    ),
    Column(
        "model_worker_level",
        "劳模/工匠",
        aliases=("劳模工匠", "劳模", "劳模/工匠等级"),
        choices=_labels(ModelWorkerLevel, skip_blank=False),
        width=16,
    ),
    Column(
        "hardship_class",
        "困难职工类别",
        aliases=("困难职工", "困难类别"),
        choices=_labels(HardshipClass, skip_blank=False),
        width=14,
    ),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
_HEADER_CLEAN = re.compile(r"[\s*＊:：]|（必填）|\(必填\)|（选填）|\(选填\)")


def _normalise_header(text: str) -> str:
    return _HEADER_CLEAN.sub("", text.replace("\ufeff", ""))


_HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _alias in (_column.header, *_column.aliases):
        _HEADER_LOOKUP[_normalise_header(_alias)] = _column.key


def _choice_map(choices: Any, extra: dict[str, str]) -> dict[str, str]:
    mapping = {label: value for value, label in choices.choices}
    mapping.update({value: value for value in choices.values if value})
    mapping.update(extra)
    return mapping


# File text → the value the member form posts. Unknown text is passed through unchanged, so the
# form's own rule (`clean_member_fields`) rejects it with its own message.
CHOICE_TEXT: dict[str, dict[str, str]] = {
    "education": _choice_map(
        Education,
        {
            "小学": "primary",
            "文盲": "primary",
            "高中": "senior",
            "中专": "senior",
            "技校": "senior",
            "职高": "senior",
            "中技": "senior",
            "专科": "college",
            "大学专科": "college",
            "大学本科": "bachelor",
            "硕士": "postgrad",
            "博士": "postgrad",
            "硕士研究生": "postgrad",
            "博士研究生": "postgrad",
        },
    ),
    "household_type": _choice_map(
        HouseholdType, {"非农": "urban", "非农业": "urban", "城镇": "urban", "农业": "rural", "农村": "rural"}
    ),
    "join_method": _choice_map(
        JoinMethod,
        {"集体入会": "unit", "单位入会": "unit", "网上入会": "online", "线上入会": "online", "转入": "transfer"},
    ),
    "model_worker_level": _choice_map(
        ModelWorkerLevel,
        {
            "否": "",
            "全国劳模": "national",
            "大国工匠": "national",
            "全国级": "national",
            "省部级": "provincial",
            "省级劳模": "provincial",
            "省级工匠": "provincial",
            "市级": "city",
            "市级劳模": "city",
            "市级工匠": "city",
        },
    ),
    "hardship_class": _choice_map(HardshipClass, {"无": "", "否": "", "非困难": ""}),
}
CHOICE_LABELS: dict[str, str] = {
    key: "、".join(c for c in COLUMN_BY_KEY[key].choices if c) for key in ("education", "household_type", "join_method")
}
CHOICE_LABELS["model_worker_level"] = "无、" + "、".join(_labels(ModelWorkerLevel))
CHOICE_LABELS["hardship_class"] = "无、" + "、".join(_labels(HardshipClass))
TAG_BY_LABEL = {t.label: t.value for t in Tag}
TAG_LABELS = "、".join(t.label for t in Tag)

# ---- the member columns an import writes -------------------------------------------------

# Order of the values a worker renders for each valid row (COPY text format); the member's
# organisation id is put in front by the main process, the constant columns are appended.
ROW_COLUMNS = (
    "member_no",
    "card_no",
    "name",
    "name_initials",
    "sex",
    "birth_date",
    "ethnicity",
    "id_type",
    "id_number_encrypted",
    "id_blind",
    "id_masked",
    "phone",
    "education",
    "skill_level",
    "political_status",
    "household_type",
    "household_place",
    "work_unit",
    "joined_on",
    "join_method",
    "tags",
    "model_worker_level",
    "hardship_class",
)
INSERT_COLUMNS = ("organization_id", *ROW_COLUMNS, "status", "version", "created_at", "updated_at")
_POS = {name: i + 1 for i, name in enumerate(ROW_COLUMNS)}  # positions in a line with the org id in front
BLIND_POS = _POS["id_blind"]
# Member fields an import may change on a member already registered in the same union; a file
# column that is absent leaves its field as it is.
# The same fields the member form edits, plus the initials derived from the name.
UPDATABLE = (*EDITABLE_FIELDS, "name_initials")
FILE_KEY_FIELDS = {"name": ("name", "name_initials")} | {
    key: (key,) for key in UPDATABLE if key not in ("name", "name_initials")
}


# ---- validation of one row, runnable in a worker process without the database -----------

# Member fields read from the file besides name, ID and phone (入会日期 is required but checked,
# like the others, through the member form's rule).
OPTIONAL_KEYS = (
    "ethnicity",
    "education",
    "skill_level",
    "political_status",
    "household_type",
    "household_place",
    "work_unit",
    "joined_on",
    "join_method",
    "tags",
    "model_worker_level",
    "hardship_class",
)


@dataclass(frozen=True)
class TransformSpec:
    """What a worker needs to turn rows into member values: where each column is, and the
    constants of this run."""

    positions: dict[str, int]
    width: int
    headers: dict[str, str]
    today: dt.date
    timestamp: str


class ChunkResult(NamedTuple):
    records: int  # rows read, blank rows included
    blank: int
    ok_index: list[int]  # position in the chunk of each valid row
    blinds: list[str]
    lines: list[str]  # COPY text line of each valid row, without the organisation id
    codes: list[str]  # 工会代码 of each valid row (per-row organisation files only)
    bad: list[tuple[int, list[str], list[tuple[str, str]]]]  # (position, cells, [(column, message)])
    error: str  # a chunk the worker could not read at all


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_ASCII_DIGITS = re.compile(r"^[0-9]+$")
_CHECK_TOTAL_ASCII = 48 * sum(ID_WEIGHTS)


def _normalise_date(raw: str) -> str:
    """Spreadsheet date spellings → ISO; anything else is left for the form rule to reject."""
    text = raw.strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE_PARTS.match(text)
    if match:
        year, month, day = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text[:10] if len(text) >= 19 and text[10] in " T" else text


class RowTransformer:
    """Turns the cells of one row into the values stored for a member, or the reasons it cannot
    be imported. Field rules come from `clean_member_fields` and `parse_resident_id`, memoised
    per distinct value; the ID number goes through a memoised fast path that accepts only what
    `parse_resident_id` accepts and hands every other number to it for the message."""

    def __init__(self, spec: TransformSpec):
        self.spec = spec
        self.pos = spec.positions
        self.width = spec.width
        self.headers = spec.headers
        self.today = spec.today
        self.protector = crypto.BulkSealer(ID_PURPOSE)
        self.suffix = f"\t{MembershipStatus.ACTIVE.value}\t1\t{spec.timestamp}\t{spec.timestamp}\n"
        self.memo: dict[str, dict[str, tuple[str, str | None]]] = {key: {} for key in COLUMN_BY_KEY}
        self.names: dict[str, tuple[str, str, str | None]] = {}
        self.region_sums: dict[str, int | None] = {}
        self.date_sums: dict[str, tuple[int, str] | None] = {}
        self.seq_sums: dict[str, tuple[int, str] | None] = {}
        # Columns absent from the file get the value the member form would store for a blank.
        self.defaults = {key: self._clean(key, "")[0] for key in OPTIONAL_KEYS if key not in self.pos}

    # -- one field --------------------------------------------------------------------------

    def _clean(self, key: str, raw: str) -> tuple[str, str | None]:
        """(value as stored, None) or ("", Chinese message), memoised per distinct cell text."""
        memo = self.memo[key]
        hit = memo.get(raw)
        if hit is None:
            hit = self._clean_uncached(key, raw)
            if len(memo) < 200_000:
                memo[raw] = hit
        return hit

    def _clean_uncached(self, key: str, raw: str) -> tuple[str, str | None]:
        if key in CHOICE_TEXT:
            value: Any = CHOICE_TEXT[key].get(raw, raw)
            if key == "join_method" and not raw:
                value = JoinMethod.UNIT.value
        elif key == "tags":
            mask = 0
            for label in TAG_SEPARATORS.split(raw):
                if not label:
                    continue
                bit = TAG_BY_LABEL.get(label)
                if bit is None:
                    return "", "未知标签“%(tag)s”（可填：%(labels)s）" % {"tag": label, "labels": TAG_LABELS}
                mask |= bit
            value = mask
        elif key == "joined_on":
            value = _normalise_date(raw) if raw else None
        else:
            value = raw
        cleaned, errors = clean_member_fields({key: value}, partial=True)
        if errors:
            message = errors[key]
            if key in CHOICE_LABELS:
                message = "%(message)s（可填：%(labels)s）" % {"message": message, "labels": CHOICE_LABELS[key]}
            return "", message
        result = cleaned[key]
        if isinstance(result, dt.date):
            return result.isoformat(), None
        return str(result), None

    def _name(self, raw: str) -> tuple[str, str, str | None]:
        hit = self.names.get(raw)
        if hit is None:
            cleaned, errors = clean_member_fields({"name": raw}, partial=True)
            name = cleaned.get("name", "")
            hit = ("", "", errors["name"]) if errors else (name, name_initials(name), None)
            if len(self.names) < 500_000:
                self.names[raw] = hit
        return hit

    def _phone(self, raw: str) -> tuple[str, str | None]:
        if len(raw) == 11 and raw[0] == "1" and raw[1] in "3456789" and raw.isascii() and raw.isdigit():
            return raw, None  # exactly what `validate_phone` accepts unchanged
        cleaned, errors = clean_member_fields({"phone": raw}, partial=True)
        return (cleaned["phone"], None) if not errors else ("", errors["phone"])

    def _region_sum(self, part: str) -> int | None:
        if part not in self.region_sums:
            ok = len(part) == 6 and _ASCII_DIGITS.match(part)
            self.region_sums[part] = sum(int(c) * w for c, w in zip(part, ID_WEIGHTS[:6], strict=True)) if ok else None
        return self.region_sums[part]

    def _date_sum(self, part: str) -> tuple[int, str] | None:
        if part not in self.date_sums:
            entry = None
            if len(part) == 8 and _ASCII_DIGITS.match(part):
                try:
                    birth = dt.date(int(part[:4]), int(part[4:6]), int(part[6:]))
                except ValueError:
                    birth = None
                if birth is not None and birth.year >= 1900 and birth <= self.today:
                    weighted = sum(int(c) * w for c, w in zip(part, ID_WEIGHTS[6:14], strict=True))
                    entry = (weighted, birth.isoformat())
            self.date_sums[part] = entry
        return self.date_sums[part]

    def _seq_sum(self, part: str) -> tuple[int, str] | None:
        if part not in self.seq_sums:
            entry = None
            if len(part) == 3 and _ASCII_DIGITS.match(part):
                weighted = sum(int(c) * w for c, w in zip(part, ID_WEIGHTS[14:17], strict=True))
                entry = (weighted, "M" if int(part[2]) % 2 == 1 else "F")
            self.seq_sums[part] = entry
        return self.seq_sums[part]

    def identity(self, raw: str) -> tuple[str, str, str] | str:
        """(number, birth date ISO, sex) or the message of `parse_resident_id`."""
        number = raw.upper()
        if len(number) == 18:
            region = self._region_sum(number[:6])
            birth = self._date_sum(number[6:14])
            seq = self._seq_sum(number[14:17])
            if (
                region is not None
                and birth is not None
                and seq is not None
                and ID_CHECK_CHARS[(region + birth[0] + seq[0]) % 11] == number[17]
            ):
                return number, birth[1], seq[1]
        if "E+" in number or "E+" in raw:
            return "证件号码被表格软件转成了科学计数法，请把该列设为文本格式后重新填写"
        try:
            resident = parse_resident_id(raw)
        except IdentifierError as exc:
            return str(exc)
        return resident.number, resident.birth_date.isoformat(), resident.sex

    # -- one chunk --------------------------------------------------------------------------

    def run(self, rows: Iterable[list[str]]) -> ChunkResult:
        pos = self.pos
        width = self.width
        headers = self.headers
        p_code = pos.get("org_code", -1)
        p_name = pos["name"]
        p_id = pos["id_number"]
        p_phone = pos["phone"]
        p_id_type = pos.get("id_type", -1)
        optional = [(key, pos.get(key, -1)) for key in OPTIONAL_KEYS]
        defaults = self.defaults
        clean = self._clean
        protector = self.protector
        suffix = self.suffix
        resident_labels = ("", IdType.RESIDENT.label, IdType.RESIDENT.value)

        rows = list(rows)
        count = len(rows)
        nonces = os.urandom(12 * count)
        valid: list[tuple[str, int, str, str]] = []  # (blind index, position, values, 工会代码)
        bad: list[tuple[int, list[str], list[tuple[str, str]]]] = []
        blank = 0
        for index, row in enumerate(rows):
            cells = row if len(row) >= width else [*row, *([""] * (width - len(row)))]
            joined = "".join(cells)
            if not joined.strip():
                blank += 1
                continue
            errors: list[tuple[str, str]] = []
            if _CONTROL.search(joined):
                for key, i in pos.items():
                    if _CONTROL.search(cells[i].strip()):
                        errors.append((headers[key], "含有换行符等不可见字符"))
                if errors:
                    bad.append((index, cells, errors))
                    continue
            values: dict[str, str] = {}
            name, initials, message = self._name(cells[p_name].strip())
            if message:
                errors.append((headers["name"], message))
            id_type = cells[p_id_type].strip() if p_id_type >= 0 else ""
            if id_type not in resident_labels:
                errors.append((headers["id_type"], "批量导入只支持居民身份证，其他证件请在会员登记页面办理"))
            raw_id = cells[p_id].strip()
            identity = self.identity(raw_id) if raw_id else "请填写证件号码"
            if isinstance(identity, str):
                errors.append((headers["id_number"], identity))
            phone, message = self._phone(cells[p_phone].strip())
            if message:
                errors.append((headers["phone"], message))
            for key, i in optional:
                if i < 0:
                    values[key] = defaults[key]
                    continue
                value, message = clean(key, cells[i].strip())
                if message:
                    errors.append((headers[key], message))
                values[key] = value
            code = ""
            if p_code >= 0:
                code = cells[p_code].strip()
                if not code:
                    errors.append((headers["org_code"], "请填写会员所属基层工会的工会代码"))
            if errors or isinstance(identity, str):
                bad.append((index, cells, errors))
                continue
            number, birth, sex = identity
            nonce = nonces[12 * index : 12 * index + 12]
            blind = protector.blind(number)
            rest = "\t".join(
                (
                    name,
                    initials,
                    sex,
                    birth,
                    values["ethnicity"],
                    IdType.RESIDENT.value,
                    protector.encrypt(number, nonce),
                    blind,
                    number[:4] + "*" * 10 + number[14:],
                    phone,
                    values["education"],
                    values["skill_level"],
                    values["political_status"],
                    values["household_type"],
                    values["household_place"],
                    values["work_unit"],
                    values["joined_on"],
                    values["join_method"],
                    values["tags"],
                    values["model_worker_level"],
                    values["hardship_class"],
                )
            )
            if "\\" in rest:
                rest = rest.replace("\\", "\\\\")
            valid.append((blind, index, rest, code))
        # In blind-index order, with member and card numbers counting up from a random start:
        # the unique indexes then take each chunk as a run of ascending keys, not scattered ones.
        valid.sort()
        member_start, card_start = _number_starts(len(valid))
        ok_index = [v[1] for v in valid]
        blinds = [v[0] for v in valid]
        lines = [
            f"{_member_no(member_start + j)}\t{_card_no(card_start + j)}\t{rest}{suffix}"
            for j, (_blind, _index, rest, _code) in enumerate(valid)
        ]
        codes = [v[3] for v in valid] if p_code >= 0 else []
        return ChunkResult(count, blank, ok_index, blinds, lines, codes, bad, "")

    def run_task(self, task: tuple[str, Any, str]) -> ChunkResult:
        kind, payload, encoding = task
        if kind == "csv":
            try:
                text = payload.decode(encoding)
            except UnicodeDecodeError:
                return ChunkResult(
                    0, 0, [], [], [], [], [], "文件编码无法识别，请另存为“CSV UTF-8”或 Excel 工作簿后重新上传"
                )
            try:
                rows = list(csv.reader(io.StringIO(text, newline="")))
            except csv.Error as exc:
                return ChunkResult(0, 0, [], [], [], [], [], "CSV 格式有误：%(error)s" % {"error": exc})
            return self.run(rows)
        return self.run(payload)


_DIGITS_14 = 10**14
_DIGITS_17 = 10**17
# ASCII digit → the Luhn value of that digit doubled (2×d, minus 9 above 9).
_LUHN_DOUBLED = bytes.maketrans(b"0123456789", bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]))


def fast_luhn_check_digit(body: str) -> str:
    """`identity.luhn_check_digit` for an ASCII digit string, summed in C (tested equal)."""
    raw = body.encode("ascii")
    doubled = raw[::-2].translate(_LUHN_DOUBLED)
    plain = raw[-2::-2]
    total = sum(doubled) + sum(plain) - 48 * len(plain)
    return str((10 - total % 10) % 10)


def _member_no(n: int) -> str:
    """Shaped like `identity.new_member_no`: HY and 14 digits."""
    return "HY%014d" % n


def _card_no(n: int) -> str:
    """Shaped like `identity.new_card_no`: 8, 17 digits and the Luhn check digit."""
    body = "8%017d" % n
    return body + fast_luhn_check_digit(body)


def _number_starts(count: int) -> tuple[int, int]:
    """Random starts for `count` consecutive member and card numbers. A number that is taken
    already is found by the unique constraint and drawn again (`ImportRun._insert`)."""
    seed = int.from_bytes(os.urandom(16))
    return seed % (_DIGITS_14 - count), (seed >> 64) % (_DIGITS_17 - count)


_WORKER: RowTransformer | None = None


def _pool_init(spec: TransformSpec, parent: int) -> None:
    global _WORKER  # noqa: PLW0603 - one transformer per worker process
    _detach_from_parent(parent)
    _WORKER = RowTransformer(spec)


def _detach_from_parent(parent: int) -> None:
    """A forked worker inherits the parent's database socket. Were the parent killed mid-import,
    a worker still holding that socket would keep the import's transaction, and its locks,
    open for as long as it lived. So the worker swaps its copy of every database socket for
    /dev/null (the parent's connection is untouched; the worker never queries) and, on Linux,
    asks to be killed when the parent dies."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, conn.connection.fileno())
            os.close(devnull)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)


def _pool_work(task: tuple[str, Any, str]) -> ChunkResult:
    assert _WORKER is not None
    return _WORKER.run_task(task)


# ---- reading files -------------------------------------------------------------------------


class _Reader(abc.ABC):
    """Header, row-count estimate and chunk tasks of one file."""

    header: list[str]
    estimate: int | None

    @abc.abstractmethod
    def tasks(self) -> Iterator[tuple[str, Any, str]]: ...

    def close(self) -> None:
        return None


def _record_end(data: bytes, start: int = 0) -> int:
    """Index just past the first newline after `start` that is outside quotes, or -1."""
    quotes = 0
    pos = start
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return -1
        quotes += data.count(b'"', pos, nl)
        if quotes % 2 == 0:
            return nl + 1
        pos = nl + 1


def _last_record_end(data: bytes) -> int:
    """Index just past the last newline outside quotes, or -1 (quotes never straddle a chunk)."""
    if b'"' not in data:
        return data.rfind(b"\n") + 1 or -1
    end = len(data)
    while True:
        nl = data.rfind(b"\n", 0, end)
        if nl < 0:
            return -1
        if data.count(b'"', 0, nl) % 2 == 0:
            return nl + 1
        end = nl


class _CsvReader(_Reader):
    def __init__(self, stream: IO[bytes], *, block_bytes: int = CSV_BLOCK_BYTES):
        self.stream = stream
        self.block_bytes = block_bytes
        first = stream.read(max(block_bytes, 64 * 1024))
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ValidationFailed("不支持 UTF-16 编码的文件，请另存为“CSV UTF-8”或 Excel 工作簿后重新上传")
        if first.startswith(b"\xef\xbb\xbf"):
            first = first[3:]
        self.encoding = _detect_encoding(first)
        end = _record_end(first)
        if end < 0:
            more = stream.read()
            first += more
            end = len(first)
        try:
            header_text = first[:end].decode(self.encoding)
        except UnicodeDecodeError:
            raise ValidationFailed("文件编码无法识别，请另存为“CSV UTF-8”或 Excel 工作簿后重新上传") from None
        rows = list(csv.reader(io.StringIO(header_text, newline="")))
        self.header = rows[0] if rows else []
        self.rest = first[end:]
        size = getattr(stream, "size", None)
        self.estimate = None
        if size is None:
            try:
                size = os.fstat(stream.fileno()).st_size
            except (AttributeError, OSError, io.UnsupportedOperation):
                size = None
        if size and end:
            line_bytes = max(1, len(first) - end) / max(1, first.count(b"\n", end))
            self.estimate = max(1, int((size - end) / line_bytes))

    def tasks(self) -> Iterator[tuple[str, Any, str]]:
        """Chunks of about `block_bytes`, each ending at a record boundary (a newline outside
        quotes), so no record is split between two workers."""
        buffer = self.rest
        eof = False
        while True:
            while len(buffer) < self.block_bytes and not eof:
                block = self.stream.read(self.block_bytes)
                eof = not block
                buffer += block
            if eof and len(buffer) <= self.block_bytes:
                if buffer:  # whitespace-only rows are counted as blank downstream
                    yield ("csv", buffer, self.encoding)
                return
            cut = _last_record_end(buffer[: self.block_bytes])
            if cut <= 0:
                cut = _record_end(buffer)  # one record longer than a block
            if cut <= 0:
                if eof:
                    yield ("csv", buffer, self.encoding)
                    return
                block = self.stream.read(self.block_bytes)
                eof = not block
                buffer += block
                continue
            yield ("csv", buffer[:cut], self.encoding)
            buffer = buffer[cut:]


def _detect_encoding(sample: bytes) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).upper()
    return str(value)


class _XlsxReader(_Reader):
    def __init__(self, stream: IO[bytes], *, chunk_rows: int = XLSX_CHUNK_ROWS):
        try:
            self.workbook = load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
            raise ValidationFailed("无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密") from None
        sheet = self.workbook.worksheets[0]
        self.rows = sheet.iter_rows(values_only=True)
        self.chunk_rows = chunk_rows
        header = next(self.rows, None)
        self.header = [_cell_text(v) for v in header] if header else []
        max_row = sheet.max_row
        self.estimate = max(0, max_row - 1) if max_row else None

    def tasks(self) -> Iterator[tuple[str, Any, str]]:
        chunk: list[list[str]] = []
        for row in self.rows:
            chunk.append([_cell_text(v) for v in row])
            if len(chunk) >= self.chunk_rows:
                yield ("rows", chunk, "")
                chunk = []
        if chunk:
            yield ("rows", chunk, "")

    def close(self) -> None:
        self.workbook.close()


def detect_format(file_name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return ImportFormat.XLSX
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise ValidationFailed("无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密")
    if file_name.lower().endswith(".xls"):
        raise ValidationFailed("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后重新上传")
    return ImportFormat.CSV


def _open_reader(stream: IO[bytes], file_format: str, *, block_bytes: int = CSV_BLOCK_BYTES) -> _Reader:
    if file_format == ImportFormat.XLSX:
        return _XlsxReader(stream)
    return _CsvReader(stream, block_bytes=block_bytes)


@dataclass
class HeaderMap:
    positions: dict[str, int]
    headers: dict[str, str]
    ignored: list[str]


def map_header(header: list[str]) -> HeaderMap:
    positions: dict[str, int] = {}
    headers: dict[str, str] = {c.key: c.header for c in COLUMNS}
    ignored: list[str] = []
    for i, text in enumerate(header):
        label = (text or "").strip()
        if not label:
            continue
        key = _HEADER_LOOKUP.get(_normalise_header(label))
        if key is None:
            ignored.append(label)
            continue
        if key in positions:
            raise ValidationFailed("表头中“%(column)s”出现了两次" % {"column": COLUMN_BY_KEY[key].header})
        positions[key] = i
        headers[key] = label
    missing = [c.header for c in COLUMNS if c.required and c.key not in positions]
    if missing:
        raise ValidationFailed(
            "文件缺少必填列：%(columns)s。请使用导入模板，表头放在第一行" % {"columns": "、".join(missing)}
        )
    return HeaderMap(positions, headers, ignored)


# ---- where rows go: PostgreSQL with COPY, or the ORM ---------------------------------------


class Existing(NamedTuple):
    id: int
    organization_id: int
    organization_path: str
    version: int
    values: dict[str, str]


@dataclass
class MemberUpdate:
    member_id: int
    version: int
    values: dict[str, str]
    changes: dict[str, list[Any]]


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\")


class _Sink(abc.ABC):
    """Where validated rows go: PostgreSQL through COPY, or any database through the ORM."""

    def __init__(self, *, actor_id: int | None, reason: str, now: dt.datetime):
        self.actor_id = actor_id
        self.reason = reason
        self.now = now

    @abc.abstractmethod
    def lookup(self, blinds: list[str], *, lock: bool) -> dict[str, Existing]: ...

    @abc.abstractmethod
    def insert(self, lines: list[str]) -> None: ...

    @abc.abstractmethod
    def update(self, rows: list[MemberUpdate]) -> None: ...

    def prepare(self) -> None:
        return None


class PostgresSink(_Sink):
    """New members: `COPY` straight into the member table. Members already registered: merged
    values `COPY`-ed into a temporary table, history rows and the update each one statement."""

    staging = "members_import_update"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.table = Member._meta.db_table
        self.org_table = Organization._meta.db_table
        self.history_table = MemberHistory._meta.db_table
        self.staging_ready = False

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            # Foreign keys are checked after each statement instead of all at COMMIT, so the
            # progress bar keeps moving and a bad reference fails early.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def lookup(self, blinds: list[str], *, lock: bool) -> dict[str, Existing]:
        if not blinds:
            return {}
        fields = ", ".join(f"m.{name}" for name in UPDATABLE)
        sql = (
            f"SELECT m.id_blind, m.id, m.organization_id, o.path, m.version, {fields} "  # noqa: S608 - names are constants
            f"FROM {self.table} m JOIN {self.org_table} o ON o.id = m.organization_id "
            "WHERE m.id_blind = ANY(string_to_array(%s, ','))"
        )
        if lock:
            sql += " FOR UPDATE OF m"
        with connection.cursor() as cursor:
            cursor.execute(sql, [",".join(blinds)])
            rows = cursor.fetchall()
        return {
            row[0]: Existing(
                row[1], row[2], row[3], row[4], {n: _text(v) for n, v in zip(UPDATABLE, row[5:], strict=True)}
            )
            for row in rows
        }

    def insert(self, lines: list[str]) -> None:
        columns = ", ".join(INSERT_COLUMNS)
        payload = "".join(lines).encode()
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy,
        ):
            for start in range(0, len(payload), 1 << 20):
                copy.write(payload[start : start + (1 << 20)])

    def update(self, rows: list[MemberUpdate]) -> None:
        if not rows:
            return
        columns = ", ".join(f"{name} text" for name in UPDATABLE)
        with connection.cursor() as cursor:
            if not self.staging_ready:
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {self.staging} "
                    f"(member_id bigint, version integer, changes jsonb, {columns}) ON COMMIT DROP"
                )
                self.staging_ready = True
            cursor.execute(f"TRUNCATE {self.staging}")
            payload = "".join(
                "\t".join(
                    (
                        str(row.member_id),
                        str(row.version),
                        _copy_escape(json.dumps(row.changes, ensure_ascii=False)),
                        *(_copy_escape(row.values[name]) for name in UPDATABLE),
                    )
                )
                + "\n"
                for row in rows
            ).encode()
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(
                    f"COPY {self.staging} (member_id, version, changes, {', '.join(UPDATABLE)}) FROM STDIN"
                ) as copy,
            ):
                copy.write(payload)
            cursor.execute(
                f"INSERT INTO {self.history_table} (member_id, version, changed_at, actor_id, action, changes, reason) "  # noqa: S608
                f"SELECT member_id, version + 1, %s, %s, 'import', changes, %s FROM {self.staging}",
                [self.now, self.actor_id, self.reason],
            )
            assignments = ", ".join(
                f"{name} = s.{name}::date"
                if name == "joined_on"
                else f"{name} = s.{name}::integer"
                if name == "tags"
                else f"{name} = s.{name}"
                for name in UPDATABLE
            )
            cursor.execute(
                f"UPDATE {self.table} m SET {assignments}, version = m.version + 1, updated_at = %s "  # noqa: S608
                f"FROM {self.staging} s WHERE m.id = s.member_id AND m.version = s.version",
                [self.now],
            )
            if cursor.rowcount != len(rows):
                raise Conflict("导入期间有会员信息被他人修改，请重新导入")


class OrmSink(_Sink):
    """The same writes through the ORM, for SQLite (the demo) and any other database."""

    lookup_batch = 500

    def lookup(self, blinds: list[str], *, lock: bool) -> dict[str, Existing]:
        found: dict[str, Existing] = {}
        for start in range(0, len(blinds), self.lookup_batch):
            qs = Member.objects.filter(id_blind__in=blinds[start : start + self.lookup_batch])
            if lock:
                qs = qs.select_for_update()
            for row in qs.values_list("id_blind", "id", "organization_id", "organization__path", "version", *UPDATABLE):
                found[row[0]] = Existing(
                    row[1], row[2], row[3], row[4], {n: _text(v) for n, v in zip(UPDATABLE, row[5:], strict=True)}
                )
        return found

    def insert(self, lines: list[str]) -> None:
        members = []
        for line in lines:
            values = [v.replace("\\\\", "\\") for v in line[:-1].split("\t")]
            row = dict(zip(INSERT_COLUMNS, values, strict=True))
            members.append(
                Member(
                    organization_id=int(row["organization_id"]),
                    **{name: row[name] for name in ROW_COLUMNS if name not in ("birth_date", "joined_on", "tags")},
                    birth_date=dt.date.fromisoformat(row["birth_date"]),
                    joined_on=dt.date.fromisoformat(row["joined_on"]),
                    tags=int(row["tags"]),
                    status=row["status"],
                    version=1,
                )
            )
        Member.objects.bulk_create(members, batch_size=500)

    def update(self, rows: list[MemberUpdate]) -> None:
        history = []
        for row in rows:
            values: dict[str, Any] = dict(row.values)
            values["joined_on"] = dt.date.fromisoformat(values["joined_on"])
            values["tags"] = int(values["tags"])
            changed = Member.objects.filter(pk=row.member_id, version=row.version).update(
                **values, version=F("version") + 1, updated_at=self.now
            )
            if changed != 1:
                raise Conflict("导入期间有会员信息被他人修改，请重新导入")
            history.append(
                MemberHistory(
                    member_id=row.member_id,
                    version=row.version + 1,
                    actor_id=self.actor_id,
                    action="import",
                    changes=row.changes,
                    reason=self.reason,
                )
            )
        MemberHistory.objects.bulk_create(history, batch_size=500)


def make_sink(engine: str, **kwargs: Any) -> _Sink:
    if engine == "auto":
        engine = "postgresql" if connection.vendor == "postgresql" else "orm"
    return PostgresSink(**kwargs) if engine == "postgresql" else OrmSink(**kwargs)


# ---- one pass over a file: validate, check the registry, write ----------------------------


@dataclass
class Issue:
    row_no: int
    cells: list[str]
    errors: list[tuple[str, str]]


@dataclass
class Outcome:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[Issue] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    per_row_org: bool = False

    def as_json(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "created": self.created,
            "updated": self.updated,
        }


class Rejected(DomainError):
    """An all-or-nothing import found invalid rows: nothing was written."""

    code = "import_rejected"
    status = 422

    def __init__(self, outcome: Outcome):
        super().__init__("有 %(n)s 行未通过校验，整批未导入，登记库没有任何改动" % {"n": outcome.invalid})
        self.outcome = outcome


ProgressFn = Callable[[int, int], None]
VALUE_LABELS: dict[str, dict[str, str]] = {
    "education": dict(Education.choices),
    "household_type": dict(HouseholdType.choices),
    "join_method": dict(JoinMethod.choices),
    "model_worker_level": dict(ModelWorkerLevel.choices),
    "hardship_class": dict(HardshipClass.choices),
}


@dataclass
class ImportRun:
    """One pass over a file. A dry run only reads the registry; otherwise rows are written as
    they are read, so the caller must hold `transaction.atomic()` — `Rejected` (all-or-nothing
    with invalid rows) or any other error then rolls every write back."""

    organization: Organization
    stream: IO[bytes]
    file_format: str
    dry_run: bool
    keep_good_rows: bool
    actor_id: int | None
    view_paths: list[str] | None  # None: the actor sees every union (the system)
    reason: str = ""
    engine: str = "auto"
    workers: int = 1
    max_rows: int | None = None
    progress: ProgressFn | None = None
    block_bytes: int = CSV_BLOCK_BYTES

    def __post_init__(self) -> None:
        self.org_codes: dict[str, tuple[int, str] | str] = {}
        self.org_names: dict[int, str] = {}
        self.updatable: list[str] = []
        self.header_keys: list[str | None] = []
        # While chunks hold only new members, write them first and ask the registry only when
        # the unique index objects (see `_absorb`).
        self.optimistic = True

    def execute(self) -> Outcome:
        reader = _open_reader(self.stream, self.file_format, block_bytes=self.block_bytes)
        try:
            return self._execute(reader)
        finally:
            reader.close()

    def _execute(self, reader: _Reader) -> Outcome:
        header = map_header(reader.header)
        per_row_org = "org_code" in header.positions
        if self.organization.level != Level.GRASSROOTS and not per_row_org:
            raise ValidationFailed("导入到上级工会时，文件必须包含“工会代码”列，写明每位会员所属的基层工会")
        now = timezone.now()
        spec = TransformSpec(
            positions=header.positions,
            width=len(reader.header),
            headers=header.headers,
            today=dt.datetime.now(tz=dt.UTC).date(),
            timestamp=now.isoformat(),
        )
        by_position = {i: key for key, i in header.positions.items()}
        self.header_keys = [by_position.get(i) for i in range(len(reader.header))]
        self.updatable = [name for key in header.positions if key in FILE_KEY_FIELDS for name in FILE_KEY_FIELDS[key]]
        outcome = Outcome(columns=list(reader.header), ignored=header.ignored, per_row_org=per_row_org)
        sink = make_sink(self.engine, actor_id=self.actor_id, reason=self.reason, now=now)
        if not self.dry_run:
            sink.prepare()
        seen: dict[str, int] = {}
        offset = HEADER_ROW + 1
        for result in self._results(reader, spec):
            if result.error:
                raise ValidationFailed(result.error)
            self._absorb(result, offset, outcome, seen, sink)
            offset += result.records
            if self.max_rows is not None and outcome.rows > self.max_rows:
                raise ValidationFailed(
                    "网页上传每次最多 %(max)s 行，请拆分文件，或由管理员使用命令 import_members 导入"
                    % {"max": self.max_rows}
                )
            if self.progress is not None:
                self.progress(outcome.rows, max(reader.estimate or 0, outcome.rows))
        if outcome.rows != outcome.valid + outcome.invalid:
            raise RuntimeError("import row accounting is inconsistent")
        outcome.issues.sort(key=lambda issue: issue.row_no)
        if not self.dry_run and outcome.invalid and not self.keep_good_rows:
            raise Rejected(outcome)
        return outcome

    def _results(self, reader: _Reader, spec: TransformSpec) -> Iterator[ChunkResult]:
        if self.workers <= 1 or (reader.estimate is not None and reader.estimate < POOL_MIN_ROWS):
            transformer = RowTransformer(spec)
            for task in reader.tasks():
                yield transformer.run_task(task)
            return
        # Forked workers validate and encrypt ahead of the main process, which only talks to
        # the database; the semaphore bounds the chunks in flight (and so the memory).
        in_flight = threading.BoundedSemaphore(POOL_IN_FLIGHT)

        def feed() -> Iterator[tuple[str, Any, str]]:
            for task in reader.tasks():
                in_flight.acquire()
                yield task

        context = multiprocessing.get_context("fork")
        with context.Pool(self.workers, initializer=_pool_init, initargs=(spec, os.getpid())) as pool:
            for result in pool.imap(_pool_work, feed()):
                in_flight.release()
                yield result

    # -- per chunk ------------------------------------------------------------------------------

    def _absorb(self, result: ChunkResult, offset: int, outcome: Outcome, seen: dict[str, int], sink: _Sink) -> None:
        outcome.rows += result.records - result.blank
        for index, cells, errors in result.bad:
            self._issue(outcome, offset + index, cells, errors)
        if result.codes:
            self._resolve_codes(result.codes)
        id_header = COLUMN_BY_KEY["id_number"].header
        single_org = str(self.organization.pk)
        keep: list[tuple[int, str, str, str, str]] = []  # (row no, blind, org id, line, code)
        for i, (index, blind, line) in enumerate(zip(result.ok_index, result.blinds, result.lines, strict=True)):
            row_no = offset + index
            code = result.codes[i] if result.codes else ""
            first = seen.setdefault(blind, row_no)
            if first != row_no:
                message = "与第 %(row)s 行的证件号码重复（以第一次出现的行为准）" % {"row": first}
                self._line_issue(outcome, row_no, line, code, [(id_header, message)])
                continue
            if code:
                target = self.org_codes[code]
                if isinstance(target, str):
                    self._line_issue(outcome, row_no, line, code, [(COLUMN_BY_KEY["org_code"].header, target)])
                    continue
                keep.append((row_no, blind, str(target[0]), line, code))
            else:
                keep.append((row_no, blind, single_org, line, code))
        writing = not self.dry_run and (self.keep_good_rows or outcome.invalid == 0)
        if writing and self.optimistic and keep:
            # A big import is mostly new members: COPY the chunk straight away. If one of them is
            # registered already, the unique index refuses the chunk, the savepoint undoes it and
            # the chunk takes the careful path below (as do the next ones, until a chunk turns
            # out to hold only new members again). Saves a registry probe per row.
            try:
                with transaction.atomic():
                    sink.insert([f"{org_id}\t{line}" for _row_no, _blind, org_id, line, _code in keep])
            except IntegrityError:
                self.optimistic = False
            else:
                outcome.valid += len(keep)
                outcome.created += len(keep)
                return
        existing = sink.lookup([k[1] for k in keep], lock=writing)
        self.optimistic = not existing
        new_lines: list[str] = []
        updates: list[MemberUpdate] = []
        for row_no, blind, org_id, line, code in keep:
            match = existing.get(blind)
            if match is None:
                new_lines.append(f"{org_id}\t{line}")
                outcome.valid += 1
                outcome.created += 1
                continue
            if str(match.organization_id) != org_id:
                self._line_issue(outcome, row_no, line, code, [(id_header, self._registered_elsewhere(match))])
                continue
            outcome.valid += 1
            update = self._merge(match, line)
            if update is None:
                outcome.unchanged += 1
            else:
                outcome.updated += 1
                updates.append(update)
        if not self.dry_run and (self.keep_good_rows or outcome.invalid == 0):
            if new_lines:
                self._insert(sink, new_lines)
            sink.update(updates)

    def _registered_elsewhere(self, match: Existing) -> str:
        """The message for an ID number registered in another union: the union is named only
        when the actor may see it."""
        if self.view_paths is not None and not any(match.organization_path.startswith(p) for p in self.view_paths):
            return "该证件号码已在其他工会登记为会员，不能重复登记；如需调入请联系原工会办理转会"
        if match.organization_id not in self.org_names:
            self.org_names[match.organization_id] = (
                Organization.objects.filter(pk=match.organization_id).values_list("name", flat=True).first() or ""
            )
        return "该证件号码已在“%(org)s”登记为会员，不能重复登记；如需调入请办理转会" % {
            "org": self.org_names[match.organization_id]
        }

    def _resolve_codes(self, codes: Iterable[str]) -> None:
        unknown = {c for c in codes if c and c not in self.org_codes}
        if not unknown:
            return
        found = Organization.objects.filter(code__in=unknown).values_list("code", "id", "path", "level", "is_active")
        for code, org_id, path, level, active in found:
            if not path.startswith(self.organization.path) or not active:
                continue  # reported below exactly like a code that does not exist
            if level != Level.GRASSROOTS:
                self.org_codes[code] = "工会代码“%(code)s”不是基层工会，会员只能归属于基层工会" % {"code": code}
            else:
                self.org_codes[code] = (org_id, path)
        for code in unknown - set(self.org_codes):
            self.org_codes[code] = "工会代码“%(code)s”不存在或不在本次导入的范围内" % {"code": code}

    def _merge(self, match: Existing, line: str) -> MemberUpdate | None:
        values = line[:-1].split("\t")
        merged = dict(match.values)
        changes: dict[str, list[Any]] = {}
        for name in self.updatable:
            new = values[_POS[name] - 1].replace("\\\\", "\\")
            old = match.values[name]
            if new != old:
                merged[name] = new
                if name != "name_initials":
                    changes[name] = [int(old), int(new)] if name == "tags" else [old, new]
        if not changes:
            return None
        return MemberUpdate(match.id, match.version, merged, changes)

    def _insert(self, sink: _Sink, lines: list[str]) -> None:
        """Insert new members. A random member or card number that is already taken is drawn
        again for the chunk (under a savepoint); an ID number registered meanwhile by someone
        else fails the import."""
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    sink.insert(lines)
            except IntegrityError:
                blinds = [line.split("\t", BLIND_POS + 1)[BLIND_POS] for line in lines]
                if sink.lookup(blinds, lock=False):
                    raise Conflict("导入期间有相同证件号码的会员被登记，请重新导入") from None
                lines = _renumber(lines)
            else:
                return
        raise Conflict("会员编号分配冲突，请重新导入")

    # -- problems ----------------------------------------------------------------------------

    def _issue(self, outcome: Outcome, row_no: int, cells: list[str], errors: list[tuple[str, str]]) -> None:
        outcome.invalid += 1
        if len(outcome.issues) < MAX_ISSUES_KEPT:
            outcome.issues.append(Issue(row_no, cells, errors))

    def _line_issue(self, outcome: Outcome, row_no: int, line: str, code: str, errors: list[tuple[str, str]]) -> None:
        """A row that passed the per-row checks but not the file or registry checks: give the
        row back as it was understood (the worker keeps only the values of valid rows)."""
        outcome.invalid += 1
        if len(outcome.issues) >= MAX_ISSUES_KEPT:
            return
        values = [v.replace("\\\\", "\\") for v in line[:-1].split("\t")]

        def value(name: str) -> str:
            return values[_POS[name] - 1]

        cells: list[str] = []
        for key in self.header_keys:
            if key is None:
                cells.append("")
            elif key == "org_code":
                cells.append(code)
            elif key == "id_number":
                cells.append(crypto.decrypt(value("id_number_encrypted"), purpose=ID_PURPOSE))
            elif key == "id_type":
                cells.append(IdType.RESIDENT.label)
            elif key == "tags":
                cells.append(";".join(t.label for t in Tag if int(value("tags")) & t.value))
            elif key in VALUE_LABELS:
                cells.append(VALUE_LABELS[key].get(value(key), value(key)) if value(key) else "")
            else:
                cells.append(value(key))
        outcome.issues.append(Issue(row_no, cells, errors))


def _renumber(lines: list[str]) -> list[str]:
    member_start, card_start = _number_starts(len(lines))
    renumbered = []
    for j, line in enumerate(lines):
        org_id, _member_no_old, _card_no_old, rest = line.split("\t", 3)
        renumbered.append(f"{org_id}\t{_member_no(member_start + j)}\t{_card_no(card_start + j)}\t{rest}")
    return renumbered


# ---- progress, readable while the import transaction is still open -----------------------


def _progress_key(batch: ImportBatch) -> str:
    return f"gonghui:members:import:{batch.token}"


def _write_progress(batch: ImportBatch, *, done: int, total: int, phase: str) -> None:
    cache.set(
        _progress_key(batch),
        {"done": done, "total": total, "phase": phase, "at": time.time()},
        PROGRESS_TTL_SECONDS,
    )


@dataclass(frozen=True)
class Progress:
    status: str
    done: int
    total: int
    percent: int
    phase: str
    interrupted: bool

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED)


def import_progress(batch: ImportBatch) -> Progress:
    """Where a batch stands: the database says whether it finished, the cache how far a running
    commit has got (the rows it wrote are invisible to others until it commits)."""
    entry = cache.get(_progress_key(batch)) or {}
    total = int(entry.get("total") or batch.rows_total or 0)
    done = int(entry.get("done") or 0)
    if batch.status == ImportStatus.SUCCEEDED:
        return Progress(batch.status, batch.rows_total, batch.rows_total, 100, "已完成", False)
    if batch.status != ImportStatus.RUNNING:
        phase = entry.get("phase", "") if batch.status == ImportStatus.QUEUED else ""
        return Progress(batch.status, 0, total, 0, phase, False)
    heartbeat = float(entry.get("at") or 0) or (batch.started_at.timestamp() if batch.started_at else 0)
    interrupted = time.time() - heartbeat > stale_after_seconds()
    percent = min(99, done * 100 // total) if total else 0
    return Progress(batch.status, done, total, percent, entry.get("phase", "正在导入"), interrupted)


# ---- the upload, kept encrypted between the dry run and the commit ------------------------


def _store_upload(batch: ImportBatch, content: bytes) -> str:
    sealed = crypto.encrypt(binascii.b2a_base64(content, newline=False).decode("ascii"), purpose=UPLOAD_PURPOSE)
    return default_storage.save(f"member_imports/{batch.token}.enc", ContentFile(sealed.encode("ascii")))


def _load_upload(batch: ImportBatch) -> bytes:
    if not batch.stored_file or not default_storage.exists(batch.stored_file):
        raise Conflict("上传的文件已清除，请重新上传")
    with default_storage.open(batch.stored_file, "rb") as handle:
        sealed = handle.read().decode("ascii")
    return binascii.a2b_base64(crypto.decrypt(sealed, purpose=UPLOAD_PURPOSE))


def _discard_upload(batch: ImportBatch) -> None:
    if batch.stored_file:
        default_storage.delete(batch.stored_file)
        ImportBatch.objects.filter(pk=batch.pk).update(stored_file="")
        batch.stored_file = ""


# ---- problems, kept for the report --------------------------------------------------------


def _save_issues(batch: ImportBatch, outcome: Outcome) -> None:
    ImportIssue.objects.filter(batch=batch).delete()
    positions = map_header(outcome.columns).positions if outcome.columns else {}
    p_name = positions.get("name", -1)
    p_id = positions.get("id_number", -1)
    rows = []
    for issue in outcome.issues:
        raw_id = issue.cells[p_id].strip() if 0 <= p_id < len(issue.cells) else ""
        rows.append(
            ImportIssue(
                batch=batch,
                row_no=issue.row_no,
                name=(issue.cells[p_name].strip() if 0 <= p_name < len(issue.cells) else "")[:50],
                id_masked=crypto.mask_middle(raw_id)[:24] if raw_id else "",
                errors=[{"column": column, "message": message} for column, message in issue.errors],
                raw_encrypted=crypto.encrypt(json.dumps(issue.cells, ensure_ascii=False), purpose=ROW_PURPOSE),
            )
        )
    ImportIssue.objects.bulk_create(rows, batch_size=1000)


def _counts(outcome: Outcome) -> dict[str, int]:
    return {
        "rows_total": outcome.rows,
        "rows_valid": outcome.valid,
        "rows_invalid": outcome.invalid,
    }


def _audit_detail(batch: ImportBatch, outcome: Outcome | None, **extra: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "file": batch.file_name,
        "source": batch.source,
        "keep_good_rows": batch.keep_good_rows,
    }
    if outcome is not None:
        detail.update(outcome.as_json(), unchanged=outcome.unchanged)
    detail.update(extra)
    return detail


# ---- the batch, step by step ---------------------------------------------------------------


def _view_paths(actor: Any) -> list[str] | None:
    return None if actor is None else scope_paths(actor, Perm.MEMBER_VIEW)


def _check_import_perm(actor: Any, organization: Organization) -> None:
    if actor is not None and not has_perm_on(actor, Perm.MEMBER_IMPORT, organization):
        raise PermissionDenied("无权向该工会导入会员")


def import_batch_upload(*, actor: Any, organization: Organization, file_name: str, content: bytes) -> ImportBatch:
    """Check an uploaded file (the dry run) and keep it, encrypted, for the commit."""
    _check_import_perm(actor, organization)
    if not content:
        raise ValidationFailed("上传的文件是空的", fields={"file": "请选择要导入的文件"})
    if len(content) > WEB_MAX_BYTES:
        raise ValidationFailed(
            "文件超过 %(mb)s MB，请拆分后上传" % {"mb": WEB_MAX_BYTES // (1024 * 1024)}, fields={"file": "文件过大"}
        )
    file_format = detect_format(file_name, content[:8])
    outcome = ImportRun(
        organization=organization,
        stream=io.BytesIO(content),
        file_format=file_format,
        dry_run=True,
        keep_good_rows=False,
        actor_id=getattr(actor, "pk", None),
        view_paths=_view_paths(actor),
        max_rows=WEB_MAX_ROWS,
    ).execute()
    if outcome.rows == 0:
        raise ValidationFailed("文件里没有会员数据（第一行应为表头，从第二行起每行一位会员）")
    stored = ""
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                organization=organization,
                uploader=actor,
                source=ImportSource.WEB,
                file_name=os.path.basename(file_name)[:200] or "upload",
                file_format=file_format,
                file_size=len(content),
                status=ImportStatus.VALIDATED,
            )
            _store_outcome(batch, actor, outcome, action="member.import_validate", **_planned(outcome))
            stored = _store_upload(batch, content)
            batch.stored_file = stored
            batch.save(update_fields=["stored_file"])
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    batch.refresh_from_db()
    return batch


def import_batch_commit(*, actor: Any, batch: ImportBatch, keep_good_rows: bool) -> ImportBatch:
    """Queue the commit of a checked batch as a background task."""
    _check_import_perm(actor, batch.organization)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().select_related("organization").get(pk=batch.pk)
        if locked.status not in (ImportStatus.VALIDATED, ImportStatus.FAILED):
            raise Conflict("该批次当前为“%(status)s”，不能导入" % {"status": locked.get_status_display()})
        if not locked.stored_file:
            raise Conflict("上传的文件已清除，请重新上传")
        if locked.rows_valid == 0:
            raise ValidationFailed("没有通过校验的行，无法导入")
        if locked.rows_invalid and not keep_good_rows:
            raise ValidationFailed(
                "有 %(n)s 行未通过校验：请修正后重新上传，或勾选“只导入校验通过的行”" % {"n": locked.rows_invalid},
                fields={"keep_good_rows": "整批导入要求所有行都通过校验"},
            )
        locked.status = ImportStatus.QUEUED
        locked.keep_good_rows = keep_good_rows
        locked.queued_at = timezone.now()
        locked.error_message = ""
        locked.save(update_fields=["status", "keep_good_rows", "queued_at", "error_message"])
        audit.record(
            actor=actor,
            action="member.import_queue",
            obj=locked,
            organization=locked.organization,
            detail=_audit_detail(locked, None),
        )
        _enqueue_on_commit(locked)
    return locked


def _enqueue_on_commit(batch: ImportBatch) -> None:
    from gonghui.members.tasks import import_batch_commit_task

    _write_progress(batch, done=0, total=batch.rows_total, phase="排队等待后台任务")
    batch_id = batch.pk
    transaction.on_commit(lambda: import_batch_commit_task.enqueue(batch_id))


def import_batch_run(*, batch_id: int, workers: int | None = None) -> dict[str, Any]:
    """The commit, run by the task worker. Claims the batch (queued → running) first, so a task
    delivered twice runs once."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return {"batch": batch_id, "skipped": True}
    batch = ImportBatch.objects.select_related("organization", "uploader").get(pk=batch_id)
    actor = batch.uploader
    try:
        _check_import_perm(actor, batch.organization)
        stream = io.BytesIO(_load_upload(batch))
    except DomainError as exc:
        _record_failure(batch, actor, exc.message, None)
        return {"batch": batch_id, "status": ImportStatus.FAILED.value, "message": exc.message}
    try:
        outcome = commit_stream(batch, actor=actor, stream=stream, workers=workers or default_workers())
    except DomainError as exc:
        return {"batch": batch_id, "status": ImportStatus.FAILED.value, "message": exc.message}
    return {"batch": batch_id, "status": ImportStatus.SUCCEEDED.value, **outcome.as_json()}


def commit_stream(
    batch: ImportBatch,
    *,
    actor: Any,
    stream: IO[bytes],
    workers: int = 1,
    engine: str = "auto",
    block_bytes: int = CSV_BLOCK_BYTES,
    on_progress: ProgressFn | None = None,
) -> Outcome:
    """Validate and write every row of `stream` in one transaction; on any failure nothing is
    written, the batch is marked failed (with its problems) and the error is raised again."""

    def progress(done: int, total: int) -> None:
        _write_progress(batch, done=done, total=total, phase="正在校验并写入登记库")
        if on_progress is not None:
            on_progress(done, total)

    run = ImportRun(
        organization=batch.organization,
        stream=stream,
        file_format=batch.file_format,
        dry_run=False,
        keep_good_rows=batch.keep_good_rows,
        actor_id=getattr(actor, "pk", None),
        view_paths=_view_paths(actor),
        reason="批量导入：%(file)s（批次 %(id)s）" % {"file": batch.file_name, "id": batch.pk},
        engine=engine,
        workers=workers,
        progress=progress,
        block_bytes=block_bytes,
    )
    _write_progress(batch, done=0, total=batch.rows_total, phase="正在读取文件")
    try:
        with transaction.atomic():
            # Held until COMMIT: a second run of the same batch waits, and `import_batch_resume`
            # can tell a live run from a dead one.
            ImportBatch.objects.select_for_update().filter(pk=batch.pk).exists()
            outcome = run.execute()
            _write_progress(batch, done=outcome.rows, total=outcome.rows, phase="正在提交")
            _store_outcome(
                batch,
                actor,
                outcome,
                action="member.import",
                status=ImportStatus.SUCCEEDED,
                finished_at=timezone.now(),
                created=outcome.created,
                updated=outcome.updated,
                unchanged=outcome.unchanged,
            )
    except Rejected as exc:
        _record_failure(batch, actor, exc.message, exc.outcome)
        raise
    except DomainError as exc:
        _record_failure(batch, actor, exc.message, None)
        raise
    except Exception:
        _record_failure(batch, actor, "导入时发生系统错误，登记库没有任何改动，请稍后重试", None)
        raise
    batch.refresh_from_db()
    _write_progress(batch, done=outcome.rows, total=outcome.rows, phase="已完成")
    _discard_upload(batch)
    return outcome


def _planned(outcome: Outcome) -> dict[str, Any]:
    """What a dry run records: when it ran and what a commit would write."""
    return {
        "validated_at": timezone.now(),
        "planned_create": outcome.created,
        "planned_update": outcome.updated,
        "planned_unchanged": outcome.unchanged,
    }


def _store_outcome(batch: ImportBatch, actor: Any, outcome: Outcome, *, action: str, **fields: Any) -> None:
    """Save what a pass over the file found (counts, columns, problem rows) on the batch, with
    the step's own `fields`, and audit it; the caller holds the transaction."""
    ImportBatch.objects.filter(pk=batch.pk).update(
        columns=outcome.columns,
        ignored_columns=outcome.ignored,
        per_row_org=outcome.per_row_org,
        **_counts(outcome),
        **fields,
    )
    _save_issues(batch, outcome)
    audit.record(
        actor=actor,
        action=action,
        obj=batch,
        organization=batch.organization,
        detail=_audit_detail(batch, outcome),
    )


def _record_failure(batch: ImportBatch, actor: Any, message: str, outcome: Outcome | None) -> None:
    with transaction.atomic():
        values: dict[str, Any] = {
            "status": ImportStatus.FAILED,
            "error_message": message[:500],
            "finished_at": timezone.now(),
            "created": 0,
            "updated": 0,
            "unchanged": 0,
        }
        if outcome is not None:
            values.update(_counts(outcome))
        ImportBatch.objects.filter(pk=batch.pk).update(**values)
        if outcome is not None:
            _save_issues(batch, outcome)
        audit.record(
            actor=actor,
            action="member.import",
            obj=batch,
            organization=batch.organization,
            result=AuditResult.FAILED,
            detail=_audit_detail(batch, outcome, message=message),
        )
    batch.refresh_from_db()
    _write_progress(batch, done=0, total=batch.rows_total, phase="导入失败")


def import_batch_resume(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Queue again a commit whose worker died (killed, machine restarted): its transaction was
    rolled back by the database, so the import simply starts over from the kept file."""
    _check_import_perm(actor, batch.organization)
    if batch.status != ImportStatus.RUNNING or not import_progress(batch).interrupted:
        raise Conflict("导入仍在进行中或已结束，无需继续")
    with transaction.atomic():
        try:
            locked = ImportBatch.objects.select_for_update(nowait=True).select_related("organization").get(pk=batch.pk)
        except DatabaseError:
            raise Conflict("导入仍在进行中，请稍候") from None
        if locked.status != ImportStatus.RUNNING:
            raise Conflict("导入仍在进行中或已结束，无需继续")
        locked.status = ImportStatus.QUEUED
        locked.queued_at = timezone.now()
        locked.save(update_fields=["status", "queued_at"])
        audit.record(
            actor=actor,
            action="member.import_resume",
            obj=locked,
            organization=locked.organization,
            detail=_audit_detail(locked, None, attempts=locked.attempts),
        )
        _enqueue_on_commit(locked)
    return locked


def import_batch_cancel(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    _check_import_perm(actor, batch.organization)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().select_related("organization").get(pk=batch.pk)
        if locked.status not in (ImportStatus.VALIDATED, ImportStatus.FAILED):
            raise Conflict("该批次当前为“%(status)s”，不能取消" % {"status": locked.get_status_display()})
        locked.status = ImportStatus.CANCELLED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        audit.record(
            actor=actor,
            action="member.import_cancel",
            obj=locked,
            organization=locked.organization,
            detail=_audit_detail(locked, None),
        )
    _discard_upload(locked)
    return locked


def import_batches_expire(*, now: dt.datetime | None = None) -> int:
    """Cancel batches left unconfirmed (dry run done, or failed and not retried) for
    MEMBER_IMPORT_UPLOAD_KEEP_HOURS and delete their stored uploads: personal data does not
    wait on disk for a commit nobody is going to make. Returns how many were cancelled."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.MEMBER_IMPORT_UPLOAD_KEEP_HOURS)
    waiting = ImportBatch.objects.filter(
        status__in=(ImportStatus.VALIDATED, ImportStatus.FAILED),
        created_at__lt=cutoff,
    ).exclude(finished_at__gte=cutoff)
    expired = 0
    for batch_id in waiting.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().select_related("organization").get(pk=batch_id)
            if locked.status not in (ImportStatus.VALIDATED, ImportStatus.FAILED):
                continue
            locked.status = ImportStatus.CANCELLED
            locked.finished_at = now
            locked.error_message = "超过 %(hours)d 小时未确认导入，已自动取消并删除上传的文件" % {
                "hours": settings.MEMBER_IMPORT_UPLOAD_KEEP_HOURS
            }
            locked.save(update_fields=["status", "finished_at", "error_message"])
            audit.record(
                actor=None,
                action="member.import_expire",
                obj=locked,
                organization=locked.organization,
                detail=_audit_detail(locked, None),
            )
        _discard_upload(locked)
        expired += 1
    return expired


def import_file(
    *,
    path: str,
    organization: Organization,
    actor: Any = None,
    dry_run: bool = False,
    keep_good_rows: bool = False,
    workers: int = 1,
    engine: str = "auto",
    on_progress: ProgressFn | None = None,
) -> tuple[ImportBatch, Outcome]:
    """Import a file from disk (the `import_members` command, the benchmark). Runs in this
    process; `actor=None` is the system."""
    _check_import_perm(actor, organization)
    with open(path, "rb") as handle:
        file_format = detect_format(path, handle.read(8))
    size = os.path.getsize(path)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            organization=organization,
            uploader=actor,
            source=ImportSource.COMMAND,
            file_name=os.path.basename(path)[:200],
            file_format=file_format,
            file_size=size,
            keep_good_rows=keep_good_rows,
            status=ImportStatus.VALIDATED if dry_run else ImportStatus.RUNNING,
            started_at=None if dry_run else timezone.now(),
            attempts=0 if dry_run else 1,
        )
    with open(path, "rb") as stream:
        if not dry_run:
            outcome = commit_stream(
                batch, actor=actor, stream=stream, workers=workers, engine=engine, on_progress=on_progress
            )
            batch.refresh_from_db()
            return batch, outcome
        outcome = ImportRun(
            organization=organization,
            stream=stream,
            file_format=file_format,
            dry_run=True,
            keep_good_rows=keep_good_rows,
            actor_id=getattr(actor, "pk", None),
            view_paths=_view_paths(actor),
            engine=engine,
            workers=workers,
            progress=on_progress,
        ).execute()
    with transaction.atomic():
        _store_outcome(
            batch,
            actor,
            outcome,
            action="member.import_validate",
            **_planned(outcome),
        )
    batch.refresh_from_db()
    return batch, outcome


# ---- reads for an actor --------------------------------------------------------------------


def import_batch_list_for_actor(*, actor: Any) -> QuerySet[ImportBatch]:
    return (
        ImportBatch.objects.filter(scope_q(actor, Perm.MEMBER_IMPORT))
        .select_related("organization", "uploader")
        .order_by("-id")
    )


def import_batch_get_for_actor(*, actor: Any, pk: int | str) -> ImportBatch:
    batch = import_batch_list_for_actor(actor=actor).filter(pk=pk).first()
    if batch is None:
        raise NotFound("导入批次不存在或无权访问")
    return batch


def import_targets_for_actor(*, actor: Any, limit: int = 300) -> list[Organization]:
    """Unions the actor may import into, for the upload form's suggestions: grassroots unions
    first, then the higher unions whose files carry a 工会代码 column."""
    qs = Organization.objects.filter(scope_q(actor, Perm.MEMBER_IMPORT, field="path"), is_active=True)
    grassroots = list(qs.filter(level=Level.GRASSROOTS).order_by("path")[:limit])
    higher = list(qs.exclude(level=Level.GRASSROOTS).order_by("path")[:limit])
    return higher + grassroots


# ---- spreadsheets: the template and the error report -------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="FDE9E7")
_REQUIRED_FONT = Font(bold=True, color="C0392B")
_OPTIONAL_FONT = Font(bold=True)


def import_template() -> bytes:
    """The XLSX template: one header row with Chinese headers (required ones in red), drop-down
    lists for the choice columns, text format for numbers that must not turn into numbers, and
    a sheet explaining every column."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "会员信息"
    lists = workbook.create_sheet("可选值")
    help_sheet = workbook.create_sheet("填写说明")
    rows = 5000
    for col, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=col).column_letter
        cell = sheet.cell(row=1, column=col, value=column.header)
        cell.font = _REQUIRED_FONT if column.required else _OPTIONAL_FONT
        cell.fill = _HEADER_FILL
        if column.help:
            cell.comment = Comment(column.help, "工会服务平台")
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            for row in range(2, rows + 2):
                sheet.cell(row=row, column=col).number_format = "@"
        if column.choices and column.key != "tags":
            lists.cell(row=1, column=col, value=column.header)
            for i, label in enumerate(column.choices, start=2):
                lists.cell(row=i, column=col, value=label)
            last = len(column.choices) + 1
            validation = DataValidation(
                type="list",
                formula1=f"='可选值'!${letter}$2:${letter}${last}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="取值无效",
                error="请从下拉列表中选择",
            )
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{rows + 1}")
    sheet.freeze_panes = "A2"
    help_sheet.append(["列名", "是否必填", "说明", "可填的值"])
    for cell in help_sheet[1]:
        cell.font = _OPTIONAL_FONT
    for column in COLUMNS:
        help_sheet.append(
            [
                column.header,
                "必填" if column.required else "选填",
                column.help,
                "、".join(c for c in column.choices if c),
            ]
        )
    help_sheet.append([])
    help_sheet.append(
        [
            "说明",
            "",
            "第一行是表头，请勿修改；从第二行起每行一位会员。证件号码已登记的会员会按文件更新信息（文件中没有的列保持不变）。",
        ]
    )
    help_sheet.append(
        ["", "", "整批导入时，只要有一行未通过校验，整批都不会导入；也可以在确认导入时选择只导入校验通过的行。"]
    )
    for letter, width in (("A", 14), ("B", 10), ("C", 60), ("D", 60)):
        help_sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_error_report(*, actor: Any, batch: ImportBatch) -> bytes:
    """The rows that failed, as uploaded, with 行号 in front and an error column after: fix
    them in place and upload the file again."""
    _check_import_perm(actor, batch.organization)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("未通过校验的行")
    sheet.append(["行号", *batch.columns, "错误原因"])
    count = 0
    for issue in batch.issues.order_by("row_no").iterator(chunk_size=2000):
        cells = json.loads(crypto.decrypt(issue.raw_encrypted, purpose=ROW_PURPOSE))
        sheet.append([issue.row_no, *cells, "；".join(issue.messages)])
        count += 1
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="member.import_report",
            obj=batch,
            organization=batch.organization,
            detail={"rows": count},
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
