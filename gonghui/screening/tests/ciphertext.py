"""Every kind of ciphertext the screening app stores, for the platform's key-rotation test
(core/tests/test_key_rotation.py discovers `<app>.tests.ciphertext`): an agency file as
uploaded, sealed in private storage."""

from gonghui.screening import services
from gonghui.screening.kinds import DatasetKind
from gonghui.screening.tests.helpers import csv_bytes, id_of
from gonghui.site.testing import World


def write(world: World) -> None:
    content = csv_bytes(["身份证号码", "姓名"], [[id_of(world.member_a), "张三"], ["不是号码", "李四"]])
    services.dataset_upload(
        actor=world.federation_admin,
        organization=world.city,
        kind=DatasetKind.MZ_DIBAO,
        name="低保名单",
        filename="低保.csv",
        content=content,
    )
