"""HL7 v2 ORU^R01 results (the `hl7` package).

A file may hold many messages, with `\\r`, `\\n` or `\\r\\n` between segments and MLLP framing
bytes left in. The patient is the PID-3 repetition typed NNCHN/ID (居民身份证), else the
repetition whose value is a valid resident ID number. OBX-3 is read as LOINC when its coding
system (either triplet) is `LN`, else as the local code or text; OBX-5 by its value type
(NM, ST, SN `^182`; `<^0.5` and coded values are not numbers); OBX-11 `X`/`D`/`W`/`P`
(cancelled, deleted, wrong, preliminary) results are reported, not imported."""

import re
from typing import Any

import hl7

from gonghui.core.identifiers import parse_resident_id
from gonghui.health.cleaning import ZERO_WIDTH
from gonghui.health.importers.base import FileRefused, Observation, ParseStream, Problem, decode_text

ID_TYPES = {"NNCHN", "ID", "NI", "CHNID", "SFZ"}
REFUSED_STATUS = {
    "X": "结果已取消（OBX-11=X）",
    "D": "结果已删除（OBX-11=D）",
    "W": "结果已标记为错误（OBX-11=W）",
    "P": "初步结果，未最终审核（OBX-11=P）",
    "I": "结果尚未出具（OBX-11=I）",
}
_SEGMENT = re.compile(r"^[A-Z][A-Z0-9]{2}$")


def _get(segment: Any, field: int, rep: int = 1, component: int = 1) -> str:
    """Field `field`, repetition `rep`, component `component` (all one-based) as text."""
    try:
        value = segment(field)(rep)
    except (IndexError, KeyError, TypeError):
        return ""
    if isinstance(value, str):
        return value.strip() if component == 1 else ""
    try:
        return str(value(component)).strip()
    except (IndexError, KeyError, TypeError):
        return ""


def split_messages(text: str) -> list[str]:
    text = text.translate(ZERO_WIDTH).replace("\x0b", "").replace("\x1c", "")
    segments = [s.strip() for s in re.split(r"\r\n|\r|\n", text)]
    messages: list[list[str]] = []
    for segment in segments:
        if not segment:
            continue
        if segment.startswith("MSH"):
            messages.append([segment])
        elif messages and _SEGMENT.match(segment[:3]) and segment[3:4] in ("|", ""):
            messages[-1].append(segment)
        elif messages:
            # A line break inside a field (free text wrapped by an editor): join it back.
            messages[-1][-1] += " " + segment
    return ["\r".join(m) for m in messages]


def _patient_id(pid: Any) -> str:
    reps = len(pid[3]) if len(pid) > 3 else 0
    candidates = []
    for rep in range(1, reps + 1):
        value = _get(pid, 3, rep, 1)
        kind = _get(pid, 3, rep, 5).upper()
        if value and kind in ID_TYPES:
            return value
        candidates.append(value)
    for value in candidates:
        try:
            parse_resident_id(value)
        except ValueError:
            continue
        return value
    return ""


def _code(obx: Any) -> tuple[str, str]:
    primary, text, system = _get(obx, 3, 1, 1), _get(obx, 3, 1, 2), _get(obx, 3, 1, 3).upper()
    alt, alt_system = _get(obx, 3, 1, 4), _get(obx, 3, 1, 6).upper()
    if system == "LN" and primary:
        return primary, text
    if alt_system == "LN" and alt:
        return alt, text
    return primary or text, text


def _value(obx: Any) -> object:
    kind = _get(obx, 2).upper()
    if kind == "SN":
        comparator, number = _get(obx, 5, 1, 1), _get(obx, 5, 1, 2)
        separator = _get(obx, 5, 1, 3)
        if comparator in ("", "=") and number and not separator:
            return number
        return (comparator + number) if comparator else f"{number}{separator}{_get(obx, 5, 1, 4)}"
    if kind in ("CE", "CWE", "CNE", "CF"):
        return _get(obx, 5, 1, 2) or _get(obx, 5, 1, 1) or "coded"
    try:
        return str(obx(5)).strip()
    except (IndexError, KeyError):
        return ""


def parse_hl7(content: bytes) -> ParseStream:
    messages = split_messages(decode_text(content))
    if not messages:
        raise FileRefused("文件中没有 HL7 消息（未找到 MSH 段）")
    for number, message_text in enumerate(messages, start=1):
        where = "消息 %(n)s" % {"n": number}
        try:
            message = hl7.parse(message_text)
        except (ValueError, IndexError, KeyError) as exc:
            yield Problem(where, "hl7_invalid", "消息无法解析：%(e)s" % {"e": str(exc)[:80]})
            continue
        msh = message.segment("MSH")
        kind = _get(msh, 9, 1, 1) + "^" + _get(msh, 9, 1, 2)
        control_id = _get(msh, 10)
        if control_id:
            where = "消息 %(n)s（%(id)s）" % {"n": number, "id": control_id[:40]}
        if kind != "ORU^R01":
            yield Problem(where, "hl7_type", "消息类型为 %(t)s，不是 ORU^R01" % {"t": kind})
            continue
        try:
            pid = message.segment("PID")
        except KeyError:
            yield Problem(where, "no_patient", "消息中没有 PID 段")
            continue
        id_number = _patient_id(pid)
        if not id_number:
            yield Problem(where, "no_patient", "PID-3 中没有身份证号")
            continue
        centre = _get(msh, 4, 1, 2) or _get(msh, 4, 1, 1)
        report_no = ""
        obr_date = ""
        msh_date = _get(msh, 7)
        obx_seen = 0
        for segment in message:
            name = str(segment[0])
            if name == "OBR":
                report_no = _get(segment, 3) or _get(segment, 2)
                obr_date = _get(segment, 7)
            elif name == "OBX":
                obx_seen += 1
                obx_where = "%(w)s OBX %(i)s" % {"w": where, "i": _get(segment, 1) or obx_seen}
                status = _get(segment, 11).upper()
                if status in REFUSED_STATUS:
                    yield Problem(obx_where, "result_status", REFUSED_STATUS[status])
                    continue
                code, text = _code(segment)
                yield Observation(
                    where=obx_where,
                    id_number=id_number,
                    exam_date=_get(segment, 14) or obr_date or msh_date,
                    code=code,
                    name=text,
                    value=_value(segment),
                    unit=_get(segment, 6, 1, 1),
                    ref_range=_get(segment, 7),
                    report_no=report_no or control_id,
                    centre=centre,
                )
        if not obx_seen:
            yield Problem(where, "no_results", "消息中没有 OBX 结果段")
