"""帮扶资金 console pages: the budget list (filters, create, XLSX), a budget's ledger (adjust,
登记支出, 冲回) and the spending summary with its chart. Thin: parsing here, rules in services."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from gonghui.core import parsing
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.pagination import paginate
from gonghui.funds import exports, selectors, services
from gonghui.funds.models import BUDGET_MAX_FEN, YEAR_MAX, YEAR_MIN, Budget, Source
from gonghui.funds.permissions import FundPerm
from gonghui.organizations.selectors import has_perm_on


def _field(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a core/parsing.py parser on one form field; its message becomes the field's error."""
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={name: str(exc)}) from None


def _money(request: HttpRequest, name: str, label: str) -> int:
    return int(_field(name, parsing.parse_yuan, request.POST.get(name), label=label, maximum_fen=BUDGET_MAX_FEN))


def _year_filter(request: HttpRequest, default: int) -> int:
    """`?year=`, or `default` for a value that is not a plausible year (said on the page)."""
    year = parsing.query_year(request.GET, "year", default=default)
    raw = parsing.clean(request.GET.get("year"))
    if raw and raw != str(year) and request.GET.get("export") is None:
        messages.warning(request, "年度“%(raw)s”无效，已显示 %(year)s 年" % {"raw": raw[:20], "year": year})
    return year


def _years(today_year: int) -> list[int]:
    return list(range(today_year + 1, max(YEAR_MIN, today_year - 5) - 1, -1))


@require_GET
@requires_perm(FundPerm.FUND_VIEW)
def budget_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


def _list_page(
    request: HttpRequest, *, error: str = "", errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    today = timezone.localdate()
    year = _year_filter(request, today.year)
    source = request.GET.get("source", "")
    if source not in Source.values:
        source = ""
    organization = selectors.organization_in_scope(actor=request.user, pk=parsing.query_id(request.GET, "organization"))
    qs = selectors.budget_list_for_actor(actor=request.user, year=year, source=source, organization=organization)
    if request.GET.get("export") == "xlsx":
        scope = organization or selectors.home_organization(actor=request.user)
        return download(exports.budgets_xlsx(actor=request.user, qs=qs, year=year, source=source, organization=scope))
    page = paginate(request, qs)
    manage_orgs = selectors.organizations_for_funds(actor=request.user, perm=FundPerm.FUND_MANAGE)
    return render(
        request,
        "funds/budget_list.html",
        {
            "page": page,
            "year": year,
            "years": _years(today.year),
            "source": source,
            "sources": Source.choices,
            "organization": organization,
            "orgs": selectors.organizations_for_funds(actor=request.user),
            "manage_orgs": manage_orgs,
            "values": request.POST if request.method == "POST" else {"year": str(year)},
            "error": error,
            "errors": errors or {},
            "year_min": YEAR_MIN,
            "year_max": YEAR_MAX,
        },
        status=status,
    )


@require_POST
@requires_perm(FundPerm.FUND_MANAGE)
def budget_create(request: HttpRequest) -> HttpResponse:
    try:
        organization = selectors.organization_in_scope(
            actor=request.user, pk=parsing.query_id(request.POST, "organization"), perm=FundPerm.FUND_MANAGE
        )
        if organization is None:
            raise ValidationFailed("请选择组织", fields={"organization": "请选择本组织或下级组织"})
        year = _field(
            "year", parsing.parse_int, request.POST.get("year"), label="年度", minimum=YEAR_MIN, maximum=YEAR_MAX
        )
        budget = services.budget_create(
            actor=request.user,
            organization=organization,
            year=year,
            source=request.POST.get("source", ""),
            line=request.POST.get("line", ""),
            amount_fen=_money(request, "amount", "预算金额"),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        return _list_page(request, error=exc.message, errors=exc.fields, status=exc.status)
    messages.success(request, "已新建预算“%(budget)s”" % {"budget": budget})
    return redirect("funds:budget_detail", pk=budget.pk)


@require_GET
@requires_perm(FundPerm.FUND_VIEW)
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, selectors.budget_get_for_actor(actor=request.user, pk=pk))


def _detail_page(
    request: HttpRequest,
    budget: Budget,
    *,
    form: str = "",
    error: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    page = paginate(request, selectors.ledger_for_budget(budget=budget))
    return render(
        request,
        "funds/budget_detail.html",
        {
            "budget": budget,
            "page": page,
            "refunded": selectors.refunded_ids(page.items),
            "can_manage": has_perm_on(request.user, FundPerm.FUND_MANAGE, budget.organization),
            "can_spend": has_perm_on(request.user, FundPerm.FUND_SPEND, budget.organization),
            "form": form,
            "values": request.POST if form else {},
            "error": error,
            "errors": errors or {},
        },
        status=status,
    )


@require_POST
@requires_perm(FundPerm.FUND_MANAGE)
def budget_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    budget = selectors.budget_get_for_actor(actor=request.user, pk=pk, perm=FundPerm.FUND_MANAGE)
    try:
        services.budget_adjust(
            actor=request.user,
            budget=budget,
            amount_fen=_money(request, "amount", "调整后预算金额"),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _detail_page(request, budget, form="adjust", error=exc.message, errors=exc.fields, status=exc.status)
    messages.success(request, "预算已调整为 ¥%(amount)s" % {"amount": parsing.format_yuan(budget.amount_fen)})
    return redirect("funds:budget_detail", pk=budget.pk)


@require_POST
@requires_perm(FundPerm.FUND_SPEND)
def budget_spend(request: HttpRequest, pk: int) -> HttpResponse:
    budget = selectors.budget_get_for_actor(actor=request.user, pk=pk, perm=FundPerm.FUND_SPEND)
    try:
        entry = services.fund_spend_other(
            actor=request.user,
            budget=budget,
            amount_fen=_money(request, "amount", "支出金额"),
            memo=request.POST.get("memo", ""),
        )
    except DomainError as exc:
        return _detail_page(request, budget, form="spend", error=exc.message, errors=exc.fields, status=exc.status)
    messages.success(
        request,
        "已登记支出 ¥%(amount)s，预算剩余 ¥%(left)s"
        % {"amount": parsing.format_yuan(entry.amount_fen), "left": parsing.format_yuan(budget.remaining_fen)},
    )
    return redirect("funds:budget_detail", pk=budget.pk)


@require_POST
@requires_perm(FundPerm.FUND_SPEND)
def entry_refund(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.entry_get_for_actor(actor=request.user, pk=pk)
    try:
        services.fund_refund(actor=request.user, entry=entry, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        return _detail_page(
            request, entry.budget, form="refund", error=exc.message, errors=exc.fields, status=exc.status
        )
    messages.success(request, "已冲回支出 ¥%(amount)s" % {"amount": parsing.format_yuan(entry.amount_fen)})
    return redirect("funds:budget_detail", pk=entry.budget_id)


@require_GET
@requires_perm(FundPerm.FUND_VIEW)
def summary(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    year = _year_filter(request, today.year)
    organization = selectors.organization_in_scope(
        actor=request.user, pk=parsing.query_id(request.GET, "organization")
    ) or selectors.home_organization(actor=request.user)
    result = (
        selectors.spending_summary(actor=request.user, organization=organization, year=year) if organization else None
    )
    chart = (
        {
            "sources": [r.label for r in result.by_source],
            "budget_fen": [r.amount_fen for r in result.by_source],
            "spent_fen": [r.spent_fen for r in result.by_source],
            "categories": [{"name": r.label, "value_fen": r.spent_fen} for r in result.by_category],
        }
        if result
        else {"sources": [], "budget_fen": [], "spent_fen": [], "categories": []}
    )
    return render(
        request,
        "funds/summary.html",
        {
            "summary": result,
            "organization": organization,
            "orgs": selectors.organizations_for_funds(actor=request.user),
            "year": year,
            "years": _years(today.year),
            "chart": chart,
        },
    )
