"""One adjudication request as the `mutual_aid_adjudicate` command reads it (a JSON object),
checked field by field with Chinese messages, then run through `rules.adjudicate` — the code
a claim's adjudication runs."""

import datetime as dt
import json
from typing import Any

from gonghui.mutual_aid.rules import MAX_FEN, SHIPPED_PLANS, Cover, PlanRules, Stay, adjudicate

FEN_FIELDS = {
    "total_fen": "总费用",
    "basic_insurance_fen": "医保统筹支付",
    "serious_illness_insurance_fen": "大病保险",
    "self_outside_catalogue_fen": "目录外自付",
    "period_paid_fen": "本期已支付",
}


class LineError(ValueError):
    """A request that cannot be adjudicated; the text is the Chinese reason."""


def _fen(data: dict[str, Any], key: str, *, default: int | None = None) -> int:
    value = data.get(key, default)
    label = FEN_FIELDS.get(key, key)
    if value is None:
        raise LineError("缺少%(label)s（%(key)s）" % {"label": label, "key": key})
    if isinstance(value, bool) or not isinstance(value, int):
        raise LineError("%(label)s（%(key)s）必须是整数（分）" % {"label": label, "key": key})
    if value < 0 or value > MAX_FEN:
        raise LineError("%(label)s（%(key)s）超出范围" % {"label": label, "key": key})
    return value


def _date(data: dict[str, Any], key: str, label: str) -> dt.date:
    value = data.get(key)
    if not isinstance(value, str):
        raise LineError("缺少%(label)s（%(key)s），应为 YYYY-MM-DD" % {"label": label, "key": key})
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise LineError(
            "%(label)s（%(key)s）不是有效日期：%(v)s" % {"label": label, "key": key, "v": value[:20]}
        ) from exc


def adjudicate_line(line: str) -> dict[str, Any]:
    """The JSON answer to one input line (raises `LineError`)."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise LineError("不是有效的 JSON") from exc
    if not isinstance(data, dict):
        raise LineError("每行必须是一个 JSON 对象")
    plan = data.get("plan")
    if plan not in SHIPPED_PLANS:
        raise LineError("未知的方案：%(p)s（可选 standard、day_allowance）" % {"p": str(plan)[:30]})
    days = data.get("days", 0)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
        raise LineError("住院天数（days）必须是 0 到 3650 的整数")
    first = data.get("first_enrolment", True)
    if not isinstance(first, bool):
        raise LineError("首次参保（first_enrolment）必须是 true 或 false")
    stay = Stay(
        total_fen=_fen(data, "total_fen"),
        basic_insurance_fen=_fen(data, "basic_insurance_fen", default=0),
        serious_illness_insurance_fen=_fen(data, "serious_illness_insurance_fen", default=0),
        self_outside_catalogue_fen=_fen(data, "self_outside_catalogue_fen", default=0),
        days=days,
        admitted_on=_date(data, "admitted_on", "入院日期"),
    )
    cover = Cover(
        enrolled_on=_date(data, "enrolled_on", "参保日期"),
        first_enrolment=first,
        period_paid_fen=_fen(data, "period_paid_fen", default=0),
    )
    result = adjudicate(rules=PlanRules.model_validate(SHIPPED_PLANS[plan]), stay=stay, cover=cover)
    return {"plan": plan, "benefit_fen": result.benefit_fen, "steps": result.steps_json()}
