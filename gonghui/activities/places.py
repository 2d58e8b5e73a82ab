"""Places and the waiting list, shared by courses and activities.

Every change to a roster starts with one conditional UPDATE of the roster row: on PostgreSQL
that takes the row lock (sign-ups and cancellations of one roster queue behind each other), on
SQLite it takes the database write lock first, so the counts read after it are the truth
until COMMIT. Under that lock a sign-up gets the next arrival number and a seat if one is free,
else the waiting list; a cancellation frees its seat and gives it to the first in line, once.
The caller owns the transaction (`transaction.atomic`) and writes the audit event in it."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gonghui.activities.models import ACTIVE_PLACE_STATUSES, Place, PlaceStatus, Roster
from gonghui.core.errors import Conflict, ValidationFailed
from gonghui.members.models import Member

DRAW_ALGORITHM = "sha256(seed:seq)-ascending"


def _locked(roster_id: int, *, arrival: bool) -> Roster:
    """Lock the roster row (see the module docstring) and read it; `arrival` also takes the
    next arrival number in the same statement."""
    changes = {"last_seq": F("last_seq") + 1} if arrival else {"confirmed": F("confirmed")}
    if not Roster.objects.filter(pk=roster_id).update(**changes):
        raise Conflict("名额信息不存在")
    return Roster.objects.get(pk=roster_id)


def roster_lock(*, roster_id: int) -> Roster:
    """Hold the roster's lock for the caller's transaction (e.g. while issuing certificates)."""
    return _locked(roster_id, arrival=False)


def place_take(*, roster_id: int, member: Member) -> Place:
    """Sign `member` up: a seat while there is one, else the waiting list (or a lottery entry
    while the roster awaits its draw). A second active sign-up is refused."""
    assert transaction.get_connection().in_atomic_block, "place_take runs inside the caller's transaction"
    roster = _locked(roster_id, arrival=True)
    if Place.objects.filter(roster_id=roster_id, member=member, status__in=ACTIVE_PLACE_STATUSES).exists():
        raise Conflict("您已报名，无需重复报名")
    now = timezone.now()
    if roster.awaiting_draw:
        status = PlaceStatus.ENTERED
    elif roster.confirmed < roster.capacity:
        status = PlaceStatus.CONFIRMED
        Roster.objects.filter(pk=roster_id).update(confirmed=F("confirmed") + 1)
    else:
        status = PlaceStatus.WAITLISTED
    return Place.objects.create(
        roster_id=roster_id,
        member=member,
        status=status,
        seq=roster.last_seq,
        rank=roster.last_seq,
        created_at=now,
        confirmed_at=now if status == PlaceStatus.CONFIRMED else None,
    )


def _promote(roster: Roster, count: int) -> list[Place]:
    """Give up to `count` free seats to the first in line, by rank (the roster is locked)."""
    if count <= 0:
        return []
    now = timezone.now()
    chosen = list(Place.objects.filter(roster=roster, status=PlaceStatus.WAITLISTED).order_by("rank", "seq")[:count])
    for place in chosen:
        place.status, place.confirmed_at, place.promoted_at = PlaceStatus.CONFIRMED, now, now
    Place.objects.bulk_update(chosen, ["status", "confirmed_at", "promoted_at"])
    if chosen:
        Roster.objects.filter(pk=roster.pk).update(confirmed=F("confirmed") + len(chosen))
    return chosen


@dataclass(frozen=True)
class Cancelled:
    place: Place
    promoted: Place | None


def place_cancel(*, place_id: int) -> Cancelled:
    """Cancel a sign-up; a freed seat goes to the first in the waiting list, exactly once (a
    second cancellation of the same place is refused under the same lock)."""
    assert transaction.get_connection().in_atomic_block, "place_cancel runs inside the caller's transaction"
    roster_id = Place.objects.filter(pk=place_id).values_list("roster_id", flat=True).first()
    if roster_id is None:
        raise Conflict("报名记录不存在")
    roster = _locked(roster_id, arrival=False)
    place = Place.objects.get(pk=place_id)
    if place.status == PlaceStatus.CANCELLED:
        raise Conflict("该报名已取消")
    was_confirmed = place.status == PlaceStatus.CONFIRMED
    place.status, place.cancelled_at = PlaceStatus.CANCELLED, timezone.now()
    place.save(update_fields=["status", "cancelled_at"])
    promoted: list[Place] = []
    if was_confirmed:
        Roster.objects.filter(pk=roster_id).update(confirmed=F("confirmed") - 1)
        roster.confirmed -= 1
        if not roster.awaiting_draw:
            promoted = _promote(roster, 1)
    return Cancelled(place=place, promoted=promoted[0] if promoted else None)


def roster_resize(*, roster_id: int, capacity: int) -> list[Place]:
    """Change the number of places; more places promote from the waiting list at once. Fewer
    than the seats already given is refused."""
    roster = _locked(roster_id, arrival=False)
    if capacity < roster.confirmed:
        raise ValidationFailed(
            "名额不能少于已录取的 %(n)s 人" % {"n": roster.confirmed}, fields={"capacity": "名额少于已录取人数"}
        )
    Roster.objects.filter(pk=roster_id).update(capacity=capacity)
    roster.capacity = capacity
    if roster.awaiting_draw:
        return []
    return _promote(roster, capacity - roster.confirmed)


# ---- the lottery -----------------------------------------------------------------------------


def draw_order(seed: str, seqs: Sequence[int]) -> list[int]:
    """The lottery's order of entrants: ascending SHA-256 of "<seed>:<seq>" (ties, which do not
    happen, by seq). Depends on nothing but the seed and the entrants' arrival numbers, so
    anyone holding both recomputes it with any SHA-256 tool."""
    return sorted(seqs, key=lambda seq: (hashlib.sha256(("%s:%d" % (seed, seq)).encode()).hexdigest(), seq))


@dataclass(frozen=True)
class DrawResult:
    entrants: list[tuple[int, int]]  # (seq, member id) in order of entry
    order: list[int]
    confirmed: list[Place]
    waitlisted: list[Place]


def roster_draw(*, roster_id: int, seed: str) -> DrawResult:
    """Draw the roster's entries: the first `capacity` of `draw_order` get a seat, the rest
    wait in that order. The roster then fills first come, first served."""
    roster = _locked(roster_id, arrival=False)
    if not roster.awaiting_draw:
        raise Conflict("已经抽过签了")
    entries = list(Place.objects.filter(roster=roster, status=PlaceStatus.ENTERED).order_by("seq"))
    order = draw_order(seed, [p.seq for p in entries])
    by_seq = {p.seq: p for p in entries}
    free = roster.capacity - roster.confirmed
    now = timezone.now()
    confirmed, waitlisted = [], []
    for position, seq in enumerate(order, start=1):
        place = by_seq[seq]
        place.rank = position
        if position <= free:
            place.status, place.confirmed_at = PlaceStatus.CONFIRMED, now
            confirmed.append(place)
        else:
            place.status = PlaceStatus.WAITLISTED
            waitlisted.append(place)
    Place.objects.bulk_update(entries, ["status", "rank", "confirmed_at"], batch_size=500)
    # Later sign-ups rank by their arrival number, which is above every drawn position.
    Roster.objects.filter(pk=roster_id).update(awaiting_draw=False, confirmed=F("confirmed") + len(confirmed))
    return DrawResult(
        entrants=[(p.seq, p.member_id) for p in entries], order=order, confirmed=confirmed, waitlisted=waitlisted
    )
