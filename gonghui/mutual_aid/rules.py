"""The benefit rules of a mutual-aid plan, and the pure adjudication that applies them.

A plan's rules are the body of a versioned policy (one kind per plan, see `policies.py`). The
steps always run in this fixed order, each recorded with the rule that produced it:

1. waiting period — a first enrolment waits `waiting_days`: a stay admitted before
   enrolment date + `waiting_days` pays 0 (admitted on exactly that day it is covered);
   a renewal has no wait;
2. allowable cost (``ratio`` plans) — 总费用 − 医保统筹 − 大病保险 − 目录外自付, never below 0;
   or the paid days (``day_allowance`` plans) — the bill's days from day `days_from` on,
   times `day_allowance_fen`;
3. deductible 起付线 (``ratio`` plans) — per stay, or per period (what earlier stays of the
   period already used is not asked again);
4. ratio bands (``ratio`` plans) — the amount above the deductible is cut at each band's
   `up_to_fen` (counted from the deductible) and each slice times its ratio, every product
   rounded half-up to the fen;
5. per-stay cap;
6. per-period cap — what is left of it after `period_paid_fen`, never below 0.

Everything is integer fen; ratios are decimal percentages. Nothing here touches the database,
so the claim service, the `mutual_aid_adjudicate` command and the tests run the same code."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_FEN = 10**12  # ¥100亿: far above any stay, small enough that sums stay exact


class Band(BaseModel):
    """A slice of the amount above the deductible, up to `up_to_fen` (None: no upper end)."""

    model_config = ConfigDict(extra="forbid")
    up_to_fen: int | None = Field(default=None, gt=0, le=MAX_FEN)
    ratio_percent: Decimal = Field(ge=0, le=100, decimal_places=2)


class PlanRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["ratio", "day_allowance"]
    waiting_days: int = Field(default=90, ge=0, le=730)
    deductible_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    deductible_per: Literal["stay", "period"] = "stay"
    bands: list[Band] = []
    day_allowance_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    days_from: int = Field(default=1, ge=1, le=3650)
    per_stay_cap_fen: int | None = Field(default=None, ge=0, le=MAX_FEN)
    per_period_cap_fen: int | None = Field(default=None, ge=0, le=MAX_FEN)

    @model_validator(mode="after")
    def _consistent(self) -> "PlanRules":
        if self.method == "ratio":
            if not self.bands:
                raise ValueError("按比例报销的方案至少需要一个比例分段")
            for earlier, later in zip(self.bands, self.bands[1:], strict=False):
                if earlier.up_to_fen is None:
                    raise ValueError("只有最后一个比例分段可以不设上限")
                if later.up_to_fen is not None and later.up_to_fen <= earlier.up_to_fen:
                    raise ValueError("比例分段的上限必须逐段增大")
        elif self.day_allowance_fen <= 0:
            raise ValueError("按住院日补助的方案必须设置每日补助金额")
        return self


STANDARD: dict[str, Any] = {
    "method": "ratio",
    "waiting_days": 90,
    "deductible_fen": 100_000,
    "deductible_per": "stay",
    "bands": [
        {"up_to_fen": 1_000_000, "ratio_percent": "50"},
        {"up_to_fen": None, "ratio_percent": "60"},
    ],
    "per_stay_cap_fen": 5_000_000,
    "per_period_cap_fen": 20_000_000,
}

DAY_ALLOWANCE: dict[str, Any] = {
    "method": "day_allowance",
    "waiting_days": 90,
    "day_allowance_fen": 4_000,
    "days_from": 4,
    "per_stay_cap_fen": None,
    "per_period_cap_fen": 720_000,
}

SHIPPED_PLANS: dict[str, dict[str, Any]] = {"standard": STANDARD, "day_allowance": DAY_ALLOWANCE}


@dataclass(frozen=True, slots=True)
class Stay:
    """A hospital stay's bill. The in-catalogue self-paid part is what remains of the total."""

    total_fen: int
    basic_insurance_fen: int
    serious_illness_insurance_fen: int
    self_outside_catalogue_fen: int
    days: int
    admitted_on: dt.date


@dataclass(frozen=True, slots=True)
class Cover:
    """The member's enrolment and what the period has already spent on them."""

    enrolled_on: dt.date
    first_enrolment: bool
    period_paid_fen: int = 0
    period_deductible_used_fen: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    step: str
    label: str
    rule: str
    amount_fen: int

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "label": self.label, "rule": self.rule, "amount_fen": self.amount_fen}


@dataclass(slots=True)
class Adjudication:
    benefit_fen: int
    steps: list[Step] = field(default_factory=list)
    deductible_used_fen: int = 0

    def steps_json(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]


def yuan(fen: int) -> str:
    """¥1,234.50 style, for the rule texts."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return "%s¥%s.%02d" % (sign, f"{whole:,}", cents)


def _percent(ratio: Decimal) -> str:
    text = format(ratio.normalize(), "f")
    return text + "%"


def times_ratio(amount_fen: int, ratio_percent: Decimal) -> int:
    """`amount_fen` × `ratio_percent`%, rounded half-up to the fen."""
    return int((Decimal(amount_fen) * ratio_percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def personal_cost_fen(stay: Stay) -> int:
    """What the member paid themselves: 总费用 − 医保统筹 − 大病保险, never below 0."""
    return max(0, stay.total_fen - stay.basic_insurance_fen - stay.serious_illness_insurance_fen)


def covered_from(*, rules: PlanRules, cover: Cover) -> dt.date:
    if not cover.first_enrolment:
        return cover.enrolled_on
    return cover.enrolled_on + dt.timedelta(days=rules.waiting_days)


def adjudicate(*, rules: PlanRules, stay: Stay, cover: Cover) -> Adjudication:
    """The benefit for `stay` under `rules`, with every step (see the module's order)."""
    result = Adjudication(benefit_fen=0)
    start = covered_from(rules=rules, cover=cover)
    if stay.admitted_on < start:
        facts = {"d": rules.waiting_days, "start": start.isoformat(), "adm": stay.admitted_on.isoformat()}
        rule = (
            "首次参保等待 %(d)s 天：%(start)s 起入院才予保障，本次 %(adm)s 入院，不予支付"
            if cover.first_enrolment
            else "续保自 %(start)s 起保障，本次 %(adm)s 入院在参保之前，不予支付"
        )
        result.steps.append(Step("waiting", "等待期", rule % facts, 0))
        return result
    if cover.first_enrolment:
        wait = "首次参保等待 %(d)s 天，%(start)s 起保障，本次入院在保障期内" % {
            "d": rules.waiting_days,
            "start": start.isoformat(),
        }
    else:
        wait = "续保，无等待期"
    result.steps.append(Step("waiting", "等待期", wait, 0))
    amount = _ratio_steps(rules, stay, cover, result) if rules.method == "ratio" else _day_steps(rules, stay, result)
    if rules.per_stay_cap_fen is not None and amount > rules.per_stay_cap_fen:
        amount = rules.per_stay_cap_fen
        rule = "单次住院最高支付 %s，按上限支付" % yuan(rules.per_stay_cap_fen)
    elif rules.per_stay_cap_fen is not None:
        rule = "单次住院最高支付 %s，未超过" % yuan(rules.per_stay_cap_fen)
    else:
        rule = "不设单次住院上限"
    result.steps.append(Step("per_stay_cap", "单次上限", rule, amount))
    if rules.per_period_cap_fen is not None:
        left = max(0, rules.per_period_cap_fen - cover.period_paid_fen)
        rule = "本期累计最高支付 %(cap)s，已支付 %(paid)s，尚余 %(left)s" % {
            "cap": yuan(rules.per_period_cap_fen),
            "paid": yuan(cover.period_paid_fen),
            "left": yuan(left),
        }
        if amount > left:
            amount = left
            rule += "，按余额支付"
    else:
        rule = "不设本期累计上限"
    result.steps.append(Step("per_period_cap", "本期累计上限", rule, amount))
    result.benefit_fen = amount
    return result


def _ratio_steps(rules: PlanRules, stay: Stay, cover: Cover, result: Adjudication) -> int:
    allowable = max(
        0,
        stay.total_fen
        - stay.basic_insurance_fen
        - stay.serious_illness_insurance_fen
        - stay.self_outside_catalogue_fen,
    )
    result.steps.append(
        Step(
            "allowable",
            "可报销费用",
            "总费用 %(t)s − 医保统筹 %(b)s − 大病保险 %(s)s − 目录外自付 %(o)s，不低于 0"
            % {
                "t": yuan(stay.total_fen),
                "b": yuan(stay.basic_insurance_fen),
                "s": yuan(stay.serious_illness_insurance_fen),
                "o": yuan(stay.self_outside_catalogue_fen),
            },
            allowable,
        )
    )
    if rules.deductible_per == "stay":
        deductible = min(allowable, rules.deductible_fen)
        rule = "起付线每次住院 %s" % yuan(rules.deductible_fen)
    else:
        remaining = max(0, rules.deductible_fen - cover.period_deductible_used_fen)
        deductible = min(allowable, remaining)
        rule = "起付线每期 %(d)s，本期已用 %(u)s" % {
            "d": yuan(rules.deductible_fen),
            "u": yuan(cover.period_deductible_used_fen),
        }
    above = allowable - deductible
    result.deductible_used_fen = deductible
    result.steps.append(Step("deductible", "起付线", rule + "，扣除 %s" % yuan(deductible), above))
    total = 0
    lower = 0
    for band in rules.bands:
        upper = band.up_to_fen
        slice_fen = max(0, (above if upper is None else min(above, upper)) - lower)
        product = times_ratio(slice_fen, band.ratio_percent)
        total += product
        where = (
            "起付线以上 %(lo)s 至 %(hi)s" % {"lo": yuan(lower), "hi": yuan(upper)}
            if upper is not None
            else "起付线以上超过 %s 的部分" % yuan(lower)
        )
        result.steps.append(
            Step(
                "band",
                "比例分段",
                "%(where)s按 %(r)s：%(s)s × %(r)s，四舍五入到分"
                % {"where": where, "r": _percent(band.ratio_percent), "s": yuan(slice_fen)},
                product,
            )
        )
        if upper is None:
            break
        lower = upper
    return total


def _day_steps(rules: PlanRules, stay: Stay, result: Adjudication) -> int:
    paid_days = max(0, stay.days - rules.days_from + 1)
    amount = paid_days * rules.day_allowance_fen
    result.steps.append(
        Step(
            "day_allowance",
            "住院日补助",
            "账单住院 %(days)s 天，第 %(f)s 天起每天 %(per)s：%(n)s 天 × %(per)s"
            % {"days": stay.days, "f": rules.days_from, "per": yuan(rules.day_allowance_fen), "n": paid_days},
            amount,
        )
    )
    return amount
