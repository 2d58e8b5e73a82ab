"""Two claims of one member racing on the last ¥3,000 of the period cap, on real threads with
their own PostgreSQL connections: the allowance row is locked while each is adjudicated, so
together they never commit more than what was left."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from gonghui.mutual_aid import services
from gonghui.mutual_aid.models import Claim, Enrolment
from gonghui.mutual_aid.tests.factories import enrol, make_period, submit
from gonghui.site.testing import World

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_two_claims_racing_on_the_last_3000_of_the_period_cap(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    enrolment = Enrolment.objects.get(member=world.member_a)
    Enrolment.objects.filter(pk=enrolment.pk).update(committed_fen=20_000_000 - 300_000)
    claims = [
        submit(
            world.staff_a,
            enrolment,
            hospital="医院%s" % n,
            total_fen=2_000_000 + n,
            self_inside_catalogue_fen=1_500_000 + n,
        )
        for n in range(2)
    ]
    barrier = threading.Barrier(2)

    def review(pk: int) -> int:
        try:
            barrier.wait()
            done = services.claim_review(actor=world.staff_a, claim=Claim.objects.get(pk=pk))
            return int(done.benefit_fen or 0)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        benefits = list(pool.map(review, [c.pk for c in claims]))
    assert sorted(benefits) == [0, 300_000]
    enrolment.refresh_from_db()
    assert enrolment.committed_fen == 20_000_000
    assert sum(Claim.objects.values_list("benefit_fen", flat=True)) == 300_000
