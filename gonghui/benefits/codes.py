"""Coupon codes (电子兑换码 / 提货码).

A code is 13 digits drawn from the operating system's CSPRNG (10**13 ≈ 2**43.2, so more than
40 bits of entropy) followed by one Damm check digit: 14 digits a vending-machine keypad can
take. The Damm quasigroup catches every single-digit substitution and every transposition of
two adjacent digits, so a typo is answered before the database is asked."""

import re
import secrets

from gonghui.core import qr

BODY_DIGITS = 13
CODE_LENGTH = BODY_DIGITS + 1

# The weakly totally anti-symmetric quasigroup of order 10 from H. Michael Damm (2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_SEPARATORS = re.compile(r"[\s\-]")


def damm_interim(digits: str) -> int:
    interim = 0
    for char in digits:
        interim = _DAMM[interim][ord(char) - 48]
    return interim


def damm_check_digit(body: str) -> str:
    return str(damm_interim(body))


def is_valid(code: str) -> bool:
    """True when `code` is 14 digits whose Damm check comes out at zero."""
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit() and damm_interim(code) == 0


def generate() -> str:
    body = str(secrets.randbelow(10**BODY_DIGITS)).zfill(BODY_DIGITS)
    return body + damm_check_digit(body)


def normalize(raw: str) -> str:
    """What a clerk or keypad typed, without the spaces and dashes of the printed form."""
    return _SEPARATORS.sub("", raw or "")


def display(code: str) -> str:
    """`12345678901234` → `1234 5678 9012 34`."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def masked(code: str) -> str:
    """What staff lists show: enough to tell codes apart, not enough to redeem one."""
    return code[:4] + " **** **** " + code[-2:] if len(code) == CODE_LENGTH else "****"


def qr_data_uri(code: str) -> str:
    return qr.qr_data_uri(code)
