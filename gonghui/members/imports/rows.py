"""Validation, encryption and blind indexing of rows, runnable in a worker process without the
database."""

import ctypes
import datetime as dt
import os
import re
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connections

from gonghui.core import crypto, tabular, tabular_limits
from gonghui.core.errors import ValidationFailed
from gonghui.core.identifiers import ID_CHECK_CHARS, ID_WEIGHTS, IdentifierError, parse_resident_id
from gonghui.members.identity import ID_PURPOSE, name_initials
from gonghui.members.imports.columns import (
    CHOICE_LABELS,
    CHOICE_TEXT,
    COLUMN_BY_KEY,
    ROW_COLUMNS,
    TAG_BY_LABEL,
    TAG_LABELS,
    TAG_SEPARATORS,
)
from gonghui.members.models import (
    IdType,
    JoinMethod,
    MembershipStatus,
)
from gonghui.members.services import MIN_JOINING_AGE, clean_member_fields, joined_on_error

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# Member fields read from the file besides name, ID and phone (入会日期 is required but checked,
# like the others, through the member form's rule), in the order the row is written.
OPTIONAL_KEYS = tuple(key for key in ROW_COLUMNS if key in COLUMN_BY_KEY and key not in ("name", "id_type", "phone"))


@dataclass(frozen=True)
class TransformSpec:
    """What a worker needs to turn rows into member values: where each column is, and the
    constants of this run."""

    positions: dict[str, int]
    width: int
    headers: dict[str, str]
    today: dt.date
    timestamp: str
    # Importing into a higher union, each row names its grassroots union; into a grassroots
    # union, an empty 工会代码 means that union (as the template's help says).
    code_required: bool = True


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


def _sixteenth_birthday(birth: str) -> str:
    """ISO text of the day a member born on ISO `birth` may join (ISO dates compare as text)."""
    return "%(year)04d%(rest)s" % {"year": int(birth[:4]) + MIN_JOINING_AGE, "rest": birth[4:]}


def _joined_on_message(joined_on: str, birth: str) -> str:
    message = joined_on_error(dt.date.fromisoformat(joined_on), dt.date.fromisoformat(birth))
    return message or "入会日期应在年满%(age)d周岁之后" % {"age": MIN_JOINING_AGE}


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
        self.cell_chars = settings.TABULAR_MAX_CELL_CHARS
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
        cell_chars = self.cell_chars

        rows = list(rows)
        count = len(rows)
        nonces = os.urandom(12 * count)
        valid: list[tuple[str, int, str, str]] = []  # (blind index, position, values, 工会代码)
        bad: list[tuple[int, list[str], list[tuple[str, str]]]] = []
        blank = 0
        for index, row in enumerate(rows):
            cells = row if len(row) >= width else [*row, *([""] * (width - len(row)))]
            joined = "".join(cells)
            if len(joined) > cell_chars and any(len(cell) > cell_chars for cell in cells):
                return ChunkResult(0, 0, [], [], [], [], [], tabular_limits.cell_refused().message)
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
            joined_on = values.get("joined_on", "")
            if joined_on and not isinstance(identity, str) and joined_on < _sixteenth_birthday(identity[1]):
                errors.append((headers["joined_on"], _joined_on_message(joined_on, identity[1])))
            code = ""
            if p_code >= 0:
                code = cells[p_code].strip()
                if not code and self.spec.code_required:
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
                rows = tabular.decode_chunk(payload, encoding)
            except ValidationFailed as exc:
                return ChunkResult(0, 0, [], [], [], [], [], exc.message)
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
_WORKER_SPEC: tuple[TransformSpec, int] | None = None


def _pool_init(spec: TransformSpec, parent: int) -> None:
    """Runs in each forked worker and must not fail: `multiprocessing.Pool` replaces a worker
    whose initializer raised with a new one, for ever, and the import would hang. Anything
    that can fail happens in the first task instead, whose error reaches the parent."""
    global _WORKER_SPEC  # noqa: PLW0603 - one transformer per worker process
    # A SIGTERM that only asks for a graceful stop (inherited from `db_worker`) would keep a
    # worker alive that `Pool.terminate()` ends with one SIGTERM: take the default back.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    _WORKER_SPEC = (spec, parent)


def _detach_from_parent(parent: int) -> None:
    """A forked worker inherits the parent's database socket. Were the parent killed mid-import,
    a worker still holding that socket would keep the import's transaction, and its locks,
    open for as long as it lived. So the worker swaps its copy of every database socket for
    /dev/null (the parent's connection is untouched; the worker never queries) and, on Linux,
    asks to be killed when the parent dies.

    SQLite has no socket: its file locks belong to the parent process and are not inherited,
    and the worker never touches the connection (it ends by `os._exit` or SIGTERM, so the
    connection is never closed from the child either)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.vendor != "sqlite":
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, conn.connection.fileno())
            os.close(devnull)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)


def _pool_work(task: tuple[str, Any, str]) -> ChunkResult:
    global _WORKER  # noqa: PLW0603 - one transformer per worker process
    if _WORKER is None:
        assert _WORKER_SPEC is not None
        spec, parent = _WORKER_SPEC
        _detach_from_parent(parent)
        _WORKER = RowTransformer(spec)
    return _WORKER.run_task(task)
