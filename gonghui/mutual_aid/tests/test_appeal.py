"""A member appeals a rejected claim from the H5 page: with a reason, back to 初审 through the
workflow, audited; nobody else's claim, nothing but a rejected one."""

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.core.errors import PermissionDenied
from gonghui.core.models import AuditEvent, WorkflowStep
from gonghui.mutual_aid import services
from gonghui.mutual_aid.models import Claim, ClaimStatus, Enrolment
from gonghui.mutual_aid.tests.factories import approver_of, enrol, make_period, submit
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db


def _member_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_member_appeals_a_rejected_claim_on_h5(world: World) -> None:
    period = make_period(world.federation_admin, world.city)
    enrol(world.staff_a, period, world.union_a, [world.member_a])
    claim = submit(world.staff_a, Enrolment.objects.get(member=world.member_a))
    client = _member_client(world.member_a.user)
    url = reverse("mutual_aid:h5_claim_appeal", args=[claim.pk])
    page = client.get(reverse("mutual_aid:h5_claim", args=[claim.pk])).content.decode()
    assert "appeal-form" not in page
    early = client.post(url, {"reason": "材料已补交"})
    assert early.status_code == 409 and "不能会员申诉" in early.content.decode()

    services.claim_reject(actor=world.staff_a, claim=claim, code="documents", reason="发票不清晰")
    page = client.get(reverse("mutual_aid:h5_claim", args=[claim.pk])).content.decode()
    assert "appeal-form" in page and "材料不全或不清晰" in page
    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 422 and "会员申诉时请填写原因" in empty.content.decode()
    other = _member_client(world.member_b.user)
    assert other.post(url, {"reason": "我也要申诉"}).status_code == 404
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.REJECTED

    done = client.post(url, {"reason": "已补交清晰的发票原件"})
    assert done.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.appeals, claim.reject_code) == (ClaimStatus.SUBMITTED, 1, "")
    step = WorkflowStep.objects.filter(object_id=claim.pk, transition="member_appeal").get()
    assert (step.actor_id, step.reason) == (world.member_a.user.pk, "已补交清晰的发票原件")
    event = AuditEvent.objects.get(action="mutual_aid_claim.member_appeal", object_id=str(claim.pk))
    assert event.actor_id == world.member_a.user.pk and event.detail["reason"] == "已补交清晰的发票原件"
    # …and it is adjudicated again by 初审.
    reviewed = services.claim_review(actor=world.staff_a, claim=claim)
    assert reviewed.status == ClaimStatus.REVIEWED and reviewed.benefit_fen == 740_000
    page = client.get(reverse("mutual_aid:h5_claim", args=[claim.pk])).content.decode()
    assert "会员申诉" in page and "appeal-form" not in page
    # Staff cannot take the member's own step, nor a member staff's.
    services.claim_reject(actor=approver_of(world.union_a), claim=reviewed, code="other", reason="复核不通过")
    with pytest.raises(PermissionDenied, match="只有会员本人"):
        services.claim_appeal(actor=world.staff_a, claim=claim, reason="代为申诉", by_member=True)
    with pytest.raises(PermissionDenied):
        services.claim_appeal(actor=world.member_a.user, claim=claim, reason="再次申诉")
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.REJECTED
