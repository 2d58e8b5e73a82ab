"""`manage.py relief_assess`: JSON lines of household figures on stdin, one JSON line with the
hardship class on stdout per input, under the shipped default `relief.classes` policy (the
pages and services call the same `rules.assess_household`)."""

import sys
from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand

from gonghui.relief.cli import field_bool, field_int, run_lines
from gonghui.relief.policies import CLASSES_DEFAULT
from gonghui.relief.rules import ClassParams, assess_household


def evaluate(row: Mapping[str, Any], params: ClassParams) -> dict[str, Any]:
    result = assess_household(
        annual_income_fen=field_int(row, "annual_income_fen", "家庭年收入"),
        rigid_spending_fen=field_int(row, "rigid_spending_fen", "刚性支出"),
        household_size=field_int(row, "household_size", "共同生活人口", minimum=1, maximum=99),
        dibao_monthly_fen=field_int(row, "dibao_monthly_fen", "低保月标准", minimum=1, maximum=10_000_000),
        hardship_costs_fen=field_int(row, "hardship_costs_fen", "致困支出", default=0),
        disaster=field_bool(row, "disaster", "突发灾害或意外"),
        params=params,
    )
    return result.as_dict()


class Command(BaseCommand):
    help = "按系统默认的困难类别认定公式，逐行评估 JSON 输入的家庭情况"

    def handle(self, *args: Any, **options: Any) -> None:
        params = ClassParams.of(CLASSES_DEFAULT)
        run_lines(sys.stdin, self.stdout, lambda row: evaluate(row, params))
