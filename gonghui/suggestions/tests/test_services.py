"""The ledger's services: triage, notices to several departments, progress, closure only with
evidence, answers reviewed by another person, the submitter's rating and re-opening (the clock
restarts, the history stays), and escalation of breaches — once, not every run."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent, WorkflowStep
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_user
from gonghui.suggestions import selectors, services
from gonghui.suggestions.models import Channel, Item, ItemStatus, Notice, Notification, SubmitterKind
from gonghui.suggestions.sla import SlaState
from gonghui.suggestions.tests.factories import (
    EVIDENCE,
    contact_of,
    handler_of,
    make_department,
    make_item,
    make_notice,
)

pytestmark = pytest.mark.django_db


def test_the_content_is_sealed_at_rest_and_the_item_numbered(world: World) -> None:
    item = make_item(world.union_a, member=world.member_a, content="夜班职工希望食堂晚餐增加面食")
    raw = Item.objects.values_list("content_encrypted", flat=True).get(pk=item.pk)
    assert "面食" not in raw and raw.startswith("v1:")
    assert Item.objects.get(pk=item.pk).content == "夜班职工希望食堂晚餐增加面食"
    assert item.number == "SQ%d%06d" % (timezone.localdate().year, item.pk)
    assert item.sla_rule == "一般诉求"
    assert WorkflowStep.objects.filter(object_id=item.pk, workflow="suggestion", transition="submit").count() == 1


def test_anonymous_submission_keeps_only_a_hash_of_the_tracking_code(world: World) -> None:
    item, code = services.item_submit(
        actor=world.member_a.user,
        organization=world.union_a,
        channel=Channel.ONLINE,
        title="更衣室热水",
        content="热水时有时无",
        kind=SubmitterKind.ANONYMOUS,
        member=world.member_a,
    )
    assert len(code) == 14 and item.member_id is None
    assert item.tracking_hash == services.tracking_hash(code) and code not in item.tracking_hash
    assert selectors.item_by_tracking_code(code.lower()).pk == item.pk
    assert selectors.item_by_tracking_code("AAAA-BBBB-CCCC") is None


def test_a_notice_goes_to_two_departments_numbered_per_organisation_and_year(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    c1, c2 = contact_of(world.union_a, "c1"), contact_of(world.union_a, "c2")
    d1, d2 = make_department(world.union_a, "体检中心", c1), make_department(world.union_a, "信息中心", c2)
    item = make_item(world.union_a)
    with django_capture_on_commit_callbacks(execute=True):
        first = make_notice(item, [d1, d2])
    second = make_notice(make_item(world.union_a), [d1])
    year = timezone.localdate().year
    assert (first.year, first.seq, second.seq) == (year, 1, 2)
    assert first.number == "诉求整改〔%d〕1号" % year
    assert set(first.departments.values_list("name", flat=True)) == {"体检中心", "信息中心"}
    assert Item.objects.get(pk=first.item_id).status == ItemStatus.IN_PROGRESS
    assert set(
        Notification.objects.filter(item=first.item, text__startswith="整改通知单").values_list(
            "user__username", flat=True
        )
    ) == {"c1", "c2"}


def test_a_notice_needs_a_department_of_the_item_s_organisation(world: World) -> None:
    other = make_department(world.union_b, "后勤保障部")
    item = services.item_accept(actor=handler_of(world.union_a), item=make_item(world.union_a))
    with pytest.raises(ValidationFailed):
        services.notice_issue(
            actor=handler_of(world.union_a),
            item=item,
            departments=[other],
            requirement="x",
            deadline=timezone.localdate(),
        )
    assert not Notice.objects.exists()


def test_only_a_contact_of_an_addressed_department_posts_progress(world: World) -> None:
    contact, stranger = contact_of(world.union_a, "c1"), contact_of(world.union_a, "c9")
    dept = make_department(world.union_a, "体检中心", contact)
    make_department(world.union_a, "财务部", stranger)
    notice = make_notice(make_item(world.union_a), [dept])
    with pytest.raises(PermissionDenied):
        services.progress_post(actor=stranger, notice=notice, department=dept, text="已办")
    services.progress_post(actor=contact, notice=notice, department=dept, text="已调研", uploads=[EVIDENCE])
    assert list(notice.progress.values_list("text", flat=True)) == ["已调研"]


def test_closure_requires_evidence(world: World) -> None:
    handler = handler_of(world.union_a)
    item = services.item_accept(actor=handler, item=make_item(world.union_a, actor=handler))
    with pytest.raises(ValidationFailed, match="佐证"):
        services.item_close(actor=handler, item=item, text="已办结")
    assert Item.objects.get(pk=item.pk).status == ItemStatus.ACCEPTED
    closed = services.item_close(actor=handler, item=item, text="已办结", uploads=[EVIDENCE])
    assert closed.status == ItemStatus.CLOSED and closed.resolved_at is not None
    assert services.attachment_bytes(closed.attachments.get()) == EVIDENCE.data


def test_an_answer_is_published_only_by_another_person(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    handler = grant(make_user("h"), world.union_a, Role.HANDLER, Role.REVIEWER)
    reviewer = grant(make_user("r"), world.union_a, Role.REVIEWER)
    item = make_item(world.union_a, actor=handler, member=world.member_a)
    answer = services.answer_record(actor=handler, item=item, text="已协调食堂增加面食")
    with pytest.raises(PermissionDenied, match="不能审核自己"):
        services.answer_publish(actor=handler, answer=answer)
    assert Item.objects.get(pk=item.pk).first_response_at is None
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_publish(actor=reviewer, answer=answer)
    assert Item.objects.get(pk=item.pk).first_response_at is not None
    assert Notification.objects.filter(user=world.member_a.user, item=item).exists()


def test_merge_and_decline(world: World) -> None:
    handler = handler_of(world.union_a)
    a, b = make_item(world.union_a, actor=handler), make_item(world.union_a, actor=handler)
    services.item_merge(actor=handler, item=b, into=a)
    assert Item.objects.get(pk=b.pk).merged_into_id == a.pk
    with pytest.raises(ValidationFailed):
        services.item_decline(actor=handler, item=a, reason="")
    services.item_decline(actor=handler, item=a, reason="不属于工会职责范围")
    assert Item.objects.get(pk=a.pk).status == ItemStatus.DECLINED


def test_staff_of_a_sibling_union_cannot_triage(world: World) -> None:
    item = make_item(world.union_a)
    with pytest.raises(PermissionDenied):
        services.item_accept(actor=world.staff_b, item=item)
    assert Item.objects.get(pk=item.pk).status == ItemStatus.SUBMITTED
    accepted = services.item_accept(actor=handler_of(world.union_a), item=item)
    with pytest.raises(PermissionDenied):
        services.item_close(actor=world.staff_b, item=accepted, text="越权销账", uploads=[EVIDENCE])
    assert Item.objects.get(pk=item.pk).status == ItemStatus.ACCEPTED and not accepted.progress.exists()
    # The refusal is on the record (not rolled back with the refused change).
    denied = AuditEvent.objects.get(action="suggestion.close")
    assert (denied.result, denied.actor_id) == ("denied", world.staff_b.pk)


def _closed(world: World) -> Item:
    handler = handler_of(world.union_a)
    item = services.item_accept(actor=handler, item=make_item(world.union_a, actor=handler, member=world.member_a))
    return services.item_close(actor=handler, item=item, text="已办结", uploads=[EVIDENCE])


def test_the_member_rates_once_per_closure(world: World) -> None:
    item = _closed(world)
    with pytest.raises(ValidationFailed):
        services.item_rate(actor=world.member_a.user, item=item, score="6", comment="")
    services.item_rate(actor=world.member_a.user, item=item, score="5", comment="很满意")
    with pytest.raises(Conflict):
        services.item_rate(actor=world.member_a.user, item=item, score="4", comment="")
    with pytest.raises(Conflict):
        services.item_reopen(actor=world.member_a.user, item=item, reason="还是不满意")
    assert list(item.ratings.values_list("score", flat=True)) == [5]
    assert Item.objects.get(pk=item.pk).status == ItemStatus.CLOSED
    step = WorkflowStep.objects.get(object_id=item.pk, workflow="suggestion", transition="confirm")
    assert (step.actor_id, step.from_state, step.to_state, step.data) == (
        world.member_a.user.pk,
        ItemStatus.CLOSED,
        ItemStatus.CLOSED,
        {"by_applicant": True, "score": 5},
    )
    event = AuditEvent.objects.get(action="suggestion.confirm", result="ok")
    assert (event.actor_id, event.organization_id) == (world.member_a.user.pk, world.union_a.pk)


def test_only_the_submitter_confirms_or_reopens_not_staff_nor_another_member(world: World) -> None:
    item = _closed(world)
    for actor in (world.member_b.user, world.staff_a, None):
        with pytest.raises(PermissionDenied, match="只有提出人本人可以确认并评价该诉求"):
            services.item_rate(actor=actor, item=item, score="5", comment="")
        with pytest.raises(PermissionDenied, match="只有提出人本人可以重新办理该诉求"):
            services.item_reopen(actor=actor, item=item, reason="代为申请")
    item.refresh_from_db()
    assert (item.status, item.reopen_count, item.ratings.count(), item.reopenings.count()) == (
        ItemStatus.CLOSED,
        0,
        0,
        0,
    )
    assert not WorkflowStep.objects.filter(transition__in=["confirm", "reopen"]).exists()
    denied = AuditEvent.objects.filter(action__in=["suggestion.confirm", "suggestion.reopen"])
    assert {(e.result, e.detail["reason"]) for e in denied} == {("denied", "not_applicant")}
    assert denied.count() == 6


def test_the_holder_of_the_tracking_code_rates_and_reopens_with_the_code_and_nothing_else(world: World) -> None:
    item, code = services.item_submit(
        actor=world.member_a.user,
        organization=world.union_a,
        channel=Channel.ONLINE,
        title="更衣室热水",
        content="热水时有时无",
        kind=SubmitterKind.ANONYMOUS,
    )
    handler = handler_of(world.union_a)
    services.item_accept(actor=handler, item=item)
    item = services.item_close(actor=handler, item=item, text="已维修", uploads=[EVIDENCE])
    # The member's account that filed it anonymously is not tied to it: no code, no step.
    for actor, wrong in ((world.member_a.user, ""), (None, "AAAA-BBBB-CCCC"), (None, "")):
        with pytest.raises(PermissionDenied):
            services.item_reopen(actor=actor, item=item, reason="还是没有热水", code=wrong)
    reopened = services.item_reopen(actor=None, item=item, reason="还是没有热水", code=code.lower())
    assert reopened.status == ItemStatus.IN_PROGRESS and reopened.reopen_count == 1
    step = WorkflowStep.objects.get(object_id=item.pk, workflow="suggestion", transition="reopen")
    assert (step.actor_id, step.reason, step.data) == (None, "还是没有热水", {"by_applicant": True, "by_proof": True})
    assert code not in str(AuditEvent.objects.get(action="suggestion.reopen", result="ok").detail)
    closed = services.item_close(actor=handler, item=reopened, text="已更换热水器", uploads=[EVIDENCE])
    rating = services.item_rate(actor=None, item=closed, score=4, comment="好了", code=code)
    assert (rating.round, rating.score) == (2, 4)


def test_reopening_restarts_the_clock_and_keeps_the_history(world: World) -> None:
    item = _closed(world)
    old_start = item.clock_started_at
    later = timezone.now() + dt.timedelta(days=3)
    with time_machine.travel(later, tick=False):
        reopened = services.item_reopen(actor=world.member_a.user, item=item, reason="晚餐依旧只有米饭")
    assert reopened.status == ItemStatus.IN_PROGRESS
    assert reopened.clock_started_at == later and reopened.clock_started_at > old_start
    assert reopened.resolved_at is None and reopened.first_response_at is None and reopened.reopen_count == 1
    steps = list(
        WorkflowStep.objects.filter(object_id=item.pk, workflow="suggestion").values_list("transition", flat=True)
    )
    assert steps == ["submit", "accept", "close", "reopen"]
    assert reopened.reopenings.get().previous_clock_started_at == old_start
    with time_machine.travel(later + dt.timedelta(hours=1), tick=False):
        assert services.clock_of(reopened).state == SlaState.ON_TRACK


def test_escalation_happens_once_not_every_run(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    parent_staff = grant(make_user("street_staff"), world.street, Role.HANDLER)
    start = timezone.now() - dt.timedelta(days=60)
    item = make_item(world.union_a, received_at=start)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_breaches() == 1
        assert services.escalate_breaches() == 0
    item.refresh_from_db()
    assert item.escalated_to_id == world.street.pk and item.escalated_at is not None
    assert AuditEvent.objects.filter(action="suggestions.escalate", object_id=str(item.pk)).count() == 1
    assert Notification.objects.filter(user=parent_staff, item=item).count() == 1


def test_an_item_inside_its_limits_is_not_escalated(world: World) -> None:
    make_item(world.union_a)
    assert services.escalate_breaches() == 0
    assert not AuditEvent.objects.filter(action="suggestions.escalate").exists()
