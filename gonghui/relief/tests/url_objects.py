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


def _case(world: World) -> Any:
    from gonghui.relief import cases
    from gonghui.relief.models import ReliefCase

    existing = ReliefCase.objects.filter(member=world.member_a).first()
    if existing is not None:
        return existing
    return cases.case_submit(actor=world.staff_a, member=world.member_a, data=case_data())


def case_data(**overrides: Any) -> dict[str, Any]:
    from django.utils import timezone

    data = {
        "situation": "accident",
        "event_date": timezone.localdate().isoformat(),
        "amount": "3000",
        "payee_card": "6222020200112233445",
        "description": "下班途中遭遇车祸，住院治疗",
    }
    data.update(overrides)
    return data


def case_pk(world: World) -> dict[str, Any]:
    return {"pk": _case(world).pk}


def case_document_pk(world: World) -> dict[str, Any]:
    from gonghui.relief import cases

    upload = SimpleUploadedFile("诊断.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    return {"pk": cases.case_document_add(actor=world.staff_a, case=_case(world), upload=upload).pk}


URL_OBJECTS.update(
    {
        "relief:case_detail": case_pk,
        "relief:case_step": case_pk,
        "relief:case_reveal": case_pk,
        "relief:case_document_add": case_pk,
        "relief:case_document": case_document_pk,
    }
)


def plan_pk(world: World) -> dict[str, Any]:
    from gonghui.relief.models import VisitPlan

    plan = VisitPlan.objects.filter(organization=world.union_a).first()
    if plan is None:
        plan = VisitPlan.objects.create(
            organization=world.union_a,
            title="中秋慰问",
            occasion="festival",
            group="frontline",
            group_label="艰苦岗位一线职工",
            starts_on="2026-09-01",
            ends_on="2026-09-30",
            cash_fen=50_000,
            created_by=world.staff_a,
        )
    return {"pk": plan.pk}


URL_OBJECTS.update({"relief:plan_detail": plan_pk, "relief:plan_close": plan_pk, "relief:plan_visit": plan_pk})
