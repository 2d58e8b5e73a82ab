"""How to build union A's object for each parameterised URL of this app (see
site/tests/test_url_access.py)."""

from typing import Any

from gonghui.benefits.models import IssueRun
from gonghui.benefits.services import ISSUE_RUN_JOB
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_device, make_point, make_redemption
from gonghui.core import jobs
from gonghui.site.testing import World


def _campaign(world: World) -> dict[str, Any]:
    return {"pk": make_campaign(world.union_a, world.staff_a).pk}


def _draft(world: World) -> dict[str, Any]:
    return {"pk": make_campaign(world.union_a, world.staff_a, status="draft").pk}


def _run(world: World) -> dict[str, Any]:
    campaign = make_campaign(world.union_a, world.staff_a, mode="targeted")
    job = jobs.job_create(kind=ISSUE_RUN_JOB, organization=world.union_a, created_by=world.staff_a)
    run = IssueRun.objects.create(campaign=campaign, organization=world.union_a, started_by=world.staff_a, job=job)
    return {"pk": run.pk}


def _point(world: World) -> dict[str, Any]:
    return {"pk": make_point(world.union_a).pk}


def _point_device(world: World) -> dict[str, Any]:
    point = make_point(world.union_a)
    device, _ = make_device(point)
    return {"pk": point.pk, "device_id": device.pk}


def _coupon(world: World) -> dict[str, Any]:
    return {"pk": make_coupon(make_campaign(world.union_a, world.staff_a), world.member_a).pk}


def _redemption(world: World) -> dict[str, Any]:
    point = make_point(world.union_a)
    coupon = make_coupon(make_campaign(world.union_a, world.staff_a, points=[point]), world.member_a)
    return {"pk": make_redemption(coupon, point, world.staff_a).pk}


URL_OBJECTS = {
    "benefits:campaign_detail": _campaign,
    "benefits:campaign_edit": _draft,
    "benefits:campaign_targets": _draft,
    "benefits:campaign_publish": _draft,
    "benefits:campaign_close": _campaign,
    "benefits:campaign_issue": _campaign,
    "benefits:campaign_coupons": _campaign,
    "benefits:campaign_report": _campaign,
    "benefits:campaign_report_xlsx": _campaign,
    "benefits:run_detail": _run,
    "benefits:run_progress": _run,
    "benefits:run_resume": _run,
    "benefits:run_cancel": _run,
    "benefits:point_detail": _point,
    "benefits:point_edit": _point,
    "benefits:point_device_register": _point,
    "benefits:point_device_deactivate": _point_device,
    "benefits:point_unlock": _point,
    "benefits:redemption_reverse": _redemption,
    "benefits:h5_coupon_detail": _coupon,
    "benefits:h5_campaign": _campaign,
    "benefits:h5_claim": _campaign,
    "api:benefits_claim": lambda w: {"campaign_id": make_campaign(w.union_a, w.staff_a).pk},
}
