"""From a parsed results file to interpreted results ready to store.

`prepare_import` matches each observation to a member of the importing organisation's
sub-tree through the ID blind index, reads its date and value, checks its code against its
unit, normalises the unit and interprets it. Whatever cannot be read without guessing becomes
a problem with its location and reason (never its value); the rest is grouped into reports."""

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gonghui.core.crypto import mask_middle
from gonghui.core.identifiers import parse_resident_id
from gonghui.health.catalogue import Catalogue, IndicatorSpec, UnitRefused, UnknownCode
from gonghui.health.cleaning import (
    Unreadable,
    age_on,
    clean_prose,
    clean_text,
    code_key,
    parse_date,
    parse_decimal,
    parse_range,
)
from gonghui.health.importers.base import FileRefused, Observation, ParseStream, Problem
from gonghui.health.importers.fhir import parse_fhir
from gonghui.health.importers.hl7v2 import parse_hl7
from gonghui.health.importers.tabular import parse_csv, parse_xlsx
from gonghui.health.interpret import CriticalLimits, Interpretation, interpret
from gonghui.health.policies import critical_policies_by_org
from gonghui.members.identity import id_blind_index
from gonghui.members.models import Member

PROBLEM_LIST_CAP = 500


@dataclass(slots=True)
class PreparedResult:
    spec: IndicatorSpec
    interpretation: Interpretation
    measured_on: dt.date
    payload: dict[str, str]


@dataclass(slots=True)
class PreparedCheckup:
    member: Member
    external_id: str
    centre: str
    exam_date: dt.date
    results: list[PreparedResult] = field(default_factory=list)
    critical_policy_id: int | None = None


@dataclass
class PreparedImport:
    checkups: list[PreparedCheckup]
    observations: int
    problems: list[Problem]
    warnings: list[Problem]

    def problem_counts(self) -> dict[str, int]:
        return dict(Counter(p.code for p in self.problems))


def parse_file(fmt: str, content: bytes, mapping: dict[str, Any], catalogue: Catalogue) -> ParseStream:
    def is_known_code(text: str) -> bool:
        return code_key(text) in catalogue.index

    if fmt == "csv":
        return parse_csv(content, mapping, is_known_code)
    if fmt == "xlsx":
        return parse_xlsx(content, mapping, is_known_code)
    if fmt == "hl7":
        return parse_hl7(content)
    if fmt == "fhir":
        return parse_fhir(content)
    raise FileRefused("不支持的格式：%(f)s" % {"f": fmt})


def critical_limits_by_org(org_paths: Iterable[str]) -> dict[str, dict[int, CriticalLimits]]:
    """For each organisation path, the critical limits in force today (by indicator id)."""
    return {path: policy.limits for path, policy in critical_policies_by_org(org_paths).items()}


def _members_by_id(id_numbers: set[str], scope_path: str) -> tuple[dict[str, Member], set[str]]:
    """Members of the scope keyed by raw ID number, and the numbers that are invalid."""
    invalid: set[str] = set()
    blind_to_raw: dict[str, str] = {}
    for raw in id_numbers:
        try:
            parse_resident_id(raw)
        except ValueError:
            invalid.add(raw)
            continue
        blind_to_raw[id_blind_index(raw)] = raw
    found: dict[str, Member] = {}
    blinds = list(blind_to_raw)
    for start in range(0, len(blinds), 1000):
        chunk = blinds[start : start + 1000]
        for member in (
            Member.objects.filter(id_blind__in=chunk, organization__path__startswith=scope_path)
            .only("id", "id_blind", "sex", "birth_date", "organization_id", "organization__path", "user_id")
            .select_related("organization")
        ):
            found[blind_to_raw[member.id_blind]] = member
    return found, invalid


def _external_id(obs: Observation, exam_date: dt.date) -> str:
    report = clean_text(obs.report_no)
    if report:
        return report[:120]
    return ("%s|%s" % (exam_date.isoformat(), clean_text(obs.centre)))[:120]


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def prepare_import(stream: ParseStream, *, catalogue: Catalogue, scope_path: str) -> PreparedImport:
    """Read a parsed stream into reports; raises `FileRefused` if the file is unusable."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    observations: list[Observation] = []
    for item in stream:
        if isinstance(item, Problem):
            problems.append(item)
        else:
            observations.append(item)
    ids = {clean_text(o.id_number).upper() for o in observations if clean_text(o.id_number)}
    members, invalid_ids = _members_by_id(ids, scope_path)
    policies = critical_policies_by_org({m.organization.path for m in members.values()})
    groups: dict[tuple[int, str], PreparedCheckup] = {}
    seen: set[tuple[int, str, int]] = set()
    for obs in observations:
        raw_id = clean_text(obs.id_number).upper()
        if not raw_id:
            problems.append(Problem(obs.where, "no_patient", "缺少身份证号"))
            continue
        if raw_id in invalid_ids:
            problems.append(Problem(obs.where, "id_invalid", "身份证号无效（长度或校验位错误）"))
            continue
        member = members.get(raw_id)
        if member is None:
            problems.append(
                Problem(obs.where, "member_not_found", "未找到会员（证件 %(id)s）" % {"id": mask_middle(raw_id)})
            )
            continue
        try:
            exam_date = parse_date(obs.exam_date)
        except Unreadable as exc:
            problems.append(Problem(obs.where, "date_invalid", exc.reason))
            continue
        if not clean_text(obs.code):
            problems.append(Problem(obs.where, "code_missing", "缺少项目代码或名称"))
            continue
        try:
            spec, allowed = catalogue.lookup(clean_text(obs.code))
        except UnknownCode:
            problems.append(
                Problem(obs.where, "code_unknown", "项目“%(c)s”不在指标目录中" % {"c": clean_text(obs.code)[:40]})
            )
            continue
        try:
            value = parse_decimal(obs.value)
        except Unreadable as exc:
            problems.append(Problem(obs.where, exc.code, "%(r)s（%(n)s）" % {"r": exc.reason, "n": spec.name_zh}))
            continue
        try:
            unit = catalogue.check_unit(spec, allowed, clean_text(obs.unit))
        except UnitRefused as exc:
            problems.append(
                Problem(
                    obs.where,
                    exc.code,
                    "%(reason)s：项目“%(c)s”，单位“%(u)s”"
                    % {"reason": exc.reason, "c": clean_text(obs.code)[:40], "u": clean_text(obs.unit)[:20]},
                )
            )
            continue
        ref_text = clean_text(obs.ref_range)
        if ref_text:
            try:
                parse_range(ref_text)
            except Unreadable as exc:
                warnings.append(
                    Problem(obs.where, "range_unreadable", "%(r)s，已忽略（结果照常导入）" % {"r": exc.reason})
                )
                ref_text = ""
        external_id = _external_id(obs, exam_date)
        key = (member.pk, external_id)
        if (member.pk, external_id, spec.id) in seen:
            problems.append(Problem(obs.where, "duplicate", "同一报告中“%(n)s”重复出现" % {"n": spec.name_zh}))
            continue
        seen.add((member.pk, external_id, spec.id))
        policy = policies[member.organization.path]
        limits = policy.limits.get(spec.id)
        result = interpret(spec, value, unit, sex=member.sex, age=age_on(member.birth_date, exam_date), critical=limits)
        group = groups.get(key)
        if group is None:
            group = groups[key] = PreparedCheckup(
                member=member,
                external_id=external_id,
                centre=clean_prose(obs.centre)[:100],
                exam_date=exam_date,
                critical_policy_id=policy.version_id,
            )
        group.exam_date = min(group.exam_date, exam_date)
        group.results.append(
            PreparedResult(
                spec=spec,
                interpretation=result,
                measured_on=exam_date,
                payload={
                    "v": _fmt(result.canonical_value),
                    "o": _fmt(value),
                    "u": spec.unit_labels.get(unit, clean_text(obs.unit)),
                    "r": ref_text,
                    "c": clean_text(obs.comment)[:200],
                },
            )
        )
    return PreparedImport(
        checkups=list(groups.values()), observations=len(observations), problems=problems, warnings=warnings
    )
