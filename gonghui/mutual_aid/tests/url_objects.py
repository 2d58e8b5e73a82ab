"""How to build union A's object for each parameterised URL of the mutual-aid app (see
site/tests/test_url_access.py): a period union A runs itself (a city's period is
rightly seen by its sibling too), union A's paid enrolment of member A (its bill and its
list's batch) and a claim of it."""

from typing import Any

from gonghui.mutual_aid.models import Claim, Enrolment, Period
from gonghui.mutual_aid.tests.factories import enrol, make_period, submit
from gonghui.site.testing import World, grant, make_user


def _enrolment(world: World) -> Enrolment:
    found = Enrolment.objects.filter(member=world.member_a).first()
    if found is not None:
        return found
    period = Period.objects.filter(organization=world.union_a).first() or make_period(
        grant(make_user(), world.union_a, "admin"), world.union_a
    )
    enrol(grant(make_user(), world.union_a, "handler", "finance"), period, world.union_a, [world.member_a])
    return Enrolment.objects.get(member=world.member_a)


def _claim(world: World) -> Claim:
    enrolment = _enrolment(world)
    return enrolment.claims.first() or submit(grant(make_user(), world.union_a, "handler"), enrolment)


def period_pk(world: World) -> dict[str, Any]:
    return {"pk": _enrolment(world).period_id}


def bill_pk(world: World) -> dict[str, Any]:
    return {"pk": _enrolment(world).bill_id}


def batch_pk(world: World) -> dict[str, Any]:
    return {"pk": _enrolment(world).bill.batch_id}


def enrolment_pk(world: World) -> dict[str, Any]:
    return {"pk": _enrolment(world).pk}


def claim_pk(world: World) -> dict[str, Any]:
    return {"pk": _claim(world).pk}


URL_OBJECTS = {
    "mutual_aid:period_detail": period_pk,
    "mutual_aid:period_edit": period_pk,
    "mutual_aid:enrol_upload": period_pk,
    "mutual_aid:enrolment_list": period_pk,
    "mutual_aid:fund_report": period_pk,
    "mutual_aid:bill_pay": bill_pk,
    "mutual_aid:batch_status": period_pk,
    "mutual_aid:batch_report": batch_pk,
    "mutual_aid:batch_pay": batch_pk,
    "mutual_aid:claim_create": enrolment_pk,
    "mutual_aid:claim_detail": claim_pk,
    "mutual_aid:claim_act": claim_pk,
    "mutual_aid:h5_claim_create": enrolment_pk,
    "mutual_aid:h5_claim": claim_pk,
    "mutual_aid:h5_claim_appeal": claim_pk,
}
