"""Where screening keeps its files: `settings.SCREENING_DIR`, private storage that the web
server never serves. Files are named by the app itself (a random token), never by a request."""

import binascii
import os
import secrets
from pathlib import Path

from django.conf import settings

from gonghui.core import crypto

RAW = "raw"  # agency files as uploaded, sealed (they hold plaintext ID numbers)
RAW_PURPOSE = "screening.raw_upload"
DATA = "data"  # normalised Parquet copies (blind indexes, never plaintext ID numbers)
WORK = "work"  # a run's or an upload's scratch files, deleted when it ends


def directory(part: str) -> Path:
    path = Path(settings.SCREENING_DIR) / part
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def new_name(suffix: str) -> str:
    return secrets.token_hex(16) + suffix


def path_of(part: str, name: str) -> Path:
    """The path of a bare name this app wrote (anything else is refused)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError("not a stored screening file name")
    return directory(part) / name


def write_private(part: str, name: str, content: bytes) -> Path:
    path = path_of(part, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return path


def remove(part: str, name: str) -> None:
    if name:
        path_of(part, name).unlink(missing_ok=True)


def write_sealed(part: str, name: str, content: bytes) -> Path:
    """Write `content` sealed with the PII key (an agency file holds ID numbers as sent)."""
    token = crypto.encrypt(binascii.b2a_base64(content, newline=False).decode("ascii"), purpose=RAW_PURPOSE)
    return write_private(part, name, token.encode("ascii"))


def read_sealed(path: Path) -> bytes:
    """The content of a file `write_sealed` wrote."""
    return binascii.a2b_base64(crypto.decrypt(path.read_bytes().decode("ascii"), purpose=RAW_PURPOSE))
