from django import template

from gonghui.core.parsing import format_yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as yuan with two decimals; "—" for a figure not shown."""
    return "—" if fen is None else format_yuan(fen)


@register.filter
def get(mapping: dict, key: str) -> object:
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
