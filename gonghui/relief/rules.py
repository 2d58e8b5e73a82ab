"""The relief rules as pure functions of integers: the hardship class of a household and the
大病救助 amount. The pages, the services and the two management commands all call these.

Everything is integer fen and nothing is rounded: a threshold such as
"低保月标准 × 12 × 人口 × 200%" is compared by cross-multiplication
(`disposable × 100 < dibao × 12 × size × percent`), so no division ever happens. The steps
returned are the arithmetic as a page shows it, in Chinese."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models

MONTHS = 12


class HardshipClass(models.TextChoices):
    DEEP = "deep", "深度困难"
    RELATIVE = "relative", "相对困难"
    ACCIDENT = "accident", "意外致困"
    NONE = "none", "不符合困难职工条件"


def yuan(fen: int | Decimal) -> str:
    """¥1,234.56 — exact: a fen amount divided by 100 as a Decimal, never a float."""
    value = Decimal(fen) / 100
    sign = "-" if value < 0 else ""
    return "%s¥%s" % (sign, f"{abs(value):,.2f}")


def _percent_of(fen: int, percent: int) -> Decimal:
    return Decimal(fen * percent) / 100


@dataclass(frozen=True)
class ClassParams:
    deep_percent: int = 100
    relative_percent: int = 200
    accident_percent: int = 80

    @classmethod
    def of(cls, body: dict[str, Any]) -> "ClassParams":
        return cls(int(body["deep_percent"]), int(body["relative_percent"]), int(body["accident_percent"]))


@dataclass(frozen=True)
class Assessment:
    klass: HardshipClass
    disposable_fen: int
    base_fen: int  # 低保月标准 × 12 × 共同生活人口
    steps: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(self.klass.label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "class": self.klass.value,
            "label": self.label,
            "disposable_fen": self.disposable_fen,
            "base_fen": self.base_fen,
            "steps": list(self.steps),
        }


def assess_household(
    *,
    annual_income_fen: int,
    rigid_spending_fen: int,
    household_size: int,
    dibao_monthly_fen: int,
    hardship_costs_fen: int = 0,
    disaster: bool = False,
    params: ClassParams | None = None,
) -> Assessment:
    """The class, evaluated in the fixed order 深度 → 相对 → 意外致困 → none:

    - 深度困难 when (年可支配收入 − 刚性支出) < 低保月标准 × 12 × 人口 × deep%;
    - otherwise 相对困难 when it is < 低保月标准 × 12 × 人口 × relative%;
    - otherwise 意外致困 when 致困支出 > 家庭年收入 × accident%, or a disaster/accident is recorded;
    - otherwise none."""
    p = params or ClassParams()
    if household_size < 1:
        raise ValueError("共同生活人口至少 1 人")
    disposable = annual_income_fen - rigid_spending_fen
    base = dibao_monthly_fen * MONTHS * household_size
    steps = [
        "家庭年可支配收入 − 刚性支出 = %s − %s = %s"
        % (yuan(annual_income_fen), yuan(rigid_spending_fen), yuan(disposable)),
        "低保月标准 × 12 × 共同生活人口 = %s × 12 × %d = %s" % (yuan(dibao_monthly_fen), household_size, yuan(base)),
    ]
    deep_line = _percent_of(base, p.deep_percent)
    if disposable * 100 < base * p.deep_percent:
        steps.append(
            "%s < %s × %d%% = %s，认定为深度困难" % (yuan(disposable), yuan(base), p.deep_percent, yuan(deep_line))
        )
        return Assessment(HardshipClass.DEEP, disposable, base, steps)
    steps.append(
        "%s ≥ %s × %d%% = %s，不属于深度困难" % (yuan(disposable), yuan(base), p.deep_percent, yuan(deep_line))
    )
    relative_line = _percent_of(base, p.relative_percent)
    if disposable * 100 < base * p.relative_percent:
        steps.append(
            "%s < %s × %d%% = %s，认定为相对困难"
            % (yuan(disposable), yuan(base), p.relative_percent, yuan(relative_line))
        )
        return Assessment(HardshipClass.RELATIVE, disposable, base, steps)
    steps.append(
        "%s ≥ %s × %d%% = %s，不属于相对困难" % (yuan(disposable), yuan(base), p.relative_percent, yuan(relative_line))
    )
    accident_line = _percent_of(annual_income_fen, p.accident_percent)
    costly = hardship_costs_fen * 100 > annual_income_fen * p.accident_percent
    relation = ">" if costly else "≤"
    steps.append(
        "致困支出 %s %s 家庭年收入 %s × %d%% = %s"
        % (yuan(hardship_costs_fen), relation, yuan(annual_income_fen), p.accident_percent, yuan(accident_line))
    )
    if costly or disaster:
        because = "致困支出超过比例" if costly else "登记有突发灾害或意外事故"
        steps.append("%s，认定为意外致困" % because)
        return Assessment(HardshipClass.ACCIDENT, disposable, base, steps)
    steps.append("未登记灾害或意外事故，不符合困难职工认定条件")
    return Assessment(HardshipClass.NONE, disposable, base, steps)


# ---- 大病救助 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRow:
    from_fen: int
    to_fen: int | None
    amount_fen: int

    def holds(self, net_fen: int) -> bool:
        return self.from_fen <= net_fen and (self.to_fen is None or net_fen < self.to_fen)

    def describe(self) -> str:
        if self.to_fen is None:
            return "%s 及以上" % yuan(self.from_fen)
        return "%s（含）至 %s（不含）" % (yuan(self.from_fen), yuan(self.to_fen))


@dataclass(frozen=True)
class IllnessParams:
    tiers: tuple[TierRow, ...]
    yearly_cap_fen: int

    @classmethod
    def of(cls, body: dict[str, Any]) -> "IllnessParams":
        tiers = tuple(TierRow(int(t["from_fen"]), t.get("to_fen"), int(t["amount_fen"])) for t in body["tiers"])
        return cls(tiers, int(body["yearly_cap_fen"]))


@dataclass(frozen=True)
class IllnessResult:
    net_personal_fen: int
    tier: TierRow | None
    tier_amount_fen: int
    cap_fen: int
    paid_this_year_fen: int
    amount_fen: int
    steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "net_personal_fen": self.net_personal_fen,
            "tier": None
            if self.tier is None
            else {"from_fen": self.tier.from_fen, "to_fen": self.tier.to_fen, "amount_fen": self.tier.amount_fen},
            "tier_amount_fen": self.tier_amount_fen,
            "cap_fen": self.cap_fen,
            "paid_this_year_fen": self.paid_this_year_fen,
            "amount_fen": self.amount_fen,
            "steps": list(self.steps),
        }


def major_illness(
    *,
    total_fen: int,
    medical_insurance_fen: int,
    other_insurance_fen: int,
    mutual_aid_fen: int,
    params: IllnessParams,
    paid_this_year_fen: int = 0,
) -> IllnessResult:
    """Net personal spend = 全年医疗总费用 − 医保统筹 − 其他保险 − 医疗互助 (never below 0); the
    tier holding it (lower-inclusive, upper-exclusive) gives the amount, capped by what is left
    of the member's yearly cap after this year's earlier 大病救助."""
    for value in (total_fen, medical_insurance_fen, other_insurance_fen, mutual_aid_fen, paid_this_year_fen):
        if value < 0:
            raise ValueError("金额不能为负数")
    raw = total_fen - medical_insurance_fen - other_insurance_fen - mutual_aid_fen
    net = max(raw, 0)
    steps = [
        "个人自付 = 医疗总费用 − 医保统筹支付 − 其他保险赔付 − 医疗互助金 = %s − %s − %s − %s = %s"
        % (yuan(total_fen), yuan(medical_insurance_fen), yuan(other_insurance_fen), yuan(mutual_aid_fen), yuan(raw))
    ]
    if raw < 0:
        steps.append("报销合计超过总费用，个人自付按 ¥0.00 计")
    tier = next((t for t in params.tiers if t.holds(net)), None)
    if tier is None:
        tier_amount = 0
        steps.append("个人自付 %s 不在任何救助档次内，救助金额 ¥0.00" % yuan(net))
    else:
        tier_amount = tier.amount_fen
        steps.append("个人自付 %s 属于 %s 档，档次救助金额 %s" % (yuan(net), tier.describe(), yuan(tier_amount)))
    room = max(params.yearly_cap_fen - paid_this_year_fen, 0)
    amount = min(tier_amount, room)
    steps.append(
        "每人每年封顶 %s，本年已救助 %s，尚可救助 %s"
        % (yuan(params.yearly_cap_fen), yuan(paid_this_year_fen), yuan(room))
    )
    steps.append("本次救助金额 = min(%s, %s) = %s" % (yuan(tier_amount), yuan(room), yuan(amount)))
    return IllnessResult(net, tier, tier_amount, params.yearly_cap_fen, paid_this_year_fen, amount, steps)
