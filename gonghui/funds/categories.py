"""Spending categories: what money was spent on (临时救助, 常态化慰问, 大病救助 …).

The app that spends declares its categories in its AppConfig.ready()::

    register_category("relief.temporary", "临时救助")
    register_category("relief.major_illness", "大病救助", lines=("大病救助",))

`lines`, when given, are the budget lines (预算科目) the category may draw on; without it any
line of the organisation's budgets may pay for it. `fund_spend` refuses a category nobody
registered. Registering a key again replaces it (ready() may run more than once).
"""

import re
from dataclasses import dataclass

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
KEY_MAX = 60


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    label: str
    lines: tuple[str, ...] = ()

    def allows_line(self, line: str) -> bool:
        return not self.lines or line in self.lines


_categories: dict[str, Category] = {}


def register_category(key: str, label: str, *, lines: tuple[str, ...] = ()) -> None:
    """Declare a spending category: `key` is "<app>.<name>", `label` its Chinese name."""
    if len(key) > KEY_MAX or not KEY_PATTERN.fullmatch(key):
        raise ValueError("a spending category key is '<app>.<name>' in lower case, at most 60 characters: %r" % key)
    if not label.strip():
        raise ValueError("a spending category needs a Chinese label: %r" % key)
    _categories[key] = Category(key, label.strip(), tuple(lines))


def category(key: str) -> Category | None:
    return _categories.get(key)


def category_label(key: str) -> str:
    found = _categories.get(key)
    return found.label if found else key


def categories() -> list[Category]:
    return sorted(_categories.values(), key=lambda c: c.key)
