"""Demo hardship files: a few dozen households across the demo organisations, of every class,
some with visits overdue, one 退档 notice awaiting the reviewer, household members and visits.

Files are made through the services (sealed figures, assessment, audit), as staff would, and
then placed in time relative to the demo's "today" (filed months ago, last visited or not)."""

import datetime as dt
from typing import Any

from gonghui.accounts.models import User
from gonghui.core.errors import ValidationFailed
from gonghui.members.models import Member
from gonghui.organizations.models import Organization
from gonghui.organizations.policies import policy_propose
from gonghui.relief import cases, plans, policies, selectors, services
from gonghui.relief.models import Cause, HardshipFile, ReliefCase, Visit, add_months

FILES = 36
OVERDUE_EVERY = 5  # every fifth household has gone more than six months without a visit

# (annual income, rigid spending, hardship costs, size, disaster, main cause, secondary, group)
PROFILES: tuple[tuple[int, int, int, int, bool, str, list[str], str], ...] = (
    (2_400_000, 800_000, 0, 3, False, Cause.MAJOR_ILLNESS, [Cause.SCHOOLING], "major_illness"),
    (1_800_000, 300_000, 0, 2, False, Cause.LAID_OFF, [Cause.NO_SOCIAL_INSURANCE], "laid_off"),
    (5_600_000, 600_000, 0, 3, False, Cause.SCHOOLING, [], "schooling"),
    (6_000_000, 1_200_000, 0, 4, False, Cause.NO_LABOUR_ABILITY, [Cause.MAJOR_ILLNESS], "disabled"),
    (9_000_000, 0, 7_800_000, 3, False, Cause.ACCIDENT, [], ""),
    (12_000_000, 0, 0, 3, True, Cause.NATURAL_DISASTER, [Cause.OTHER], "disaster"),
    (3_000_000, 200_000, 0, 2, False, Cause.UNEMPLOYED, [], "single_mother"),
    (4_200_000, 900_000, 0, 4, False, Cause.INSURANCE_SHORTFALL, [Cause.SCHOOLING], "frontline"),
)

VISIT_NOTES = (
    "上门走访，送去慰问金和米面油",
    "了解子女上学情况，协助申请助学金",
    "陪同就医，了解医保报销进度",
    "走访家中，房屋漏雨已联系社区维修",
    "电话回访后上门，家庭收入暂无变化",
)


def _dibao_body(today: dt.date) -> dict[str, Any]:
    """The shipped example table, carried forward to the demo's year when it is later."""
    rows = [dict(r) for r in policies.DIBAO_DEFAULT["standards"]]
    latest = max(r["year"] for r in rows)
    for year in range(latest + 1, today.year + 1):
        rows += [{**r, "year": year} for r in rows if r["year"] == latest]
    return {"standards": rows}


def seed(context: Any) -> None:
    rng, today = context.rng, context.today
    tree = context.shared["tree"]
    province_handler = User.objects.get(username="demo_province")
    city_handler = User.objects.get(username="demo_handler")
    policy_propose(
        actor=province_handler,
        kind=policies.DIBAO,
        organization=tree.province,
        body=_dibao_body(today),
        note="演示：各地低保标准",
    )
    suzhou = tree.cities["苏州市"]
    members = list(
        Member.objects.filter(organization__level=5, user__isnull=True).select_related("organization").order_by("id")
    )
    chosen = rng.sample(members, min(FILES, len(members)))
    made: list[HardshipFile] = []
    overdue = 0
    for index, member in enumerate(chosen):
        income, rigid, costs, size, disaster, main, secondary, group = PROFILES[index % len(PROFILES)]
        jitter = rng.randint(-200_000, 200_000) if not disaster else 0
        actor = city_handler if member.organization.path.startswith(suzhou.path) else province_handler
        data = {
            "annual_income": "%d.%02d" % divmod(max(income + jitter, 0), 100),
            "rigid_spending": "%d.%02d" % divmod(rigid, 100),
            "hardship_costs": "%d.%02d" % divmod(costs, 100),
            "household_size": str(size),
            "disaster": "1" if disaster else "",
            "main_cause": main,
            "secondary_causes": secondary,
            "visit_group": group,
            "labour_since": (today - dt.timedelta(days=rng.randint(400, 3000))).isoformat(),
            "contact_user": actor if index % 2 else None,
            "contact_name": "" if index % 2 else rng.choice(("王红梅", "李建国", "张秀英", "刘志强")),
            "contact_phone": "" if index % 2 else "139%08d" % rng.randint(0, 99_999_999),
        }
        try:
            file = services.hardship_file_create(actor=actor, member=member, data=data)
        except ValidationFailed:
            continue  # a jittered profile above the lines: this household is not in hardship
        if size > 1:
            services.household_member_add(
                actor=actor,
                file=file,
                data={
                    "name": member.name[0] + rng.choice(("小明", "小红", "佳怡", "子轩")),
                    "relation": "child",
                    "birth_year": str(today.year - rng.randint(6, 20)),
                    "schooling": rng.choice(("compulsory", "high_school", "college")),
                    "annual_income": "0",
                    "health": rng.choice(("健康", "健康", "哮喘")),
                },
            )
        filed = today - dt.timedelta(days=rng.randint(60, 700))
        if index % OVERDUE_EVERY == 0:
            last = filed + dt.timedelta(days=rng.randint(0, 40)) if index % 2 else None
            due = add_months(last or filed, 6)
            if due >= today:
                due = today - dt.timedelta(days=rng.randint(3, 60))
            overdue += 1
        else:
            last = today - dt.timedelta(days=rng.randint(5, 150))
            due = add_months(last, 6)
        if last is not None:
            Visit.objects.create(file=file, visited_on=last, visitor=actor, notes=rng.choice(VISIT_NOTES))
        HardshipFile.objects.filter(pk=file.pk).update(filed_on=filed, last_visit_on=last, next_visit_due=due)
        made.append(file)
    in_suzhou = [f for f in made if f.organization.path.startswith(suzhou.path)]
    if in_suzhou:
        services.withdrawal_notice(
            actor=city_handler, file=in_suzhou[-1], reason="家庭成员已稳定就业，收入超过认定标准"
        )
    seed_cases(context, made)
    context.stdout.write(
        "困难职工档案：%d 户（其中逾期走访 %d 户）；救助申请 %d 件；慰问计划 1 个"
        % (len(made), overdue, ReliefCase.objects.count())
    )


def seed_cases(context: Any, made: list[HardshipFile]) -> None:
    """A few 临时救助 and 大病救助 applications at each stage, one fast-track case with overdue papers,
    and a 中秋 plan for the frontline workers of a district."""
    rng, today = context.rng, context.today
    handler = User.objects.get(username="demo_handler")
    reviewer = User.objects.get(username="demo_reviewer")
    admin = User.objects.get(username="demo_admin")
    suzhou = context.shared["tree"].cities["苏州市"]
    mine = [f for f in made if f.organization.path.startswith(suzhou.path)]
    situations = ("accident", "major_illness", "occupational", "disaster")
    for index, file in enumerate(mine[:8]):
        data = {
            "situation": situations[index % len(situations)],
            "event_date": (today - dt.timedelta(days=rng.randint(1, 40))).isoformat(),
            "amount": rng.choice(("800", "1500", "2000", "3000", "5000")),
            "payee_card": "6222%015d" % rng.randint(0, 10**15 - 1),
            "description": rng.choice(CASE_STORIES),
            "fast_track": "1" if index == 0 else "",
        }
        case = cases.case_submit(actor=handler, member=file.member, data=data)
        if index in (0, 2, 5):
            if index:
                case = cases.case_review(actor=admin, case=case)
            case = cases.case_approve(actor=reviewer, case=case, amount_fen=case.amount_requested_fen)
            budget = next(iter(cases.case_budgets(actor=handler, case=case)), None)
            if budget is not None and budget.remaining_fen >= case.amount_requested_fen:
                cases.case_pay(actor=handler, case=case, budget=budget)
            if index == 0:
                ReliefCase.objects.filter(pk=case.pk).update(paperwork_due=today - dt.timedelta(days=3))
        elif index % 3 == 1:
            cases.case_review(actor=admin, case=case)
    if len(mine) > 8:
        cases.illness_case_submit(
            actor=handler,
            member=mine[8].member,
            data={
                "total": "86000",
                "medical_insurance": "41000",
                "other_insurance": "12000",
                "mutual_aid": "6000",
                "event_date": (today - dt.timedelta(days=10)).isoformat(),
                "payee_card": "6222%015d" % rng.randint(0, 10**15 - 1),
                "description": "恶性肿瘤住院手术及放化疗",
            },
        )
    district = next(o for o in Organization.objects.filter(path__startswith=suzhou.path, level=3).order_by("path"))
    plan = plans.plan_create(
        actor=handler,
        organization=district,
        data={
            "title": "中秋节环卫工人慰问",
            "occasion": "festival",
            "group": "frontline",
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=20)).isoformat(),
            "cash": "500",
            "goods": "月饼一盒",
        },
    )
    budgets = plans.plan_budgets(actor=handler, plan=plan)
    for member in selectors.plan_targets(actor=handler, plan=plan)[:3]:
        budget = next((b for b in budgets if b.remaining_fen >= plan.cash_fen), None)
        plans.plan_visit_record(
            actor=handler,
            plan=plan,
            member=member,
            data={"visited_on": today.isoformat(), "cash": "500" if budget else "0", "goods": plan.goods},
            budget=budget,
        )


CASE_STORIES = (
    "下班途中遭遇交通事故，住院治疗",
    "突发脑溢血住院抢救",
    "确诊尘肺病，需长期治疗",
    "暴雨导致房屋受损",
    "家中突发火灾，财物受损",
)
