"""Chinese identifier rules: 居民身份证 (GB 11643-1999), 统一社会信用代码 (GB 32100-2015),
mobile numbers and 行政区划代码 (GB/T 2260)."""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
REGION_PATTERN = re.compile(r"^[1-8]\d{5}$")
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class IdentifierError(ValueError):
    """Raised with a Chinese message fit to show the person who typed the value."""


@dataclass(frozen=True, slots=True)
class ResidentId:
    number: str
    region_code: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalize_id_number(raw: str) -> str:
    """Full-width digits and letters (`３２０５…Ｘ`, typed with a Chinese input method) become
    ASCII (NFKC); surrounding spaces go; `x` becomes `X`."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def parse_resident_id(raw: str, *, today: dt.date | None = None) -> ResidentId:
    number = normalize_id_number(raw)
    if not ID_PATTERN.match(number):
        raise IdentifierError("身份证号码应为18位，前17位为数字，末位为数字或X")
    if id_check_char(number[:17]) != number[17]:
        raise IdentifierError("身份证号码校验位错误")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError("身份证号码中的出生日期不存在") from None
    today = today or dt.datetime.now(tz=dt.UTC).date()
    if birth > today or birth.year < 1900:
        raise IdentifierError("身份证号码中的出生日期不合理")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def make_resident_id(region_code: str, birth: dt.date, sequence: int, sex: str) -> str:
    """Build a valid number (for demo and test data): `sequence` 0..499, odd digit for men."""
    seq = sequence % 500 * 2 + (1 if sex == "M" else 0)
    first17 = f"{region_code}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def validate_phone(raw: str) -> str:
    phone = raw.strip().replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_PATTERN.match(phone):
        raise IdentifierError("手机号码应为11位、以1开头的中国大陆号码")
    return phone


def validate_region_code(raw: str) -> str:
    code = raw.strip()
    if not REGION_PATTERN.match(code):
        raise IdentifierError("行政区划代码应为6位数字（GB/T 2260）")
    return code


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_uscc(raw: str) -> str:
    code = raw.strip().upper()
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        raise IdentifierError("统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）")
    if uscc_check_char(code[:17]) != code[17]:
        raise IdentifierError("统一社会信用代码校验位错误")
    return code
