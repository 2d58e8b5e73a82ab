"""Downloadable templates of each import format: the headers the reader expects and one sample
row (CSV, XLSX), or one sample message (HL7 v2 ORU^R01, FHIR R4 Bundle). The sample's ID
number is valid but belongs to nobody; replaced by a member's, each file imports as it is."""

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

from openpyxl import Workbook

from gonghui.core.identifiers import make_resident_id
from gonghui.health.models import ImportFormat

SAMPLE_ID_NUMBER = make_resident_id("320508", dt.date(1985, 6, 15), 1, "M")
SAMPLE_DATE = dt.date(2026, 3, 12)
SAMPLE_CENTRE = "示例体检中心"
SAMPLE_REPORT_NO = "TJ-2026-0001"

TABULAR_HEADER = ["身份证号", "体检日期", "体检编号", "体检机构", "项目代码", "项目名称", "结果", "单位", "参考范围"]
TABULAR_SAMPLE = [
    SAMPLE_ID_NUMBER,
    SAMPLE_DATE.isoformat(),
    SAMPLE_REPORT_NO,
    SAMPLE_CENTRE,
    "GLU",
    "空腹血糖",
    "5.2",
    "mmol/L",
    "3.9-6.1",
]


@dataclass(frozen=True, slots=True)
class TemplateFile:
    content: bytes
    filename: str
    content_type: str


def _csv() -> TemplateFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TABULAR_HEADER)
    writer.writerow(TABULAR_SAMPLE)
    # UTF-8 with a byte-order mark, so that Excel opens the Chinese headers correctly.
    return TemplateFile(buffer.getvalue().encode("utf-8-sig"), "体检结果导入模板.csv", "text/csv; charset=utf-8")


def _xlsx() -> TemplateFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "体检结果"
    sheet.append(TABULAR_HEADER)
    sheet.append(TABULAR_SAMPLE)
    for column in "ABCDEFGHI":
        sheet.column_dimensions[column].width = 16
    sheet.column_dimensions["A"].width = 22
    buffer = io.BytesIO()
    workbook.save(buffer)
    return TemplateFile(
        buffer.getvalue(),
        "体检结果导入模板.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _hl7() -> TemplateFile:
    when = SAMPLE_DATE.strftime("%Y%m%d") + "083000"
    segments = [
        "MSH|^~\\&|LIS|%s|GONGHUI|UNION|%s||ORU^R01^ORU_R01|MSG-0001|P|2.5.1" % (SAMPLE_CENTRE, when),
        "PID|1||%s^^^^NNCHN||示例^某||19850615|M" % SAMPLE_ID_NUMBER,
        "OBR|1||%s|TJ^健康体检|||%s" % (SAMPLE_REPORT_NO, when),
        "OBX|1|NM|14771-0^空腹血糖^LN||5.2|mmol/L|3.9-6.1|N|||F|||%s" % when,
    ]
    return TemplateFile("\r".join(segments).encode("utf-8"), "体检结果示例-HL7.hl7", "text/plain; charset=utf-8")


def _fhir() -> TemplateFile:
    patient = "urn:uuid:00000000-0000-4000-8000-000000000001"
    when = "%sT08:30:00+08:00" % SAMPLE_DATE.isoformat()
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": patient,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"type": {"coding": [{"code": "NNCHN"}]}, "value": SAMPLE_ID_NUMBER}],
                },
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "identifier": [{"value": SAMPLE_REPORT_NO}],
                    "status": "final",
                    "code": {"text": "健康体检"},
                    "subject": {"reference": patient},
                    "effectiveDateTime": when,
                    "performer": [{"display": SAMPLE_CENTRE}],
                    "result": [{"reference": "urn:uuid:00000000-0000-4000-8000-000000000003"}],
                },
            },
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000003",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "14771-0", "display": "空腹血糖"}]},
                    "subject": {"reference": patient},
                    "effectiveDateTime": when,
                    "valueQuantity": {
                        "value": 5.2,
                        "unit": "mmol/L",
                        "system": "http://unitsofmeasure.org",
                        "code": "mmol/L",
                    },
                },
            },
        ],
    }
    content = json.dumps(bundle, ensure_ascii=False, indent=2).encode("utf-8")
    return TemplateFile(content, "体检结果示例-FHIR.json", "application/fhir+json; charset=utf-8")


BUILDERS = {ImportFormat.CSV: _csv, ImportFormat.XLSX: _xlsx, ImportFormat.HL7: _hl7, ImportFormat.FHIR: _fhir}


def import_template(fmt: str) -> TemplateFile | None:
    builder = BUILDERS.get(fmt)  # type: ignore[call-overload]
    return builder() if builder else None
