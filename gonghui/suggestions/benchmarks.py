"""`python manage.py bench suggestions --items 20000 --units 50`

1. `submit_per_s`: `--submit` items filed one after another through `item_submit` (the sealed
   content, the SLA rule from the versioned policy, the workflow case, the audit event).
2. `inbox_ms`: a staff member's first inbox page (50 items with their SLA clocks: the two
   policies read once per page), median of `--repeat`.
3. `escalate_seconds`: the escalation chore over every open item (a share of them breached
   long ago and escalated, once) — and `escalate_again_seconds`, the next run, which escalates
   nothing.
4. `public_ms`: one organisation's 院务公开 page data (scrubbed items, suppressed figures).

The organisations and `--items` items are made beforehand with bulk inserts (not timed)."""

import argparse
import datetime as dt
import random
import statistics
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core.permissions import Role
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create, role_grant
from gonghui.suggestions import selectors, services
from gonghui.suggestions.models import Channel, Item, ItemStatus, SubmitterKind

ROOT_CODE = "BENCH-SQ"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--submit", type=int, default=200, help="items filed through the service (timed)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20260315)


def _tree(units: int) -> tuple[Organization, list[Organization]]:
    root = organization_create(
        actor=None,
        parent=None,
        code=ROOT_CODE + str(time.time_ns())[-8:],
        name="诉求基准测试总工会",
        level=Level.CITY,
        region_code="320500",
    )
    grassroots = [
        organization_create(
            actor=None,
            parent=root,
            code="%s-U%04d" % (root.code, u),
            name="基准单位工会%d" % u,
            level=Level.GRASSROOTS,
            region_code="320505",
        )
        for u in range(units)
    ]
    return root, grassroots


def _items(units: list[Organization], count: int, rng: random.Random) -> None:
    field: Any = Item._meta.get_field("content_encrypted")
    now = timezone.now()
    statuses = [ItemStatus.SUBMITTED, ItemStatus.ACCEPTED, ItemStatus.IN_PROGRESS, ItemStatus.CLOSED]
    batch: list[Item] = []
    stamp = str(time.time_ns())[-8:]
    for i in range(count):
        received = now - dt.timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 23))
        status = statuses[i % len(statuses)]
        closed = status == ItemStatus.CLOSED
        batch.append(
            Item(
                organization=units[i % len(units)],
                number="B%s%07d" % (stamp, i),
                channel=rng.choice(Channel.values),
                title="基准诉求%d" % i,
                content_encrypted=field.seal("食堂晚餐品种太少，联系电话 139%08d" % i),
                submitter_kind=SubmitterKind.STAFF,
                status=status,
                received_at=received,
                clock_started_at=received,
                first_response_at=received + dt.timedelta(hours=2) if status != ItemStatus.SUBMITTED else None,
                resolved_at=received + dt.timedelta(days=3) if closed else None,
                publishable=closed and i % 8 == 3,
                public_outcome="已整改完成" if closed else "",
                sla_rule="一般诉求",
            )
        )
        if len(batch) >= 5000:
            Item.objects.bulk_create(batch)
            batch = []
    Item.objects.bulk_create(batch)


def run(*, stdout: Any, items: int, units: int, submit: int, repeat: int, seed: int, **_: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    stdout.write("building %d units and %d items…" % (units, items))
    with transaction.atomic():
        root, orgs = _tree(max(1, units))
        staff = User.objects.create_staff_user(
            username="bench_sq_%s" % root.code[-8:], password=None, display_name="基准经办"
        )
        for role in (Role.ADMIN, Role.HANDLER, Role.REVIEWER):
            role_grant(actor=None, user=staff, organization=root, role=role)
        _items(orgs, items, rng)

    started = time.perf_counter()
    for n in range(submit):
        services.item_submit(
            actor=staff,
            organization=orgs[n % len(orgs)],
            channel=Channel.LETTER,
            title="基准登记%d" % n,
            content="希望增加夜班食堂窗口",
            kind=SubmitterKind.STAFF,
        )
    submit_seconds = time.perf_counter() - started

    inbox = []
    for _round in range(repeat):
        t = time.perf_counter()
        page = list(selectors.items_for_actor(actor=staff).order_by("-received_at", "-id")[:50])
        selectors.with_clocks(page)
        inbox.append((time.perf_counter() - t) * 1000)

    t = time.perf_counter()
    escalated = services.escalate_breaches()
    escalate_seconds = time.perf_counter() - t
    t = time.perf_counter()
    again = services.escalate_breaches()
    escalate_again_seconds = time.perf_counter() - t

    public = []
    for _round in range(repeat):
        t = time.perf_counter()
        selectors.public_items(orgs[3 % len(orgs)])
        selectors.public_figures(orgs[3 % len(orgs)])
        selectors.public_closed_figures(orgs[3 % len(orgs)])
        public.append((time.perf_counter() - t) * 1000)

    return {
        "benchmark": "suggestions",
        "items": items + submit,
        "units": len(orgs),
        "submit_per_s": round(submit / submit_seconds, 1) if submit_seconds else None,
        "inbox_ms": round(statistics.median(inbox), 1),
        "escalated": escalated,
        "escalate_seconds": round(escalate_seconds, 2),
        "escalated_again": again,
        "escalate_again_seconds": round(escalate_again_seconds, 2),
        "public_ms": round(statistics.median(public), 1),
    }


BENCHMARKS = {"suggestions": (add_arguments, run)}
