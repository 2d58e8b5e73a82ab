from django import template

from gonghui.benefits import codes
from gonghui.benefits.forms import fen_to_yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen shown as yuan with two decimals: 1250 → "12.50"."""
    return fen_to_yuan(fen or 0)


@register.filter
def code_masked(code: str) -> str:
    return codes.masked(code)


@register.filter
def code_display(code: str) -> str:
    return codes.display(code)
