import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gonghui.benefits.models import Campaign, CampaignStatus, IssueRun, PointDevice, RedemptionPoint
from gonghui.benefits.tests.factories import make_campaign, make_point
from gonghui.core.models import AuditEvent, Device
from gonghui.core.permissions import Role
from gonghui.members.models import Tag
from gonghui.site.testing import grant, make_user

pytestmark = pytest.mark.django_db


def _form(world, point, **overrides):
    now = timezone.localtime()
    data = {
        "name": "送清凉·户外劳动者",
        "kind": "cooling",
        "mode": "targeted",
        "organization": str(world.union_a.pk),
        "target_org": str(world.union_a.pk),
        "target_tags": [str(Tag.OUTDOOR)],
        "item_name": ["西瓜", "绿豆汤", ""],
        "item_value_yuan": ["10", "4.5", ""],
        "item_quantity": ["1", "2", "1"],
        "stock_total": "100",
        "budget_yuan": "1900",
        "per_member_limit": "1",
        "reversal_window_minutes": "60",
        "claim_starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "claim_ends_at": (now + timezone.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + timezone.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "points": [str(point.pk)],
    }
    data.update(overrides)
    return data


def test_create_campaign_through_the_form_then_publish_by_another_reviewer(world, point_a, reviewer_a):
    client = world.client_for(world.staff_a)
    assert client.get("/console/benefits/new/").status_code == 200
    response = client.post("/console/benefits/new/", _form(world, point_a))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == "/console/benefits/%d/" % campaign.pk
    assert (campaign.face_value_fen, campaign.budget_fen, campaign.target_tags) == (1900, 190000, Tag.OUTDOOR)
    detail = client.get("/console/benefits/%d/" % campaign.pk).content.decode()
    assert "职责分离" in detail and 'data-testid="campaign-publish"' not in detail
    client.post("/console/benefits/%d/publish/" % campaign.pk)
    assert Campaign.objects.get().status == CampaignStatus.DRAFT
    reviewer = world.client_for(reviewer_a)
    assert 'data-testid="campaign-publish"' in reviewer.get("/console/benefits/%d/" % campaign.pk).content.decode()
    reviewer.post("/console/benefits/%d/publish/" % campaign.pk)
    assert Campaign.objects.get().status == CampaignStatus.PUBLISHED
    issue = client.post("/console/benefits/%d/issue/" % campaign.pk)
    run = IssueRun.objects.get()
    assert issue["Location"] == "/console/benefits/runs/%d/" % run.pk


def test_form_errors_are_shown_in_chinese_and_nothing_is_saved(world, point_a):
    client = world.client_for(world.staff_a)
    response = client.post("/console/benefits/new/", _form(world, point_a, budget_yuan="100", stock_total="x"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "总库存应为整数" in html
    assert Campaign.objects.count() == 0


def test_every_campaign_form_error_shows_at_once_next_to_its_field(world, point_a):
    """One submit shows what did not parse (stock, budget, an item's price, a date) and what
    the service refuses (an item's quantity, the name, the organisation, the points) together,
    each next to its field; no Python repr reaches the page."""
    client = world.client_for(world.staff_a)
    form = _form(
        world,
        point_a,
        name="",
        organization="",
        stock_total="x",
        budget_yuan="NaN",
        claim_starts_at="0001-01-01T00:00",
        item_name=["西瓜", "", "毛巾", "绿豆汤"],
        item_value_yuan=["10.005", "4.5", "8", "2"],
        item_quantity=["1", "1", "1", "200"],
        points=["999999"],
    )
    response = client.post("/console/benefits/new/", form)
    assert response.status_code == 422
    html = response.content.decode()
    assert "dict_items(" not in html and "{&#x27;" not in html
    for message in (
        "请填写活动名称",
        "请选择主办工会",
        "总库存应为整数",
        "预算应为以元为单位的数字，如 12.50",
        "领取开始应在 2000-01-01 到 2100-12-31 之间",
        "核销点无效或无权使用",
    ):
        assert message in html, message
    assert 'data-testid="item-error-0">第1行物品：单价最多保留两位小数<' in html
    assert 'data-testid="item-error-1">物品名称必填且不超过50个字<' in html  # the service's rule
    assert 'data-testid="item-error-2"' not in html
    assert 'data-testid="item-error-3">第4行物品：数量不能大于 100<' in html
    assert 'data-testid="items-error"' not in html
    assert Campaign.objects.count() == 0


def test_campaign_form_without_items_says_so_once(world, point_a):
    client = world.client_for(world.staff_a)
    form = _form(world, point_a, item_name=["", ""], item_value_yuan=["", ""], item_quantity=["1", "1"])
    html = client.post("/console/benefits/new/", form).content.decode()
    assert 'data-testid="items-error">至少填写一种物品及其面值<' in html
    assert "dict_items(" not in html


def test_campaign_list_query_count_does_not_grow_with_rows(world, point_a):
    client = world.client_for(world.staff_a)
    make_campaign(world.union_a, world.staff_a, points=[point_a])
    client.get("/console/benefits/")
    with CaptureQueriesContext(connection) as few:
        client.get("/console/benefits/")
    for _ in range(10):
        make_campaign(world.union_a, world.staff_a, points=[point_a])
    with CaptureQueriesContext(connection) as many:
        page = client.get("/console/benefits/")
    assert page.content.decode().count("送清凉活动") == 11
    assert len(many.captured_queries) == len(few.captured_queries)


def test_list_shows_only_campaigns_in_scope(world, point_a):
    make_campaign(world.union_a, world.staff_a, points=[point_a], name="甲公司送清凉")
    make_campaign(world.union_b, world.staff_b, name="乙公司送温暖")
    html = world.client_for(world.staff_b).get("/console/benefits/").content.decode()
    assert "乙公司送温暖" in html and "甲公司送清凉" not in html


def test_point_registration_and_device_secret_shown_once(world):
    client = world.client_for(world.staff_a)
    response = client.post(
        "/console/benefits/points/new/",
        {
            "name": "人民路驿站",
            "kind": "station",
            "address": "人民路100号",
            "organization": str(world.union_a.pk),
            "latitude": "31.3",
            "longitude": "120.6",
            "is_active": "on",
        },
    )
    point = RedemptionPoint.objects.get(name="人民路驿站")
    assert response["Location"] == "/console/benefits/points/%d/" % point.pk
    page = client.post(
        "/console/benefits/points/%d/devices/" % point.pk, {"device_name": "1号售货机", "device_kind": "vending"}
    )
    device = Device.objects.get(name="1号售货机")
    html = page.content.decode()
    assert 'data-testid="device-secret"' in html and device.key_id in html
    assert page["Cache-Control"] == "no-store"
    assert PointDevice.objects.get(device=device).point_id == point.pk
    assert 'data-testid="device-secret"' not in client.get("/console/benefits/points/%d/" % point.pk).content.decode()
    assert AuditEvent.objects.filter(action="device.register", object_id=str(device.pk)).exists()
    client.post("/console/benefits/points/%d/devices/%d/deactivate/" % (point.pk, device.pk))
    assert Device.objects.get(pk=device.pk).is_active is False


def test_clerk_only_user_sees_the_clerk_page_but_not_the_campaign_console(world, point_a):
    clerk = grant(make_user("clerk_only"), world.union_a, Role.REDEEMER)
    client = world.client_for(clerk)
    assert client.get("/clerk/redeem/").status_code == 200
    assert client.get("/console/benefits/").status_code == 403


def test_pages_render_for_a_published_campaign(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], mode="targeted")
    client = world.client_for(world.staff_a)
    for url in (
        "/console/benefits/%d/" % campaign.pk,
        "/console/benefits/%d/coupons/" % campaign.pk,
        "/console/benefits/points/",
        "/console/benefits/points/%d/" % point_a.pk,
        "/console/benefits/points/%d/edit/" % point_a.pk,
        "/console/benefits/redemptions/",
        "/console/benefits/settlement/",
    ):
        assert client.get(url).status_code == 200, url
    make_point(world.union_a, name="乙点")
    assert client.get("/console/benefits/%d/edit/" % campaign.pk).status_code == 302  # published: not editable


def test_point_forms_show_field_and_service_errors_and_keep_what_was_typed(world, point_a):
    client = world.client_for(world.staff_a)
    form = {"name": "新驿站", "kind": "station", "address": "人民路1号", "organization": str(world.union_a.pk)}
    bad_coordinates = client.post("/console/benefits/points/new/", {**form, "latitude": "北纬31度"})
    assert bad_coordinates.status_code == 422
    assert "纬度应为数字" in bad_coordinates.content.decode()
    assert 'value="人民路1号"' in bad_coordinates.content.decode()
    assert not RedemptionPoint.objects.filter(name="新驿站").exists()

    taken = client.post("/console/benefits/points/%d/edit/" % point_a.pk, {**form, "name": point_a.name})
    assert taken.status_code == 302 and taken["Location"] == "/console/benefits/points/%d/" % point_a.pk
    assert RedemptionPoint.objects.get(pk=point_a.pk).address == "人民路1号"
    other = make_point(world.union_a, name="另一个驿站")
    clash = client.post("/console/benefits/points/%d/edit/" % other.pk, {**form, "name": point_a.name})
    assert clash.status_code == 422
    assert "同一工会下已有同名核销点" in clash.content.decode()
    assert RedemptionPoint.objects.get(pk=other.pk).name == "另一个驿站"
