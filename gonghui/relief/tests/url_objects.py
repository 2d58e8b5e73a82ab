"""How to build union A's object for each parameterised URL of the relief app (see
site/tests/test_url_access.py)."""

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from gonghui.relief import services
from gonghui.relief.models import HardshipFile
from gonghui.relief.tests.factories import make_file, publish_dibao
from gonghui.site.testing import World


def _file(world: World) -> HardshipFile:
    existing = HardshipFile.objects.filter(member=world.member_a).first()
    if existing is not None:
        return existing
    publish_dibao(world)
    return make_file(world)


def file_pk(world: World) -> dict[str, Any]:
    return {"pk": _file(world).pk}


def attachment_pk(world: World) -> dict[str, Any]:
    upload = SimpleUploadedFile("证明.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    attachment = services.attachment_add(actor=world.staff_a, file=_file(world), upload=upload)
    return {"pk": attachment.pk}


URL_OBJECTS = {
    "relief:file_detail": file_pk,
    "relief:file_edit": file_pk,
    "relief:file_reveal": file_pk,
    "relief:household_add": file_pk,
    "relief:household_remove": file_pk,
    "relief:visit_add": file_pk,
    "relief:attachment_add": file_pk,
    "relief:withdrawal": file_pk,
    "relief:attachment_download": attachment_pk,
}
