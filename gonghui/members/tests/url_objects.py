"""How to build union A's object for each parameterised URL of this app (see
site/tests/test_url_access.py)."""

from gonghui.members.import_models import ImportBatch, ImportFormat
from gonghui.members.models import JoinApplication, Transfer
from gonghui.site.testing import World


def _transfer(world: World) -> dict[str, int]:
    transfer = Transfer.objects.create(
        member=world.member_a, from_org=world.union_a, to_org=world.province, reason="测试", submitted_by=world.staff_a
    )
    return {"pk": transfer.pk}


def _import_batch(world: World) -> dict[str, int]:
    batch = ImportBatch.objects.create(
        organization=world.union_a,
        uploader=world.staff_a,
        file_name="union-a.csv",
        file_format=ImportFormat.CSV,
        rows_total=1,
        rows_valid=1,
    )
    return {"pk": batch.pk}


def _join_application(world: World) -> dict[str, int]:
    application = JoinApplication.objects.create(
        organization=world.union_a,
        name="周申请",
        id_number_encrypted="x",
        id_blind="blind-of-union-a-applicant",
        id_masked="3205**********0011",
        phone="13900000077",
    )
    return {"pk": application.pk}


URL_OBJECTS = {
    "members:application_decide": _join_application,
    "members:detail": lambda w: {"pk": w.member_a.pk},
    "members:edit": lambda w: {"pk": w.member_a.pk},
    "members:reveal_id": lambda w: {"pk": w.member_a.pk},
    "members:status": lambda w: {"pk": w.member_a.pk},
    "members:transfer_new": lambda w: {"pk": w.member_a.pk},
    "members:transfer_decide": _transfer,
    "members:h5_consent_withdraw": lambda w: {"purpose": "health"},
    "members:import_detail": _import_batch,
    "members:import_progress": _import_batch,
    "members:import_commit": _import_batch,
    "members:import_resume": _import_batch,
    "members:import_cancel": _import_batch,
    "members:import_report": _import_batch,
}
