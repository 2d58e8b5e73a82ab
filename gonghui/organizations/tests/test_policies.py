"""Versioned policies: resolution along the tree, valid-from dates, the shipped default,
explanations that outlive newer versions, Chinese schema errors and four-eyes approval."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from gonghui.core.aggregates import SMALL_GROUP_POLICY
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.health import services as health_services
from gonghui.health.models import Checkup, Indicator
from gonghui.health.policies import CRITICAL_POLICY
from gonghui.organizations.models import PolicyStatus, PolicyVersion
from gonghui.organizations.policies import (
    policy_approve,
    policy_explain,
    policy_for,
    policy_propose,
    policy_versions_for_actor,
)
from gonghui.site.testing import World, grant, make_user


def _publish(proposer, approver, org, min_group: int, valid_from: dt.date | None = None) -> PolicyVersion:  # type: ignore[no-untyped-def]
    version = policy_propose(
        actor=proposer, kind=SMALL_GROUP_POLICY, organization=org, body={"min_group": min_group}, valid_from=valid_from
    )
    return policy_approve(actor=approver, version_id=version.pk)


@pytest.fixture
def city_reviewer(world: World):  # type: ignore[no-untyped-def]
    return grant(make_user("city_reviewer"), world.province, Role.REVIEWER)


@pytest.mark.django_db
def test_nearest_ancestor_wins_and_the_default_applies_elsewhere(world: World, city_reviewer) -> None:  # type: ignore[no-untyped-def]
    assert policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_a).body == {"min_group": 10}
    assert policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_a).version is None
    province = _publish(world.federation_admin, city_reviewer, world.province, 20)
    own = _publish(world.staff_a, city_reviewer, world.union_a, 15)
    resolved_a = policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_a)
    assert (resolved_a.body, resolved_a.version) == ({"min_group": 15}, own)
    resolved_b = policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_b)
    assert (resolved_b.body, resolved_b.version) == ({"min_group": 20}, province)


@pytest.mark.django_db
def test_valid_from_is_respected(world: World, city_reviewer) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    now = _publish(world.staff_a, city_reviewer, world.union_a, 12)
    later = _publish(world.staff_a, city_reviewer, world.union_a, 30, valid_from=today + dt.timedelta(days=30))
    assert policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_a, on=today).version == now
    on_the_day = policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_a, on=today + dt.timedelta(days=30))
    assert (on_the_day.version, on_the_day.body) == (later, {"min_group": 30})
    # a future version of the nearest union does not hide its parent's version today
    PolicyVersion.objects.filter(pk=now.pk).delete()
    assert policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_a, on=today).version is None
    with pytest.raises(ValidationFailed) as exc:
        policy_propose(
            actor=world.staff_a,
            kind=SMALL_GROUP_POLICY,
            organization=world.union_a,
            body={"min_group": 9},
            valid_from=today - dt.timedelta(days=1),
        )
    assert exc.value.fields == {"valid_from": "不能早于今天"}


@pytest.mark.django_db
def test_a_decision_made_under_version_1_is_explained_with_version_1_after_version_2(world: World) -> None:
    glu = Indicator.objects.get(code="GLU")
    health_services.critical_limit_set(
        actor=world.staff_a, organization=world.union_a, indicator=glu, low="", high="6.2"
    )
    v1 = PolicyVersion.objects.get(kind=CRITICAL_POLICY)
    checkup = Checkup.objects.create(
        member=world.member_a,
        organization=world.union_a,
        source="test",
        external_id="R-1",
        exam_date=dt.date(2026, 3, 1),
        critical_policy=v1,
    )
    health_services.critical_limit_set(actor=world.staff_a, organization=world.union_a, indicator=glu, low="", high="7")
    v2 = PolicyVersion.objects.get(kind=CRITICAL_POLICY, version=2)
    assert policy_for(kind=CRITICAL_POLICY, organization=world.union_a).version == v2
    checkup.refresh_from_db()
    assert policy_explain(kind=CRITICAL_POLICY, version=checkup.critical_policy) == {
        "limits": {"GLU": {"low": None, "high": "6.2000"}}
    }
    assert policy_explain(kind=CRITICAL_POLICY, version=None) == {"limits": {}}
    assert Decimal(policy_explain(kind=CRITICAL_POLICY, version=v2.pk)["limits"]["GLU"]["high"]) == Decimal("7")


@pytest.mark.django_db
def test_schema_errors_are_in_chinese_and_nothing_is_stored(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc:
        policy_propose(actor=world.staff_a, kind=SMALL_GROUP_POLICY, organization=world.union_a, body={"min_group": 1})
    assert exc.value.fields == {"min_group": "不能小于 2"}
    assert exc.value.message == "统计小组抑制阈值的内容有误：1 处"
    with pytest.raises(ValidationFailed) as exc:
        policy_propose(
            actor=world.staff_a, kind=SMALL_GROUP_POLICY, organization=world.union_a, body={"min_group": "十", "x": 1}
        )
    assert exc.value.fields == {"min_group": "必须是整数", "x": "不允许的字段"}
    with pytest.raises(ValidationFailed) as exc:
        policy_propose(
            actor=world.staff_a,
            kind=CRITICAL_POLICY,
            organization=world.union_a,
            body={"limits": {"K": {"low": "3", "high": "6"}, "NOPE": {"high": "1"}}},
        )
    assert exc.value.fields == {"limits": "项目“NOPE”不在指标目录中"}
    with pytest.raises(ValidationFailed) as exc:
        policy_propose(
            actor=world.staff_a,
            kind=CRITICAL_POLICY,
            organization=world.union_a,
            body={"limits": {"K": {"low": "6", "high": "3"}}},
        )
    assert exc.value.fields == {"limits.K": "危急值上限必须大于下限"}
    assert not PolicyVersion.objects.exists()


@pytest.mark.django_db
def test_the_proposer_may_not_approve_their_own_version(world: World, city_reviewer) -> None:  # type: ignore[no-untyped-def]
    proposed = policy_propose(
        actor=world.staff_a, kind=SMALL_GROUP_POLICY, organization=world.union_a, body={"min_group": 12}
    )
    assert proposed.status == PolicyStatus.PROPOSED
    assert policy_for(kind=SMALL_GROUP_POLICY, organization=world.union_a).version is None
    with pytest.raises(PermissionDenied) as exc:
        policy_approve(actor=world.staff_a, version_id=proposed.pk)
    assert exc.value.message == "不能审批自己提出的版本，请由另一位有审批权的人员处理"
    proposed.refresh_from_db()
    assert (proposed.status, proposed.approved_by, proposed.approved_at) == (PolicyStatus.PROPOSED, None, None)
    with pytest.raises(Conflict):
        policy_propose(actor=world.staff_a, kind=SMALL_GROUP_POLICY, organization=world.union_a, body={"min_group": 13})
    approved = policy_approve(actor=city_reviewer, version_id=proposed.pk)
    assert (approved.status, approved.approved_by, approved.version) == (PolicyStatus.APPROVED, city_reviewer, 1)
    with pytest.raises(Conflict):
        policy_approve(actor=city_reviewer, version_id=proposed.pk)
    approved.body = {"min_group": 2}
    with pytest.raises(Conflict):
        approved.save()
    approved.refresh_from_db()
    assert approved.body == {"min_group": 12}
    assert list(
        AuditEvent.objects.filter(action__startswith="policy.").order_by("created_at").values_list("action", "actor_id")
    ) == [
        ("policy.propose", world.staff_a.pk),
        ("policy.approve", city_reviewer.pk),
    ]


@pytest.mark.django_db
def test_sibling_union_staff_can_neither_see_nor_change_a_policy(world: World) -> None:
    proposed = policy_propose(
        actor=world.staff_a, kind=SMALL_GROUP_POLICY, organization=world.union_a, body={"min_group": 12}
    )
    assert list(policy_versions_for_actor(actor=world.staff_b)) == []
    assert list(policy_versions_for_actor(actor=world.staff_a)) == [proposed]
    with pytest.raises(NotFound):
        policy_approve(actor=world.staff_b, version_id=proposed.pk)
    with pytest.raises(PermissionDenied):
        policy_propose(actor=world.staff_b, kind=SMALL_GROUP_POLICY, organization=world.union_a, body={"min_group": 11})
    proposed.refresh_from_db()
    assert (proposed.status, proposed.approved_by) == (PolicyStatus.PROPOSED, None)
    assert PolicyVersion.objects.count() == 1


@pytest.mark.django_db
def test_console_proposes_with_chinese_errors_and_a_second_person_approves(world: World, city_reviewer) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.staff_a)
    form = client.get(
        "/console/organizations/policies/new/?kind=%s&organization=%s" % (SMALL_GROUP_POLICY, world.union_a.code)
    )
    assert form.status_code == 200 and "&quot;min_group&quot;: 10" in form.content.decode()
    post = {"kind": SMALL_GROUP_POLICY, "organization": world.union_a.code, "note": "提高阈值"}
    broken = client.post("/console/organizations/policies/new/", {**post, "body": '{"min_group": '})
    assert broken.status_code == 422 and "不是有效的 JSON：第 1 行第 15 列" in broken.content.decode()
    invalid = client.post("/console/organizations/policies/new/", {**post, "body": '{"min_group": 1}'})
    assert invalid.status_code == 422 and "不能小于 2" in invalid.content.decode()
    assert not PolicyVersion.objects.exists()
    ok = client.post("/console/organizations/policies/new/", {**post, "body": '{"min_group": 12}'})
    version = PolicyVersion.objects.get()
    assert ok.status_code == 302 and ok["Location"] == "/console/organizations/policies/%d/" % version.pk
    page = client.get(ok["Location"]).content.decode()
    assert "待审批" in page and "批准生效" not in page and "+  &quot;min_group&quot;: 12" in page
    client.post("/console/organizations/policies/%d/decide/" % version.pk, {"decision": "approve"})
    version.refresh_from_db()
    assert (version.status, version.approved_by) == (PolicyStatus.PROPOSED, None)
    reviewer = world.client_for(city_reviewer)
    assert "批准生效" in reviewer.get(ok["Location"]).content.decode()
    reviewer.post("/console/organizations/policies/%d/decide/" % version.pk, {"decision": "approve"})
    version.refresh_from_db()
    assert (version.status, version.approved_by) == (PolicyStatus.APPROVED, city_reviewer)
    listing = world.client_for(world.staff_b).get("/console/organizations/policies/").content.decode()
    assert "苏州甲公司工会" not in listing and "尚无版本" in listing
    assert "苏州甲公司工会" in client.get("/console/organizations/policies/").content.decode()
