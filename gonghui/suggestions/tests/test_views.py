"""The pages: the staff inbox, triage and notices, the printable notice and its PDF, the
ledger export, metrics and the 销账 review; the department contact's notices (only their
department's); the member H5; the tracking-code lookup (the code alone, nothing more, rate
limited); and the public 院务公开 page, checked on its rendered HTML for leaks."""

import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.core.models import WorkflowStep
from gonghui.site.testing import World
from gonghui.suggestions import services
from gonghui.suggestions.models import Channel, Item, ItemStatus, SubmitterKind
from gonghui.suggestions.tests.factories import (
    EVIDENCE,
    contact_of,
    handler_of,
    make_department,
    make_item,
    make_notice,
)
from gonghui.suggestions.views import TRACK_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def _member_client(world: World, member=None) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login((member or world.member_a).user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return client


def test_the_inbox_shows_an_empty_state_then_the_items_with_their_sla(world: World) -> None:
    client = world.client_for(world.staff_a)
    response = client.get("/console/suggestions/")
    assert response.status_code == 200 and "暂无符合条件的诉求" in response.content.decode()
    make_item(world.union_a, title="停车位紧张")
    make_item(world.union_b, title="乙公司的事")
    body = client.get("/console/suggestions/?status=nonsense&channel=x&page=abc").content.decode()
    assert "停车位紧张" in body and "乙公司的事" not in body and "正常" in body


def test_staff_accept_issue_a_notice_to_two_departments_and_close_only_with_evidence(world: World) -> None:
    client = world.client_for(world.staff_a)
    d1 = make_department(world.union_a, "体检中心", contact_of(world.union_a))
    d2 = make_department(world.union_a, "信息中心", contact_of(world.union_a))
    item = make_item(world.union_a)
    url = "/console/suggestions/%d/action/" % item.pk
    assert client.post(url, {"op": "accept"}).status_code == 302
    bad = client.post(url, {"op": "notice", "departments": [d1.pk, d2.pk], "requirement": "整改", "deadline": "明天"})
    assert bad.status_code == 422 and "办结期限" in bad.content.decode()
    deadline = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    ok = client.post(
        url, {"op": "notice", "departments": [d1.pk, d2.pk], "requirement": "请上线手机查看功能", "deadline": deadline}
    )
    assert ok.status_code == 302
    notice = item.notices.get()
    assert set(notice.departments.all()) == {d1, d2}
    refused = client.post(url, {"op": "close", "text": "已办结"})
    assert refused.status_code == 422 and "佐证" in refused.content.decode()
    assert Item.objects.get(pk=item.pk).status == ItemStatus.IN_PROGRESS
    page = client.get("/console/suggestions/notices/%d/" % notice.pk).content.decode()
    assert notice.number in page and "体检中心" in page and "信息中心" in page
    pdf = client.get("/console/suggestions/notices/%d/pdf/" % notice.pk)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_sibling_staff_get_404_on_union_a_items(world: World) -> None:
    item = make_item(world.union_a)
    client = world.client_for(world.staff_b)
    assert client.get("/console/suggestions/%d/" % item.pk).status_code == 404
    assert client.post("/console/suggestions/%d/action/" % item.pk, {"op": "accept"}).status_code == 404
    assert Item.objects.get(pk=item.pk).status == ItemStatus.SUBMITTED


def test_the_ledger_exports_xlsx_for_the_period(world: World) -> None:
    dept = make_department(world.union_a, "后勤保障部", contact_of(world.union_a))
    make_notice(make_item(world.union_a, title="食堂晚餐"), [dept])
    response = world.client_for(world.staff_a).get("/console/suggestions/ledger/?export=xlsx&start=2020-01-01")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("编号", "收到时间", "组织", "渠道", "分类", "事项")
    assert rows[1][5] == "食堂晚餐" and rows[1][6] == "后勤保障部" and rows[1][8] == "办理中"


def test_metrics_and_the_monthly_review(world: World) -> None:
    contact = contact_of(world.union_a)
    dept = make_department(world.union_a, "体检中心", contact)
    notice = make_notice(make_item(world.union_a, title="体检报告上手机"), [dept])
    services.progress_post(actor=contact, notice=notice, department=dept, text="开发中", uploads=[EVIDENCE])
    client = world.client_for(world.staff_a)
    body = client.get("/console/suggestions/metrics/?start=bad").content.decode()
    assert "体检中心" in body and "chart-departments" in body and "suggestions-metrics-data" in body
    review = client.get("/console/suggestions/review/?month=2099-13").content.decode()
    assert "体检报告上手机" in review


def test_a_department_contact_sees_only_notices_addressed_to_their_department(world: World) -> None:
    mine, theirs = contact_of(world.union_a, "contact_mine"), contact_of(world.union_a, "contact_theirs")
    d_mine = make_department(world.union_a, "体检中心", mine)
    d_theirs = make_department(world.union_a, "财务部", theirs)
    n_mine = make_notice(make_item(world.union_a, title="体检报告上手机"), [d_mine])
    n_theirs = make_notice(make_item(world.union_a, title="报销流程"), [d_theirs])
    client = world.client_for(mine)
    listing = client.get("/console/suggestions/contact/").content.decode()
    assert "体检报告上手机" in listing and "报销流程" not in listing
    assert client.get("/console/suggestions/contact/%d/" % n_theirs.pk).status_code == 404
    assert client.post("/console/suggestions/contact/%d/" % n_theirs.pk, {"text": "越权"}).status_code == 404
    assert not n_theirs.progress.exists()
    assert client.get("/console/suggestions/%d/" % n_mine.item_id).status_code == 403
    ok = client.post("/console/suggestions/contact/%d/" % n_mine.pk, {"department": d_mine.pk, "text": "已上线测试"})
    assert ok.status_code == 302 and list(n_mine.progress.values_list("text", flat=True)) == ["已上线测试"]
    # Nor the other department's evidence: its files are not theirs to download.
    services.progress_post(actor=theirs, notice=n_theirs, department=d_theirs, text="已核实", uploads=[EVIDENCE])
    evidence = n_theirs.progress.get().evidence.get()
    assert client.get("/console/suggestions/attachments/%d/" % evidence.pk).status_code == 404
    assert world.client_for(theirs).get("/console/suggestions/attachments/%d/" % evidence.pk).status_code == 200


def test_a_member_files_follows_rates_and_reopens(world: World) -> None:
    client = _member_client(world)
    bad = client.post("/h5/suggestions/new/", {"title": "", "content": "x"})
    assert bad.status_code == 422 and "请填写标题" in bad.content.decode()
    response = client.post("/h5/suggestions/new/", {"title": "体检报告上手机", "content": "希望在手机上看体检报告"})
    item = Item.objects.get(title="体检报告上手机")
    assert response.status_code == 302 and item.channel == Channel.ONLINE and item.member == world.member_a
    assert "体检报告上手机" in client.get("/h5/suggestions/").content.decode()
    handler = handler_of(world.union_a)
    services.item_accept(actor=handler, item=item)
    services.item_close(actor=handler, item=item, text="已上线", uploads=[EVIDENCE])
    assert _member_client(world, world.member_b).get("/h5/suggestions/%d/" % item.pk).status_code == 404
    assert client.post("/h5/suggestions/%d/" % item.pk, {"score": "9"}).status_code == 422
    assert client.post("/h5/suggestions/%d/" % item.pk, {"score": "5", "comment": "好"}).status_code == 302
    assert "您已评价：5 分" in client.get("/h5/suggestions/%d/" % item.pk).content.decode()


def test_anonymous_submission_returns_a_code_that_alone_shows_the_item(world: World) -> None:
    response = _member_client(world).post(
        "/h5/suggestions/new/", {"title": "更衣室热水", "content": "热水时有时无", "anonymous": "1"}
    )
    code = response.context["code"]
    item = Item.objects.get(title="更衣室热水")
    assert item.submitter_kind == SubmitterKind.ANONYMOUS and item.member_id is None
    assert code in response.content.decode()
    found = Client().post("/suggestions/track/", {"code": code})
    body = found.content.decode()
    assert found.status_code == 200 and "更衣室热水" in body and item.number in body
    for marker in (world.member_a.name, world.member_a.phone, world.member_a.member_no, world.union_a.name):
        assert marker not in body
    assert Client().post("/suggestions/track/", {"code": "AAAA-BBBB-CCCC"}).status_code == 404
    # Nor does the member's own account reach it: it is not among their items.
    member = _member_client(world)
    assert "更衣室热水" not in member.get("/h5/suggestions/").content.decode()
    assert member.get("/h5/suggestions/%d/" % item.pk).status_code == 404


def test_the_holder_of_the_code_rates_on_the_tracking_page_and_stays_anonymous(world: World) -> None:
    response = _member_client(world).post(
        "/h5/suggestions/new/", {"title": "更衣室热水", "content": "热水时有时无", "anonymous": "1"}
    )
    code = response.context["code"]
    item = Item.objects.get(title="更衣室热水")
    handler = handler_of(world.union_a)
    services.item_accept(actor=handler, item=item)
    services.item_close(actor=handler, item=item, text="已维修", uploads=[EVIDENCE])
    shown = Client().post("/suggestions/track/", {"code": code}).content.decode()
    assert 'data-testid="rate-form"' in shown and 'data-testid="reopen-form"' in shown
    wrong = Client().post("/suggestions/track/", {"code": "AAAA-BBBB-CCCC", "op": "rate", "score": "5"})
    assert wrong.status_code == 404 and not item.ratings.exists()
    bad = Client().post("/suggestions/track/", {"code": code, "op": "rate", "score": "0"})
    assert bad.status_code == 422 and "1～5" in bad.content.decode()
    # Signed in or not, the step names no account.
    ok = _member_client(world).post("/suggestions/track/", {"code": code, "op": "rate", "score": "4", "comment": "好"})
    body = ok.content.decode()
    assert ok.status_code == 200 and "感谢您的评价" in body and "您已评价：4 分" in body
    assert 'data-testid="rate-form"' not in body
    assert WorkflowStep.objects.get(object_id=item.pk, transition="confirm").actor_id is None


def test_tracking_lookups_are_rate_limited_and_the_refusal_does_not_reset_the_count(world: World) -> None:
    _, code = services.item_submit(
        actor=None,
        organization=world.union_a,
        channel=Channel.ONLINE,
        title="t",
        content="c",
        kind=SubmitterKind.ANONYMOUS,
    )
    client = Client()
    for _ in range(TRACK_LIMIT):
        assert client.post("/suggestions/track/", {"code": "WRONG-CODE"}).status_code == 404
    assert client.post("/suggestions/track/", {"code": code}).status_code == 429
    assert client.post("/suggestions/track/", {"code": code}).status_code == 429


def _published(world: World, *, title: str, content: str, outcome: str) -> Item:
    handler = handler_of(world.union_a)
    item = make_item(world.union_a, actor=handler, member=world.member_a, title=title, content=content)
    services.item_accept(actor=handler, item=item)
    services.item_close(actor=handler, item=item, text="已办结", uploads=[EVIDENCE])
    return services.item_publish_set(actor=world.staff_a, item=item, publishable=True, outcome=outcome)


def test_the_public_page_lists_published_items_and_leaks_no_personal_data(world: World) -> None:
    a = world.member_a
    _published(
        world,
        title="%s反映食堂问题" % a.name,
        content="我叫%s，电话 %s，身份证 320508199001011234，会员编号 %s，卡号 %s，李师傅也反映过"
        % (a.name, a.phone, a.member_no, a.card_no),
        outcome="已增加面食窗口，联系人王主任 0512-65231234",
    )
    hidden = make_item(world.union_a, title="不公开的事项")
    services.item_accept(actor=handler_of(world.union_a), item=hidden)
    response = Client().get("/gongkai/%s/" % world.union_a.code)
    body = response.content.decode()
    assert response.status_code == 200
    assert "反映食堂问题" in body and "已增加面食窗口" in body and "＊＊" in body
    assert "不公开的事项" not in body
    for secret in (a.name, a.phone, "320508199001011234", a.member_no, a.card_no, "李师傅", "王主任", "65231234"):
        assert secret not in body, secret
    # One item this year: every channel count is below the small-group threshold.
    assert "&lt;10" in body


def test_the_public_page_of_an_unknown_code_is_404() -> None:
    assert Client().get("/gongkai/NOPE/").status_code == 404


def test_the_inbox_reads_the_sla_policies_once_per_page_not_per_item(
    world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    handler = handler_of(world.union_a)
    for n in range(12):
        make_item(world.union_a, actor=handler, title="诉求%d" % n)
    client = world.client_for(world.staff_a)
    client.get("/console/suggestions/")
    with django_assert_max_num_queries(25):
        body = client.get("/console/suggestions/").content.decode()
    assert body.count('data-testid="item-row"') == 12


def test_milestones_of_a_long_item_show_to_staff_and_the_member(world: World) -> None:
    handler = handler_of(world.union_a)
    q1_2024 = dt.datetime(2024, 2, 20, 10, 0, tzinfo=timezone.get_current_timezone())
    item = make_item(world.union_a, actor=handler, member=world.member_a, received_at=q1_2024)
    item = services.item_accept(actor=handler, item=item)
    services.milestone_add(actor=handler, item=item, title="体检报告上线小程序", reached_on=dt.date(2025, 3, 15))
    staff_body = world.client_for(world.staff_a).get("/console/suggestions/%d/" % item.pk).content.decode()
    assert "2025-03-15 体检报告上线小程序" in staff_body
    member_body = _member_client(world).get("/h5/suggestions/%d/" % item.pk).content.decode()
    assert "节点：体检报告上线小程序" in member_body


def test_the_dashboard_card_counts_open_and_breached_items(world: World) -> None:
    from gonghui.suggestions.dashboard import suggestions_card

    make_item(world.union_a, received_at=timezone.now() - dt.timedelta(days=60), title="积压的诉求")
    make_item(world.union_a)
    card = suggestions_card(world.staff_a)
    figures = {f.label: f.value for f in card.figures}
    assert figures == {"办理中": "2", "待受理": "2", "临期": "0", "超时": "1"}
    assert [t.text.split(" ", 1)[1] for t in card.todos] == ["积压的诉求"]


def test_the_member_sees_the_closure_notice_and_the_suggestions_tile(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from gonghui.core import registry

    handler = handler_of(world.union_a)
    item = services.item_accept(actor=handler, item=make_item(world.union_a, actor=handler, member=world.member_a))
    with django_capture_on_commit_callbacks(execute=True):
        services.item_close(actor=handler, item=item, text="已办结", uploads=[EVIDENCE])
    body = _member_client(world).get("/h5/suggestions/").content.decode()
    assert "您的诉求 %s 已办结，请确认并评价" % item.number in body
    tile = {t.key: t for t in registry.tiles()}["suggestions"]
    assert tile.url == "/h5/suggestions/" and tile.label == "诉求建议"
