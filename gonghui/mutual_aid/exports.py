"""The fund report as XLSX (audited by the kernel's export helper)."""

from typing import Any

from gonghui.core import exports
from gonghui.core.parsing import format_yuan
from gonghui.mutual_aid.selectors import FundLine, FundReport

HEADER = [
    "组织/单位",
    "参保人数",
    "收缴互助金（元）",
    "支付互助金（元）",
    "基金使用率",
    "结报人次",
    "千人结报人次",
    "次均互助金（元）",
]


def _money(fen: int | None) -> str:
    return "—" if fen is None else format_yuan(fen)


def _row(line: FundLine) -> list[Any]:
    if line.hidden:
        return [line.label, "人数过少不予显示", "", "", "", "", "", ""]
    return [
        line.label,
        line.members,
        _money(line.collected_fen),
        _money(line.paid_fen),
        line.usage,
        line.claims,
        line.per_thousand,
        _money(line.average_fen),
    ]


def fund_report_xlsx(*, actor: Any, report: FundReport) -> exports.Export:
    return exports.xlsx_export(
        actor=actor,
        action="mutual_aid.report_export",
        filename="医疗互助基金报表-%s.xlsx" % report.period.name,
        sheets=[
            exports.Sheet(title="合计", header=HEADER, rows=[_row(report.total)]),
            exports.Sheet(title="按下级组织", header=HEADER, rows=[_row(x) for x in report.by_subtree]),
            exports.Sheet(title="按参保单位", header=HEADER, rows=[_row(x) for x in report.by_unit]),
        ],
        obj=report.period,
        organization=report.organization,
    )
