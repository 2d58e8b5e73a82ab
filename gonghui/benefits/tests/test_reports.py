import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.benefits import claiming, redemption, selectors
from gonghui.benefits.models import Redemption
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_device, make_point
from gonghui.core.permissions import Role
from gonghui.site.testing import grant, make_member, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world, point_a, clerk_a):
    """A campaign with 4 coupons in two unions' members, 3 redeemed at two points, 1 reversed."""
    vending = make_point(world.union_a, name="甲公司售货机", kind="vending")
    device, _ = make_device(vending)
    grant(world.staff_a, world.street, Role.HANDLER, Role.REVIEWER)
    campaign = make_campaign(world.street, world.staff_a, points=[point_a, vending], stock=10, target_org=world.street)
    other = make_member(world.union_b, name="王五")
    coupons = [
        make_coupon(campaign, world.member_a, seq=1),
        make_coupon(campaign, world.member_b, seq=1),
        make_coupon(campaign, other, seq=1),
        make_coupon(campaign, make_member(world.union_a), seq=1),
    ]
    redemption.coupon_redeem(code_raw=coupons[0].code, point=point_a, clerk=clerk_a)
    redemption.coupon_redeem(code_raw=coupons[1].code, point=vending, device=device)
    undone = redemption.coupon_redeem(code_raw=coupons[2].code, point=point_a, clerk=clerk_a)
    redemption.redemption_reverse(actor=world.staff_a, redemption=undone, reason="误核销")
    return campaign, point_a, vending


def test_report_counts_by_day_organisation_and_point(world, scene):
    campaign, station, vending = scene
    report = selectors.campaign_report(campaign=campaign)
    today = timezone.localdate().isoformat()
    assert report.totals == {
        "stock_total": 10,
        "stock": 6,
        "issued": 4,
        "claimed": 4,
        "redeemed": 2,
        "redeemed_value": 3000,
        "budget": 15000,
    }
    assert report.by_day == [{"day": today, "issued": 4, "claimed": 4, "redeemed": 2}]
    assert [(r["name"], r["issued"], r["claimed"], r["redeemed"], r["value"]) for r in report.by_org] == [
        ("苏州乙公司工会", 2, 2, 1, 1500),
        ("苏州甲公司工会", 2, 2, 1, 1500),
    ]
    assert [(r["name"], r["redeemed"], r["value"]) for r in report.by_point] == [
        (vending.name, 1, 1500),  # equal counts: by name
        (station.name, 1, 1500),
    ]
    chart = report.chart_data()
    assert chart["days"] == [today] and chart["redeemed"] == [2]


def test_days_are_cut_in_shanghai_time(world, point_a, clerk_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a])
    coupon = make_coupon(campaign, world.member_a)
    # 2026-07-01 23:30 in Shanghai is 15:30 UTC the same day; 00:30 on the 2nd is 16:30 UTC on the 1st.
    late = dt.datetime(2026, 7, 1, 16, 30, tzinfo=dt.UTC)
    coupon.issued_at = coupon.claimed_at = late
    coupon.save()
    report = selectors.campaign_report(campaign=campaign)
    assert [r["day"] for r in report.by_day] == ["2026-07-02"]


def test_settlement_per_point_and_date_range_excludes_reversed(world, scene):
    campaign, station, _vending = scene
    today = timezone.localdate()
    statement = selectors.settlement(point=station, date_from=today, date_to=today)
    assert (statement.count, statement.value_fen, statement.reversed_count) == (1, 1500, 1)
    assert statement.summary == [
        {
            "campaign_id": campaign.pk,
            "campaign": campaign.name,
            "organization": "平江街道总工会",
            "count": 1,
            "value_fen": 1500,
        }
    ]
    assert [r.coupon.member_id for r in statement.details] == [world.member_a.pk]
    yesterday = selectors.settlement(
        point=station, date_from=today - dt.timedelta(days=1), date_to=today - dt.timedelta(days=1)
    )
    assert (yesterday.count, yesterday.value_fen, yesterday.details) == (0, 0, [])


def test_report_page_xlsx_and_settlement_export(world, scene):
    campaign, station, _vending = scene
    finance = grant(make_user("finance_street"), world.street, Role.FINANCE)
    client = world.client_for(finance)
    page = client.get("/console/benefits/%d/report/" % campaign.pk)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="report-data"' in html and "benefits_report.js" in html
    assert 'data-testid="report-redeemed">2<' in html
    xlsx = client.get("/console/benefits/%d/report.xlsx" % campaign.pk)
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["汇总", "按日", "按组织", "按核销点"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True)}
    assert (summary["已发放"], summary["已领取"], summary["已核销"], summary["核销面值合计（元）"]) == (4, 4, 2, 30)
    assert [row for row in book["按核销点"].iter_rows(values_only=True)][1:] == [
        ("甲公司售货机", 1, 15),
        (station.name, 1, 15),
    ]
    today = timezone.localdate().isoformat()
    query = "?point=%d&from=%s&to=%s" % (station.pk, today, today)
    statement_page = client.get("/console/benefits/settlement/" + query).content.decode()
    assert 'data-testid="settlement-count">1<' in statement_page
    assert "另有 1 笔已冲正" in statement_page
    export = client.get("/console/benefits/settlement/" + query + "&format=xlsx")
    book = load_workbook(io.BytesIO(export.content))
    rows = list(book["结算汇总"].iter_rows(values_only=True))
    assert rows[-1] == ("合计", None, 1, 15)
    assert len(list(book["核销明细"].iter_rows(values_only=True))) == 2


def test_sibling_union_cannot_see_the_report_or_settle_the_point(world, scene):
    campaign, station, _ = scene
    client = world.client_for(world.staff_b)
    assert client.get("/console/benefits/%d/report/" % campaign.pk).status_code == 404
    today = timezone.localdate().isoformat()
    response = client.get("/console/benefits/settlement/?point=%d&from=%s&to=%s" % (station.pk, today, today))
    assert response.status_code == 404


def test_reversal_from_the_redemption_list(world, scene):
    _campaign, station, _ = scene
    finance = grant(make_user("finance_a2"), world.union_a, Role.FINANCE)
    client = world.client_for(finance)
    page = client.get("/console/benefits/redemptions/").content.decode()
    assert page.count("冲正</button>") == 2  # two standing redemptions; the reversed one offers no button
    target = Redemption.objects.filter(reversed_at__isnull=True, point=station).get()
    client.post("/console/benefits/redemptions/%d/reverse/" % target.pk, {"reason": "重复核销"})
    target.refresh_from_db()
    assert target.reversal_reason == "重复核销"


def test_first_come_claims_show_up_as_claimed(world, point_a):
    campaign = make_campaign(world.union_a, world.staff_a, points=[point_a], stock=5)
    claiming.coupon_claim(member=world.member_a, campaign_id=campaign.pk)
    assert selectors.campaign_report(campaign=campaign).totals["claimed"] == 1
