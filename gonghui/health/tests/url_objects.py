"""How to build union A's object for each parameterised URL of the health app (see
site/tests/test_url_access.py)."""

import datetime as dt
from typing import Any

from gonghui.core import jobs
from gonghui.core.signing import device_register
from gonghui.health import devices as health_devices
from gonghui.health.models import (
    Appointment,
    Checkup,
    CheckupCentre,
    ImportBatch,
    Package,
    Programme,
    ProgrammeStatus,
    Quota,
    Slot,
)
from gonghui.health.services import IMPORT_JOB
from gonghui.site.testing import World


def _programme(world: World) -> Programme:
    return Programme.objects.create(
        organization=world.union_a,
        eligible_org=world.union_a,
        name="甲公司体检",
        year=2026,
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 12, 31),
        status=ProgrammeStatus.OPEN,
        created_by=world.staff_a,
    )


def programme_pk(world: World) -> dict[str, Any]:
    return {"pk": _programme(world).pk}


def checkup_pk(world: World) -> dict[str, Any]:
    checkup, _ = Checkup.objects.get_or_create(
        member=world.member_a,
        source="csv",
        external_id="A-1",
        defaults={"organization": world.union_a, "exam_date": dt.date(2025, 5, 6)},
    )
    return {"pk": checkup.pk}


def batch_pk(world: World) -> dict[str, Any]:
    job = jobs.job_create(kind=IMPORT_JOB, organization=world.union_a, created_by=world.staff_a, enqueue=False)
    batch = ImportBatch.objects.create(
        organization=world.union_a, created_by=world.staff_a, format="csv", filename="a.csv", job=job
    )
    return {"pk": batch.pk}


def kiosk_pk(world: World) -> dict[str, Any]:
    device, _ = device_register(
        actor=None, organization=world.union_a, name="甲健康小屋", kind=health_devices.HEALTH_KIOSK
    )
    return {"pk": device.pk}


def appointment_pk(world: World) -> dict[str, Any]:
    programme = _programme(world)
    centre = CheckupCentre.objects.create(organization=world.union_a, name="甲体检中心")
    slot = Slot.objects.create(
        programme=programme,
        centre=centre,
        date=dt.date(2026, 12, 1),
        start_time=dt.time(8),
        end_time=dt.time(9),
        capacity=5,
        booked=1,
    )
    package = Package.objects.create(programme=programme, sex=world.member_a.sex, name="套餐", price_fen=45000)
    quota = Quota.objects.create(programme=programme, organization=world.union_a, places=5, used=1)
    Appointment.objects.filter(member=world.member_a).update(status="cancelled")
    appointment = Appointment.objects.create(
        programme=programme,
        member=world.member_a,
        organization=world.union_a,
        package=package,
        slot=slot,
        quota=quota,
    )
    return {"pk": appointment.pk}


def member_pk(world: World) -> dict[str, Any]:
    return {"pk": world.member_a.pk}


def centre_pk(world: World) -> dict[str, Any]:
    return {"pk": CheckupCentre.objects.create(organization=world.union_a, name="甲公司体检中心").pk}


URL_OBJECTS = {
    "health:centre_mapping": centre_pk,
    "health:programme_detail": programme_pk,
    "health:package_save": programme_pk,
    "health:quota_set": programme_pk,
    "health:slots_create": programme_pk,
    "health:programme_status": programme_pk,
    "health:appointments_export": programme_pk,
    "health:import_detail": batch_pk,
    "health:import_retry": batch_pk,
    "health:import_cancel": batch_pk,
    "health:member_detail": member_pk,
    "health:report": checkup_pk,
    "health:report_pdf": checkup_pk,
    "health:kiosk_deactivate": kiosk_pk,
    "health:h5_report": checkup_pk,
    "health:h5_report_pdf": checkup_pk,
    "health:h5_programme": programme_pk,
    "health:h5_appointment_cancel": appointment_pk,
}
