from django import template

from gonghui.relief.rules import yuan as yuan_text

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as ¥1,234.56."""
    return "" if fen is None else yuan_text(fen)
