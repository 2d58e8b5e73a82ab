"""Every kind of ciphertext the relief app stores, written through its services, for the
platform's key-rotation test (core/tests/test_key_rotation.py discovers `<app>.tests.ciphertext`)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from gonghui.relief import cases, services
from gonghui.relief.tests.factories import make_file, publish_dibao
from gonghui.relief.tests.test_cases import illness
from gonghui.relief.tests.url_objects import case_data
from gonghui.site.testing import World


def write(world: World) -> None:
    publish_dibao(world)
    file = make_file(world, hardship_costs="2000")
    services.household_member_add(
        actor=world.staff_a,
        file=file,
        data={"name": "张小明", "relation": "child", "annual_income": "0", "health": "哮喘", "disability": "肢体三级"},
    )
    png = SimpleUploadedFile("证明.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    services.attachment_add(actor=world.staff_a, file=file, upload=png)
    case = cases.case_submit(actor=world.staff_a, member=world.member_a, data=case_data())
    pdf = SimpleUploadedFile("诊断.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    cases.case_document_add(actor=world.staff_a, case=case, upload=pdf)
    illness(world)
