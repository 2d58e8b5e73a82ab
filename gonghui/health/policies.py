"""The `health.critical_limits` policy: the critical values an organisation sets for its
sub-tree, one versioned body per organisation (`gonghui.organizations.policies`).

The body is `{"limits": {"<indicator code>": {"low": "2.8", "high": "6.2"}}}`; an indicator it
does not name keeps the catalogue's default critical values. The nearest organisation with an
approved version valid on the day wins, for the whole body: when an organisation first sets its
own values, the form starts from the values it inherited, so nothing is lost silently. Each
stored `Checkup` names the version it was judged by (`Checkup.critical_policy`, empty for the
catalogue defaults) and each `Result` keeps the two limits applied."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from gonghui.health.catalogue import current_catalogue
from gonghui.health.interpret import CriticalLimits
from gonghui.organizations.policies import ResolvedPolicy, policies_for_paths

CRITICAL_POLICY = "health.critical_limits"
CRITICAL_DEFAULT: dict[str, Any] = {"limits": {}}


class LimitPair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: Decimal | None = None
    high: Decimal | None = None

    @field_validator("low", "high")
    @classmethod
    def _non_negative(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (not value.is_finite() or value < 0):
            raise ValueError("危急值必须是非负数")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "LimitPair":
        if self.low is None and self.high is None:
            raise ValueError("危急值下限和上限不能都为空")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError("危急值上限必须大于下限")
        return self


class CriticalLimitsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limits: dict[str, LimitPair] = {}

    @field_validator("limits")
    @classmethod
    def _known_codes(cls, value: dict[str, LimitPair]) -> dict[str, LimitPair]:
        if not value:
            return value
        known = current_catalogue().by_code
        unknown = sorted(code for code in value if code not in known)
        if unknown:
            raise ValueError("项目“%(codes)s”不在指标目录中" % {"codes": "、".join(unknown)[:80]})
        return value


@dataclass(frozen=True)
class CriticalPolicy:
    """The critical limits in force for one organisation, by indicator id, and the policy
    version they come from (None: the catalogue defaults)."""

    limits: dict[int, CriticalLimits]
    version_id: int | None
    resolved: ResolvedPolicy


def limits_of_body(body: dict[str, Any]) -> dict[int, CriticalLimits]:
    by_code = current_catalogue().by_code
    out: dict[int, CriticalLimits] = {}
    for code, pair in body.get("limits", {}).items():
        low, high = pair.get("low"), pair.get("high")
        out[by_code[code].id] = (
            Decimal(low) if low is not None else None,
            Decimal(high) if high is not None else None,
        )
    return out


def critical_policies_by_org(org_paths: Iterable[str], on: dt.date | None = None) -> dict[str, CriticalPolicy]:
    resolved = policies_for_paths(kind=CRITICAL_POLICY, paths=org_paths, on=on)
    return {
        path: CriticalPolicy(limits=limits_of_body(policy.body), version_id=policy.version_id, resolved=policy)
        for path, policy in resolved.items()
    }
