"""FHIR R4 results: a Bundle (any type) of Patient / DiagnosticReport / Observation entries,
a lone DiagnosticReport with contained Observations, a lone Observation, or NDJSON (one
resource per line, as FHIR bulk export writes it).

Each resource is validated on its own with `fhir.resources` (the R4B models, wire-compatible
with R4 for these resources), so one malformed entry is reported and the rest still import.
Blood-pressure panels (LOINC 85354-9) carry their values in `component` and yield one result
per component."""

import json
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from gonghui.core.identifiers import parse_resident_id
from gonghui.health.cleaning import clean_text
from gonghui.health.importers.base import FileRefused, Observation, ParseStream, Problem, decode_text

LOINC_SYSTEM = "http://loinc.org"
ID_TYPE_CODES = {"NNCHN", "NI", "ID", "CHNID"}
ACCEPTED_STATUS = {"final", "amended", "corrected"}
RESOURCE_TYPES = {"Patient", "DiagnosticReport", "Observation"}


def _resources(content: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(fullUrl or "", resource dict) for every resource in the file, in order."""
    text = decode_text(content).strip()
    try:
        documents = [json.loads(text)]
    except json.JSONDecodeError:
        try:
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise FileRefused("不是有效的 JSON / NDJSON 文件") from exc
    out: list[tuple[str, dict[str, Any]]] = []
    for doc in documents:
        if not isinstance(doc, dict) or "resourceType" not in doc:
            raise FileRefused("不是 FHIR 资源（缺少 resourceType）")
        if doc["resourceType"] == "Bundle":
            for entry in doc.get("entry") or []:
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    out.append((str(entry.get("fullUrl") or ""), entry["resource"]))
        else:
            out.append(("", doc))
    return out


def _validated(resource: dict[str, Any]) -> Any:
    model = get_fhir_model_class(resource["resourceType"])
    try:
        return model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first.get("loc", ()))
        raise FileRefused(
            "不符合 FHIR R4：%(loc)s %(msg)s" % {"loc": location, "msg": first.get("msg", "")[:80]}
        ) from exc


def _id_number(patient: Any) -> str:
    candidates: list[str] = []
    for identifier in patient.identifier or []:
        if identifier.use == "old" or not identifier.value:
            continue
        codes = {c.code.upper() for c in (identifier.type.coding or []) if c.code} if identifier.type else set()
        if codes & ID_TYPE_CODES:
            return clean_text(identifier.value)
        candidates.append(clean_text(identifier.value))
    for value in candidates:
        try:
            parse_resident_id(value)
        except ValueError:
            continue
        return value
    return ""


def _code(concept: Any) -> tuple[str, str]:
    if concept is None:
        return "", ""
    codings = concept.coding or []
    for coding in codings:
        if coding.system == LOINC_SYSTEM and coding.code:
            return coding.code, coding.display or concept.text or ""
    for coding in codings:
        if coding.code:
            return coding.code, coding.display or concept.text or ""
    return concept.text or "", concept.text or ""


def _value(holder: Any) -> tuple[object, str]:
    quantity = holder.valueQuantity
    if quantity is not None:
        value: object = quantity.value
        if quantity.comparator:
            value = "%s%s" % (quantity.comparator, quantity.value)
        return value, quantity.unit or quantity.code or ""
    if holder.valueInteger is not None:
        return holder.valueInteger, ""
    if holder.valueString is not None:
        return holder.valueString, ""
    if holder.valueCodeableConcept is not None:
        return holder.valueCodeableConcept.text or "coded", ""
    if getattr(holder, "valueBoolean", None) is not None:
        return "boolean", ""
    return None, ""


def _range(holder: Any) -> str:
    for rr in getattr(holder, "referenceRange", None) or []:
        low = rr.low.value if rr.low is not None else None
        high = rr.high.value if rr.high is not None else None
        if low is not None and high is not None:
            return "%s-%s" % (low, high)
        if high is not None:
            return "<=%s" % high
        if low is not None:
            return ">=%s" % low
        if rr.text:
            return rr.text
    return ""


def _date(observation: Any, report_date: object) -> object:
    if observation.effectiveDateTime is not None:
        return observation.effectiveDateTime
    if observation.effectivePeriod is not None and observation.effectivePeriod.start is not None:
        return observation.effectivePeriod.start
    if report_date:
        return report_date
    return observation.issued


def parse_fhir(content: bytes) -> ParseStream:
    resources = _resources(content)
    if not resources:
        raise FileRefused("文件中没有 FHIR 资源")
    patients: dict[str, str] = {}
    reports: dict[str, tuple[str, object, str, str]] = {}
    observations: list[tuple[str, Any, list[str]]] = []
    problems: list[Problem] = []
    for position, (full_url, raw) in enumerate(resources, start=1):
        kind = str(raw.get("resourceType"))
        where = "条目 %(n)s（%(t)s%(id)s）" % {
            "n": position,
            "t": kind,
            "id": "/" + str(raw["id"])[:40] if raw.get("id") else "",
        }
        if kind not in RESOURCE_TYPES:
            continue
        try:
            resource = _validated(raw)
        except FileRefused as exc:
            problems.append(Problem(where, "fhir_invalid", exc.reason))
            continue
        refs = [r for r in (full_url, "%s/%s" % (kind, resource.id) if resource.id else "") if r]
        if kind == "Patient":
            for ref in refs:
                patients[ref] = _id_number(resource)
        elif kind == "DiagnosticReport":
            report_no = next((i.value for i in resource.identifier or [] if i.value), "") or (resource.id or "")
            centre = next((p.display for p in resource.performer or [] if p.display), "")
            report_date = resource.effectiveDateTime or resource.issued
            for contained in resource.contained or []:
                if contained.__resource_type__ == "Observation":
                    observations.append(
                        ("%(w)s #%(id)s" % {"w": where, "id": contained.id}, contained, ["#" + str(contained.id)])
                    )
                    reports["#" + str(contained.id)] = (report_no, report_date, centre, where)
            for result in resource.result or []:
                if result.reference:
                    reports[result.reference] = (report_no, report_date, centre, where)
        else:
            observations.append((where, resource, refs))
    yield from problems
    for where, observation, refs in observations:
        yield from _observation_items(where, observation, refs, patients, reports)


def _observation_items(
    where: str,
    observation: Any,
    refs: list[str],
    patients: dict[str, str],
    reports: dict[str, tuple[str, object, str, str]],
) -> Iterator[Observation | Problem]:
    if observation.status not in ACCEPTED_STATUS:
        yield Problem(
            where, "result_status", "结果状态为 %(s)s，只导入 final/amended/corrected" % {"s": observation.status}
        )
        return
    id_number = ""
    subject = observation.subject
    if subject is not None:
        if subject.reference:
            id_number = patients.get(subject.reference, "")
        elif subject.identifier is not None and subject.identifier.value:
            id_number = clean_text(subject.identifier.value)
    if not id_number:
        yield Problem(where, "no_patient", "找不到该结果对应患者的身份证号")
        return
    report_no, report_date, centre = "", None, ""
    for ref in refs:
        if ref in reports:
            report_no, report_date, centre, _ = reports[ref]
            break
    exam_date = _date(observation, report_date)
    parts = [(where, observation)]
    if observation.component and observation.valueQuantity is None and observation.valueString is None:
        parts = [
            ("%(w)s 组分 %(i)s" % {"w": where, "i": i}, component)
            for i, component in enumerate(observation.component, start=1)
        ]
    for part_where, holder in parts:
        code, name = _code(holder.code)
        value, unit = _value(holder)
        yield Observation(
            where=part_where,
            id_number=id_number,
            exam_date=exam_date,
            code=code,
            name=name,
            value=value,
            unit=unit,
            ref_range=_range(holder),
            report_no=report_no,
            centre=centre,
        )
