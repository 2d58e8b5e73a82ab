from django import template

from gonghui.core.parsing import format_yuan
from gonghui.funds.categories import category_label

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen shown as yuan with two decimals: 1250 → "12.50"."""
    return format_yuan(fen or 0)


@register.filter
def category_name(key: str) -> str:
    return category_label(key) if key else ""
