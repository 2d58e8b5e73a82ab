"""File names of the health downloads: what the file is, whose, and its date."""

from gonghui.core.filenames import download_name
from gonghui.health.models import Programme
from gonghui.health.report import ReportView
from gonghui.organizations.models import Organization


def report_pdf_name(view: ReportView) -> str:
    """`体检报告_苏州甲公司工会_张三_2025-05-20.pdf`: dated by the examination."""
    return download_name("体检报告", view.checkup.organization.name, view.member_name, ext="pdf", on=view.exam_date)


def appointments_name(programme: Programme) -> str:
    return download_name("体检预约名单", programme.organization.name, programme.name, ext="csv")


def stats_name(*, organization: Organization | None, indicator_name: str, year: int) -> str:
    covered = organization.name if organization is not None else ""
    return download_name("体检异常统计", covered, indicator_name, "%(year)d年" % {"year": year}, ext="csv")
