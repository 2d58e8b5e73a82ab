"""The console home (工作台) of 财务, 核销员, 审计员 and 健康管理员: each role sees the cards its
apps register, with figures of its own sub-tree only, in a bounded number of queries."""

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from gonghui.benefits.models import CouponStatus, Redemption
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_point, make_redemption
from gonghui.core import audit, dashboard
from gonghui.core.models import AuditChainHead, AuditEvent, Job, JobStatus
from gonghui.core.permissions import Role
from gonghui.health.models import Checkup, ImportBatch, ImportFormat
from gonghui.health.services import IMPORT_JOB
from gonghui.members.services import member_reveal_id_number
from gonghui.site.testing import World, grant, make_member, make_user

pytestmark = pytest.mark.django_db


def _figures(response: Any, key: str) -> dict[str, str]:
    cards = {card.key: card for card in response.context["cards"]}
    return {f.label: f.value for f in cards[key].figures}


def _todos(response: Any, key: str) -> list[str]:
    cards = {card.key: card for card in response.context["cards"]}
    return [t.text for t in cards[key].todos]


def _keys(response: Any) -> list[str]:
    return [card.key for card in response.context["cards"]]


def _last_month_noon() -> dt.datetime:
    first = timezone.localdate().replace(day=1)
    day = (first - dt.timedelta(days=1)).replace(day=15)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _redeem(campaign: Any, member: Any, point: Any, clerk: Any, *, at: dt.datetime, seq: int) -> Redemption:
    redemption = make_redemption(make_coupon(campaign, member, seq=seq, status=CouponStatus.CLAIMED), point, clerk)
    Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=at)
    redemption.refresh_from_db()
    return redemption


@pytest.fixture
def redemptions(world: World) -> dict[str, Any]:
    point_a = make_point(world.union_a, name="甲公司职工驿站")
    point_b = make_point(world.union_b, name="乙公司职工驿站")
    campaign_a = make_campaign(world.union_a, world.staff_a, points=[point_a], limit=9, face_value_fen=1250)
    campaign_b = make_campaign(world.union_b, world.staff_b, points=[point_b], limit=9, face_value_fen=9900)
    last_month = _last_month_noon()
    now = timezone.now()
    _redeem(campaign_a, world.member_a, point_a, world.staff_a, at=last_month, seq=1)
    _redeem(campaign_a, world.member_a, point_a, world.staff_a, at=last_month, seq=2)
    reversed_last_month = _redeem(campaign_a, world.member_a, point_a, world.staff_a, at=last_month, seq=3)
    Redemption.objects.filter(pk=reversed_last_month.pk).update(reversed_at=now, reversal_reason="误操作")
    _redeem(campaign_a, world.member_a, point_a, world.staff_a, at=now - dt.timedelta(seconds=5), seq=4)
    reversed_today = _redeem(
        campaign_a, world.member_a, point_a, world.staff_a, at=now - dt.timedelta(seconds=4), seq=5
    )
    Redemption.objects.filter(pk=reversed_today.pk).update(reversed_at=now, reversal_reason="误操作")
    _redeem(campaign_b, world.member_b, point_b, world.staff_b, at=last_month, seq=1)
    _redeem(campaign_b, world.member_b, point_b, world.staff_b, at=now - dt.timedelta(seconds=3), seq=2)
    return {"point_a": point_a, "point_b": point_b}


def test_every_role_card_is_registered_by_its_app() -> None:
    assert {(p.key, p.perm) for p in dashboard.providers()} >= {
        ("benefits.settlement", "campaign.report"),
        ("benefits.clerk", "coupon.redeem"),
        ("core.audit_chain", "audit.read"),
        ("members.sensitive_reveals", "audit.read"),
        ("health.work", "health.manage"),
    }


def test_finance_sees_settlement_due_of_its_points_only(world: World, redemptions: dict[str, Any]) -> None:
    finance_a = grant(make_user("finance_a"), world.union_a, Role.FINANCE)
    response = world.client_for(finance_a).get(reverse("site:dashboard"))
    assert response.status_code == 200
    assert _keys(response) == ["benefits.settlement", "funds.usage"]
    assert _figures(response, "benefits.settlement") == {
        "上月待结算（元）": "25.00",
        "上月核销笔数": "2",
        "本月至今（元）": "12.50",
        "本月至今笔数": "1",
    }
    assert _todos(response, "benefits.settlement") == ["甲公司职工驿站：上月 2 笔，¥25.00 待对账结算"]
    body = response.content.decode()
    assert "乙公司职工驿站" not in body and "99.00" not in body
    assert "请从左侧菜单选择" not in body


def test_clerk_sees_todays_redemptions_at_its_points(world: World, redemptions: dict[str, Any]) -> None:
    clerk_a = grant(make_user("clerk_a"), world.union_a, Role.REDEEMER)
    response = world.client_for(clerk_a).get(reverse("site:dashboard"))
    assert _keys(response) == ["benefits.clerk"]
    assert _figures(response, "benefits.clerk") == {
        "今日核销笔数": "1",
        "今日核销金额（元）": "12.50",
        "今日已冲正": "1",
    }
    assert _todos(response, "benefits.clerk") == ["甲公司职工驿站：1 笔，¥12.50"]
    assert reverse("benefits:clerk_home") in response.content.decode()


def test_clerk_of_b_sees_none_of_a(world: World, redemptions: dict[str, Any]) -> None:
    clerk_b = grant(make_user("clerk_b"), world.union_b, Role.REDEEMER)
    response = world.client_for(clerk_b).get(reverse("site:dashboard"))
    assert _figures(response, "benefits.clerk") == {
        "今日核销笔数": "1",
        "今日核销金额（元）": "99.00",
        "今日已冲正": "0",
    }
    assert "甲公司" not in response.content.decode()


def test_auditor_sees_chain_status_and_reveals_of_its_subtree(world: World) -> None:
    cache.delete(audit.LAST_VERIFICATION_KEY)  # an earlier test's audit_verify run is remembered there
    auditor_a = grant(make_user("auditor_a"), world.union_a, Role.AUDITOR)
    auditor_a.display_name = "审计甲"
    member_reveal_id_number(actor=world.staff_a, member=world.member_a, reason="核对身份信息")
    member_reveal_id_number(actor=world.staff_b, member=world.member_b, reason="核对身份信息")
    response = world.client_for(auditor_a).get(reverse("site:dashboard"))
    assert _keys(response) == ["core.audit_chain", "members.sensitive_reveals"]
    assert _figures(response, "core.audit_chain") == {
        "最新记录抽查": "完好",
        "抽查记录数": str(AuditEvent.objects.count()),
        "上次完整校验": "尚未运行",
    }
    assert _todos(response, "core.audit_chain") == ["尚无完整校验记录：请运维人员运行 manage.py audit_verify"]
    assert _figures(response, "members.sensitive_reveals") == {"近期记录（最多 8 条）": "1", "其中被拒绝": "0"}
    (line,) = _todos(response, "members.sensitive_reveals")
    assert line.endswith("%s 查看完整证件号码" % world.staff_a.display_name)

    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = world.client_for(auditor_a).get(reverse("site:dashboard"))
    assert _figures(response, "core.audit_chain")["上次完整校验"].endswith("通过")
    assert _todos(response, "core.audit_chain") == []


def test_health_manager_sees_critical_reports_and_imports_of_its_subtree(world: World) -> None:
    health_a = grant(make_user("health_a"), world.union_a, Role.HEALTH)
    today = timezone.localdate()
    for member, critical, days_ago in ((world.member_a, 2, 3), (world.member_a, 1, 40), (world.member_b, 3, 1)):
        Checkup.objects.create(
            member=member,
            organization=member.organization,
            source="csv",
            external_id="R%s%s" % (member.pk, days_ago),
            exam_date=today - dt.timedelta(days=days_ago),
            critical_count=critical,
            abnormal_count=critical,
            result_count=critical,
        )
    for org, status in (
        (world.union_a, JobStatus.RUNNING),
        (world.union_a, JobStatus.FAILED),
        (world.union_a, JobStatus.SUCCEEDED),
        (world.union_b, JobStatus.QUEUED),
    ):
        job = Job.objects.create(kind=IMPORT_JOB, organization=org, status=status)
        ImportBatch.objects.create(organization=org, format=ImportFormat.CSV, filename="%s.csv" % status, job=job)
    response = world.client_for(health_a).get(reverse("site:dashboard"))
    assert _keys(response) == ["health.work"]
    assert _figures(response, "health.work") == {
        "近 30 天危急值报告": "1",
        "正在导入的批次": "1",
        "近 7 天导入失败": "1",
    }
    assert _todos(response, "health.work") == [
        "%s 张* 的体检报告有 2 项危急值，请核实并通知本人" % (today - dt.timedelta(days=3)).isoformat(),
        "running.csv：进行中",
        "近 7 天有 1 个导入批次失败，请查看原因后重新导入",
    ]


def test_staff_of_b_sees_none_of_as_figures(world: World, redemptions: dict[str, Any]) -> None:
    finance_b = grant(make_user("finance_b"), world.union_b, Role.FINANCE)
    response = world.client_for(finance_b).get(reverse("site:dashboard"))
    assert _figures(response, "benefits.settlement") == {
        "上月待结算（元）": "99.00",
        "上月核销笔数": "1",
        "本月至今（元）": "99.00",
        "本月至今笔数": "1",
    }
    assert "甲公司" not in response.content.decode()


def test_dashboard_query_count_does_not_grow_with_data(
    world: World, redemptions: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    user = grant(make_user("all_cards"), world.union_a, Role.FINANCE, Role.REDEEMER, Role.AUDITOR, Role.HEALTH)
    client = world.client_for(user)
    client.get(reverse("site:dashboard"))
    for n in range(5):
        make_member(world.union_a, name="王%s" % n)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("site:dashboard"))
    assert len(response.context["cards"]) == 6


def test_the_auditors_chain_card_reports_a_forged_link(world: World) -> None:
    auditor_a = grant(make_user("auditor_forged"), world.union_a, Role.AUDITOR)
    head = AuditChainHead.objects.get(id=1)
    AuditEvent(
        chain=1, seq=head.seq + 1, created_at=timezone.now(), action="member.update", prev_hash=head.hash, hash="0" * 64
    ).save()
    response = world.client_for(auditor_a).get(reverse("site:dashboard"))
    assert _figures(response, "core.audit_chain")["最新记录抽查"] == "断裂"
    assert _todos(response, "core.audit_chain")[0] == (
        "第 1 条审计链在第 %(seq)s 条记录处断裂：记录内容与哈希不符（已被篡改），请立即运行完整校验并上报"
        % {"seq": head.seq + 1}
    )
