"""`manage.py relief_major_illness`: JSON lines of a year's medical figures on stdin, one JSON
line with the net personal spend and the 大病救助 amount on stdout per input, under the shipped
default `relief.major_illness` tiers (the pages and services call the same `rules.major_illness`)."""

import sys
from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand

from gonghui.relief.cli import field_int, run_lines
from gonghui.relief.policies import MAJOR_ILLNESS_DEFAULT
from gonghui.relief.rules import IllnessParams, major_illness


def evaluate(row: Mapping[str, Any], params: IllnessParams) -> dict[str, Any]:
    result = major_illness(
        total_fen=field_int(row, "total_fen", "医疗总费用"),
        medical_insurance_fen=field_int(row, "medical_insurance_fen", "医保统筹支付", default=0),
        other_insurance_fen=field_int(row, "other_insurance_fen", "其他保险赔付", default=0),
        mutual_aid_fen=field_int(row, "mutual_aid_fen", "医疗互助金", default=0),
        paid_this_year_fen=field_int(row, "paid_this_year_fen", "本年已获大病救助", default=0),
        params=params,
    )
    return result.as_dict()


class Command(BaseCommand):
    help = "按系统默认的大病救助档次，逐行计算 JSON 输入的个人自付与救助金额"

    def handle(self, *args: Any, **options: Any) -> None:
        params = IllnessParams.of(MAJOR_ILLNESS_DEFAULT)
        run_lines(sys.stdin, self.stdout, lambda row: evaluate(row, params))
