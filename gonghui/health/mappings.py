"""Column mappings saved per check-up centre (versioned, audited), and their reads."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from gonghui.core import audit
from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.health.cleaning import clean_text, unit_key
from gonghui.health.models import CheckupCentre, ImportMapping, Indicator
from gonghui.health.permissions import HealthPerm
from gonghui.organizations.selectors import has_perm_on

MAX_COLUMNS = 60
MAX_HEADER = 60
# The fields of a row besides its results, by the name the tabular reader knows them.
FIELD_LABELS = {"id_number": "身份证号列", "exam_date": "体检日期列", "report_no": "体检编号列"}


@dataclass(frozen=True, slots=True)
class ColumnInput:
    column: str
    indicator: str
    unit: str


def import_mapping_latest(*, centre: CheckupCentre) -> ImportMapping | None:
    return ImportMapping.objects.filter(centre=centre).select_related("centre").order_by("-version").first()


def import_mapping_history(*, centre: CheckupCentre) -> QuerySet[ImportMapping]:
    return ImportMapping.objects.filter(centre=centre).select_related("created_by").order_by("-version")


def indicator_choices() -> list[Indicator]:
    return list(Indicator.objects.order_by("sort_order", "code").only("code", "name_zh", "unit", "conversions"))


def _header(raw: str) -> str:
    return clean_text(raw)[: MAX_HEADER + 1]


def import_mapping_save(
    *, actor: Any, centre: CheckupCentre, fields: dict[str, str], columns: list[ColumnInput]
) -> ImportMapping:
    """Save the centre's mapping as a new version. Empty column lines are ignored; each column
    is named once; its indicator comes from the catalogue, its unit is one the indicator
    accepts (or empty, to read the unit from the file)."""
    if not has_perm_on(actor, HealthPerm.HEALTH_MANAGE, centre.organization):
        raise PermissionDenied("无权修改该体检机构的列映射")
    errors: dict[str, str] = {}
    cleaned_fields: dict[str, str] = {}
    for key, label in FIELD_LABELS.items():
        value = _header(fields.get(key, ""))
        if len(value) > MAX_HEADER:
            errors["field_%s" % key] = "%(label)s名称不能超过 %(n)s 个字" % {"label": label, "n": MAX_HEADER}
        elif value:
            cleaned_fields[key] = value
    indicators = {i.code: i for i in indicator_choices()}
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    lines = [c for c in columns if c.column.strip() or c.indicator.strip() or c.unit.strip()]
    if len(lines) > MAX_COLUMNS:
        errors["columns"] = "最多映射 %(n)s 列" % {"n": MAX_COLUMNS}
    for n, line in enumerate(lines[:MAX_COLUMNS], start=1):
        column, code, unit = _header(line.column), line.indicator.strip(), clean_text(line.unit)
        key = "column_%s" % n
        indicator = indicators.get(code)
        if not column:
            errors[key] = "第 %(n)s 行：请填写文件中的列名" % {"n": n}
        elif len(column) > MAX_HEADER:
            errors[key] = "第 %(n)s 行：列名不能超过 %(max)s 个字" % {"n": n, "max": MAX_HEADER}
        elif column.lower().replace(" ", "") in seen:
            errors[key] = "第 %(n)s 行：列“%(col)s”重复" % {"n": n, "col": column}
        elif indicator is None:
            errors[key] = "第 %(n)s 行：请选择体检项目" % {"n": n}
        elif unit and unit_key(unit) not in indicator.conversions:
            errors[key] = "第 %(n)s 行：单位“%(unit)s”不适用于%(name)s" % {
                "n": n,
                "unit": unit,
                "name": indicator.name_zh,
            }
        else:
            seen.add(column.lower().replace(" ", ""))
            cleaned.append({"column": column, "indicator": code, "unit": unit})
    if errors:
        raise ValidationFailed("列映射有误，未保存，请修改标红的行", fields=errors)
    with transaction.atomic():
        locked = CheckupCentre.objects.select_for_update().get(pk=centre.pk)
        previous = import_mapping_latest(centre=locked)
        mapping = ImportMapping.objects.create(
            centre=locked,
            organization=locked.organization,
            version=(previous.version if previous else 0) + 1,
            fields=cleaned_fields,
            columns=cleaned,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="health.import_mapping_save",
            obj=mapping,
            organization=locked.organization,
            detail={"centre": locked.pk, "version": mapping.version, "columns": len(cleaned)},
        )
    return mapping
