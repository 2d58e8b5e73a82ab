"""Pruning of rows that only matter for a while: replay nonces, stored idempotent answers,
wrong-code attempts, used SMS codes, unconfirmed import uploads.

Each app registers its own chores in `AppConfig.ready`; `python manage.py housekeeping`
runs them all (from cron or a systemd timer, see docs/operations.md) and prints what each
removed. A chore returns the number of rows (or files) it removed."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from gonghui.core.models import IdempotentResponse

if TYPE_CHECKING:
    from django.db.models import QuerySet

Chore = Callable[[], int]


@dataclass(frozen=True)
class Registered:
    name: str
    label: str
    run: Chore


_chores: dict[str, Registered] = {}


def register(name: str, label: str, run: Chore) -> None:
    _chores[name] = Registered(name, label, run)


def chores() -> list[Registered]:
    return sorted(_chores.values(), key=lambda c: c.name)


def delete_in_batches(queryset: "QuerySet[Any]", *, batch_size: int = 10_000) -> int:
    """Delete what `queryset` selects a batch at a time, so a large backlog never holds one
    long transaction (or a lock on the whole set) open."""
    removed = 0
    while ids := list(queryset.order_by().values_list("pk", flat=True)[:batch_size]):
        deleted, _ = queryset.model._default_manager.filter(pk__in=ids).delete()
        removed += deleted
    return removed


def prune_idempotent_responses() -> int:
    """Stored answers outlive any sensible retry by far after IDEMPOTENT_RESPONSE_KEEP_HOURS."""

    cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENT_RESPONSE_KEEP_HOURS)
    return delete_in_batches(IdempotentResponse.objects.filter(created_at__lt=cutoff))
