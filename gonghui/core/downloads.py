"""File download responses shared by every app's files (exports go through core/exports.py)."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def attachment_response(content: bytes, filename: str, content_type: str) -> HttpResponse:
    """An attachment whose name may be Chinese (`filename*`, RFC 5987). Downloads carry
    personal data, so no cache keeps a copy."""
    response = HttpResponse(content, content_type=content_type)
    response.headers["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    return attachment_response(content, filename, XLSX)
