"""Every kind of ciphertext the activities app stores, written through its services, for the
platform's key-rotation test (core/tests/test_key_rotation.py discovers `<app>.tests.ciphertext`)."""

from django.utils import timezone

from gonghui.activities import services
from gonghui.activities.models import ActivityKind
from gonghui.activities.tests.factories import make_activity
from gonghui.site.testing import World


def write(world: World) -> None:
    camp = make_activity(world.union_a, kind=ActivityKind.SUMMER_CAMP, title="职工子女夏令营")
    today = timezone.localdate()
    services.activity_signup(
        user=world.member_a.user,
        member=world.member_a,
        activity=camp,
        child=services.ChildInput(name="张小明", birth_date=today.replace(year=today.year - 9, day=1)),
    )
