"""Cards of the console home (工作台). The kernel knows no domain: each app registers the cards
it contributes in its AppConfig.ready() with `register(...)`, naming the permission a user must
hold somewhere to see the card. The dashboard view asks `cards_for(actor)` and renders what
comes back; the figures are computed by the app's own selectors, scoped to the actor."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gonghui.core.workflow import authorizer


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    value: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Todo:
    """One line of the card's to-do list: what to do and where to do it."""

    text: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Card:
    key: str
    title: str
    icon: str
    figures: list[Figure] = field(default_factory=list)
    todos: list[Todo] = field(default_factory=list)
    empty_todo: str = "暂无待办事项"
    link_url: str = ""
    link_label: str = ""


@dataclass(frozen=True, slots=True)
class CardProvider:
    key: str
    perm: str
    order: int
    build: Callable[[Any], Card]


_providers: dict[str, CardProvider] = {}


def register(key: str, *, perm: str, order: int, build: Callable[[Any], Card]) -> None:
    """Add a card. `build(actor)` is called only for users holding `perm` on some organisation
    and must read through selectors taking that actor. Registering a key again replaces it."""
    _providers[key] = CardProvider(key=key, perm=perm, order=order, build=build)


def providers() -> list[CardProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.key))


def cards_for(actor: Any) -> list[Card]:
    return [provider.build(actor) for provider in providers() if authorizer().has_perm_anywhere(actor, provider.perm)]
