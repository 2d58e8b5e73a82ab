"""Pinyin initials, for searching Chinese names by what people type on a Latin keyboard."""

from functools import lru_cache

from pypinyin import Style, pinyin


@lru_cache(maxsize=20000)
def _initial(char: str) -> str:
    if char.isascii():
        return char.lower() if char.isalnum() else ""
    first = pinyin(char, style=Style.FIRST_LETTER, heteronym=False, errors="ignore")
    return first[0][0].lower() if first and first[0] else ""


def initials(text: str, *, max_length: int) -> str:
    """`张三` → `zs`; characters read with their usual pronunciation, ASCII letters and digits
    kept (lower-cased), everything else dropped."""
    return "".join(_initial(c) for c in text)[:max_length]
