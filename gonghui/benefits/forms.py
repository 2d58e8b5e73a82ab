"""Turning what a console form posted into typed values, with a Chinese message per field.
Business rules (windows, budget, scope) are checked by the services, not here."""

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from gonghui.core.errors import DomainError, ValidationFailed
from gonghui.members.models import Tag

MAX_ITEMS = 8


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
    post: QueryDict, parse: Callable[[QueryDict], tuple[D, FieldErrors]], act: Callable[[D], R]
) -> Submission[R]:
    """Parse what a console form posted and hand it to the service `act`; field problems and the
    service's refusals come back as a `Submission` for the form to show again."""
    data, errors = parse(post)
    try:
        if errors:
            raise ValidationFailed("请修正表单中的错误", fields=errors)
        return Submission(result=act(data))
    except DomainError as exc:
        return Submission(errors=exc.fields, error=exc.message)


def yuan_to_fen(raw: str) -> int:
    """`"12.5"` → 1250. Refuses more than two decimals instead of rounding money silently."""
    try:
        value = decimal.Decimal(raw.strip().replace(",", "").replace("，", ""))
    except decimal.InvalidOperation:
        raise ValueError("请填写金额（元），如 12.50") from None
    if not value.is_finite() or value < 0:
        raise ValueError("金额不能为负数")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError("金额最多保留两位小数")
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    return f"{decimal.Decimal(fen) / 100:.2f}"


def parse_local_datetime(raw: str) -> dt.datetime:
    """A `datetime-local` input value, read in the display zone (Asia/Shanghai)."""
    try:
        naive = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("请填写日期时间") from None
    if timezone.is_aware(naive):
        return naive
    return timezone.make_aware(naive, timezone.get_current_timezone())


def local_input_value(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@dataclass
class ItemInput:
    name: str
    face_value_fen: int
    quantity: int


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


def _int(post: QueryDict, name: str, errors: FieldErrors, label: str, *, minimum: int = 0) -> int:
    raw = (post.get(name) or "").strip()
    try:
        value = int(raw)
    except ValueError:
        errors[name] = "请填写%(label)s（整数）" % {"label": label}
        return 0
    if value < minimum:
        errors[name] = "%(label)s不能小于 %(min)d" % {"label": label, "min": minimum}
    return value


def _id(post: QueryDict, name: str) -> int | None:
    raw = (post.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


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
    for raw in post.getlist("target_tags"):
        if raw.isdigit() and int(raw) in Tag.values:
            tags |= int(raw)
    data.target_tags = tags
    data.stock_total = _int(post, "stock_total", errors, "总库存", minimum=1)
    data.per_member_limit = _int(post, "per_member_limit", errors, "每人限领", minimum=1)
    data.reversal_window_minutes = _int(post, "reversal_window_minutes", errors, "冲正时限", minimum=0)
    try:
        data.budget_fen = yuan_to_fen(post.get("budget_yuan") or "")
    except ValueError as exc:
        errors["budget_yuan"] = str(exc)
    for name in ("claim_starts_at", "claim_ends_at", "valid_from", "valid_until"):
        try:
            setattr(data, name, parse_local_datetime(post.get(name) or ""))
        except ValueError as exc:
            errors[name] = str(exc)
    data.point_ids = [int(v) for v in post.getlist("points") if v.isdigit()]
    names = post.getlist("item_name")
    values = post.getlist("item_value_yuan")
    quantities = post.getlist("item_quantity")
    for index, raw_name in enumerate(names[:MAX_ITEMS]):
        name = raw_name.strip()
        value_raw = values[index] if index < len(values) else ""
        quantity_raw = quantities[index] if index < len(quantities) else "1"
        if not name and not value_raw.strip():
            continue
        key = "items"
        try:
            fen = yuan_to_fen(value_raw)
        except ValueError as exc:
            errors[key] = "第%(n)d行物品：%(msg)s" % {"n": index + 1, "msg": exc}
            continue
        try:
            quantity = int(quantity_raw.strip() or "1")
        except ValueError:
            errors[key] = "第%(n)d行物品：数量应为整数" % {"n": index + 1}
            continue
        data.items.append(ItemInput(name=name, face_value_fen=fen, quantity=quantity))
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
    for name in ("latitude", "longitude"):
        raw = (post.get(name) or "").strip()
        if not raw:
            continue
        try:
            setattr(data, name, decimal.Decimal(raw).quantize(decimal.Decimal("0.000001")))
        except decimal.InvalidOperation:
            errors[name] = "请填写数字坐标，如 31.298886"
    return data, errors
