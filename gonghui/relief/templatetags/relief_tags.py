from django import template

from gonghui.core.parsing import format_yuan
from gonghui.relief.rules import yuan as yuan_text

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as ¥1,234.56."""
    return "" if fen is None else yuan_text(fen)


@register.filter
def yuan_input(fen: int | None) -> str:
    """Integer fen as a form field's yuan value: 300000 → 3000.00."""
    return "" if fen is None else format_yuan(fen)
