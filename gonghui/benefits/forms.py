"""Turning what a console form posted into typed values, with a Chinese message per field.
Business rules (windows, budget, scope) are checked by the services, not here."""

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from gonghui.core import parsing
from gonghui.core.errors import DomainError, ValidationFailed
from gonghui.members.models import Tag

MAX_ITEMS = 8
MAX_STOCK = 10_000_000
MAX_BUDGET_FEN = 10**12  # 100 亿元: a budget_fen is a bigint, and no union spends more
EARLIEST_CAMPAIGN_DAY = dt.date(2000, 1, 1)


FieldErrors = dict[str, str]


@dataclass
class Submission[R]:
    """What became of a posted form: the service's result, or the errors to show with the form."""

    result: R | None = None
    errors: FieldErrors = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def submit[D, R](
    post: QueryDict,
    parse: Callable[[QueryDict], tuple[D, FieldErrors]],
    act: Callable[[D], R],
    check: Callable[[D], FieldErrors] | None = None,
) -> Submission[R]:
    """Parse what a console form posted and hand it to the service `act`; field problems and the
    service's refusals come back as a `Submission` for the form to show again. When some fields
    did not parse, the service's `check` still judges the rest, so every error shows at once."""
    data, errors = parse(post)
    try:
        if errors:
            raise ValidationFailed("请修正表单中的错误", fields={**(check(data) if check else {}), **errors})
        return Submission(result=act(data))
    except DomainError as exc:
        return Submission(errors=exc.fields, error=exc.message)


def yuan_to_fen(raw: str) -> int:
    """`"12.5"` → 1250 (core/parsing.py `parse_yuan`, the project's one money parser)."""
    return parsing.parse_yuan(raw)


def fen_to_yuan(fen: int) -> str:
    return parsing.format_yuan(fen)


def parse_local_datetime(raw: str) -> dt.datetime:
    """A `datetime-local` input value, read in the display zone (Asia/Shanghai)."""
    return parsing.parse_local_datetime(raw, earliest=EARLIEST_CAMPAIGN_DAY)


def local_input_value(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@dataclass
class ItemInput:
    name: str
    face_value_fen: int
    quantity: int
    row: int = -1  # the form row it came from, to show its errors there


@dataclass
class CampaignInput:
    name: str = ""
    kind: str = ""
    mode: str = ""
    description: str = ""
    organization_id: int | None = None
    target_org_id: int | None = None
    target_tags: int = 0
    stock_total: int = 0
    budget_fen: int = 0
    per_member_limit: int = 1
    claim_starts_at: dt.datetime | None = None
    claim_ends_at: dt.datetime | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    reversal_window_minutes: int = 24 * 60
    point_ids: list[int] = field(default_factory=list)
    items: list[ItemInput] = field(default_factory=list)


def _int(
    post: QueryDict, name: str, errors: FieldErrors, label: str, *, minimum: int = 0, maximum: int = parsing.INT_MAX
) -> int:
    try:
        return parsing.parse_int(post.get(name), label=label, minimum=minimum, maximum=maximum)
    except ValueError as exc:
        errors[name] = str(exc)
        return 0


def _id(post: QueryDict, name: str) -> int | None:
    return parsing.query_id(post, name)


def campaign_input_from_post(post: QueryDict) -> tuple[CampaignInput, FieldErrors]:
    errors: FieldErrors = {}
    data = CampaignInput(
        name=(post.get("name") or "").strip(),
        kind=post.get("kind") or "",
        mode=post.get("mode") or "",
        description=(post.get("description") or "").strip(),
        organization_id=_id(post, "organization"),
        target_org_id=_id(post, "target_org"),
    )
    tags = 0
    for tag in parsing.query_ids(post, "target_tags"):
        if tag in Tag.values:
            tags |= tag
    data.target_tags = tags
    data.stock_total = _int(post, "stock_total", errors, "总库存", minimum=1, maximum=MAX_STOCK)
    data.per_member_limit = _int(post, "per_member_limit", errors, "每人限领", minimum=1, maximum=parsing.SMALLINT_MAX)
    data.reversal_window_minutes = _int(post, "reversal_window_minutes", errors, "冲正时限", minimum=0)
    try:
        data.budget_fen = parsing.parse_yuan(post.get("budget_yuan"), label="预算", maximum_fen=MAX_BUDGET_FEN)
    except ValueError as exc:
        errors["budget_yuan"] = str(exc)
    for name, label in (
        ("claim_starts_at", "领取开始"),
        ("claim_ends_at", "领取截止"),
        ("valid_from", "使用开始"),
        ("valid_until", "使用截止"),
    ):
        try:
            setattr(
                data, name, parsing.parse_local_datetime(post.get(name), label=label, earliest=EARLIEST_CAMPAIGN_DAY)
            )
        except ValueError as exc:
            errors[name] = str(exc)
    data.point_ids = parsing.query_ids(post, "points")
    names = post.getlist("item_name")
    values = post.getlist("item_value_yuan")
    quantities = post.getlist("item_quantity")
    for index, raw_name in enumerate(names[:MAX_ITEMS]):
        name = raw_name.strip()
        value_raw = values[index] if index < len(values) else ""
        quantity_raw = quantities[index] if index < len(quantities) else "1"
        if not name and not value_raw.strip():
            continue
        key = "items.%(row)d" % {"row": index}
        try:
            fen = parsing.parse_yuan(value_raw, label="单价")
            quantity = parsing.parse_int(quantity_raw.strip() or "1", label="数量", minimum=1, maximum=100)
        except ValueError as exc:
            errors[key] = "第%(n)d行物品：%(msg)s" % {"n": index + 1, "msg": exc}
            continue
        data.items.append(ItemInput(name=name, face_value_fen=fen, quantity=quantity, row=index))
    return data, errors


def campaign_form_values(campaign: Any) -> dict[str, Any]:
    """The edit form pre-filled from a stored campaign."""
    return {
        "name": campaign.name,
        "kind": campaign.kind,
        "mode": campaign.mode,
        "description": campaign.description,
        "organization": str(campaign.organization_id),
        "target_org": str(campaign.target_org_id),
        "stock_total": campaign.stock_total,
        "budget_yuan": fen_to_yuan(campaign.budget_fen),
        "per_member_limit": campaign.per_member_limit,
        "reversal_window_minutes": campaign.reversal_window_minutes,
        "claim_starts_at": local_input_value(campaign.claim_starts_at),
        "claim_ends_at": local_input_value(campaign.claim_ends_at),
        "valid_from": local_input_value(campaign.valid_from),
        "valid_until": local_input_value(campaign.valid_until),
    }


@dataclass
class PointInput:
    name: str = ""
    kind: str = ""
    address: str = ""
    organization_id: int | None = None
    latitude: decimal.Decimal | None = None
    longitude: decimal.Decimal | None = None
    contact_phone: str = ""
    is_active: bool = True


def point_input_from_post(post: QueryDict) -> tuple[PointInput, FieldErrors]:
    errors: FieldErrors = {}
    data = PointInput(
        name=(post.get("name") or "").strip(),
        kind=post.get("kind") or "",
        address=(post.get("address") or "").strip(),
        organization_id=_id(post, "organization"),
        contact_phone=(post.get("contact_phone") or "").strip(),
        is_active=post.get("is_active", "on") == "on",
    )
    for name, label, limit in (("latitude", "纬度", 90), ("longitude", "经度", 180)):
        if not (post.get(name) or "").strip():
            continue
        try:
            bound = decimal.Decimal(limit)
            setattr(
                data, name, parsing.parse_decimal(post.get(name), label=label, minimum=-bound, maximum=bound, places=6)
            )
        except ValueError as exc:
            errors[name] = str(exc)
    return data, errors
