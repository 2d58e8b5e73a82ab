"""Reading the values check-up centres send, which are messy: full-width digits, stray
zero-width characters, `G/L` meaning 10^9/L, `70_105` as a range, dates in a dozen spellings.

Every parser here either returns a clean value or raises `Unreadable` with a Chinese reason;
nothing is guessed (an ambiguous date such as `03/05/2024` or a number such as `1,234` is
refused, not interpreted)."""

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils import timezone

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u180e"), None)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUPER_EXPONENT = re.compile(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_NUMBER = re.compile(r"^[+]?(\d+(\.\d*)?|\.\d+)$")
_PLAIN_NUMBER = re.compile(r"\d{1,6}(?:\.\d+)?\Z")
_FLAG_MARKS = re.compile(r"\s*(↑|↓|\*+|\(?[HL]\)?|[（(][高低][）)]|[高低])$")
MAX_VALUE = Decimal("1000000")


class Unreadable(ValueError):
    """A value that cannot be read without guessing; `reason` is shown to staff."""

    def __init__(self, reason: str, code: str = "unreadable"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


def clean_text(raw: object) -> str:
    """NFKC (full-width → ASCII, µ → μ), zero-width characters removed, trimmed."""
    if raw is None:
        return ""
    text = str(raw)
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH).strip()


def clean_prose(raw: object) -> str:
    """Free text (names, descriptions, addresses): zero-width characters removed and trimmed,
    but full-width punctuation kept as typed (NFKC would turn “（” into “(”)."""
    return "" if raw is None else str(raw).translate(ZERO_WIDTH).strip()


@lru_cache(maxsize=4096)
def code_key(raw: str) -> str:
    """How an indicator code or name is compared: cleaned, upper-case, without spaces."""
    return clean_text(raw).upper().replace(" ", "")


_UNIT_SYNONYMS = {
    "bpm": "次/分",
    "/min": "次/分",
    "次/min": "次/分",
    "beats/min": "次/分",
    "次/分钟": "次/分",
    "kg/m^2": "kg/m2",
    "mu/l": "miu/l",
    "k/ul": "10^3/ul",
    "m/ul": "10^6/ul",
    "ratio": "",
    "1": "",
    "inch": "in",
    "公斤": "kg",
    "厘米": "cm",
    "米": "m",
}


@lru_cache(maxsize=4096)
def unit_key(raw: str) -> str:
    """A canonical spelling for a unit: `µmol/L`, `umol/l`, `μmol/L` → `umol/l`; `G/L`,
    `10*9/L`, `×10⁹/L`, `10^9/L` → `10^9/l`; UCUM `mm[Hg]` → `mmhg`, `{beats}/min` → `次/分`."""
    text = _SUPER_EXPONENT.sub(lambda m: "10^" + m.group(1).translate(_SUPERSCRIPTS), str(raw or ""))
    text = clean_text(text).replace(" ", "")
    if text == "G/L":
        return "10^9/l"
    if text == "T/L":
        return "10^12/l"
    text = text.lower()
    text = re.sub(r"\{[^}]*\}", "", text).replace("[", "").replace("]", "")
    text = text.replace("μ", "u").replace("×", "x")
    text = re.sub(r"^x?10[*^e]?(\d+)/", r"10^\1/", text)
    return _UNIT_SYNONYMS.get(text, text)


def parse_decimal(raw: object) -> Decimal:
    """A measured value as a Decimal. Accepts numbers, numeric text with full-width digits,
    zero-width characters or a trailing abnormal mark (`6.3↑`, `6.3 H`); refuses comparators
    (`<0.5`), words (`阴性`), thousands separators and negative numbers."""
    if type(raw) is str and _PLAIN_NUMBER.match(raw):
        return Decimal(raw)  # the common case: plain digits, below MAX_VALUE by construction
    if isinstance(raw, bool) or raw is None:
        raise Unreadable("结果为空" if raw is None else "结果不是数值", "not_numeric")
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, (float, Decimal)):
        value = Decimal(repr(raw)) if isinstance(raw, float) else raw
        if not value.is_finite():
            raise Unreadable("结果不是数值", "not_numeric")
    else:
        text = clean_text(raw)
        if not text:
            raise Unreadable("结果为空", "not_numeric")
        text = _FLAG_MARKS.sub("", text).strip()
        if text[:1] in "<>≤≥":
            raise Unreadable("结果为区间值（带 < 或 >），不能判读", "not_numeric")
        if not _NUMBER.match(text):
            raise Unreadable("结果不是数值", "not_numeric")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
            raise Unreadable("结果不是数值", "not_numeric") from exc
    if value < 0:
        raise Unreadable("结果为负数", "not_numeric")
    if value >= MAX_VALUE:
        raise Unreadable("结果数值超出合理范围", "not_numeric")
    return value


_RANGE_SEPARATORS = re.compile(r"\s*(?:-|~|_|–|—|至|到|\.\.)\s*")
_RANGE_NUM = r"(\d+(?:\.\d+)?|\.\d+)"


def parse_range(raw: object) -> tuple[Decimal | None, Decimal | None]:
    """A laboratory's reference range text: `3.9-6.1`, `3.9～6.1`, `70_105`, `(3.5-5.3)`,
    `<5.2`, `≤5.2`, `>1.0`. Raises `Unreadable` for anything else."""
    text = clean_text(raw).strip("()[]（）【】 ")
    if not text:
        raise Unreadable("参考范围为空", "range")
    one_sided = re.fullmatch(r"(<|≤|<=|>|≥|>=)\s*" + _RANGE_NUM, text)
    if one_sided:
        limit = Decimal(one_sided.group(2))
        return (None, limit) if one_sided.group(1) in ("<", "≤", "<=") else (limit, None)
    parts = _RANGE_SEPARATORS.split(text)
    if len(parts) == 2 and all(re.fullmatch(_RANGE_NUM, p) for p in parts):
        low, high = Decimal(parts[0]), Decimal(parts[1])
        if low < high:
            return low, high
    raise Unreadable("参考范围无法识别", "range")


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[T\s].*)?$"),
    re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?(?:\s.*)?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:\d{2,6}(?:\.\d+)?)?(?:[+-]\d{4})?$"),
)
MIN_EXAM_DATE = dt.date(1950, 1, 1)


def parse_date(raw: object, *, today: dt.date | None = None) -> dt.date:
    """An exam date from a date/datetime, ISO text, `2024/3/5`, `2024年3月5日`, an HL7 TS
    (`20240305083000+0800`) or an Excel serial number. Day-first or month-first text such as
    `05/03/2024` is ambiguous and refused, as are impossible and future dates."""
    if today is None:
        today = timezone.localdate()
    if isinstance(raw, dt.datetime):
        if raw.tzinfo is not None:
            raw = timezone.localtime(raw)
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if not 20000 <= raw <= 80000:
            raise Unreadable("日期无法识别", "date")
        value = _EXCEL_EPOCH + dt.timedelta(days=int(raw))
    else:
        text = clean_text(raw)
        if not text:
            raise Unreadable("缺少检查日期", "date")
        for pattern in _DATE_PATTERNS:
            match = pattern.match(text)
            if match:
                try:
                    value = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
                except ValueError as exc:
                    raise Unreadable("日期不存在", "date") from exc
                break
        else:
            if re.match(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", text):
                raise Unreadable("日期写法有歧义（日/月顺序不明），请使用 年-月-日", "date")
            raise Unreadable("日期无法识别", "date")
    if value > today:
        raise Unreadable("检查日期晚于今天", "date")
    if value < MIN_EXAM_DATE:
        raise Unreadable("检查日期过早", "date")
    return value


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
