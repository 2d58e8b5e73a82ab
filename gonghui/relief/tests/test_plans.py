"""常态化慰问 plans: a group and an occasion across an organisation's sub-tree; the targets are the
group's tagged members and the households filed under it, within the plan's sub-tree only."""

import datetime as dt

import pytest
from django.utils import timezone

from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.members.models import Tag
from gonghui.relief import plans, selectors
from gonghui.relief.models import PlanStatus, VisitPlan
from gonghui.relief.tests.factories import make_file, publish_dibao
from gonghui.site.testing import World, make_member

pytestmark = pytest.mark.django_db


def plan_data(**overrides: str) -> dict[str, str]:
    today = timezone.localdate()
    data = {
        "title": "中秋节环卫工人慰问",
        "occasion": "festival",
        "group": "frontline",
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=14)).isoformat(),
        "cash": "500",
        "goods": "月饼一盒",
    }
    data.update(overrides)
    return data


def test_a_plan_for_sanitation_workers_targets_the_tagged_members_of_its_sub_tree(world: World) -> None:
    cleaner = make_member(world.union_a, name="周扫", tags=Tag.SANITATION)
    outdoor = make_member(world.union_a, name="吴户", tags=Tag.OUTDOOR | Tag.MIGRANT)
    make_member(world.union_a, name="郑办", tags=Tag.COURIER)
    sibling_cleaner = make_member(world.union_b, name="冯扫", tags=Tag.SANITATION)
    street_plan = plans.plan_create(actor=world.federation_admin, organization=world.street, data=plan_data())
    assert street_plan.group_label.startswith("艰苦岗位一线职工") and street_plan.cash_fen == 50_000
    assert set(selectors.plan_targets(actor=world.federation_admin, plan=street_plan)) == {
        cleaner,
        outdoor,
        sibling_cleaner,
    }
    # Union A's staff see only their own members of a plan above them.
    assert set(selectors.plan_targets(actor=world.staff_a, plan=street_plan)) == {cleaner, outdoor}
    own = plans.plan_create(actor=world.staff_a, organization=world.union_a, data=plan_data())
    assert set(selectors.plan_targets(actor=world.federation_admin, plan=own)) == {cleaner, outdoor}


def test_a_plan_for_a_group_without_tags_targets_the_households_filed_under_it(world: World) -> None:
    publish_dibao(world)
    file = make_file(world, visit_group="major_illness")
    make_member(world.union_a, name="周扫", tags=Tag.SANITATION)
    plan = plans.plan_create(actor=world.staff_a, organization=world.union_a, data=plan_data(group="major_illness"))
    assert list(selectors.plan_targets(actor=world.staff_a, plan=plan)) == [file.member]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "请填写活动名称"),
        ({"occasion": "birthday"}, "occasion", "请选择节日、极端天气或突发灾害"),
        ({"group": "astronauts"}, "group", "请从列表中选择"),
        ({"starts_on": "2026-13-01"}, "starts_on", "开始日期格式应为 YYYY-MM-DD"),
        ({"cash": "-5"}, "cash", "每户慰问金不能为负数"),
        ({"cash": "0", "goods": ""}, "cash", "请填写慰问金或慰问品"),
        ({"ends_on": "2000-01-01", "starts_on": "1999-12-01"}, "ends_on", "不能早于今天"),
    ],
)
def test_a_bad_plan_is_refused_in_chinese(world: World, overrides: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plans.plan_create(actor=world.staff_a, organization=world.union_a, data=plan_data(**overrides))
    assert caught.value.fields[field] == message
    assert not VisitPlan.objects.exists()


def test_a_sibling_unions_staff_can_neither_plan_for_nor_see_union_as_plans(world: World) -> None:
    with pytest.raises(PermissionDenied):
        plans.plan_create(actor=world.staff_b, organization=world.union_a, data=plan_data())
    plan = plans.plan_create(actor=world.staff_a, organization=world.union_a, data=plan_data())
    assert list(selectors.plans_for_actor(actor=world.staff_b)) == []
    assert world.client_for(world.staff_b).get("/console/relief/plans/%d/" % plan.pk).status_code == 404


def test_the_plan_pages(world: World) -> None:
    make_member(world.union_a, name="周扫", tags=Tag.SANITATION)
    client = world.client_for(world.staff_a)
    assert "还没有慰问计划" in client.get("/console/relief/plans/").content.decode()
    response = client.post(
        "/console/relief/plans/new/", {**plan_data(), "organization": world.union_a.code}, follow=True
    )
    body = response.content.decode()
    assert "已制定慰问计划" in body and "周*" in body and "待慰问" in body
    bad = client.post("/console/relief/plans/new/", {**plan_data(cash="abc"), "organization": world.union_a.code})
    assert bad.status_code == 422 and "每户慰问金应为以元为单位的数字" in bad.content.decode()
    plan = VisitPlan.objects.get()
    client.post("/console/relief/plans/%d/close/" % plan.pk)
    assert VisitPlan.objects.get().status == PlanStatus.CLOSED
