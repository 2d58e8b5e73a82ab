import datetime as dt

import pytest
from django.utils import timezone

from gonghui.benefits import services
from gonghui.benefits.forms import campaign_input_from_post, yuan_to_fen
from gonghui.benefits.models import Campaign, CampaignStatus, CampaignTarget
from gonghui.benefits.tests.conftest import campaign_input
from gonghui.benefits.tests.factories import make_point
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.members.models import Tag
from gonghui.site.testing import grant, make_member, make_user

pytestmark = pytest.mark.django_db


def test_create_stores_items_face_value_and_points_and_audits(world, point_a):
    campaign = services.campaign_create(actor=world.staff_a, data=campaign_input(world, [point_a]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.face_value_fen == 1000 + 400 * 2
    assert campaign.stock == campaign.stock_total == 100
    assert [(i.name, i.face_value_fen, i.quantity) for i in campaign.items.all()] == [
        ("西瓜", 1000, 1),
        ("绿豆汤", 400, 2),
    ]
    assert list(campaign.allowed_points.all()) == [point_a]
    event = AuditEvent.objects.get(action="campaign.create")
    assert event.object_id == str(campaign.pk)
    assert event.actor_id == world.staff_a.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"budget_fen": 100 * 1800 - 1}, "budget_yuan"),
        ({"name": ""}, "name"),
        ({"items": []}, "items"),
        ({"per_member_limit": 0}, "per_member_limit"),
        ({"claim_ends_at": timezone.now() - dt.timedelta(days=1)}, "claim_ends_at"),
    ],
)
def test_create_refuses_invalid_input_and_writes_nothing(world, point_a, overrides, field):
    with pytest.raises(ValidationFailed) as exc:
        services.campaign_create(actor=world.staff_a, data=campaign_input(world, [point_a], **overrides))
    assert field in exc.value.fields
    assert Campaign.objects.count() == 0
    assert not AuditEvent.objects.filter(action="campaign.create").exists()


def test_create_refuses_organisation_and_points_outside_the_actors_scope(world, point_a):
    with pytest.raises(ValidationFailed) as exc:
        services.campaign_create(actor=world.staff_b, data=campaign_input(world, []))
    assert "organization" in exc.value.fields
    data = campaign_input(world, [point_a], organization_id=world.union_b.pk, target_org_id=world.union_b.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.campaign_create(actor=world.staff_b, data=data)
    assert "points" in exc.value.fields
    assert Campaign.objects.count() == 0


def test_target_org_must_lie_under_the_owner(world, point_a):
    grant(world.staff_a, world.street, Role.HANDLER)
    data = campaign_input(world, [point_a], organization_id=world.union_a.pk, target_org_id=world.street.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.campaign_create(actor=world.staff_a, data=data)
    assert exc.value.fields == {"target_org": "面向组织必须是主办工会或其下级"}


def test_creator_cannot_publish_but_another_reviewer_can(world, point_a, reviewer_a):
    campaign = services.campaign_create(actor=world.staff_a, data=campaign_input(world, [point_a]))
    with pytest.raises(PermissionDenied) as exc:
        services.campaign_publish(actor=world.staff_a, campaign=campaign)
    assert exc.value.message == "不能发布自己创建或修改的活动，请由另一位审核人发布"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    denied = AuditEvent.objects.get(action="campaign.publish")
    assert denied.result == "denied"
    published = services.campaign_publish(actor=reviewer_a, campaign=campaign)
    assert published.status == CampaignStatus.PUBLISHED
    assert published.published_by == reviewer_a
    assert AuditEvent.objects.filter(action="campaign.publish", result="ok", actor_id=reviewer_a.pk).count() == 1


def test_a_reviewer_who_edited_the_draft_cannot_publish_it(world, point_a, reviewer_a):
    grant(reviewer_a, world.union_a, Role.HANDLER)
    campaign = services.campaign_create(actor=world.staff_a, data=campaign_input(world, [point_a]))
    services.campaign_update(actor=reviewer_a, campaign=campaign, data=campaign_input(world, [point_a], name="改名"))
    for actor in (reviewer_a, world.staff_a):  # the last editor, and the creator
        with pytest.raises(PermissionDenied):
            services.campaign_publish(actor=actor, campaign=Campaign.objects.get(pk=campaign.pk))
    third = grant(make_user("reviewer_third"), world.union_a, Role.REVIEWER)
    published = services.campaign_publish(actor=third, campaign=Campaign.objects.get(pk=campaign.pk))
    assert published.status == CampaignStatus.PUBLISHED


def test_handler_without_publish_role_cannot_publish(world, point_a):
    handler = grant(make_user("handler_only"), world.union_a, Role.HANDLER)
    campaign = services.campaign_create(actor=world.staff_a, data=campaign_input(world, [point_a]))
    with pytest.raises(PermissionDenied):
        services.campaign_publish(actor=handler, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_publish_requires_a_point_and_published_campaigns_cannot_be_edited(world, point_a, reviewer_a):
    campaign = services.campaign_create(actor=world.staff_a, data=campaign_input(world, []))
    with pytest.raises(ValidationFailed, match="核销点"):
        services.campaign_publish(actor=reviewer_a, campaign=campaign)
    services.campaign_update(actor=world.staff_a, campaign=campaign, data=campaign_input(world, [point_a]))
    services.campaign_publish(actor=reviewer_a, campaign=Campaign.objects.get(pk=campaign.pk))
    with pytest.raises(Conflict):
        services.campaign_update(
            actor=world.staff_a, campaign=campaign, data=campaign_input(world, [point_a], name="x")
        )
    assert Campaign.objects.get(pk=campaign.pk).name == "2026年送清凉"


def test_close_moves_published_to_closed_once(world, point_a, reviewer_a):
    campaign = services.campaign_create(actor=world.staff_a, data=campaign_input(world, [point_a]))
    services.campaign_publish(actor=reviewer_a, campaign=campaign)
    closed = services.campaign_close(actor=reviewer_a, campaign=campaign, reason="活动到期")
    assert closed.status == CampaignStatus.CLOSED
    assert AuditEvent.objects.get(action="campaign.close").detail == {"reason": "活动到期"}
    with pytest.raises(Conflict):
        services.campaign_close(actor=reviewer_a, campaign=campaign)


def test_target_list_matches_id_numbers_and_member_numbers_and_reports_the_rest(world, point_a):
    from gonghui.members.identity import decrypt_id_number

    campaign = services.campaign_create(actor=world.staff_a, data=campaign_input(world, [point_a]))
    other = make_member(world.union_a, name="王五")
    rows = [
        "身份证号",
        decrypt_id_number(world.member_a.id_number_encrypted),
        other.member_no,
        other.member_no,
        decrypt_id_number(world.member_b.id_number_encrypted),  # sibling union: outside the target
        "110101199003070000",  # bad check digit
        "HY00000000000000",  # nobody
        "hello",
    ]
    report = services.campaign_target_list_upload(actor=world.staff_a, campaign=campaign, rows=rows)
    assert (report["rows"], report["matched"], report["unmatched_count"], report["duplicates"]) == (7, 2, 4, 1)
    assert [(r["line"], r["reason"]) for r in report["unmatched"]] == [
        (4, "不在面向组织范围内"),
        (5, "身份证号码校验位错误"),
        (6, "未找到该会员"),
        (7, "无法识别"),
    ]
    assert set(CampaignTarget.objects.filter(campaign=campaign).values_list("member_id", flat=True)) == {
        world.member_a.pk,
        other.pk,
    }
    campaign.refresh_from_db()
    assert campaign.uses_target_list
    assert services.ineligibility_reason(campaign, world.member_a) is None
    outsider = make_member(world.union_a, name="赵六")
    assert services.ineligibility_reason(campaign, outsider) == "您不在本活动的发放名单中"


def test_eligibility_by_tags_and_subtree(world, point_a):
    grant(world.staff_a, world.street, Role.HANDLER)
    data = campaign_input(
        world,
        [point_a],
        organization_id=world.street.pk,
        target_org_id=world.street.pk,
        target_tags=Tag.OUTDOOR | Tag.SANITATION,
    )
    campaign = services.campaign_create(actor=world.staff_a, data=data)
    outdoor = make_member(world.union_b, tags=Tag.OUTDOOR)
    sanitation = make_member(world.union_a, tags=Tag.SANITATION | Tag.MIGRANT)
    courier = make_member(world.union_a, tags=Tag.COURIER)
    assert services.ineligibility_reason(campaign, outdoor) is None
    assert services.ineligibility_reason(campaign, sanitation) is None
    assert services.ineligibility_reason(campaign, courier) == "本活动面向户外劳动者、环卫工人，您不在范围内"
    assert set(services.target_members(campaign)) == {outdoor, sanitation}


def test_form_parsing_converts_yuan_and_reports_field_errors():
    from django.http import QueryDict

    assert yuan_to_fen("12.5") == 1250
    assert yuan_to_fen("0.01") == 1
    with pytest.raises(ValueError, match="两位小数"):
        yuan_to_fen("1.005")
    post = QueryDict(mutable=True)
    post.update({"name": "测试", "stock_total": "abc", "budget_yuan": "-1", "claim_starts_at": "2026-07-01T08:00"})
    post.setlist("item_name", ["西瓜", ""])
    post.setlist("item_value_yuan", ["12.345", ""])
    data, errors = campaign_input_from_post(post)
    assert errors["stock_total"] == "总库存应为整数"
    assert errors["budget_yuan"] == "预算不能为负数"
    assert errors["items.0"] == "第1行物品：单价最多保留两位小数"
    assert errors["claim_ends_at"] == "请填写领取截止"
    assert data.claim_starts_at is not None and data.claim_starts_at.utcoffset() == dt.timedelta(hours=8)


def test_sibling_staff_cannot_touch_union_a_points(world):
    point = make_point(world.union_a)
    with pytest.raises(PermissionDenied):
        services.point_unlock(actor=world.staff_b, point=point)
    with pytest.raises(PermissionDenied):
        services.point_device_register(actor=world.staff_b, point=point, name="x", kind="vending")
    assert point.device_bindings.count() == 0


@pytest.mark.parametrize(
    ("clock", "opens"),
    [
        ("2026-12-03 05:25", "2026-12-03T05:25"),
        ("2026-12-03 08:00", "2026-12-03T08:00"),
        ("2026-07-01 15:10", "2026-07-01T08:00"),
    ],
)
def test_the_new_campaign_form_opens_its_windows_at_8_or_at_once_when_drafted_before_8(world, clock, opens):
    import time_machine

    at = dt.datetime.strptime(clock, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.get_current_timezone())
    with time_machine.travel(at, tick=False):
        page = world.client_for(world.staff_a).get("/console/benefits/new/").content.decode()
    assert f'name="claim_starts_at" value="{opens}"' in page
    assert f'name="valid_from" value="{opens}"' in page
