"""The budget list as XLSX (built and audited by core/exports.py)."""

import decimal
from typing import Any

from django.db.models import QuerySet

from gonghui.core import exports
from gonghui.core.exports import Sheet
from gonghui.core.filenames import download_name
from gonghui.funds.models import Budget
from gonghui.organizations.models import Organization

BUDGET_EXPORT_MAX_ROWS = 20_000


def _yuan(fen: int) -> decimal.Decimal:
    return (decimal.Decimal(fen) / 100).quantize(decimal.Decimal("0.01"))


def _usage(budget: Budget) -> decimal.Decimal:
    return (decimal.Decimal(budget.usage_permille) / 10).quantize(decimal.Decimal("0.1"))


def budgets_xlsx(
    *, actor: Any, qs: QuerySet[Budget], year: int, source: str, organization: Organization | None
) -> exports.Export:
    rows = (
        [
            b.organization.name,
            b.organization.code,
            b.year,
            b.get_source_display(),
            b.line,
            _yuan(b.amount_fen),
            _yuan(b.spent_fen),
            _yuan(b.remaining_fen),
            _usage(b),
            b.note,
        ]
        for b in qs[:BUDGET_EXPORT_MAX_ROWS].iterator()
    )

    def footer(count: int) -> list[str]:
        if count < BUDGET_EXPORT_MAX_ROWS:
            return []
        return ["仅导出前 %(n)s 条，请缩小筛选范围" % {"n": BUDGET_EXPORT_MAX_ROWS}]

    sheet = Sheet(
        "资金预算",
        [
            "组织",
            "组织代码",
            "年度",
            "资金来源",
            "预算科目",
            "预算（元）",
            "已支出（元）",
            "剩余（元）",
            "使用率（%）",
            "备注",
        ],
        rows,
        width=16,
        footer=footer,
    )
    return exports.xlsx_export(
        actor=actor,
        action="funds.budgets_export",
        filename=download_name("帮扶资金预算", organization.name if organization else "", "%d年" % year, ext="xlsx"),
        sheets=[sheet],
        obj=organization,
        organization=organization,
        detail={"year": year, "source": source},
    )
