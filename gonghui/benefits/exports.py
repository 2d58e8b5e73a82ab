"""XLSX exports: the campaign report, the settlement statement of a point and the filtered
redemption list (built and audited by core/exports.py)."""

import datetime as dt
import decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from gonghui.benefits import codes
from gonghui.benefits.filters import RedemptionFilters
from gonghui.benefits.models import Campaign, Redemption
from gonghui.benefits.selectors import CampaignReport, Settlement
from gonghui.core import exports
from gonghui.core.errors import ValidationFailed
from gonghui.core.exports import Sheet

REDEMPTION_EXPORT_MAX_ROWS = 50_000


def _yuan(fen: int) -> decimal.Decimal:
    return (decimal.Decimal(fen) / 100).quantize(decimal.Decimal("0.01"))


def campaign_report_xlsx(*, actor: Any, campaign: Campaign, report: CampaignReport) -> exports.Export:
    totals = report.totals
    summary = Sheet(
        "汇总",
        ["项目", "数值"],
        [
            ["活动名称", campaign.name],
            ["主办工会", campaign.organization.name],
            ["发放方式", campaign.get_mode_display()],
            ["总库存", totals["stock_total"]],
            ["剩余库存", totals["stock"]],
            ["已发放", totals["issued"]],
            ["已领取", totals["claimed"]],
            ["已核销", totals["redeemed"]],
            ["核销面值合计（元）", _yuan(totals["redeemed_value"])],
            ["预算（元）", _yuan(totals["budget"])],
        ],
        width=18,
    )
    by_day = Sheet(
        "按日",
        ["日期", "发放", "领取", "核销"],
        ([r["day"], r["issued"], r["claimed"], r["redeemed"]] for r in report.by_day),
        width=18,
    )
    by_org = Sheet(
        "按组织",
        ["工会", "发放", "领取", "核销", "核销面值（元）"],
        ([r["name"], r["issued"], r["claimed"], r["redeemed"], _yuan(r["value"])] for r in report.by_org),
        width=18,
    )
    by_point = Sheet(
        "按核销点",
        ["核销点", "核销", "核销面值（元）"],
        ([r["name"], r["redeemed"], _yuan(r["value"])] for r in report.by_point),
        width=18,
    )
    return exports.xlsx_export(
        actor=actor,
        action="campaign.report_export",
        filename="活动报表-%(name)s.xlsx" % {"name": campaign.name},
        sheets=[summary, by_day, by_org, by_point],
        obj=campaign,
    )


def settlement_xlsx(*, actor: Any, statement: Settlement) -> exports.Export:
    summary = Sheet(
        "结算汇总",
        ["活动", "主办工会", "核销张数", "面值合计（元）"],
        [
            *([r["campaign"], r["organization"], r["count"], _yuan(r["value_fen"])] for r in statement.summary),
            ["合计", "", statement.count, _yuan(statement.value_fen)],
        ],
        width=18,
    )
    details = Sheet(
        "核销明细",
        ["核销时间", "活动", "券码", "会员", "面值（元）", "核销方式"],
        (
            [
                timezone.localtime(r.redeemed_at).strftime("%Y-%m-%d %H:%M:%S"),
                r.campaign.name,
                codes.masked(r.coupon.code),
                r.coupon.member.name_masked,
                _yuan(r.face_value_fen),
                ("设备 %(name)s" % {"name": r.device.name}) if r.device else ("核销员 %(name)s" % {"name": r.clerk}),
            ]
            for r in statement.details
        ),
        width=18,
    )
    filename = "结算对账-%(point)s-%(start)s至%(end)s.xlsx" % {
        "point": statement.point.name,
        "start": statement.date_from.isoformat(),
        "end": statement.date_to.isoformat(),
    }
    return exports.xlsx_export(
        actor=actor,
        action="point.settlement_export",
        filename=filename,
        sheets=[summary, details],
        obj=statement.point,
        detail={"from": statement.date_from.isoformat(), "to": statement.date_to.isoformat()},
    )


def _operator(r: Redemption) -> str:
    return ("设备 %(name)s" % {"name": r.device.name}) if r.device else ("核销员 %(name)s" % {"name": r.clerk})


def redemptions_export(
    *, actor: Any, qs: QuerySet[Redemption], filters: RedemptionFilters, today: dt.date
) -> exports.Export:
    """The redemption list as filtered, one line a redemption (reversed ones marked); codes and
    names masked as on the page. The export and its size are audited."""
    rows = qs.count()
    if rows > REDEMPTION_EXPORT_MAX_ROWS:
        raise ValidationFailed(
            "共 %(rows)s 条，超过单次导出上限 %(max)s 条，请缩小日期范围或增加筛选条件"
            % {"rows": rows, "max": REDEMPTION_EXPORT_MAX_ROWS}
        )
    sheet = Sheet(
        "核销记录",
        ["核销时间", "活动", "核销点", "券码", "会员", "面值（元）", "核销方式", "状态", "冲正时间", "冲正原因"],
        (
            [
                timezone.localtime(r.redeemed_at).strftime("%Y-%m-%d %H:%M:%S"),
                r.campaign.name,
                r.point.name,
                codes.masked(r.coupon.code),
                r.coupon.member.name_masked,
                _yuan(r.face_value_fen),
                _operator(r),
                "已冲正" if r.reversed_at else "有效",
                timezone.localtime(r.reversed_at).strftime("%Y-%m-%d %H:%M:%S") if r.reversed_at else "",
                r.reversal_reason,
            ]
            for r in qs.iterator(chunk_size=2000)
        ),
        width=18,
    )
    return exports.xlsx_export(
        actor=actor,
        action="redemption.export",
        filename="核销记录-%(day)s.xlsx" % {"day": today.isoformat()},
        sheets=[sheet],
        detail={"filters": filters.as_audit_detail()},
    )
