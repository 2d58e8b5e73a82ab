"""The console's 核销记录: filters with exact counts, strict parsing of the query string, the
XLSX export of what is filtered, and the clerk page's recent list refreshed with the answer."""

import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.benefits.models import CouponStatus, Redemption
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_point, make_redemption
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_member, make_user

pytestmark = pytest.mark.django_db

URL = "/console/benefits/redemptions/"


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def data(world: World) -> dict[str, Any]:
    today = timezone.localdate()
    station = make_point(world.union_a, name="甲公司职工驿站")
    canteen = make_point(world.union_a, name="甲公司食堂")
    cooling = make_campaign(world.union_a, world.staff_a, points=[station, canteen], limit=9, name="送清凉")
    festival = make_campaign(world.union_a, world.staff_a, points=[station], limit=9, name="中秋慰问")
    wang = make_member(world.union_a, name="王五")
    made: list[Redemption] = []
    for seq, (campaign, member, point, days_ago, code) in enumerate(
        [
            (cooling, world.member_a, station, 0, "11112222330001"),
            (cooling, world.member_a, canteen, 3, "11112222330002"),
            (cooling, wang, station, 10, "11112222339876"),
            (festival, wang, station, 0, "11112222330004"),
            (festival, world.member_a, station, 40, "11112222330005"),
        ],
        start=1,
    ):
        coupon = make_coupon(campaign, member, seq=seq, code=code, status=CouponStatus.CLAIMED)
        redemption = make_redemption(coupon, point, world.staff_a)
        Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=_at(today - dt.timedelta(days=days_ago)))
        made.append(redemption)
    Redemption.objects.filter(pk=made[1].pk).update(reversed_at=timezone.now(), reversal_reason="误操作")
    point_b = make_point(world.union_b, name="乙公司驿站")
    campaign_b = make_campaign(world.union_b, world.staff_b, points=[point_b], name="乙公司送清凉")
    make_redemption(make_coupon(campaign_b, world.member_b), point_b, world.staff_b)
    return {
        "today": today,
        "station": station,
        "canteen": canteen,
        "cooling": cooling,
        "festival": festival,
        "redemptions": made,
    }


def _total(world: World, params: dict[str, Any], user: Any = None) -> int:
    response = world.client_for(user or world.staff_a).get(URL, params)
    assert response.status_code == 200, response.content.decode()
    return response.context["page"].total


def test_filters_give_exact_counts(world: World, data: dict[str, Any]) -> None:
    today = data["today"]
    assert _total(world, {}) == 5
    assert _total(world, {"campaign": data["cooling"].pk}) == 3
    assert _total(world, {"point": data["canteen"].pk}) == 1
    assert _total(world, {"campaign": data["festival"].pk, "point": data["station"].pk}) == 2
    assert _total(world, {"from": (today - dt.timedelta(days=10)).isoformat()}) == 4
    assert _total(world, {"from": (today - dt.timedelta(days=5)).isoformat(), "to": today.isoformat()}) == 3
    assert _total(world, {"to": (today - dt.timedelta(days=1)).isoformat()}) == 3
    assert _total(world, {"status": "reversed"}) == 1
    assert _total(world, {"status": "standing"}) == 4
    assert _total(world, {"q": "9876"}) == 1
    assert _total(world, {"q": "1111 2222 3300 05"}) == 1
    assert _total(world, {"q": "王五"}) == 2
    assert _total(world, {"q": "王五", "campaign": data["festival"].pk}) == 1
    assert _total(world, {}, user=world.staff_b) == 1
    assert _total(world, {"campaign": data["cooling"].pk}, user=world.staff_b) == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"campaign": "abc"}, "活动无效"),
        ({"point": "-1"}, "核销点无效"),
        ({"point": "99999999999999999999999"}, "核销点无效"),
        ({"from": "2026-13-01"}, "开始日期应为“年-月-日”格式的日期"),
        ({"from": "1800-01-01"}, "开始日期超出可查询的范围"),
        ({"from": "2026-06-10", "to": "2026-06-01"}, "结束日期不能早于开始日期"),
        ({"status": "gone"}, "状态无效"),
        ({"q": "12"}, "按券码搜索请输入券码末尾 4 至 14 位数字"),
        ({"q": "张" * 31}, "搜索内容不能超过 30 个字"),
    ],
)
def test_bad_filters_are_explained_in_chinese(world: World, data: dict[str, Any], params: dict, message: str) -> None:  # type: ignore[type-arg]
    response = world.client_for(world.staff_a).get(URL, params)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert response.context["rows"] == []
    export = world.client_for(world.staff_a).get(URL + "export.xlsx", params)
    assert export.status_code == 422
    assert not AuditEvent.objects.filter(action="redemption.export").exists()


def test_export_holds_what_is_filtered(world: World, data: dict[str, Any]) -> None:
    response = world.client_for(world.staff_a).get(URL + "export.xlsx", {"q": "王五"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "核销时间",
        "活动",
        "核销点",
        "券码",
        "会员",
        "面值（元）",
        "核销方式",
        "状态",
        "冲正时间",
        "冲正原因",
    ]
    assert [r[1:8] for r in rows[1:]] == [
        ["中秋慰问", "甲公司职工驿站", "1111 **** **** 04", "王*", 15, "核销员 %s" % world.staff_a, "有效"],
        ["送清凉", "甲公司职工驿站", "1111 **** **** 76", "王*", 15, "核销员 %s" % world.staff_a, "有效"],
    ]
    event = AuditEvent.objects.get(action="redemption.export")
    assert event.detail == {
        "export": "核销记录-%(day)s.xlsx" % {"day": timezone.localdate().isoformat()},
        "rows": 2,
        "filters": {"member_name": "王五"},
    }


def test_export_of_reversed_rows_names_the_reversal(world: World, data: dict[str, Any]) -> None:
    response = world.client_for(world.staff_a).get(URL + "export.xlsx", {"status": "reversed"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert (rows[1][2], rows[1][7], rows[1][9]) == ("甲公司食堂", "已冲正", "误操作")
    assert rows[1][8]


def test_a_successful_redemption_also_refreshes_the_recent_list(world: World, data: dict[str, Any]) -> None:
    clerk = grant(make_user("clerk_recent"), world.union_a, Role.REDEEMER)
    client = world.client_for(clerk)
    client.post("/clerk/redeem/point/", {"point": data["station"].pk})
    coupon = make_coupon(data["cooling"], world.member_a, seq=8, status=CouponStatus.CLAIMED)
    response = client.post(
        "/clerk/redeem/confirm/", {"code": coupon.code, "request_id": uuid.uuid4().hex}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'data-testid="clerk-success"' in body
    assert 'id="clerk-recent" data-testid="clerk-recent" hx-swap-oob="true"' in body
    assert body.count('data-testid="clerk-recent-row"') == 5  # four earlier at the point, and this one
