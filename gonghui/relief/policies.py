"""The relief policies: versioned data an administrator edits on 政策与参数 (the kernel's
`register_policy_kind`, stored and resolved per organisation by `gonghui.organizations.policies`).

- `relief.dibao` — the local 低保 monthly standard, a table of {行政区划代码, 年度, 月标准(分)}.
  Decision: the region is the *region code* in the table, not the policy's organisation: one
  province-level version can carry every city's standard, and a city union may still publish its
  own version (the nearest organisation's version wins, as for every policy). A file's standard is
  looked up by its organisation's region code, then that code's city (`3205xx` → `320500`), then
  its province (`320000`), for the year of assessment.
- `relief.classes` — the hardship-class formula's parameters (percentages, so that every
  comparison is integer cross-multiplication, see `rules.assess_household`).
- `relief.visit_groups` — the 常态化慰问 groups (江苏's 11 shipped, editable).
- `relief.temporary_situations` — the 临时救助 situations.
- `relief.approval_limits` — the largest amount an approver at each organisation level decides.
- `relief.major_illness` — the 大病救助 tier table (the 三明 example) and the yearly cap.

Working days (the 退档 notice) come from the kernel's `core.workdays` calendar: the official
schedule from `chinese-calendar` with a union's local overrides as the `core.workdays` policy.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gonghui.members.models import Tag
from gonghui.organizations.models import Organization
from gonghui.organizations.policies import ResolvedPolicy, policy_for

DIBAO = "relief.dibao"
CLASSES = "relief.classes"
VISIT_GROUPS = "relief.visit_groups"
SITUATIONS = "relief.temporary_situations"
APPROVAL_LIMITS = "relief.approval_limits"
MAJOR_ILLNESS = "relief.major_illness"

FEN_MAX = 10**12


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- 低保 standard ----------------------------------------------------------------------------


class DibaoRow(_Body):
    region_code: str = Field(min_length=6, max_length=6)
    year: int = Field(ge=2000, le=2100)
    monthly_fen: int = Field(gt=0, le=10_000_000)

    @field_validator("region_code")
    @classmethod
    def _digits(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("行政区划代码必须是 6 位数字")
        return value


class DibaoBody(_Body):
    standards: list[DibaoRow] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "DibaoBody":
        seen: set[tuple[str, int]] = set()
        for row in self.standards:
            key = (row.region_code, row.year)
            if key in seen:
                raise ValueError("%(code)s %(year)s 年的低保标准重复" % {"code": row.region_code, "year": row.year})
            seen.add(key)
        return self


# Example figures (元/月) for the demo regions; each union replaces them with its 民政 standard.
DIBAO_DEFAULT: dict[str, Any] = {
    "standards": [
        {"region_code": "320000", "year": 2025, "monthly_fen": 85000},
        {"region_code": "320000", "year": 2026, "monthly_fen": 90000},
        {"region_code": "320100", "year": 2025, "monthly_fen": 118000},
        {"region_code": "320100", "year": 2026, "monthly_fen": 121000},
        {"region_code": "320500", "year": 2025, "monthly_fen": 119500},
        {"region_code": "320500", "year": 2026, "monthly_fen": 122500},
    ]
}


def region_candidates(region_code: str) -> list[str]:
    """The region itself, its city and its province: `320508` → `320508`, `320500`, `320000`."""
    out = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    return list(dict.fromkeys(out))


def dibao_monthly_fen(body: dict[str, Any], *, region_code: str, year: int) -> int | None:
    table = {(row["region_code"], row["year"]): row["monthly_fen"] for row in body["standards"]}
    for code in region_candidates(region_code):
        if (code, year) in table:
            return int(table[(code, year)])
    return None


# ---- hardship classes -----------------------------------------------------------------------


class ClassesBody(_Body):
    # 深度困难: (年可支配收入 − 刚性支出) < 低保月标准 × 12 × 人口 × deep_percent / 100
    deep_percent: int = Field(gt=0, le=1000)
    # 相对困难: … < 低保月标准 × 12 × 人口 × relative_percent / 100
    relative_percent: int = Field(gt=0, le=1000)
    # 意外致困: 致困支出 > 家庭年收入 × accident_percent / 100, or a disaster/accident recorded
    accident_percent: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> "ClassesBody":
        if self.relative_percent <= self.deep_percent:
            raise ValueError("相对困难的倍数必须大于深度困难的倍数")
        return self


CLASSES_DEFAULT: dict[str, Any] = {"deep_percent": 100, "relative_percent": 200, "accident_percent": 80}


# ---- groups and situations ------------------------------------------------------------------


class Choice(_Body):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=40)
    active: bool = True


class _Choices(_Body):
    @staticmethod
    def _unique_codes(items: "list[Choice] | list[VisitGroup]") -> None:
        codes = [c.code for c in items]
        if len(codes) != len(set(codes)):
            raise ValueError("代码不能重复")


class VisitGroup(Choice):
    # Members carrying any of these tags (`members.Tag` bits: 128 环卫工人, 64 户外劳动者 …) belong
    # to the group whether or not they have a hardship file; 0: only households filed under it.
    member_tags: int = Field(default=0, ge=0, le=2**31 - 1)


class VisitGroupsBody(_Choices):
    groups: list[VisitGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "VisitGroupsBody":
        self._unique_codes(self.groups)
        return self


class SituationsBody(_Choices):
    situations: list[Choice] = Field(min_length=1)
    # 先行救助、后补手续: the days after approval within which the papers must be complete.
    paperwork_days: int = Field(ge=1, le=180)

    @model_validator(mode="after")
    def _unique(self) -> "SituationsBody":
        self._unique_codes(self.situations)
        return self


MIGRANT_GROUP = "migrant_worker"

# 江苏 常态化送温暖's 11 groups, shipped as editable defaults.
VISIT_GROUPS_DEFAULT: dict[str, Any] = {
    "groups": [
        {"code": "laid_off", "label": "下岗失业职工", "active": True},
        {"code": "major_illness", "label": "患重大疾病职工", "active": True},
        {
            "code": "frontline",
            "label": "艰苦岗位一线职工（环卫工人、户外劳动者等）",
            "active": True,
            "member_tags": int(Tag.SANITATION | Tag.OUTDOOR),
        },
        {"code": "disaster", "label": "因灾致困职工", "active": True},
        {"code": "single_mother", "label": "单亲困难女职工", "active": True},
        {"code": MIGRANT_GROUP, "label": "困难农民工", "active": True, "member_tags": 0},
        {"code": "disabled", "label": "残疾职工", "active": True},
        {"code": "schooling", "label": "子女上学困难职工", "active": True},
        {"code": "model_worker", "label": "困难劳动模范", "active": True},
        {"code": "bereaved", "label": "去世职工遗属", "active": True},
        {"code": "new_form", "label": "新就业形态劳动者困难群体", "active": True, "member_tags": int(Tag.NEW_FORM)},
    ]
}

SITUATIONS_DEFAULT: dict[str, Any] = {
    "situations": [
        {"code": "accident", "label": "突发意外", "active": True},
        {"code": "major_illness", "label": "突发重大疾病", "active": True},
        {"code": "occupational", "label": "患职业病", "active": True},
        {"code": "disaster", "label": "因灾致困", "active": True},
    ],
    "paperwork_days": 30,
}


def active_choices(body: dict[str, Any], key: str) -> list[tuple[str, str]]:
    return [(c["code"], c["label"]) for c in body[key] if c.get("active", True)]


def group_tags(body: dict[str, Any], code: str) -> int:
    return int(next((g.get("member_tags", 0) for g in body["groups"] if g["code"] == code), 0))


def choice_label(body: dict[str, Any], key: str, code: str) -> str:
    return next((c["label"] for c in body[key] if c["code"] == code), code)


# ---- approval limits ------------------------------------------------------------------------


class LimitRow(_Body):
    level: int = Field(ge=0, le=5)
    max_fen: int = Field(ge=0, le=FEN_MAX)


class ApprovalLimitsBody(_Body):
    limits: list[LimitRow]

    @model_validator(mode="after")
    def _unique(self) -> "ApprovalLimitsBody":
        levels = [row.level for row in self.limits]
        if len(levels) != len(set(levels)):
            raise ValueError("同一层级只能设一个审批限额")
        return self


# 基层 ¥2,000, 街道/产业 ¥5,000, 区县 ¥10,000, 市 ¥20,000; the province decides any amount.
APPROVAL_LIMITS_DEFAULT: dict[str, Any] = {
    "limits": [
        {"level": 5, "max_fen": 200_000},
        {"level": 4, "max_fen": 500_000},
        {"level": 3, "max_fen": 1_000_000},
        {"level": 2, "max_fen": 2_000_000},
    ]
}


def limits_by_level(body: dict[str, Any]) -> dict[int, int]:
    return {int(row["level"]): int(row["max_fen"]) for row in body["limits"]}


# ---- 大病救助 tiers ---------------------------------------------------------------------------


class Tier(_Body):
    from_fen: int = Field(ge=0, le=FEN_MAX)
    to_fen: int | None = Field(default=None, ge=0, le=FEN_MAX)
    amount_fen: int = Field(ge=0, le=FEN_MAX)

    @model_validator(mode="after")
    def _range(self) -> "Tier":
        if self.to_fen is not None and self.to_fen <= self.from_fen:
            raise ValueError("档次上限必须大于下限")
        return self


class MajorIllnessBody(_Body):
    tiers: list[Tier] = Field(min_length=1)
    yearly_cap_fen: int = Field(ge=0, le=FEN_MAX)

    @model_validator(mode="after")
    def _ordered(self) -> "MajorIllnessBody":
        for before, after in zip(self.tiers, self.tiers[1:], strict=False):
            if before.to_fen is None or after.from_fen < before.to_fen:
                raise ValueError("档次必须按金额从低到高排列，且不能重叠")
            if after.amount_fen < before.amount_fen:
                raise ValueError("高档次的救助金额不能低于低档次")
        return self


# 三明 example: 1–2万 ¥1,500; 2–3万 ¥3,000; 3–4万 ¥6,000; 4–5万 ¥10,000; 5–8万 ¥20,000;
# 8–10万 ¥30,000; 10万 and above ¥50,000 — each tier lower-inclusive, upper-exclusive.
MAJOR_ILLNESS_DEFAULT: dict[str, Any] = {
    "tiers": [
        {"from_fen": 1_000_000, "to_fen": 2_000_000, "amount_fen": 150_000},
        {"from_fen": 2_000_000, "to_fen": 3_000_000, "amount_fen": 300_000},
        {"from_fen": 3_000_000, "to_fen": 4_000_000, "amount_fen": 600_000},
        {"from_fen": 4_000_000, "to_fen": 5_000_000, "amount_fen": 1_000_000},
        {"from_fen": 5_000_000, "to_fen": 8_000_000, "amount_fen": 2_000_000},
        {"from_fen": 8_000_000, "to_fen": 10_000_000, "amount_fen": 3_000_000},
        {"from_fen": 10_000_000, "to_fen": None, "amount_fen": 5_000_000},
    ],
    "yearly_cap_fen": 5_000_000,
}


KINDS: tuple[tuple[str, str, type[BaseModel], dict[str, Any]], ...] = (
    (DIBAO, "困难帮扶：低保标准", DibaoBody, DIBAO_DEFAULT),
    (CLASSES, "困难帮扶：困难类别认定公式", ClassesBody, CLASSES_DEFAULT),
    (VISIT_GROUPS, "困难帮扶：常态化慰问对象类别", VisitGroupsBody, VISIT_GROUPS_DEFAULT),
    (SITUATIONS, "困难帮扶：临时救助情形", SituationsBody, SITUATIONS_DEFAULT),
    (APPROVAL_LIMITS, "困难帮扶：各级审批限额", ApprovalLimitsBody, APPROVAL_LIMITS_DEFAULT),
    (MAJOR_ILLNESS, "困难帮扶：大病救助档次", MajorIllnessBody, MAJOR_ILLNESS_DEFAULT),
)


@dataclass(frozen=True)
class Policies:
    """The relief policies in force for one organisation on one day."""

    dibao: ResolvedPolicy
    classes: ResolvedPolicy


def policies_for(organization: Organization, on: dt.date | None = None) -> Policies:
    return Policies(
        dibao=policy_for(kind=DIBAO, organization=organization, on=on),
        classes=policy_for(kind=CLASSES, organization=organization, on=on),
    )


def resolved(kind: str, organization: Organization, on: dt.date | None = None) -> ResolvedPolicy:
    return policy_for(kind=kind, organization=organization, on=on)
