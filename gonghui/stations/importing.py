"""The station-list import: its columns (declared with the kernel's `core.tabular`), the
template, and the runner of a `stations.import` job.

A file is read by `tabular.open_tabular` (CSV in UTF-8/GB18030/UTF-16, or XLSX), every row is
checked with the same `services.station_fields` as the console form, and then either every row
is written in one transaction (new codes created, known codes updated) or — when any row fails —
nothing is, and the failed rows wait for `tabular.error_report`."""

import io
import re
from typing import Any

from django.db import transaction

from gonghui.core import audit, exports, jobs, tabular
from gonghui.core.errors import DomainError, ValidationFailed
from gonghui.core.models import Job
from gonghui.organizations.models import Organization
from gonghui.stations import geo, services
from gonghui.stations.models import Facility, HolidayMode, Station, StationImport, StationKind

C = tabular.Column
SPEC = tabular.register_columns(
    services.IMPORT_JOB,
    label="服务阵地名单",
    columns=[
        C("code", "站点编号", aliases=("编号", "阵地编号"), help="留空则自动编号；已有编号的站点会被更新", text=True),
        C("name", "站点名称", required=True, aliases=("名称", "阵地名称"), width=24),
        C("kind", "类型", required=True, aliases=("站点类型", "阵地类型"), help="须为已设置的阵地类型"),
        C("org_code", "所属工会代码", required=True, aliases=("工会代码", "组织代码"), text=True),
        C("address", "地址", required=True, aliases=("详细地址",), width=30),
        C("lat", "纬度", required=True, aliases=("lat", "latitude")),
        C("lng", "经度", required=True, aliases=("lng", "lon", "longitude")),
        C("coord_system", "坐标系", help="WGS-84 或 GCJ-02（高德、腾讯地图拾取的坐标），留空为 WGS-84"),
        C("facilities", "设施", aliases=("设施清单",), help="用顿号分隔，如 空调、饮水机、微波炉", width=30),
        C("always_open", "24小时开放", aliases=("24小时",), help="是 / 否"),
        C("weekdays", "周一至周五", aliases=("工作日时段",), help="如 08:00-20:00，多个时段用逗号分隔"),
        C("saturday", "周六", aliases=("周六时段",)),
        C("sunday", "周日", aliases=("周日时段",)),
        C("holiday", "节假日", aliases=("节假日安排",), help="照常 / 闭站 / 另有时段"),
        C("holiday_hours", "节假日时段"),
        C("contact_name", "联系人"),
        C("contact_phone", "联系电话", text=True),
        C("description", "简介", width=30),
    ],
    missing_hint="请下载模板，表头放在第一行",
)

TEMPLATE_EXAMPLE = [
    "",
    "平江路户外劳动者服务站",
    "户外劳动者服务站点",
    "",
    "苏州市姑苏区平江路 120 号",
    "31.319",
    "120.632",
    "WGS-84",
    "空调、饮水机、应急药箱、微波炉",
    "否",
    "08:00-20:00",
    "09:00-17:00",
    "09:00-17:00",
    "照常",
    "",
    "王师傅",
    "0512-65221234",
    "",
]

_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", ""}
_HOLIDAY = {"照常": HolidayMode.REGULAR, "": HolidayMode.REGULAR, "闭站": HolidayMode.CLOSED}
_HOLIDAY.update({"另有时段": HolidayMode.SPECIAL, "特殊时段": HolidayMode.SPECIAL, "闭馆": HolidayMode.CLOSED})
_SPLIT = re.compile(r"[、,，;；/\s]+")


def template_export(*, actor: Any) -> exports.Export:
    return exports.xlsx_export(
        actor=actor,
        action="stations.import_template",
        filename="服务阵地导入模板.xlsx",
        sheets=[exports.Sheet(title="服务阵地", header=[c.header for c in SPEC.columns], rows=[TEMPLATE_EXAMPLE])],
    )


def _flag(text: str, label: str) -> bool:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValidationFailed("“%(label)s”请填写“是”或“否”" % {"label": label})


def _coord_system(text: str) -> str:
    value = text.strip().upper().replace("_", "-")
    if value in ("", "WGS-84", "WGS84", "GPS"):
        return services.CoordSystem.WGS84
    if value in ("GCJ-02", "GCJ02", "高德", "腾讯"):
        return services.CoordSystem.GCJ02
    raise ValidationFailed("坐标系请填写 WGS-84 或 GCJ-02")


class _Context:
    """What checking the rows of one file needs, read once."""

    def __init__(self, batch: StationImport, rows: list[dict[str, str]]):
        self.scope = batch.organization
        self.kinds = {k.name: k for k in StationKind.objects.filter(is_active=True)}
        self.facilities = {f.name: f for f in Facility.objects.filter(is_active=True)}
        org_codes = {r["org_code"].strip() for r in rows if r["org_code"].strip()}
        self.orgs = {
            o.code: o for o in Organization.objects.filter(code__in=org_codes, path__startswith=self.scope.path)
        }
        codes = {r["code"].strip().upper() for r in rows if r["code"].strip()}
        self.existing = {s.code: s for s in Station.objects.filter(code__in=codes).select_related("organization")}

    def row_input(self, row: dict[str, str]) -> tuple[Organization, services.StationInput]:
        org = self.orgs.get(row["org_code"].strip())
        if org is None:
            raise ValidationFailed(
                "所属工会代码“%(code)s”不存在或不在%(scope)s范围内"
                % {"code": row["org_code"].strip()[:32], "scope": self.scope.name}
            )
        kind = self.kinds.get(row["kind"].strip())
        if kind is None:
            raise ValidationFailed("类型“%(kind)s”不在阵地类型中" % {"kind": row["kind"].strip()[:30]})
        mask = 0
        for name in _SPLIT.split(row["facilities"].strip()):
            if not name:
                continue
            facility = self.facilities.get(name)
            if facility is None:
                raise ValidationFailed("设施“%(name)s”不在设施清单中" % {"name": name[:30]})
            mask |= facility.mask
        holiday = _HOLIDAY.get(row["holiday"].strip())
        if holiday is None:
            raise ValidationFailed("节假日请填写“照常”“闭站”或“另有时段”")
        weekdays = row["weekdays"]
        data = services.StationInput(
            name=row["name"],
            code=row["code"],
            kind=kind,
            address=row["address"],
            lat=row["lat"],
            lng=row["lng"],
            coord_system=_coord_system(row["coord_system"]),
            facility_mask=mask,
            always_open=_flag(row["always_open"], "24小时开放"),
            weekly_text=(weekdays,) * 5 + (row["saturday"], row["sunday"]),
            holiday_mode=holiday,
            holiday_text=row["holiday_hours"],
            contact_name=row["contact_name"],
            contact_phone=row["contact_phone"],
            description=row["description"],
        )
        return org, data


def _read(batch: StationImport) -> tuple[list[str], list[list[Any]], list[dict[str, str]]]:
    with tabular.open_tabular(
        io.BytesIO(bytes(batch.content)), file_name=batch.filename, max_rows=services.IMPORT_MAX_ROWS
    ) as table:
        header = [tabular.cell_text(h) for h in table.header]
        found = SPEC.resolve(header)
        raw = [list(row) for row in table.rows()]
    rows = []
    for cells in raw:
        rows.append(
            {
                c.key: tabular.cell_text(cells[found.positions[c.key]]).strip()
                if c.key in found.positions and found.positions[c.key] < len(cells)
                else ""
                for c in SPEC.columns
            }
        )
    return header, raw, rows


def import_job(job: Job) -> dict[str, Any]:
    """The runner of a `stations.import` job (all or nothing, in one transaction)."""
    batch = StationImport.objects.select_related("organization", "created_by").get(job=job)
    if not batch.content:
        raise jobs.JobFailed("上传的文件已删除，请重新上传")
    with transaction.atomic():
        jobs.job_heartbeat(job, message="正在检查")
        try:
            header, raw, rows = _read(batch)
        except ValidationFailed as exc:
            StationImport.objects.filter(pk=batch.pk).update(content=b"")
            raise jobs.JobFailed(exc.message) from exc
        if not rows:
            StationImport.objects.filter(pk=batch.pk).update(content=b"")
            raise jobs.JobFailed("文件中没有数据行")
        context = _Context(batch, rows)
        errors: list[dict[str, Any]] = []
        prepared: list[tuple[Station | None, Organization, str, dict[str, Any]]] = []
        seen: dict[str, int] = {}
        for row_no, (cells, row) in enumerate(zip(raw, rows, strict=True), start=2):
            try:
                org, data = context.row_input(row)
                fields = services.station_fields(data)
                code = services.clean_code(data.code)
                existing = context.existing.get(code) if code else None
                if code in seen:
                    raise ValidationFailed("站点编号与第 %(n)d 行重复" % {"n": seen[code]})
                if code:
                    seen[code] = row_no
                if existing is not None and not existing.organization.is_within(batch.organization.path):
                    raise ValidationFailed("站点编号“%(code)s”已属于其他工会" % {"code": code})
                prepared.append((existing, org, code, fields))
            except DomainError as exc:
                errors.append({"row": row_no, "cells": [tabular.cell_text(c) for c in cells], "reason": exc.message})
        jobs.job_heartbeat(job, done=len(rows), total=len(rows), message="")
        if errors:
            StationImport.objects.filter(pk=batch.pk).update(
                content=b"", header=header, row_errors=errors[:5000], rows=len(rows)
            )
            result = {"rows": len(rows), "errors": len(errors), "created": 0, "updated": 0}
            jobs.job_succeed(job=job, result=result)
            return result
        created, updated = _write(batch, prepared)
        StationImport.objects.filter(pk=batch.pk).update(
            content=b"", header=header, rows=len(rows), created=created, updated=updated
        )
        transaction.on_commit(services.forget_districts)
        audit.record(
            actor=batch.created_by,
            action="stations.import_commit",
            obj=batch,
            organization=batch.organization,
            detail={"rows": len(rows), "created": created, "updated": updated},
        )
        result = {"rows": len(rows), "errors": 0, "created": created, "updated": updated}
        jobs.job_succeed(job=job, result=result)
    return result


def _write(
    batch: StationImport, prepared: list[tuple[Station | None, Organization, str, dict[str, Any]]]
) -> tuple[int, int]:
    fresh: list[Station] = []
    changed: list[Station] = []
    next_numbers: dict[str, int] = {}
    for existing, org, given_code, given in prepared:
        fields = {**given, "cell": geo.cell_of(given["lat"], given["lng"])}
        code = given_code
        if existing is not None:
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.organization = org
            changed.append(existing)
            continue
        if not code:
            prefix = "ZD%s" % org.region_code
            if prefix not in next_numbers:
                next_numbers[prefix] = int(services.next_code(org)[len(prefix) :])
            code = "%s%05d" % (prefix, next_numbers[prefix])
            next_numbers[prefix] += 1
        fresh.append(Station(code=code, organization=org, created_by=batch.created_by, **fields))
    Station.objects.bulk_create(fresh, batch_size=500)
    if changed:
        Station.objects.bulk_update(changed, [*prepared[0][3].keys(), "cell", "organization"], batch_size=500)
    return len(fresh), len(changed)


def error_report(*, actor: Any, batch: StationImport) -> exports.Export:
    return tabular.error_report(
        actor=actor,
        action="stations.import_report",
        filename="服务阵地导入错误_%s.xlsx" % batch.pk,
        header=batch.header,
        rows=[tabular.RowError(e["row"], e["cells"], e["reason"]) for e in batch.row_errors],
        obj=batch,
        organization=batch.organization,
    )
