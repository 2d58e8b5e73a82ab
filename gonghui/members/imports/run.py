"""One pass over a file: validate, check the registry, write."""

import datetime as dt
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.core import crypto
from gonghui.core.errors import Conflict, DomainError, ValidationFailed
from gonghui.members.identity import ID_PURPOSE
from gonghui.members.imports.columns import (
    _POS,
    BLIND_POS,
    COLUMN_BY_KEY,
    CSV_BLOCK_BYTES,
    FILE_KEY_FIELDS,
    HEADER_ROW,
    MAX_ISSUES_KEPT,
    POOL_IN_FLIGHT,
    POOL_MIN_ROWS,
    map_header_for,
)
from gonghui.members.imports.readers import _open_reader, _Reader
from gonghui.members.imports.rows import (
    ChunkResult,
    RowTransformer,
    TransformSpec,
    _card_no,
    _member_no,
    _number_starts,
    _pool_init,
    _pool_work,
)
from gonghui.members.imports.sinks import Existing, MemberUpdate, _Sink, make_sink
from gonghui.members.models import (
    Education,
    HardshipClass,
    HouseholdType,
    IdType,
    JoinMethod,
    ModelWorkerLevel,
    Tag,
)
from gonghui.organizations.models import Level, Organization


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
        reader = _open_reader(self.stream, self.file_format, block_bytes=self.block_bytes, max_rows=self.max_rows)
        try:
            return self._execute(reader)
        finally:
            reader.close()

    def _execute(self, reader: _Reader) -> Outcome:
        header = map_header_for(self.organization, reader.header)
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
            code_required=self.organization.level != Level.GRASSROOTS,
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
