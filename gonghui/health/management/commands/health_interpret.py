"""`python manage.py health_interpret < in.jsonl > out.jsonl`

Reads JSON lines `{"loinc", "value", "unit", "sex", "age"}` (a local code or Chinese name may
stand in `loinc`; `sex` is M/F or 男/女) and writes one JSON line per input with `flag`, `low`,
`high`, `canonical_value`, `canonical_unit` and the interval's `source` — or `error` with a
reason. `--org CODE` applies that organisation's critical limits."""

import json
import sys
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.health.catalogue import UnitRefused, UnknownCode, current_catalogue
from gonghui.health.cleaning import Unreadable
from gonghui.health.importing import critical_limits_by_org
from gonghui.health.interpret import interpret_raw
from gonghui.organizations.models import Organization

SEXES = {"M": "M", "F": "F", "男": "M", "女": "F", "MALE": "M", "FEMALE": "F"}


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class Command(BaseCommand):
    help = "Interpret JSON lines from stdin with the indicator catalogue; writes JSON lines."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default="", help="apply this organisation's critical limits")

    def handle(self, *args: Any, **options: Any) -> None:
        catalogue = current_catalogue()
        critical = None
        if options["org"]:
            org = Organization.objects.filter(code=options["org"]).first()
            if org is None:
                raise CommandError("unknown organisation code %r" % options["org"])
            critical = critical_limits_by_org([org.path])[org.path]
        stdin = options.get("stdin") or sys.stdin
        for raw_line in stdin:
            if not raw_line.strip():
                continue
            self.stdout.write(json.dumps(self._one(catalogue, raw_line, critical), ensure_ascii=False))

    def _one(self, catalogue: Any, raw_line: str, critical: Any) -> dict[str, Any]:
        try:
            data = json.loads(raw_line)
            if not isinstance(data, dict):
                raise TypeError
        except (json.JSONDecodeError, TypeError):
            return {"error": "invalid_json", "reason": "不是 JSON 对象"}
        sex = SEXES.get(str(data.get("sex", "")).strip().upper())
        if sex is None:
            return {**data, "error": "sex_invalid", "reason": "性别应为 M 或 F"}
        try:
            raw_age = data.get("age")
            if isinstance(raw_age, bool) or not isinstance(raw_age, (int, str)):
                raise TypeError
            age = int(raw_age)
            if not 0 <= age <= 130:
                raise ValueError
        except (TypeError, ValueError):
            return {**data, "error": "age_invalid", "reason": "年龄应为 0～130 的整数"}
        try:
            spec, result = interpret_raw(
                catalogue,
                code=str(data.get("loinc", "")),
                value=data.get("value"),
                unit=str(data.get("unit") or ""),
                sex=sex,
                age=age,
                critical=critical,
            )
        except UnknownCode:
            return {**data, "error": "code_unknown", "reason": "项目不在指标目录中"}
        except UnitRefused as exc:
            return {**data, "error": exc.code, "reason": exc.reason}
        except Unreadable as exc:
            return {**data, "error": exc.code, "reason": exc.reason}
        return {
            **data,
            "code": spec.code,
            "flag": result.flag,
            "low": _number(result.low),
            "high": _number(result.high),
            "canonical_value": _number(result.canonical_value),
            "canonical_unit": result.canonical_unit,
            "source": result.interval.source if result.interval else "",
        }
