"""The workflow mechanism itself, on a small workflow declared here for an existing model (a
join application standing for any case a union decides with an amount)."""

import datetime as dt
import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.utils import timezone

from gonghui.core import workflow
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent, WorkflowCase, WorkflowStep
from gonghui.core.permissions import Role
from gonghui.members.permissions import MemberPerm
from gonghui.site.testing import World, build_world, grant, make_user

GRASSROOTS, STREET = 5, 4  # organisation levels of the test world's unions and their street


class GrantState(models.TextChoices):
    PENDING = "pending", "待审批"
    ESCALATED = "checked", "待上级审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


def _grant_workflow() -> workflow.Workflow:
    return workflow.Workflow(
        name="test_grant",
        noun="该补助申请",
        model=apps.get_model("members", "JoinApplication"),
        states=GrantState,
        transitions=(
            workflow.Transition(
                name="approve",
                label="批准",
                sources=(GrantState.PENDING, GrantState.ESCALATED),
                target=GrantState.APPROVED,
                perm=MemberPerm.MEMBER_EDIT,
                forbid=("decided_by", "step:approve"),
                limits={GRASSROOTS: 100_000, STREET: 500_000},
                escalate_to=GrantState.ESCALATED,
            ),
            workflow.Transition(
                name="reject",
                label="驳回",
                sources=(GrantState.PENDING, GrantState.ESCALATED),
                target=GrantState.REJECTED,
                perm=MemberPerm.MEMBER_EDIT,
                reason_required=True,
            ),
        ),
        deadlines={GrantState.PENDING: dt.timedelta(days=3), GrantState.ESCALATED: dt.timedelta(days=2)},
    )


def _case(world: World, grant_flow: workflow.Workflow, n: int = 1, **fields: Any) -> Any:
    application = apps.get_model("members", "JoinApplication").objects.create(
        organization=world.union_a,
        name="申请人%d" % n,
        id_number_encrypted="-",
        id_blind="blind-%d" % n,
        id_masked="-",
        phone="1370000%04d" % n,
        **fields,
    )
    workflow.workflow_start(actor=None, obj=application, workflow=grant_flow)
    return application


def _approve(actor: Any, obj: Any, grant_flow: workflow.Workflow, amount_fen: int, **kwargs: Any) -> Any:
    return workflow.workflow_transition(
        actor=actor, obj=obj, workflow=grant_flow, transition="approve", amount_fen=amount_fen, **kwargs
    )


def _state(obj: Any) -> str:
    return str(type(obj).objects.values_list("status", flat=True).get(pk=obj.pk))


@pytest.mark.django_db
def test_an_actor_without_the_permission_is_refused_audited_and_nothing_changes(world: World) -> None:
    flow = _grant_workflow()
    application = _case(world, flow)
    with pytest.raises(PermissionDenied) as exc:
        _approve(world.staff_b, application, flow, 50_000)
    assert exc.value.message == "您无权批准该补助申请"
    assert _state(application) == GrantState.PENDING
    assert list(WorkflowStep.objects.values_list("transition", flat=True)) == ["submit"]
    denied = AuditEvent.objects.get(action="test_grant.approve")
    assert (denied.result, denied.actor_id, denied.detail) == ("denied", world.staff_b.pk, {"reason": "permission"})


@pytest.mark.django_db
def test_a_forbidden_actor_is_refused_and_nothing_changes(world: World) -> None:
    flow = _grant_workflow()
    application = _case(world, flow, decided_by=world.staff_a)  # staff_a last edited the case
    with pytest.raises(PermissionDenied) as exc:
        _approve(world.staff_a, application, flow, 50_000)
    assert exc.value.message == "您已经办理过该补助申请的前一步，不能再批准，请由另一位工作人员办理"
    assert _state(application) == GrantState.PENDING
    assert WorkflowStep.objects.filter(transition="approve").count() == 0
    assert AuditEvent.objects.get(action="test_grant.approve").detail == {"reason": "separation_of_duties"}
    options = workflow.workflow_options(actor=world.staff_a, workflow=flow, obj=application)
    assert (options["approve"].allowed, options["reject"].allowed) == (False, True)
    assert workflow.workflow_options(actor=world.staff_b, workflow=flow, obj=application) == {}


@pytest.mark.django_db
def test_a_reason_and_an_amount_are_required_where_declared(world: World) -> None:
    flow = _grant_workflow()
    application = _case(world, flow)
    with pytest.raises(ValidationFailed) as exc:
        workflow.workflow_transition(actor=world.staff_a, obj=application, workflow=flow, transition="reject")
    assert exc.value.fields == {"reason": "请填写原因"}
    with pytest.raises(ValidationFailed) as exc:
        workflow.workflow_transition(actor=world.staff_a, obj=application, workflow=flow, transition="approve")
    assert exc.value.fields == {"amount": "请填写审批金额"}
    assert _state(application) == GrantState.PENDING
    assert not AuditEvent.objects.filter(action__startswith="test_grant.approve").exists()


@pytest.mark.django_db
def test_within_the_level_limit_the_approval_is_final_with_history_audit_and_hook(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    flow = _grant_workflow()
    seen: list[int] = []
    flow.subscribe("approve", seen.append)
    application = _case(world, flow)
    with django_capture_on_commit_callbacks(execute=True):
        approved = _approve(world.staff_a, application, flow, 100_000, note="首次")
    assert approved.status == _state(application) == GrantState.APPROVED
    assert seen == [application.pk]
    steps = list(workflow.workflow_history(workflow=flow, obj=application))
    assert [(s.transition, s.from_state, s.to_state, s.actor_id) for s in steps] == [
        ("submit", "", GrantState.PENDING, None),
        ("approve", GrantState.PENDING, GrantState.APPROVED, world.staff_a.pk),
    ]
    assert steps[1].data == {"amount_fen": 100_000, "level": GRASSROOTS, "limit_fen": 100_000, "note": "首次"}
    event = AuditEvent.objects.get(action="test_grant.approve")
    assert (event.result, event.organization_id, event.detail["from"], event.detail["to"]) == (
        "ok",
        world.union_a.pk,
        GrantState.PENDING,
        GrantState.APPROVED,
    )
    with pytest.raises(Conflict) as exc:
        _approve(world.staff_b, application, flow, 100)
    assert exc.value.message == "该补助申请当前为“已批准”，不能批准"


@pytest.mark.django_db
def test_above_the_limit_the_case_goes_to_the_parent_level_whose_approver_decides(world: World) -> None:
    flow = _grant_workflow()
    application = _case(world, flow)
    escalated = _approve(world.staff_a, application, flow, 300_000)
    assert escalated.status == GrantState.ESCALATED
    case = WorkflowCase.objects.get(object_id=application.pk, workflow="test_grant")
    assert (case.state, case.escalated_org_id, case.escalated_org_path) == (
        GrantState.ESCALATED,
        world.street.pk,
        world.street.path,
    )
    assert list(workflow.escalated_to(workflow=flow, path_prefixes=[world.street.path])) == [application]
    # The grassroots approver has no say at the street level any more; nothing changes.
    with pytest.raises(PermissionDenied):
        _approve(world.staff_a, application, flow, 300_000)
    assert _state(application) == GrantState.ESCALATED
    street_handler = grant(make_user("street_handler"), world.street, Role.HANDLER)
    approved = _approve(street_handler, application, flow, 300_000)
    assert approved.status == GrantState.APPROVED
    case.refresh_from_db()
    assert (case.escalated_org_id, case.escalated_org_path) == (None, "")
    assert list(WorkflowStep.objects.filter(transition="approve").values_list("to_state", "data")) == [
        (
            GrantState.ESCALATED,
            {"amount_fen": 300_000, "level": GRASSROOTS, "limit_fen": 100_000, "escalated_to": world.street.pk},
        ),
        (GrantState.APPROVED, {"amount_fen": 300_000, "level": STREET, "limit_fen": 500_000}),
    ]


@pytest.mark.django_db
def test_an_approver_who_escalated_may_not_approve_again_higher_up(world: World) -> None:
    flow = _grant_workflow()
    both = grant(make_user("both_levels"), world.union_a, Role.HANDLER)
    application = _case(world, flow)
    _approve(both, application, flow, 300_000)
    grant(both, world.street, Role.HANDLER)
    with pytest.raises(PermissionDenied):
        _approve(both, application, flow, 300_000)
    assert _state(application) == GrantState.ESCALATED


@pytest.mark.django_db
def test_the_street_decides_within_its_own_limit_and_escalates_above_it(world: World) -> None:
    flow = _grant_workflow()
    application = _case(world, flow)
    street_handler = grant(make_user("street_handler2"), world.street, Role.HANDLER)
    # A street approver's reach is the street: its limit applies, not the grassroots one.
    assert _approve(street_handler, application, flow, 400_000).status == GrantState.APPROVED
    other = _case(world, flow, n=2)
    escalated = _approve(street_handler, other, flow, 600_000)
    case = WorkflowCase.objects.get(object_id=other.pk, workflow="test_grant")
    assert (escalated.status, case.escalated_org_id) == (GrantState.ESCALATED, world.street.parent_id)


@pytest.mark.django_db
def test_deadlines_are_stored_per_state_and_overdue_is_a_query(world: World) -> None:
    flow = _grant_workflow()
    before = timezone.now()
    late = _case(world, flow, n=1)
    fresh = _case(world, flow, n=2)
    case = WorkflowCase.objects.get(object_id=late.pk, workflow="test_grant")
    assert before + dt.timedelta(days=3) <= case.due_at <= timezone.now() + dt.timedelta(days=3)
    WorkflowCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    assert list(workflow.overdue(workflow=flow)) == [late]
    assert set(workflow.overdue(workflow=flow, now=timezone.now() + dt.timedelta(days=4))) == {late, fresh}
    _approve(world.staff_a, late, flow, 100)
    assert WorkflowCase.objects.get(pk=case.pk).due_at is None  # an approved case is due nowhere
    assert list(workflow.overdue(workflow=flow)) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_racing_approvals_one_wins_the_other_gets_a_conflict() -> None:
    world = build_world()
    flow = _grant_workflow()
    application = _case(world, flow)
    second = grant(make_user("second_approver"), world.union_a, Role.HANDLER)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def slow(obj: Any, step: workflow.Step) -> list[str]:
        time.sleep(0.3)  # hold the row lock while the other approval waits for it
        return []

    def approve(actor: Any) -> None:
        try:
            barrier.wait()
            _approve(actor, application, flow, 100, effect=slow)
            outcomes[actor.username] = "approved"
        except Conflict as exc:
            outcomes[actor.username] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(actor,)) for actor in (world.staff_a, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["approved", "该补助申请当前为“已批准”，不能批准"]
    assert WorkflowStep.objects.filter(transition="approve").count() == 1
    assert AuditEvent.objects.filter(action="test_grant.approve", result="ok").count() == 1
    assert _state(application) == GrantState.APPROVED


# ---- the applicant's own transitions -------------------------------------------------------


class AppealState(models.TextChoices):
    PENDING = "pending", "待审批"
    REJECTED = "rejected", "未批准"
    WITHDRAWN = "withdrawn", "已撤回"


def _is_applicant(obj: Any, actor: Any, proof: str) -> bool:
    if proof:
        return proof == obj.details.get("code")
    return obj.member_id is not None and getattr(actor, "pk", None) == obj.member.user_id


def _appeal_workflow() -> workflow.Workflow:
    return workflow.Workflow(
        name="test_appeal",
        noun="该申请",
        model=apps.get_model("members", "JoinApplication"),
        states=AppealState,
        applicant=_is_applicant,
        transitions=(
            workflow.Transition(
                name="reject",
                label="驳回",
                sources=(AppealState.PENDING,),
                target=AppealState.REJECTED,
                perm=MemberPerm.MEMBER_EDIT,
            ),
            workflow.Transition(
                name="appeal",
                label="申诉",
                sources=(AppealState.REJECTED,),
                target=AppealState.PENDING,
                reason_required=True,
                by_applicant=True,
            ),
            workflow.Transition(
                name="withdraw",
                label="撤回",
                sources=(AppealState.PENDING, AppealState.REJECTED),
                target=AppealState.WITHDRAWN,
                by_applicant=True,
            ),
        ),
    )


def test_an_applicant_transition_needs_the_applicant_test_and_no_permission() -> None:
    model = apps.get_model("members", "JoinApplication")
    mine = workflow.Transition("withdraw", "撤回", (AppealState.PENDING,), AppealState.WITHDRAWN, by_applicant=True)
    with pytest.raises(ImproperlyConfigured):
        workflow.Workflow(name="x", noun="x", model=model, states=AppealState, transitions=(mine,))
    with pytest.raises(ImproperlyConfigured):
        workflow.Workflow(
            name="x",
            noun="x",
            model=model,
            states=AppealState,
            applicant=_is_applicant,
            transitions=(replace(mine, perm=MemberPerm.MEMBER_EDIT),),
        )
    staff = workflow.Transition("reject", "驳回", (AppealState.PENDING,), AppealState.REJECTED)
    with pytest.raises(ImproperlyConfigured):
        workflow.Workflow(name="x", noun="x", model=model, states=AppealState, transitions=(staff,))


@pytest.mark.django_db
def test_the_member_applicant_takes_their_transition_with_history_and_audit(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    flow = _appeal_workflow()
    seen: list[int] = []
    flow.subscribe("appeal", seen.append)
    application = _case(world, flow, member=world.member_a)
    application = workflow.workflow_transition(actor=world.staff_a, obj=application, workflow=flow, transition="reject")
    # Staff hold no applicant's transition, whatever their roles; the applicant holds no staff one.
    assert set(workflow.workflow_options(actor=world.staff_a, workflow=flow, obj=application)) == set()
    member_user = world.member_a.user
    assert set(workflow.workflow_options(actor=member_user, workflow=flow, obj=application)) == {"appeal", "withdraw"}
    with pytest.raises(ValidationFailed):
        workflow.workflow_transition(actor=member_user, obj=application, workflow=flow, transition="appeal")
    with django_capture_on_commit_callbacks(execute=True):
        appealed = workflow.workflow_transition(
            actor=member_user, obj=application, workflow=flow, transition="appeal", reason="材料已补齐"
        )
    assert appealed.status == _state(application) == AppealState.PENDING and seen == [application.pk]
    step = WorkflowStep.objects.get(transition="appeal")
    assert (step.actor_id, step.from_state, step.to_state, step.reason, step.data) == (
        member_user.pk,
        AppealState.REJECTED,
        AppealState.PENDING,
        "材料已补齐",
        {"by_applicant": True},
    )
    event = AuditEvent.objects.get(action="test_appeal.appeal")
    assert (event.result, event.actor_id, event.organization_id) == ("ok", member_user.pk, world.union_a.pk)
    assert event.detail == {
        "from": AppealState.REJECTED,
        "to": AppealState.PENDING,
        "reason": "材料已补齐",
        "by_applicant": True,
    }
    assert WorkflowCase.objects.get(object_id=application.pk, workflow="test_appeal").state == AppealState.PENDING
    with pytest.raises(PermissionDenied):
        workflow.workflow_transition(actor=member_user, obj=application, workflow=flow, transition="reject")


@pytest.mark.django_db
def test_someone_else_is_refused_an_applicant_transition_audited_and_nothing_changes(world: World) -> None:
    flow = _appeal_workflow()
    application = _case(world, flow, member=world.member_a, details={"code": "S3CRET"})
    for actor, proof in ((world.member_b.user, ""), (world.staff_a, ""), (None, ""), (None, "WRONG")):
        with pytest.raises(PermissionDenied) as exc:
            workflow.workflow_transition(
                actor=actor, obj=application, workflow=flow, transition="withdraw", proof=proof
            )
        assert exc.value.message == "只有申请人本人可以撤回该申请"
    assert _state(application) == AppealState.PENDING
    assert list(WorkflowStep.objects.values_list("transition", flat=True)) == ["submit"]
    denied = AuditEvent.objects.filter(action="test_appeal.withdraw")
    assert [(e.result, e.actor_id, e.detail) for e in denied.order_by("id")] == [
        ("denied", world.member_b.user.pk, {"reason": "not_applicant"}),
        ("denied", world.staff_a.pk, {"reason": "not_applicant"}),
        ("denied", None, {"reason": "not_applicant"}),
        ("denied", None, {"reason": "not_applicant"}),
    ]
    # Someone without an account is refused every staff transition, too.
    with pytest.raises(PermissionDenied):
        workflow.workflow_transition(actor=None, obj=application, workflow=flow, transition="reject", proof="S3CRET")
    assert _state(application) == AppealState.PENDING


@pytest.mark.django_db
def test_the_holder_of_the_proof_takes_the_transition_without_an_account_and_the_proof_is_not_kept(
    world: World,
) -> None:
    flow = _appeal_workflow()
    application = _case(world, flow, details={"code": "S3CRET"})
    assert set(workflow.workflow_options(actor=None, workflow=flow, obj=application, proof="S3CRET")) == {"withdraw"}
    assert workflow.workflow_options(actor=None, workflow=flow, obj=application, proof="WRONG") == {}
    withdrawn = workflow.workflow_transition(
        actor=None, obj=application, workflow=flow, transition="withdraw", proof="S3CRET"
    )
    assert withdrawn.status == AppealState.WITHDRAWN
    step = WorkflowStep.objects.get(transition="withdraw")
    assert (step.actor_id, step.data) == (None, {"by_applicant": True, "by_proof": True})
    event = AuditEvent.objects.get(action="test_appeal.withdraw")
    assert event.actor_id is None and "S3CRET" not in str(event.detail)
    with pytest.raises(Conflict):
        workflow.workflow_transition(actor=None, obj=application, workflow=flow, transition="withdraw", proof="S3CRET")
