"""The report as a PDF (fpdf2), with the project's Chinese font (`gonghui.core.pdf`) embedded as a subset
of the glyphs the document uses, so it opens the same on any phone or printer."""

from fpdf import FPDF
from fpdf.fonts import FontFace

from gonghui.core.pdf import FONT, add_cjk_font, printable
from gonghui.health.report import ItemView, ReportView

RED = (200, 30, 30)
ORANGE = (205, 110, 0)
GREY = (110, 110, 110)
FLAG_COLOURS = {"critical": RED, "high": RED, "low": ORANGE}


class ReportPdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(*GREY)
        self.cell(0, 5, printable(self.footer_text), align="L")
        self.cell(0, 5, "%d / {nb}" % self.page_no(), align="R")


def _item_row(table: object, item: ItemView) -> None:
    colour = FLAG_COLOURS.get(item.css)
    style = FontFace(color=colour) if colour else None
    row = table.row()  # type: ignore[attr-defined]
    row.cell(printable(item.name))
    row.cell(printable("%s %s" % (item.value, item.arrow)).strip(), style=style)
    row.cell(printable(item.unit))
    row.cell(printable(item.flag_label + ("（%s）" % item.grade if item.grade else "")), style=style)
    row.cell(printable(item.reference or "—"))
    last = item.last
    row.cell(printable("%s年 %s" % (last.year, last.value) if last else "—"))


def render_report_pdf(view: ReportView) -> bytes:
    pdf = ReportPdf(format="A4")
    pdf.footer_text = (
        "参考区间依据：WS/T 404、WS/T 405 及国家相关指南（指标目录 %s）。本报告解读仅供参考，不能替代医生诊断。"
        % (view.catalogue_version)
    )
    pdf.set_title("职工健康体检报告")
    pdf.set_author("工会数字化服务平台")
    pdf.set_creator("gonghui")
    add_cjk_font(pdf)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 12, "职工健康体检报告", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    info = "姓名：%(name)s    性别：%(sex)s    年龄：%(age)s岁    检查日期：%(date)s    %(kind)s：%(centre)s" % {
        "name": view.member_name,
        "sex": view.sex_label,
        "age": view.age,
        "date": view.exam_date.isoformat(),
        "kind": "体检机构" if view.checkup.kind == "exam" else "测量地点",
        "centre": view.centre or "—",
    }
    pdf.multi_cell(0, 6, printable(info), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    _heading(pdf, "报告摘要")
    for line in view.summary_lines:
        pdf.multi_cell(0, 6, printable(line), new_x="LMARGIN", new_y="NEXT", align="L")
    if view.llm_summary:
        pdf.set_text_color(*GREY)
        pdf.multi_cell(
            0, 6, printable("智能解读（仅复述以上规则结果）：" + view.llm_summary), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_text_color(0, 0, 0)
    if view.abnormal:
        _heading(pdf, "异常项目解读")
        for item in view.abnormal:
            pdf.set_text_color(*FLAG_COLOURS.get(item.css, (0, 0, 0)))
            pdf.set_font(FONT, size=11)
            title = "%(name)s  %(value)s %(unit)s  %(flag)s%(grade)s  参考 %(ref)s" % {
                "name": item.name,
                "value": item.value,
                "unit": item.unit,
                "flag": item.flag_label,
                "grade": "（%s）" % item.grade if item.grade else "",
                "ref": item.reference or "—",
            }
            pdf.multi_cell(0, 6, printable(title), new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.set_text_color(0, 0, 0)
            pdf.set_font(FONT, size=9)
            pdf.multi_cell(0, 5, printable("说明：" + item.explanation), new_x="LMARGIN", new_y="NEXT", align="L")
            if item.advice:
                pdf.multi_cell(0, 5, printable("建议：" + item.advice), new_x="LMARGIN", new_y="NEXT", align="L")
            if item.previous:
                trend = "历年：" + "，".join("%s年 %s" % (p.year, p.value) for p in item.previous)
                pdf.multi_cell(0, 5, printable(trend), new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(1.5)
    _heading(pdf, "全部项目")
    pdf.set_font(FONT, size=8.5)
    for label, items in view.by_category:
        pdf.set_font(FONT, size=10)
        pdf.cell(0, 7, printable(label), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font(FONT, size=8.5)
        with pdf.table(
            col_widths=(40, 24, 20, 34, 34, 28),
            line_height=5.5,
            headings_style=FontFace(fill_color=(238, 238, 238)),
            first_row_as_headings=True,
        ) as table:
            head = table.row()
            for text in ("项目", "结果", "单位", "提示", "参考范围", "上次"):
                head.cell(text)
            for item in items:
                _item_row(table, item)
        pdf.ln(2)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(1)
    pdf.set_font(FONT, size=13)
    pdf.set_text_color(193, 39, 45)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=10)
