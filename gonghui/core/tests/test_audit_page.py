"""The auditor's page reads as Chinese for an auditor: labels, object names, readable details,
a search that understands 登录, and an export."""

import io
import re

import pytest
from openpyxl import load_workbook

from gonghui.core import audit, registry
from gonghui.core.models import AuditEvent
from gonghui.site.testing import World


def _page(world: World, query: str = "") -> str:
    response = world.client_for(world.auditor_b).get("/console/audit/" + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_page_shows_labels_object_names_and_readable_details(world: World) -> None:
    audit.record(
        actor=world.staff_b,
        action="member.import_resume",
        obj=world.member_b,
        organization=world.union_b,
        detail={"keep_good_rows": True, "rows": 12},
    )
    body = _page(world)
    assert "继续会员导入" in body
    assert "李*（%s）" % world.member_b.member_no in body  # the member's masked name, not "members.member 2"
    assert "保留正确行：是" in body
    assert "{'keep_good_rows'" not in body
    assert "李四" not in body


def _actions(body: str) -> list[str]:
    return re.findall(r'data-testid="audit-action">([^<]+)<', body)


@pytest.mark.django_db
def test_a_search_in_chinese_finds_the_logins(world: World) -> None:
    audit.record(actor=world.staff_b, action="auth.login", organization=world.union_b)
    audit.record(actor=world.staff_b, action="member.update", obj=world.member_b, organization=world.union_b)
    assert set(_actions(_page(world))) >= {"工作人员登录", "修改会员信息"}
    assert _actions(_page(world, "?q=登录")) == ["工作人员登录"]
    # Words narrow together: an operator's name and a label.
    assert _actions(_page(world, "?q=%s 登录" % world.staff_b.display_name)) == ["工作人员登录"]
    assert _actions(_page(world, "?q=登录 不存在的人")) == []
    assert _actions(_page(world, "?q=member.")) == ["修改会员信息"]


@pytest.mark.django_db
def test_every_registered_action_has_a_chinese_label() -> None:
    for code, label in registry.audit_actions().items():
        assert label and label != code
        assert not label.isascii(), code


@pytest.mark.django_db
def test_bad_filters_get_a_chinese_message_not_a_500(world: World) -> None:
    client = world.client_for(world.auditor_b)
    response = client.get("/console/audit/?date_from=2026-13-40")
    assert response.status_code == 422
    assert "起始日期格式应为 YYYY-MM-DD" in response.content.decode()
    response = client.get("/console/audit/?q=" + "登" * 51)
    assert response.status_code == 422
    assert "搜索内容不能超过" in response.content.decode()


@pytest.mark.django_db
def test_the_export_holds_what_the_page_shows_and_is_itself_audited(world: World) -> None:
    audit.record(actor=world.staff_a, action="auth.login", organization=world.union_a)
    audit.record(actor=world.staff_b, action="auth.login", organization=world.union_b)
    response = world.client_for(world.auditor_b).get("/console/audit/?q=登录&format=xlsx")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("链-序号", "时间", "操作人", "操作")
    assert [row[3] for row in rows[1:]] == ["工作人员登录"]  # union A's login stays out of B's export
    exported = AuditEvent.objects.get(action="audit.export")
    assert exported.actor_id == world.auditor_b.pk
    assert exported.detail["rows"] == 1


@pytest.mark.django_db
def test_a_coupon_is_named_by_its_holder_and_campaign_never_by_its_code(world: World) -> None:
    from gonghui.benefits.tests.factories import make_campaign, make_coupon

    campaign = make_campaign(world.union_b, world.staff_b, name="夏日清凉券")
    coupon = make_coupon(campaign, world.member_b, code="12345678901234")
    audit.record(actor=world.staff_b, action="coupon.redeem", obj=coupon, organization=world.union_b)
    body = _page(world)
    objects = re.findall(r'data-testid="audit-object">([^<]*)<', body)
    assert "李*的券（夏日清凉券）" in objects
    assert "12345678901234" not in body


@pytest.mark.django_db
def test_a_job_is_named_by_its_kind(world: World) -> None:
    from gonghui.core.models import Job

    job = Job.objects.create(kind="export.members.list", organization=world.union_b, created_by=world.staff_b)
    audit.record(actor=world.staff_b, action="export.download", obj=job, organization=world.union_b)
    objects = re.findall(r'data-testid="audit-object">([^<]*)<', _page(world))
    assert "会员名册导出 #%d" % job.pk in objects
