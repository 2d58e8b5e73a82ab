"""The funds console pages: lists, filters, forms, export and summary; sibling-union scoping;
hostile input answered in Chinese below 500."""

import io

import pytest
from openpyxl import load_workbook

from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.funds import services
from gonghui.funds.models import Budget, LedgerEntry, Source
from gonghui.funds.tests.factories import make_budget
from gonghui.site.testing import World, grant, make_user

pytestmark = pytest.mark.django_db

OTHER = services.OTHER_CATEGORY
LIST = "/console/funds/"
SUMMARY = "/console/funds/summary/"
CREATE = "/console/funds/budgets/new/"


@pytest.fixture
def budgets(world: World) -> dict[str, Budget]:
    a = make_budget(world.staff_a, world.union_a, amount_fen=1_000_000, line="甲公司临时救助")
    a_fiscal = make_budget(world.staff_a, world.union_a, amount_fen=500_000, source=Source.FISCAL, line="甲公司送温暖")
    b = make_budget(world.staff_b, world.union_b, amount_fen=800_000, line="乙公司临时救助")
    services.fund_spend(actor=world.staff_a, budget=a, amount_fen=250_000, category=OTHER, reference="relief.case:1")
    services.fund_spend(actor=world.staff_b, budget=b, amount_fen=100_000, category=OTHER, reference="relief.case:2")
    return {"a": a, "a_fiscal": a_fiscal, "b": b}


def _table(body: str) -> str:
    return body.split('data-testid="budget-table"')[1].split("</table>", maxsplit=1)[0]


def _xlsx_rows(response) -> list[tuple]:  # type: ignore[no-untyped-def]
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


# ---- the list -----------------------------------------------------------------------------------


def test_the_list_shows_budget_spent_remaining_and_usage(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    body = world.client_for(world.staff_a).get(LIST, {"year": 2026}).content.decode()
    assert "甲公司临时救助" in body and "甲公司送温暖" in body
    assert "¥10000.00" in body and "¥2500.00" in body and "¥7500.00" in body and "25.0%" in body
    assert "乙公司临时救助" not in body


def test_the_list_filters_by_source_and_organisation(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.federation_admin)
    body = client.get(LIST, {"year": 2026, "source": "fiscal"}).content.decode()
    assert "甲公司送温暖" in body and "甲公司临时救助" not in body and "乙公司临时救助" not in body
    body = client.get(LIST, {"year": 2026, "organization": world.union_b.pk}).content.decode()
    assert "乙公司临时救助" in body and "甲公司" not in _table(body)
    body = client.get(LIST, {"year": 2026, "organization": world.street.pk}).content.decode()
    assert "乙公司临时救助" in body and "甲公司临时救助" in body


def test_the_list_has_an_empty_state_and_pages(world: World) -> None:
    client = world.client_for(world.staff_a)
    body = client.get(LIST, {"year": 2026}).content.decode()
    assert "2026 年度暂无帮扶资金预算" in body
    for n in range(25):
        make_budget(world.staff_a, world.union_a, line="科目%02d" % n)
    first = client.get(LIST, {"year": 2026}).content.decode()
    second = client.get(LIST, {"year": 2026, "page": 2}).content.decode()
    assert first.count('data-testid="budget-row"') == 20 and second.count('data-testid="budget-row"') == 5
    assert "共 25 条" in first


def test_a_bad_year_filter_shows_this_year_with_a_chinese_notice(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.staff_a)
    for raw in ("abc", "1e400", "-1", "99999999999999999999", "1999"):
        response = client.get(LIST, {"year": raw, "source": "x" * 5000, "organization": raw, "page": raw})
        assert response.status_code == 200
        assert "无效，已显示" in response.content.decode()
    # An export with a bad year exports this year's budgets and leaves no notice for the next page.
    client.get(LIST, {"year": "abc", "export": "xlsx"})
    assert "无效，已显示" not in client.get(LIST).content.decode()


def test_the_export_holds_the_filtered_budgets_and_is_audited(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    response = world.client_for(world.staff_a).get(LIST, {"year": 2026, "export": "xlsx"})
    assert response.status_code == 200
    rows = _xlsx_rows(response)
    assert rows[0][:9] == (
        "组织",
        "组织代码",
        "年度",
        "资金来源",
        "预算科目",
        "预算（元）",
        "已支出（元）",
        "剩余（元）",
        "使用率（%）",
    )
    data = {(r[4], r[5], r[6], r[7], r[8]) for r in rows[1:]}
    assert data == {("甲公司临时救助", 10000, 2500, 7500, 25), ("甲公司送温暖", 5000, 0, 5000, 0)}
    event = AuditEvent.objects.get(action="funds.budgets_export")
    assert event.detail["rows"] == 2 and event.organization_path == world.union_a.path


# ---- scoping --------------------------------------------------------------------------------------


def test_staff_of_a_sibling_union_see_none_of_union_as_budgets(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.staff_b)
    body = client.get(LIST, {"year": 2026, "organization": world.union_a.pk}).content.decode()
    assert "甲公司" not in _table(body)
    assert "乙公司临时救助" in body  # the filter on a union out of reach falls back to their own
    assert client.get(f"/console/funds/budgets/{budgets['a'].pk}/").status_code == 404
    export = _xlsx_rows(client.get(LIST, {"year": 2026, "export": "xlsx"}))
    assert {r[4] for r in export[1:]} == {"乙公司临时救助"}
    summary = client.get(SUMMARY, {"year": 2026, "organization": world.union_a.pk}).content.decode()
    assert "¥8000.00" in summary and "¥10000.00" not in summary
    entry = LedgerEntry.objects.get(budget=budgets["a"])
    before = Budget.objects.get(pk=budgets["a"].pk).spent_fen
    for path, data in (
        (f"/console/funds/budgets/{budgets['a'].pk}/spend/", {"amount": "100", "memo": "越权"}),
        (f"/console/funds/budgets/{budgets['a'].pk}/adjust/", {"amount": "1", "reason": "越权"}),
        (f"/console/funds/entries/{entry.pk}/refund/", {"reason": "越权"}),
    ):
        assert client.post(path, data).status_code == 404
    response = client.post(
        CREATE, {"organization": world.union_a.pk, "year": 2026, "source": "own", "line": "越权", "amount": "1"}
    )
    assert response.status_code == 422 and "请选择本组织或下级组织" in response.content.decode()
    assert Budget.objects.get(pk=budgets["a"].pk).spent_fen == before
    assert not Budget.objects.filter(line="越权").exists()


def test_roles_without_fund_permissions_are_refused(world: World) -> None:
    health = grant(make_user(), world.union_a, Role.HEALTH)
    client = world.client_for(health)
    assert client.get(LIST).status_code == 403
    assert client.get(SUMMARY).status_code == 403
    handler = world.client_for(grant(make_user(), world.union_a, Role.HANDLER))
    assert handler.get(LIST).status_code == 200
    assert handler.post(CREATE, {"organization": world.union_a.pk}).status_code == 403


# ---- forms ----------------------------------------------------------------------------------------


def test_staff_create_a_budget_from_the_list(world: World) -> None:
    client = world.client_for(world.staff_a)
    response = client.post(
        CREATE,
        {
            "organization": world.union_a.pk,
            "year": "２０２６",
            "source": "donation",
            "line": "金秋助学",
            "amount": "1,200.50",
            "note": "社会捐赠",
        },
    )
    budget = Budget.objects.get(line="金秋助学")
    assert response.status_code == 302 and response.headers["Location"] == f"/console/funds/budgets/{budget.pk}/"
    assert (budget.year, budget.source, budget.amount_fen, budget.note) == (2026, "donation", 120_050, "社会捐赠")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("year", "abc", "年度应为整数"),
        ("year", "1e400", "年度应为整数"),
        ("year", "-2026", "年度不能小于 2000"),
        ("year", "99999", "年度不能大于 2100"),
        ("amount", "NaN", "预算金额应为以元为单位的数字"),
        ("amount", "-5", "预算金额不能为负数"),
        ("amount", "1" + "0" * 20, "预算金额不能超过 1000000000.00 元"),
        ("amount", "1.005", "预算金额最多保留两位小数"),
        ("amount", "", "请填写预算金额"),
        ("line", "", "请填写预算科目"),
        ("line", "x" * 5000, "预算科目不能超过 40 个字"),
        ("source", "lottery", "请选择资金来源"),
        ("organization", "abc", "请选择本组织或下级组织"),
        ("organization", "1" + "0" * 20, "请选择本组织或下级组织"),
        ("note", "x" * 5000, "备注不能超过 200 个字"),
    ],
)
def test_hostile_create_fields_get_a_chinese_422(world: World, field: str, value: str, message: str) -> None:
    data = {
        "organization": world.union_a.pk,
        "year": "2026",
        "source": "own",
        "line": "临时救助",
        "amount": "100",
        field: value,
    }
    response = world.client_for(world.staff_a).post(CREATE, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Budget.objects.exists()


def test_a_duplicate_budget_is_a_chinese_409(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    data = {
        "organization": world.union_a.pk,
        "year": "2026",
        "source": "own",
        "line": "甲公司临时救助",
        "amount": "100",
    }
    response = world.client_for(world.staff_a).post(CREATE, data)
    assert response.status_code == 409 and "预算已存在，请调整原预算" in response.content.decode()


def test_the_detail_shows_the_ledger_with_category_reference_and_actor(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    body = world.client_for(world.staff_a).get(f"/console/funds/budgets/{budgets['a'].pk}/").content.decode()
    assert "其他帮扶支出" in body and "relief.case:1" in body and str(world.staff_a) in body
    assert "−¥2500.00" in body and "¥7500.00" in body


def test_record_a_spend_then_refund_it_on_the_detail_page(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.staff_a)
    url = f"/console/funds/budgets/{budgets['a'].pk}/"
    response = client.post(url + "spend/", {"amount": "300", "memo": "慰问品采购"})
    assert response.status_code == 302
    assert Budget.objects.get(pk=budgets["a"].pk).spent_fen == 280_000
    entry = LedgerEntry.objects.get(memo="慰问品采购")
    assert client.post(f"/console/funds/entries/{entry.pk}/refund/", {"reason": "登记错误"}).status_code == 302
    assert Budget.objects.get(pk=budgets["a"].pk).spent_fen == 250_000
    again = client.post(f"/console/funds/entries/{entry.pk}/refund/", {"reason": "再次"})
    assert again.status_code == 409 and "该笔支出已冲回，不能重复冲回" in again.content.decode()
    assert "已冲回" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("form", "data", "status", "message"),
    [
        (
            "spend",
            {"amount": "7500.01", "memo": "超支"},
            409,
            "预算余额不足：苏州甲公司工会 2026年 本级工会预算 · 甲公司临时救助 剩余 ¥7500.00，本次 ¥7500.01",
        ),
        ("spend", {"amount": "0", "memo": "零"}, 422, "支出金额应大于 0"),
        ("spend", {"amount": "-1", "memo": "负"}, 422, "支出金额不能为负数"),
        ("spend", {"amount": "1e400", "memo": "大"}, 422, "支出金额应为以元为单位的数字"),
        ("spend", {"amount": "1" + "0" * 20, "memo": "大"}, 422, "支出金额不能超过"),
        ("spend", {"amount": "10", "memo": ""}, 422, "请填写支出说明"),
        ("spend", {"amount": "10", "memo": "x" * 5000}, 422, "说明不能超过 200 个字"),
        ("adjust", {"amount": "2000", "reason": "调减"}, 409, "调整后的预算 ¥2000.00 不能低于已支出的 ¥2500.00"),
        ("adjust", {"amount": "abc", "reason": "调"}, 422, "调整后预算金额应为以元为单位的数字"),
        ("adjust", {"amount": "20000", "reason": ""}, 422, "请填写调整原因"),
    ],
)
def test_hostile_detail_forms_get_a_chinese_4xx_and_change_nothing(
    world: World, budgets, form, data, status, message
) -> None:  # type: ignore[no-untyped-def]
    before = Budget.objects.values_list("amount_fen", "spent_fen").get(pk=budgets["a"].pk)
    entries = LedgerEntry.objects.count()
    response = world.client_for(world.staff_a).post(f"/console/funds/budgets/{budgets['a'].pk}/{form}/", data)
    assert response.status_code == status
    assert message in response.content.decode()
    assert Budget.objects.values_list("amount_fen", "spent_fen").get(pk=budgets["a"].pk) == before
    assert LedgerEntry.objects.count() == entries


def test_adjust_from_the_detail_page(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.staff_a)
    response = client.post(
        f"/console/funds/budgets/{budgets['a'].pk}/adjust/", {"amount": "15000", "reason": "上级追加"}
    )
    assert response.status_code == 302
    assert Budget.objects.get(pk=budgets["a"].pk).amount_fen == 1_500_000
    body = client.get(f"/console/funds/budgets/{budgets['a'].pk}/").content.decode()
    assert "¥10000.00 → ¥15000.00" in body


# ---- the summary and the dashboard card -------------------------------------------------------------


def test_the_summary_adds_the_sub_tree_by_source_and_category(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    from gonghui.funds.categories import register_category

    register_category("tests.visit", "常态化慰问（测试）")
    services.fund_spend(
        actor=world.staff_a, budget=budgets["a_fiscal"], amount_fen=40_000, category="tests.visit", reference="v:1"
    )
    response = world.client_for(world.federation_admin).get(SUMMARY, {"year": 2026, "organization": world.street.pk})
    summary = response.context["summary"]
    assert [(r.label, r.amount_fen, r.spent_fen) for r in summary.by_source] == [
        ("财政", 500_000, 40_000),
        ("本级工会预算", 1_800_000, 350_000),
    ]
    assert [(r.label, r.spent_fen, r.spends) for r in summary.by_category] == [
        ("其他帮扶支出", 350_000, 2),
        ("常态化慰问（测试）", 40_000, 1),
    ]
    assert (summary.amount_fen, summary.spent_fen, summary.remaining_fen) == (2_300_000, 390_000, 1_910_000)
    assert [(r.organization, r.own, r.amount_fen, r.spent_fen) for r in summary.by_branch] == [
        (world.union_a, False, 1_500_000, 290_000),
        (world.union_b, False, 800_000, 100_000),
    ]
    assert response.context["chart"]["spent_fen"] == [40_000, 350_000]
    body = response.content.decode()
    assert 'id="funds-summary-data"' in body and "echarts.min.js" in body


def test_the_summary_by_branch_puts_the_unions_own_budgets_first_then_each_child_sub_tree(
    world: World, budgets
) -> None:  # type: ignore[no-untyped-def]
    make_budget(world.federation_admin, world.city, amount_fen=9_000_000, line="市总临时救助")
    make_budget(world.federation_admin, world.street, amount_fen=700_000, line="街道临时救助")
    response = world.client_for(world.federation_admin).get(SUMMARY, {"year": 2026, "organization": world.city.pk})
    rows = [(r.organization, r.own, r.amount_fen) for r in response.context["summary"].by_branch]
    county = world.street.parent
    assert rows == [(world.city, True, 9_000_000), (county, False, 700_000 + 1_500_000 + 800_000)]
    assert f'href="?organization={county.pk}&amp;year=2026"' in response.content.decode()


def test_the_summary_counts_refunds_back(world: World, budgets) -> None:  # type: ignore[no-untyped-def]
    services.fund_refund(actor=world.staff_a, entry=LedgerEntry.objects.get(budget=budgets["a"]), reason="退回")
    summary = world.client_for(world.staff_a).get(SUMMARY, {"year": 2026}).context["summary"]
    assert [(r.label, r.spent_fen, r.spends) for r in summary.by_category] == [("其他帮扶支出", 0, 1)]
    assert summary.spent_fen == 0


def test_the_summary_of_a_year_without_budgets_is_an_empty_state(world: World) -> None:
    body = world.client_for(world.staff_a).get(SUMMARY, {"year": "abc"}).content.decode()
    assert "该年度暂无预算" in body and "该年度暂无支出" in body
    assert "年度“abc”无效，已显示" in body


def test_the_dashboard_card_shows_this_years_usage_of_the_users_union(world: World) -> None:
    from django.utils import timezone

    from gonghui.funds.dashboard import funds_card

    year = timezone.localdate().year
    budget = make_budget(world.staff_a, world.union_a, amount_fen=1_000_000, year=year)
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=950_000, category=OTHER, reference="")
    make_budget(world.staff_a, world.union_a, amount_fen=1_000_000, year=year, line="送温暖慰问")
    card = funds_card(world.staff_a)
    assert [(f.label, f.value) for f in card.figures] == [
        ("预算", "¥20000.00"),
        ("已支出", "¥9500.00"),
        ("剩余", "¥10500.00"),
        ("使用率", "47.5%"),
    ]
    assert [t.text for t in card.todos] == [f"“{year}年 本级工会预算 · 临时救助”已使用 95.0%，剩余 ¥500.00"]
    assert funds_card(world.staff_b).figures[0].value == "¥0.00"
    assert funds_card(world.staff_b).empty_todo == "本年度尚未编制帮扶资金预算"


def test_the_dashboard_card_title_names_the_union_once_it_has_budgets(world: World) -> None:
    from django.utils import timezone

    from gonghui.funds.dashboard import funds_card

    year = timezone.localdate().year
    assert funds_card(world.staff_a).title == "帮扶资金 · %s 年" % year
    make_budget(world.staff_a, world.union_a, year=year)
    assert funds_card(world.staff_a).title == "帮扶资金 · 苏州甲公司工会 %s 年" % year


def test_list_and_ledger_queries_do_not_grow_with_rows(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client_for(world.staff_a)
    budget = make_budget(world.staff_a, world.union_a, line="台账")
    services.fund_spend(actor=world.staff_a, budget=budget, amount_fen=100, category=OTHER, reference="r")
    detail = f"/console/funds/budgets/{budget.pk}/"
    with CaptureQueriesContext(connection) as few_list:
        client.get(LIST, {"year": 2026})
    with CaptureQueriesContext(connection) as few_detail:
        client.get(detail)
    for n in range(15):
        make_budget(world.staff_a, world.union_a, line="科目%02d" % n)
        spend = services.fund_spend(
            actor=world.staff_a, budget=budget, amount_fen=100, category=OTHER, reference="r%d" % n
        )
        if n % 3 == 0:
            services.fund_refund(actor=world.staff_a, entry=spend, reason="退回")
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        client.get(LIST, {"year": 2026})
    # The second page of the ledger adds one count query.
    with django_assert_max_num_queries(len(few_detail.captured_queries) + 1):
        client.get(detail)
