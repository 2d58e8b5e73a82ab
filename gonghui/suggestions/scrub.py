"""Masking personal data in free text before it is shown in public (院务公开).

What a submitter may type: mobile and landline numbers, 18-digit resident ID numbers, member
numbers and card numbers (long digit runs), e-mail addresses, and names — the names the system
knows (submitter, members named in the text) and any 2–3 character name after a common
surname followed by an address or role word (张三反映, 李主任, 王师傅)."""

import re
from collections.abc import Iterable

MASK = "＊＊"

_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{0,3}\d{6,}(?![0-9])")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_TITLED = re.compile(
    r"[%s][\u4e00-\u9fa5]?(?=(?:主任|师傅|老师|医生|护士|科长|处长|经理|同志|大姐|阿姨|先生|女士|师父|组长))" % SURNAMES
)
_NAMED = re.compile(
    r"(?:(?<=我叫)|(?<=本人)|(?<=职工)|(?<=联系人)|(?<=姓名)|(?<=姓名：)|(?<=联系人：))[%s][\u4e00-\u9fa5]{1,2}"
    % SURNAMES
)


def scrub(text: str, *, names: Iterable[str] = ()) -> str:
    """`text` with personal data replaced by ＊＊ (names known to the system first)."""
    out = text
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, MASK)
    for pattern in (_EMAIL, _ID, _MOBILE, _LANDLINE, _LONG_DIGITS, _TITLED, _NAMED):
        out = pattern.sub(MASK, out)
    return out
