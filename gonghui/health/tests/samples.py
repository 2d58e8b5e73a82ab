"""Result files as check-up centres send them, messy on purpose: for import tests, the
browser test and the demo."""

import json
from typing import Any

ZWSP = "\u200b"


def hl7_message(
    id_number: str,
    *,
    control_id: str,
    when: str,
    obx: list[tuple[str, str, str, str, str, str]],
    report_no: str = "",
    status: str = "F",
    pid3_extra: str = "~MRN8899^^^HOSP^MR",
) -> str:
    """One ORU^R01; each OBX is (value type, OBX-3, value, unit, range, abnormal flag)."""
    segments = [
        "MSH|^~\\&|LIS|苏州体检中心^苏州市体检中心|GONGHUI|UNION|%s||ORU^R01^ORU_R01|%s|P|2.5.1" % (when, control_id),
        "PID|1||%s^^^^NNCHN%s||测试^某||19850101|M" % (id_number, pid3_extra),
        "OBR|1||%s|TJ^健康体检|||%s" % (report_no or control_id, when),
    ]
    for i, (kind, code, value, unit, ref, flag) in enumerate(obx, start=1):
        segments.append("OBX|%d|%s|%s||%s|%s|%s|%s|||%s|||%s" % (i, kind, code, value, unit, ref, flag, status, when))
    return "\r".join(segments)


def messy_hl7(id_number: str, unknown_id: str, *, when: str = "20250312083000+0800") -> bytes:
    """Two messages for a member and one for a stranger, framed with MLLP bytes, with `\\n`
    line ends, a zero-width space, a `70_105` range, SN values, a cancelled result, a unit
    that contradicts its LOINC code, a word for a value and a duplicate item."""
    first = hl7_message(
        id_number,
        control_id="MSG-1",
        when=when,
        report_no="TJ2025-001",
        obx=[
            ("NM", "14771-0^空腹血糖^LN", "6.3", "mmol/L", "3.9-6.1", "H"),
            ("SN", "2093-3^总胆固醇^LN", "^232", "mg/dL", "<200", "H"),
            ("NM", "TG^甘油三酯^L", "1.2" + ZWSP, "mmol/L", "0.45_1.7", ""),
            ("NM", "UA^尿酸^L", "480", "µmol/L", "208-428", "H"),
            ("NM", "ALT^谷丙转氨酶^L^1742-6^ALT^LN", "35", "U/L", "9～50", ""),
            ("NM", "WBC^白细胞^L", "5.6", "G/L", "3.5-9.5", ""),
            ("NM", "ALP^碱性磷酸酶^L", "88", "U/L", "45_125", ""),
            ("NM", "14771-0^空腹血糖^LN", "6.4", "mg/dL", "", ""),
            ("ST", "HBSAG^乙肝表面抗原^L", "阴性", "", "阴性", ""),
            ("NM", "K^钾^L", "abc", "mmol/L", "3.5-5.3", ""),
            ("SN", "TSH^促甲状腺激素^L", "<^0.01", "mIU/L", "0.27-4.2", "L"),
            ("NM", "8480-6^收缩压^LN", "142", "mm[Hg]", "90-139", "H"),
            ("NM", "8462-4^舒张压^LN", "88", "mmHg", "60-89", ""),
            ("NM", "39156-5^BMI^LN", "26.1", "kg/m2", "18.5-23.9", "H"),
            ("NM", "HGB^血红蛋白^L", "14.2", "g/dL", "男:13-17.5", ""),
        ],
    )
    cancelled = hl7_message(
        id_number,
        control_id="MSG-2",
        when=when,
        report_no="TJ2025-001B",
        status="X",
        obx=[("NM", "CREA^肌酐^L", "80", "umol/L", "57-97", "")],
    )
    bad_date = hl7_message(
        id_number,
        control_id="MSG-3",
        when="20251345",
        report_no="TJ2025-001C",
        obx=[("NM", "CREA^肌酐^L", "80", "umol/L", "57-97", "")],
    )
    stranger = hl7_message(
        unknown_id,
        control_id="MSG-4",
        when=when,
        obx=[("NM", "14771-0^空腹血糖^LN", "5.1", "mmol/L", "3.9-6.1", "")],
    )
    previous = hl7_message(
        id_number,
        control_id="MSG-5",
        when="20240310080000",
        report_no="TJ2024-001",
        obx=[
            ("NM", "GLU^血糖^L", "95", "mg/dL", "70_105", ""),
            ("NM", "TC^总胆固醇^L", "5.0", "mmol/L", "<5.2", ""),
            ("NM", "UA^尿酸^L", "400", "umol/L", "208-428", ""),
            ("NM", "SBP^收缩压^L", "128", "mmHg", "90-139", ""),
        ],
    )
    text = (
        "\x0b"
        + first.replace("\r", "\n")
        + "\x1c\r\n\n"
        + cancelled
        + "\r\n"
        + bad_date
        + "\n"
        + stranger
        + "\n"
        + previous.replace("\r", "\r\n")
    )
    return text.encode("utf-8")


def _observation(
    oid: str, patient_ref: str, code: str, value: Any, unit: str, when: str, **extra: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": extra.pop("status", "final"),
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": when,
    }
    if value is not None:
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    resource.update(extra)
    return resource


def fhir_bundle(id_number: str, *, when: str = "2026-04-20T08:10:00+08:00", report_id: str = "DR-2026-0420") -> bytes:
    """A transaction-style Bundle: Patient, DiagnosticReport pointing at Observations, a blood
    pressure panel in components, one Observation with an impossible date, one preliminary,
    one coded value and one whose subject is unknown."""
    patient_url = "urn:uuid:7d1a9f1e-0000-4000-8000-000000000001"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [
                    {"system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "MRN-1"},
                    {"type": {"coding": [{"code": "NNCHN"}]}, "value": id_number},
                ],
            },
        }
    ]
    observations = [
        _observation("glu", patient_url, "14771-0", 7.2, "mmol/L", when),
        _observation("tc", patient_url, "2093-3", 250, "mg/dL", when),
        _observation("ldl", patient_url, "13457-7", 165, "mg/dL", when),
        _observation("hdl", patient_url, "14646-4", 0.92, "mmol/L", when),
        _observation("ua", patient_url, "3084-1", 7.5, "mg/dL", when),
        _observation("crea", patient_url, "2160-0", 1.0, "mg/dL", when),
        _observation("hba1c", patient_url, "59261-8", 53, "mmol/mol", when),
        _observation(
            "bp",
            patient_url,
            "85354-9",
            None,
            "",
            when,
            component=[
                {
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                    "valueQuantity": {"value": 148, "unit": "mm[Hg]"},
                },
                {
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                    "valueQuantity": {"value": 96, "unit": "mm[Hg]"},
                },
            ],
        ),
        _observation("bad-date", patient_url, "2823-3", 4.1, "mmol/L", "2026-02-30T08:00:00+08:00"),
        _observation("prelim", patient_url, "2951-2", 140, "mmol/L", when, status="preliminary"),
        {
            "resourceType": "Observation",
            "id": "coded",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
            "subject": {"reference": patient_url},
            "effectiveDateTime": when,
            "valueCodeableConcept": {"text": "溶血，无法检测"},
        },
        _observation("orphan", "Patient/unknown", "14771-0", 5.0, "mmol/L", when),
    ]
    for obs in observations:
        entries.append({"fullUrl": "urn:uuid:obs-%s" % obs["id"], "resource": obs})
    entries.insert(
        1,
        {
            "fullUrl": "urn:uuid:dr-1",
            "resource": {
                "resourceType": "DiagnosticReport",
                "id": "dr1",
                "identifier": [{"value": report_id}],
                "status": "final",
                "code": {"text": "健康体检"},
                "subject": {"reference": patient_url},
                "effectiveDateTime": when,
                "performer": [{"display": "苏州工会体检中心"}],
                "result": [{"reference": "urn:uuid:obs-%s" % o["id"]} for o in observations[:8]],
            },
        },
    )
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, ensure_ascii=False).encode()
