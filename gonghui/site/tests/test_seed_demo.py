"""`seed_demo` builds the demo on any day of the year and at any size from 200 members up, and
prints what it made."""

import datetime as dt
import io
import json
import re
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from gonghui.benefits.models import Campaign, CampaignStatus
from gonghui.core.models import AuditEvent
from gonghui.health.models import Appointment, Programme, Quota, Slot
from gonghui.members.demo import spread_counts
from gonghui.members.models import JoinApplication, Member
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create
from gonghui.site.management.commands.seed_demo import SEED_COMPLETE

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "members"),
    [
        (dt.datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI), 200),
        (dt.datetime(2026, 7, 15, 10, 0, tzinfo=SHANGHAI), 600),
        (dt.datetime(2026, 12, 31, 23, 40, tzinfo=SHANGHAI), 200),
    ],
    ids=["1-january", "mid-july", "31-december"],
)
def test_seed_demo_succeeds_on_any_day_and_prints_what_it_made(db, moment: dt.datetime, members: int) -> None:
    with time_machine.travel(moment, tick=True):
        today = moment.date()
        output = _seed("--members", str(members), "--url", "http://demo.example:8123")

        assert Member.objects.count() == members
        assert f"会员：{members} 名" in output
        assert JoinApplication.objects.count() == 4
        assert "入会申请：4 份待审核" in output
        assert f"组织：{Organization.objects.count()} 个" in output

        programme = Programme.objects.get()
        assert programme.starts_on == today + dt.timedelta(days=1)
        assert programme.ends_on == today + dt.timedelta(days=76)
        assert programme.year == programme.starts_on.year
        assert programme.name == "%d年度职工免费健康体检" % programme.starts_on.year
        booked = Appointment.objects.count()
        assert 0 < booked <= 80
        assert re.search(r"预约 %d 人" % booked, output)
        for quota in Quota.objects.all():
            assert quota.used == Appointment.objects.filter(quota=quota).count() <= quota.places
        for slot in Slot.objects.filter(booked__gt=0):
            assert slot.booked == Appointment.objects.filter(slot=slot).count() <= slot.capacity
            assert slot.date > today

        running = Campaign.objects.filter(status=CampaignStatus.PUBLISHED).order_by("id")
        assert running.count() == 2
        for campaign in running:
            assert campaign.claim_starts_at < moment < campaign.claim_ends_at
        seasonal = running[0]
        expected = (
            ("cooling", "%d年夏季送清凉" % today.year) if today.month == 7 else ("warmth", "2026-2027年冬季送温暖")
        )
        assert (seasonal.kind, seasonal.name.split("（")[0]) == expected
        closed = Campaign.objects.get(status=CampaignStatus.CLOSED)
        assert closed.claim_ends_at < moment
        assert (
            closed.name
            == {7: "2026年五一劳动节节日慰问", 1: "2026年中秋国庆节日慰问", 12: "2026年中秋国庆节日慰问"}[today.month]
        )

        assert "登录 http://demo.example:8123/accounts/login/" in output
        assert "http://demo.example:8123/h5/login/" in output
        assert "127.0.0.1:8000" not in output
        assert AuditEvent.objects.filter(action=SEED_COMPLETE).count() == 1

        verified = io.StringIO()
        call_command("audit_verify", stdout=verified)
        assert json.loads(verified.getvalue())["ok"] is True

        again = _seed("--members", str(members), "--if-empty")
        assert "演示数据已存在，跳过" in again
        assert Member.objects.count() == members
        assert AuditEvent.objects.filter(action=SEED_COMPLETE).count() == 1


def test_an_incomplete_seed_is_not_taken_for_a_demo(db) -> None:
    """Organisations without the completion marker: a seed that never finished. On PostgreSQL
    it is refused (the SQLite rebuild is covered by the smoke suite)."""
    organization_create(
        actor=None, parent=None, code="JS0001", name="江苏省总工会", level=Level.PROVINCE, region_code="320000"
    )
    with pytest.raises(CommandError, match="不完整的演示数据"):
        _seed("--members", "200", "--if-empty")
    with pytest.raises(CommandError, match="只能载入空数据库"):
        _seed("--members", "200")
    assert Organization.objects.count() == 1
    assert Member.objects.count() == 0


def test_seed_demo_refuses_fewer_than_200_members(db) -> None:
    with pytest.raises(CommandError, match="至少为 200"):
        _seed("--members", "199")
    assert Organization.objects.count() == 0


@pytest.mark.parametrize(
    ("total", "parts"), [(200, 243), (243, 243), (19_995, 243), (7, 3), (0, 4), (195, 243), (1000, 1)]
)
def test_spread_counts_sum_to_the_total(total: int, parts: int) -> None:
    weights = [0.3 + (i * 7919 % 100) / 37 for i in range(parts)]
    counts = spread_counts(total, weights)
    assert sum(counts) == total
    assert len(counts) == parts
    assert min(counts) >= (1 if total >= parts else 0)
