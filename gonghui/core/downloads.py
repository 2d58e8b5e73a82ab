"""File download responses shared by every app's exports."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """An XLSX attachment; the file name may be Chinese. Exports carry personal data, so no
    cache keeps a copy."""
    response = HttpResponse(content, content_type=XLSX)
    response.headers["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response
