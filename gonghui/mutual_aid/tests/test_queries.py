"""The console's list pages read a constant number of queries however many units, bills,
lists, enrolments and claims they show (1 unit against 20: a full first page of each list)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gonghui.mutual_aid.models import Enrolment
from gonghui.mutual_aid.tests.factories import enrol, make_period, submit
from gonghui.organizations.models import Level
from gonghui.site.testing import World, make_member, make_org

pytestmark = pytest.mark.django_db

PAGES = ("home", "period_detail", "batch_status", "enrolment_list", "fund_report", "claim_list")


def _counts(world: World, units: int) -> dict[str, int]:
    period = make_period(world.federation_admin, world.city, number=units, name="第%s期" % units)
    for n in range(units):
        county = make_org(world.city, Level.COUNTY)
        unit = make_org(county, Level.GRASSROOTS)
        member = make_member(unit, name="职工%s" % n)
        enrol(world.federation_admin, period, unit, [member])
        submit(world.federation_admin, Enrolment.objects.get(member=member), hospital="医院%s" % n)
    client = world.client_for(world.federation_admin)
    counts = {}
    for name in PAGES:
        args = [] if name in ("home", "claim_list") else [period.pk]
        query = {"period": period.pk} if name == "claim_list" else {}
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("mutual_aid:" + name, args=args), query).status_code == 200
        counts[name] = len(ctx.captured_queries)
    return counts


def test_list_pages_read_a_constant_number_of_queries(world: World) -> None:
    one = _counts(world, 1)
    twenty = _counts(world, 20)
    assert twenty == one
    assert max(twenty.values()) <= 12
