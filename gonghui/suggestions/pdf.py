"""整改通知单 as a PDF (fpdf2), with the project's Chinese font embedded as a subset."""

from django.utils import timezone
from fpdf import FPDF

from gonghui.core.pdf import FONT, add_cjk_font, printable
from gonghui.suggestions.models import Notice


def notice_pdf(notice: Notice) -> bytes:
    pdf = FPDF(format="A4")
    add_cjk_font(pdf)
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 12, printable("%s 整改通知单" % notice.organization.name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 8, notice.number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = [
        ("责任部门", "、".join(d.name for d in notice.departments.all())),
        ("诉求编号", notice.item.number),
        ("诉求事项", notice.item.title),
        ("整改要求", notice.requirement),
        ("办结期限", notice.deadline.strftime("%Y年%m月%d日")),
        ("签发日期", timezone.localtime(notice.issued_at).strftime("%Y年%m月%d日")),
    ]
    for label, value in rows:
        pdf.set_font(FONT, size=11)
        pdf.multi_cell(0, 8, printable("%s：%s" % (label, value)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.multi_cell(0, 7, "请责任部门在办结期限前登记办理进展并上传佐证材料，事事有回音、件件有落实。")
    return bytes(pdf.output())
