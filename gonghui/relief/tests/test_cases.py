"""临时救助 and 大病救助 cases: 一事一救, separation of duties, amounts above a level's limit going up
a level, fast-track paperwork chased past its deadline, the 大病 computation kept with its version."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.organizations.policies import policy_approve, policy_propose
from gonghui.relief import cases, policies, selectors
from gonghui.relief.models import CaseKind, CaseStatus, ReliefCase
from gonghui.relief.tests.url_objects import case_data
from gonghui.site.testing import World, grant, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(world: World):  # type: ignore[no-untyped-def]
    """A second 经办人+审核人 of union A: whoever did not submit."""
    return grant(make_user("colleague_a"), world.union_a, Role.HANDLER, Role.REVIEWER)


@pytest.fixture
def street_reviewer(world: World):  # type: ignore[no-untyped-def]
    return grant(make_user("street_reviewer"), world.street, Role.REVIEWER)


def submit(world: World, **overrides: str) -> ReliefCase:
    return cases.case_submit(actor=world.staff_a, member=world.member_a, data=case_data(**overrides))


def test_a_case_is_submitted_with_the_situation_card_masked_and_history(world: World) -> None:
    case = submit(world)
    assert case.status == CaseStatus.SUBMITTED and case.kind == CaseKind.TEMPORARY
    assert case.situation_label == "突发意外" and case.amount_requested_fen == 300_000
    assert case.payee_card_masked == "6222***********3445" and "6222020200112233445" not in case.payee_card_encrypted
    assert AuditEvent.objects.filter(action="relief_case.submit", object_id=str(case.pk)).count() == 1


def test_one_event_one_case_a_second_case_for_the_same_event_is_refused(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    first = submit(world)
    with pytest.raises(Conflict, match="一事一救") as caught:
        submit(world, amount="500")
    assert first.case_no in caught.value.message
    assert ReliefCase.objects.count() == 1
    # Another event (another day or another situation) is another case …
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    submit(world, event_date=yesterday)
    submit(world, situation="disaster")
    # … and a refused case no longer blocks its event.
    cases.case_reject(actor=colleague, case=first, reason="材料不实")
    assert submit(world).status == CaseStatus.SUBMITTED


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"situation": "lottery"}, "situation", "请从列表中选择"),
        ({"amount": "0"}, "amount", "申请金额应大于 0"),
        ({"amount": "NaN"}, "amount", "申请金额应为以元为单位的数字，如 12.50"),
        ({"amount": "1000001"}, "amount", "申请金额不能超过 1000000.00 元"),
        ({"payee_card": "12345"}, "payee_card", "请填写 12 到 19 位数字的银行卡号"),
        ({"description": ""}, "description", "请填写情况说明"),
        ({"event_date": "2999-01-01"}, "event_date", None),
    ],
)
def test_a_bad_application_is_refused_in_chinese(
    world: World, overrides: dict, field: str, message: str | None
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        submit(world, **overrides)
    assert field in caught.value.fields
    if message:
        assert caught.value.fields[field] == message
    assert not ReliefCase.objects.exists()


def test_the_submitter_can_neither_review_nor_approve(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    case = submit(world, amount="1000")
    with pytest.raises(PermissionDenied, match="不能审核自己提交的救助申请"):
        cases.case_review(actor=world.staff_a, case=case)
    cases.case_review(actor=colleague, case=case)
    case.refresh_from_db()
    with pytest.raises(PermissionDenied, match="不能审批自己提交的救助申请"):
        cases.case_approve(actor=world.staff_a, case=case, amount_fen=100_000)
    assert ReliefCase.objects.get(pk=case.pk).status == CaseStatus.REVIEWED
    approved = cases.case_approve(actor=colleague, case=case, amount_fen=100_000)
    assert approved.status == CaseStatus.APPROVED and approved.amount_approved_fen == 100_000


def test_an_amount_above_the_grassroots_limit_goes_up_to_the_street(world: World, colleague, street_reviewer) -> None:  # type: ignore[no-untyped-def]
    case = submit(world, amount="3000")
    cases.case_review(actor=colleague, case=case)
    escalated = cases.case_approve(actor=colleague, case=case, amount_fen=300_000)  # grassroots limit ¥2,000
    assert escalated.status == CaseStatus.ESCALATED and escalated.amount_approved_fen is None
    with pytest.raises(PermissionDenied):
        cases.case_approve(actor=colleague, case=escalated, amount_fen=300_000)
    done = cases.case_approve(actor=street_reviewer, case=escalated, amount_fen=300_000)  # street limit ¥5,000
    assert done.status == CaseStatus.APPROVED and done.amount_approved_fen == 300_000
    step = AuditEvent.objects.filter(action="relief_case.approve", result="ok").order_by("id")
    assert [(e.detail["level"], e.detail["limit_fen"]) for e in step] == [(5, 200_000), (4, 500_000)]


def test_an_amount_within_the_limit_is_decided_at_the_grassroots(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    case = submit(world, amount="2000")
    cases.case_review(actor=colleague, case=case)
    assert cases.case_approve(actor=colleague, case=case, amount_fen=200_000).status == CaseStatus.APPROVED


def test_the_limits_are_the_versioned_policys(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    second = grant(make_user("province_reviewer"), world.province, Role.REVIEWER)
    version = policy_propose(
        actor=world.federation_admin,
        kind=policies.APPROVAL_LIMITS,
        organization=world.province,
        body={"limits": [{"level": 5, "max_fen": 500_000}]},
    )
    policy_approve(actor=second, version_id=version.pk)
    case = submit(world, amount="3000")
    cases.case_review(actor=colleague, case=case)
    done = cases.case_approve(actor=colleague, case=case, amount_fen=300_000)
    assert done.status == CaseStatus.APPROVED and done.approval_limits_policy_id == version.pk


def test_an_approval_above_the_request_is_refused(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    case = submit(world, amount="1000")
    cases.case_review(actor=colleague, case=case)
    with pytest.raises(ValidationFailed, match="不能超过申请金额"):
        cases.case_approve(actor=colleague, case=case, amount_fen=100_001)
    assert ReliefCase.objects.get(pk=case.pk).status == CaseStatus.REVIEWED


def test_a_refusal_needs_a_reason(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    case = submit(world)
    with pytest.raises(ValidationFailed, match="请填写原因"):
        cases.case_reject(actor=colleague, case=case, reason="")
    assert cases.case_reject(actor=colleague, case=case, reason="不符合条件").status == CaseStatus.REJECTED


def test_a_fast_track_case_is_approved_first_and_its_overdue_paperwork_is_chased(
    world: World, colleague, street_reviewer
) -> None:  # type: ignore[no-untyped-def]
    case = submit(world, amount="1500", fast_track="1")
    assert case.paperwork_due == timezone.localdate() + dt.timedelta(days=30)
    approved = cases.case_approve(actor=colleague, case=case, amount_fen=150_000)  # straight from submission
    assert approved.status == CaseStatus.APPROVED
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        today = timezone.localdate()
        assert list(selectors.paperwork_overdue_for_actor(actor=world.staff_a, today=today)) == [approved]
        # escalated: the level above sees it too; the sibling union does not.
        assert list(selectors.paperwork_overdue_for_actor(actor=street_reviewer, today=today)) == [approved]
        assert list(selectors.paperwork_overdue_for_actor(actor=world.staff_b, today=today)) == []
        with pytest.raises(ValidationFailed, match="请先上传补齐的材料"):
            cases.paperwork_complete(actor=world.staff_a, case=approved)
        from django.core.files.uploadedfile import SimpleUploadedFile

        cases.case_document_add(
            actor=world.staff_a, case=approved, upload=SimpleUploadedFile("证明.pdf", b"%PDF-1.4 x")
        )
        cases.paperwork_complete(actor=world.staff_a, case=approved)
        assert list(selectors.paperwork_overdue_for_actor(actor=world.staff_a, today=today)) == []


def test_only_a_fast_track_case_may_skip_the_review(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    case = submit(world, amount="500")
    with pytest.raises(Conflict, match="不是先行救助案件"):
        cases.case_approve(actor=colleague, case=case, amount_fen=50_000)
    assert ReliefCase.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_a_member_applies_on_h5_but_cannot_ask_for_the_fast_track(world: World) -> None:
    member_user = world.member_a.user
    with pytest.raises(PermissionDenied, match="先行救助须由工会工作人员办理"):
        cases.case_submit(actor=member_user, member=world.member_a, data=case_data(fast_track="1"))
    with pytest.raises(PermissionDenied):
        cases.case_submit(actor=world.member_b.user, member=world.member_a, data=case_data())
    client = Client()
    client.force_login(member_user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    response = client.post("/h5/relief/apply/", case_data(), follow=True)
    body = response.content.decode()
    assert "已提交申请" in body and "突发意外" in body and "待审核" in body
    case = ReliefCase.objects.get()
    assert case.submitted_by_id == member_user.pk
    bad = client.post("/h5/relief/apply/", case_data(amount="abc"))
    assert bad.status_code == 422 and "申请金额应为以元为单位的数字" in bad.content.decode()


def test_a_sibling_unions_staff_sees_no_case_of_union_a(world: World) -> None:
    case = submit(world)
    assert list(selectors.cases_for_actor(actor=world.staff_b)) == []
    with pytest.raises(NotFound):
        selectors.case_get_for_actor(actor=world.staff_b, pk=case.pk)
    with pytest.raises(PermissionDenied):
        cases.case_review(actor=world.staff_b, case=case)
    assert ReliefCase.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


# ---- 大病救助 -----------------------------------------------------------------------------------


def illness(world: World, **overrides: str) -> ReliefCase:
    data = {
        "total": "80000",
        "medical_insurance": "40000",
        "other_insurance": "15000",
        "mutual_aid": "5000",  # net ¥20,000.00 exactly → ¥3,000
        "event_date": timezone.localdate().isoformat(),
        "payee_card": "6222020200112233445",
        "description": "肺癌手术及化疗",
        **overrides,
    }
    return cases.illness_case_submit(actor=world.staff_a, member=world.member_a, data=data)


def test_a_major_illness_case_keeps_its_computation_and_tier_version(world: World) -> None:
    case = illness(world)
    assert case.amount_requested_fen == 300_000 and case.illness_policy is None
    assert "80000" not in case.illness_figures_encrypted
    result = cases.illness_reveal(actor=world.staff_a, case=case)
    assert result.net_personal_fen == 2_000_000 and result.amount_fen == 300_000
    assert AuditEvent.objects.filter(action="relief.case_reveal").count() == 1


def test_a_major_illness_case_under_tier_version_1_is_explained_with_version_1_after_version_2(world: World) -> None:
    second = grant(make_user("province_reviewer"), world.province, Role.REVIEWER)
    v1 = policy_propose(
        actor=world.federation_admin,
        kind=policies.MAJOR_ILLNESS,
        organization=world.province,
        body=policies.MAJOR_ILLNESS_DEFAULT,
    )
    policy_approve(actor=second, version_id=v1.pk)
    case = illness(world)
    doubled = {
        "tiers": [{**t, "amount_fen": t["amount_fen"] * 2} for t in policies.MAJOR_ILLNESS_DEFAULT["tiers"]],
        "yearly_cap_fen": 10_000_000,
    }
    v2 = policy_propose(
        actor=world.federation_admin, kind=policies.MAJOR_ILLNESS, organization=world.province, body=doubled
    )
    policy_approve(actor=second, version_id=v2.pk)
    explained = cases.illness_explain(ReliefCase.objects.get(pk=case.pk))
    assert case.illness_policy_id == v1.pk
    assert explained.amount_fen == 300_000 and "档次救助金额 ¥3,000.00" in explained.steps[1]


def test_a_major_illness_below_the_first_tier_is_not_submitted(world: World) -> None:
    with pytest.raises(ValidationFailed, match=r"可救助金额为 ¥0\.00"):
        illness(world, total="50000", mutual_aid="5000.01")  # net ¥9,999.99
    assert not ReliefCase.objects.exists()


def test_the_yearly_cap_limits_the_second_major_illness_case(world: World, colleague, street_reviewer) -> None:  # type: ignore[no-untyped-def]
    big = illness(world, total="200000", medical_insurance="0", other_insurance="0", mutual_aid="0")
    assert big.amount_requested_fen == 5_000_000
    cases.case_review(actor=colleague, case=big)
    county = grant(make_user("province_approver"), world.province, Role.REVIEWER)
    escalated = cases.case_approve(actor=colleague, case=big, amount_fen=4_000_000)
    while escalated.status == CaseStatus.ESCALATED:
        escalated = cases.case_approve(actor=county, case=escalated, amount_fen=4_000_000)
    assert escalated.status == CaseStatus.APPROVED
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    second = illness(world, event_date=yesterday)  # net ¥20,000 → tier ¥3,000, but only ¥10,000 left
    assert second.amount_requested_fen == 300_000
    third = illness(
        world,
        event_date=(timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        total="200000",
        medical_insurance="0",
        other_insurance="0",
        mutual_aid="0",
    )
    assert third.amount_requested_fen == 1_000_000  # what is left of the ¥50,000 cap


def test_the_case_list_masks_names_and_does_not_query_per_row(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from gonghui.site.testing import make_member

    for n in range(6):
        member = make_member(world.union_a, name="测试%d" % n)
        cases.case_submit(actor=world.staff_a, member=member, data=case_data())
    client = world.client_for(world.staff_a)
    with django_assert_max_num_queries(12):
        body = client.get("/console/relief/cases/").content.decode()
    assert body.count("测**") == 6 and "测试1" not in body
    assert "没有符合条件的救助申请" in client.get("/console/relief/cases/?status=paid").content.decode()
    assert client.get("/console/relief/cases/?kind=bogus").status_code == 422


def test_overdue_paperwork_is_reported_to_the_union_above_once(world: World, colleague) -> None:  # type: ignore[no-untyped-def]
    import io

    from django.core.management import call_command

    case = cases.case_approve(actor=colleague, case=submit(world, amount="500", fast_track="1"), amount_fen=50_000)
    assert cases.paperwork_escalate() == 0  # not due yet
    ReliefCase.objects.filter(pk=case.pk).update(paperwork_due=timezone.localdate() - dt.timedelta(days=1))
    out = io.StringIO()
    call_command("relief_paperwork_escalate", stdout=out)
    assert out.getvalue().strip() == "已上报 1 件逾期未补手续的先行救助案件"
    assert cases.paperwork_escalate() == 0  # once
    event = AuditEvent.objects.get(action="relief.case_paperwork_escalate")
    assert event.organization_id == world.street.pk and event.object_id == str(case.pk)
    assert ReliefCase.objects.get(pk=case.pk).paperwork_escalated_at is not None
    body = world.client_for(world.staff_a).get("/console/relief/cases/paperwork/").content.decode()
    assert "已上报上级" in body


def test_the_member_uploads_a_document_to_their_own_case_only(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = cases.case_submit(actor=world.member_a.user, member=world.member_a, data=case_data())
    mine = Client()
    mine.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    done = mine.post(
        "/h5/relief/documents/", {"case": case.pk, "upload": SimpleUploadedFile("诊断.pdf", b"%PDF-1.4 x")}, follow=True
    )
    assert "已上传材料" in done.content.decode() and case.documents.count() == 1
    other = Client()
    other.force_login(world.member_b.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    refused = other.post(
        "/h5/relief/documents/", {"case": case.pk, "upload": SimpleUploadedFile("x.pdf", b"%PDF-1.4 y")}
    )
    assert refused.status_code == 404 and case.documents.count() == 1
