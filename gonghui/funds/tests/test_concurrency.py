"""Races against PostgreSQL with real threads, each on its own database connection: the last
¥5,000 of a budget is paid out once, never twice."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from gonghui.core.errors import Conflict
from gonghui.core.models import AuditEvent
from gonghui.funds import services
from gonghui.funds.models import Budget, EntryKind, LedgerEntry
from gonghui.funds.tests.factories import make_budget
from gonghui.site.testing import World

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OTHER = services.OTHER_CATEGORY


def _race(work, args):  # type: ignore[no-untyped-def]
    """Run `work(arg)` for each arg in its own thread, all released at once by a barrier;
    each thread closes its connection. Returns "ok" or the Conflict's message per thread."""
    barrier = threading.Barrier(len(args))

    def run(arg):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            work(arg)
            return "ok"
        except Conflict as exc:
            return exc.message
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(run, args))


def _with_5000_left(world: World) -> Budget:
    budget = make_budget(world.staff_a, world.union_a, amount_fen=2_000_000)
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=1_500_000, category=OTHER, reference="earlier")
    assert Budget.objects.get(pk=budget.pk).remaining_fen == 500_000
    return budget


def test_two_spends_of_3000_racing_for_the_last_5000_one_succeeds(world: World) -> None:
    budget = _with_5000_left(world)

    def spend(n: int) -> None:
        services.fund_spend(
            actor=world.staff_a,
            budget=Budget.objects.get(pk=budget.pk),
            amount_fen=300_000,
            category=OTHER,
            reference=f"case:{n}",
        )

    outcomes = _race(spend, [1, 2])
    assert sorted(outcomes) == [
        "ok",
        "预算余额不足：苏州甲公司工会 2026年 本级工会预算 · 临时救助 剩余 ¥2000.00，本次 ¥3000.00",
    ]
    budget.refresh_from_db()
    assert (budget.spent_fen, budget.remaining_fen) == (1_800_000, 200_000)
    assert LedgerEntry.objects.filter(kind=EntryKind.SPEND, amount_fen=300_000).count() == 1
    assert AuditEvent.objects.filter(action="funds.spend").count() == 2  # the earlier spend and the winner


def test_twelve_spends_racing_never_exceed_the_budget(world: World) -> None:
    budget = _with_5000_left(world)

    def spend(n: int) -> None:
        services.fund_spend(
            actor=world.staff_a, budget=budget, amount_fen=70_000, category=OTHER, reference=f"case:{n}"
        )

    outcomes = _race(spend, list(range(12)))
    assert outcomes.count("ok") == 7  # 7 × ¥700 = ¥4,900 of the ¥5,000
    budget.refresh_from_db()
    assert budget.spent_fen == 1_500_000 + 7 * 70_000
    spends = LedgerEntry.objects.filter(budget=budget, kind=EntryKind.SPEND)
    assert sum(spends.values_list("amount_fen", flat=True)) == budget.spent_fen


def test_a_spend_waits_for_the_budget_row_held_by_another_transaction(world: World) -> None:
    """The second payment blocks on the first one's row lock and, once it commits, sees what
    is left: proof that the check is made under the lock, not on a stale read."""
    budget = _with_5000_left(world)
    first_holds = threading.Event()
    release = threading.Event()
    second: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                services.fund_spend(
                    actor=world.staff_a, budget=budget, amount_fen=300_000, category=OTHER, reference="a"
                )
                first_holds.set()
                release.wait(10)
        finally:
            connection.close()

    def second_spend() -> None:
        try:
            services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=300_000, category=OTHER, reference="b")
            second["outcome"] = "ok"
        except Conflict as exc:
            second["outcome"] = exc.message
        finally:
            second["done_at"] = time.monotonic()
            connection.close()

    t1 = threading.Thread(target=first)
    t1.start()
    assert first_holds.wait(10)
    t2 = threading.Thread(target=second_spend)
    t2.start()
    time.sleep(0.5)
    assert "done_at" not in second  # still waiting for the lock
    released_at = time.monotonic()
    release.set()
    t1.join(10)
    t2.join(10)
    assert (
        second["outcome"] == "预算余额不足：苏州甲公司工会 2026年 本级工会预算 · 临时救助 剩余 ¥2000.00，本次 ¥3000.00"
    )
    assert second["done_at"] >= released_at  # type: ignore[operator]
    assert Budget.objects.get(pk=budget.pk).spent_fen == 1_800_000


def test_two_refunds_racing_for_one_spend_refund_it_once(world: World) -> None:
    budget = _with_5000_left(world)
    spend = LedgerEntry.objects.get(budget=budget, reference="earlier")

    outcomes = _race(lambda n: services.fund_refund(actor=world.staff_a, entry=spend, reason=f"退回{n}"), [1, 2])
    assert sorted(outcomes) == ["ok", "该笔支出已冲回，不能重复冲回"]
    assert Budget.objects.get(pk=budget.pk).spent_fen == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1


def test_a_spend_locks_its_budget_row_and_not_the_organisation(world: World) -> None:
    """Payments from one union's different budgets do not queue behind each other, and the
    union's own row stays free for its other work."""
    from gonghui.organizations.models import Organization

    budget = _with_5000_left(world)
    other = make_budget(world.staff_a, world.union_a, line="送温暖慰问", amount_fen=100_000)
    holds = threading.Event()
    release = threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=100, category=OTHER, reference="a")
                holds.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holds.wait(10)
        with transaction.atomic():
            Organization.objects.select_for_update(nowait=True, no_key=True).get(pk=world.union_a.pk)
        services.fund_spend(actor=world.staff_a, budget=other, amount_fen=100, category=OTHER, reference="b")
    finally:
        release.set()
        holder.join(10)
    assert Budget.objects.get(pk=other.pk).spent_fen == 100
