"""Every kind of ciphertext the mutual-aid app stores, written through its services, for the
platform's key-rotation test (core/tests/test_key_rotation.py discovers `<app>.tests.ciphertext`)."""

from gonghui.mutual_aid import services
from gonghui.mutual_aid.models import Enrolment
from gonghui.mutual_aid.tests.factories import START, claim_input, enrol, list_csv, make_period
from gonghui.site.testing import World


def write(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    enrolment = Enrolment.objects.get(period=period, member=world.member_a)
    photo = services.Upload("发票", "image/png", b"\x89PNG fake bytes")
    claim = services.claim_submit(
        actor=world.member_a.user, enrolment=enrolment, data=claim_input(), documents=[photo], on_behalf=False
    )
    services.claim_review(actor=world.staff_a, claim=claim)  # the computation's steps, sealed
    services.enrolment_list_submit(  # a list waiting for its job, kept sealed
        actor=world.staff_b,
        period=period,
        unit=world.union_b,
        content=list_csv([world.member_b]),
        filename="名单.csv",
        today=START,
        enqueue=False,
    )
