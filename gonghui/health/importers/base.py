"""What every results parser yields: an `Observation` per value found, or a `Problem` for
something that cannot become one (a message without a patient, a resource that is not valid
FHIR). Parsers never decide whether a value is importable; `gonghui.health.importing` does."""

from collections.abc import Iterator
from dataclasses import dataclass

from gonghui.core import tabular
from gonghui.core.errors import ValidationFailed
from gonghui.core.tabular_limits import clip


@dataclass(slots=True)
class Observation:
    where: str
    id_number: str
    exam_date: object
    code: str
    value: object
    unit: object
    ref_range: str = ""
    report_no: str = ""
    centre: str = ""
    name: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    code: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        # Clipped: a problem quotes the file (a header, a value), and one cell must not make
        # the stored problem list huge.
        return {"where": clip(self.where), "code": clip(self.code, 40), "reason": clip(self.reason)}


ParseItem = Observation | Problem
ParseStream = Iterator[ParseItem]


class FileRefused(ValueError):
    """The whole file is unusable (wrong format, missing required columns)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def decode_text(content: bytes) -> str:
    """The text of a whole HL7 or FHIR file, in the encoding the kernel's reader detects (UTF-8
    with or without BOM, UTF-16, GB18030/GBK)."""
    try:
        return tabular.decode_text(content)
    except ValidationFailed as exc:
        raise FileRefused(exc.message) from None
