"""Strict reading of the redemption list's query string: every value is checked, a bad one
becomes a Chinese message naming the field, never a 500 nor a silently dropped filter."""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from gonghui.core.errors import ValidationFailed

MAX_ID = 2**63 - 1
MAX_QUERY = 30
CODE_TAIL = re.compile(r"^[0-9]{4,14}$")
EARLIEST = dt.date(2000, 1, 1)


class RedemptionState:
    STANDING = "standing"
    REVERSED = "reversed"
    CHOICES = (("", "全部状态"), (STANDING, "有效"), (REVERSED, "已冲正"))


@dataclass(frozen=True)
class RedemptionFilters:
    campaign_id: int | None = None
    point_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    state: str = ""
    code_tail: str = ""
    member_name: str = ""

    def as_audit_detail(self) -> dict[str, Any]:
        return {
            key: value.isoformat() if isinstance(value, dt.date) else value
            for key, value in self.__dict__.items()
            if value not in (None, "")
        }


def _id(raw: str, label: str, field: str, errors: dict[str, str]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:  # "²".isdigit() is true
        errors[field] = "%(label)s无效" % {"label": label}
        return None
    return int(raw)


def _date(raw: str, label: str, field: str, errors: dict[str, str], today: dt.date) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        errors[field] = "%(label)s应为“年-月-日”格式的日期" % {"label": label}
        return None
    if not EARLIEST <= value <= today + dt.timedelta(days=1):
        errors[field] = "%(label)s超出可查询的范围" % {"label": label}
        return None
    return value


def parse_redemption_filters(params: QueryDict, *, today: dt.date) -> RedemptionFilters:
    errors: dict[str, str] = {}
    campaign_id = _id(params.get("campaign", ""), "活动", "campaign", errors)
    point_id = _id(params.get("point", ""), "核销点", "point", errors)
    date_from = _date(params.get("from", ""), "开始日期", "from", errors, today)
    date_to = _date(params.get("to", ""), "结束日期", "to", errors, today)
    if date_from and date_to and date_to < date_from:
        errors["to"] = "结束日期不能早于开始日期"
    state = params.get("status", "").strip()
    if state not in {value for value, _ in RedemptionState.CHOICES}:
        errors["status"] = "状态无效"
        state = ""
    query = params.get("q", "").strip()
    code_tail = member_name = ""
    if len(query) > MAX_QUERY:
        errors["q"] = "搜索内容不能超过 %(n)s 个字" % {"n": MAX_QUERY}
    elif query:
        digits = query.replace(" ", "")
        if digits.isdigit():
            if CODE_TAIL.match(digits):
                code_tail = digits
            else:
                errors["q"] = "按券码搜索请输入券码末尾 4 至 14 位数字"
        else:
            member_name = query
    if errors:
        raise ValidationFailed("查询条件有误：%(fields)s" % {"fields": "；".join(errors.values())}, fields=errors)
    return RedemptionFilters(
        campaign_id=campaign_id,
        point_id=point_id,
        date_from=date_from,
        date_to=date_to,
        state=state,
        code_tail=code_tail,
        member_name=member_name,
    )
