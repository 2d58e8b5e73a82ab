"""结业证书 as a PDF (fpdf2, the project's Chinese font): holder, course, hours attended, the
certificate number and a QR code of the public page that verifies it."""

import io

import segno
from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import WrapMode

from gonghui.activities.models import Certificate
from gonghui.core.pdf import FONT, add_cjk_font, printable


def certificate_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    course = certificate.course
    pdf = FPDF(orientation="L", format=(148, 210))  # A5, in millimetres
    add_cjk_font(pdf)
    pdf.add_page()
    pdf.set_draw_color(180, 30, 30)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_font(FONT, size=26)
    pdf.set_y(22)
    pdf.cell(0, 14, "结业证书", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=13)
    text = "%s同志参加%s「%s」（%s）学习，出勤%d次，成绩合格，准予结业。" % (
        certificate.member.name,
        course.plan.name,
        course.name,
        course.trade,
        certificate.sessions_attended,
    )
    pdf.set_x(22)
    # Chinese has no spaces to break at: wrap at any character, left-aligned.
    pdf.multi_cell(pdf.w - 44, 9, printable(text), align="L", wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=11)
    pdf.set_x(22)
    pdf.cell(0, 7, printable("授课老师：%s" % course.instructor.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(22)
    pdf.cell(0, 7, printable("证书编号：%s" % certificate.number), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(22)
    pdf.cell(0, 7, "查验：扫描右侧二维码或在平台「证书查验」输入编号", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.w - 110, pdf.h - 36)
    pdf.cell(80, 7, printable(course.organization.name), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.w - 110, pdf.h - 28)
    issued = timezone.localtime(certificate.issued_at).strftime("%Y年%m月%d日")
    pdf.cell(80, 7, issued, align="R")
    image = io.BytesIO()
    segno.make(verify_url, error="m").save(image, kind="png", scale=4, border=1)
    image.seek(0)
    pdf.image(image, x=pdf.w - 52, y=pdf.h - 80, w=30, h=30)
    return bytes(pdf.output())
