"""Names of downloaded files: Chinese, naming what the file is, whose it is and its date
(`会员名册_苏州甲公司工会_2026-05-20.xlsx`). The response sends them RFC 5987-encoded
(`filename*=utf-8''…`, see `django.utils.http.content_disposition_header`)."""

import datetime as dt
import re

from django.utils import timezone
from django.utils.http import content_disposition_header

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def download_name(title: str, *parts: str, ext: str, on: dt.date | None = None) -> str:
    """`title_part_…_date.ext`; characters a file system refuses are dropped, empty parts skipped."""
    day = on or timezone.localdate()
    pieces = [_UNSAFE.sub("", piece).strip() for piece in (title, *parts)]
    return "_".join([*(p for p in pieces if p), day.isoformat()]) + "." + ext


def attachment_header(filename: str) -> str:
    """The Content-Disposition value of a download named `filename`."""
    header = content_disposition_header(as_attachment=True, filename=filename)
    if header is None:
        raise ValueError("an attachment always has a Content-Disposition")
    return header
