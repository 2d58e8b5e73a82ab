import io
import random

import pytest

from gonghui.core.models import Device
from gonghui.health import demo
from gonghui.health import devices as health_devices
from gonghui.health.models import Appointment, Checkup, CheckupKind, Package, Programme, Result
from gonghui.health.report import build_report
from gonghui.site.testing import World


@pytest.mark.django_db
def test_demo_seed_builds_a_programme_and_years_of_results(world: World) -> None:
    out = io.StringIO()
    demo.seed(rng=random.Random(7), stdout=out)
    programme = Programme.objects.get()
    packages = {p.sex: (p.items.count(), p.price_fen) for p in Package.objects.filter(programme=programme)}
    assert packages == {"M": (67, 45000), "F": (76, 60000)}
    # prose keeps its full-width punctuation
    assert Package.objects.get(sex="M").name == "男职工套餐（67项）"
    assert "男职工 67 项（价值 450 元）" in programme.description
    assert programme.status == "open"
    assert Appointment.objects.count() == 2  # both members of the test world booked
    exams = Checkup.objects.filter(kind=CheckupKind.EXAM)
    assert exams.filter(member=world.member_a).count() >= 2
    assert Result.objects.filter(checkup__in=exams).count() == sum(c.result_count for c in exams)
    latest = exams.filter(member=world.member_a).order_by("-exam_date").first()
    view = build_report(latest)
    assert len(view.items) == len(demo.TYPICAL) and all(i.previous for i in view.items)
    assert Device.objects.get().kind == health_devices.HEALTH_KIOSK
    assert "体检结果：2 人" in out.getvalue()
