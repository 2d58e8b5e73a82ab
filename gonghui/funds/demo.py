"""Demo budgets for 帮扶资金: the current year's budget lines of 苏州市总工会 (a few hundred
thousand yuan per source) and of its district unions (smaller), created and spent through
the services by the demo's 财务 (王财务), so the ledger, the summary chart and the dashboard
card have something to show. Other apps' seeders pay their own cases from these budgets."""

import random
from typing import Any

from gonghui.accounts.models import User
from gonghui.funds import services
from gonghui.funds.models import Source
from gonghui.organizations.models import Level, Organization

# (source, line, city amount in yuan); a district gets a fifth to a tenth of it.
CITY_LINES: tuple[tuple[str, str, int], ...] = (
    (Source.FISCAL, "困难职工帮扶", 400_000),
    (Source.UPPER, "送温暖慰问", 300_000),
    (Source.OWN, "临时救助", 200_000),
    (Source.OWN, "大病救助", 350_000),
    (Source.DONATION, "金秋助学", 120_000),
)
MANUAL_SPENDS = (
    "春节前走访慰问困难职工家庭（慰问金）",
    "高温天气一线职工送清凉物资",
    "帮扶中心日常救助（凭证号 %(n)04d）",
    "困难职工子女助学金发放（第 %(n)d 批）",
)


def seed(*, rng: random.Random, stdout: Any, today: Any) -> None:
    city = Organization.objects.filter(name="苏州市总工会").first()
    finance = User.objects.filter(username="demo_finance").first()
    if city is None or finance is None:
        return
    year = today.year
    districts = list(Organization.objects.filter(parent=city, level=Level.COUNTY).order_by("path"))
    budgets = []
    for source, line, amount in CITY_LINES:
        budgets.append(_budget(finance, city, year, source, line, amount * 100))
    for district in districts:
        for source, line, amount in CITY_LINES:
            share = rng.randint(10, 20)
            budgets.append(_budget(finance, district, year, source, line, amount * 100 * share // 100 // 1000 * 1000))
    spends = 0
    for budget in budgets:
        # Spend between a tenth and two thirds of each line, in a few entries of round amounts.
        target = budget.amount_fen * rng.randint(10, 66) // 100
        for _ in range(rng.randint(1, 4)):
            amount = min(target, rng.randint(2, 40) * 50_000)
            if amount <= 0 or amount > budget.remaining_fen:
                break
            memo = rng.choice(MANUAL_SPENDS) % {"n": rng.randint(1, 9999)}
            services.fund_spend_other(actor=finance, budget=budget, amount_fen=amount, memo=memo)
            target -= amount
            spends += 1
    stdout.write("  帮扶资金：%(b)s 条预算，%(s)s 笔支出（%(y)s 年度）" % {"b": len(budgets), "s": spends, "y": year})


def _budget(actor: User, organization: Organization, year: int, source: str, line: str, amount_fen: int) -> Any:
    return services.budget_create(
        actor=actor,
        organization=organization,
        year=year,
        source=source,
        line=line,
        amount_fen=amount_fen,
        note="%(year)s年度帮扶资金预算（演示）" % {"year": year},
    )
