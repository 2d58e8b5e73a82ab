"""Every kind of ciphertext the suggestions app stores, written through its services, for the
platform's key-rotation test (core/tests/test_key_rotation.py discovers `<app>.tests.ciphertext`)."""

from gonghui.site.testing import World
from gonghui.suggestions import services
from gonghui.suggestions.models import Channel, SubmitterKind
from gonghui.suggestions.tests.factories import handler_of


def write(world: World) -> None:
    photo = services.Upload("现场.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    services.item_submit(
        actor=handler_of(world.union_a),
        organization=world.union_a,
        channel=Channel.LETTER,
        title="车间通风不好",
        content="夏天车间闷热，联系人王师傅 13900001111",
        kind=SubmitterKind.STAFF,
        uploads=[photo],
    )
