"""Each plan's benefit rules are a versioned policy kind, `mutual_aid.rules.<plan code>`, whose
body is a `rules.PlanRules`. The two shipped plans are registered with their example bodies as
defaults (editable on 政策与参数, four eyes); a claim decision stores the version it used."""

import datetime as dt
from typing import Any

from gonghui.mutual_aid.rules import PlanRules
from gonghui.organizations.models import Organization
from gonghui.organizations.policies import ResolvedPolicy, policy_for

PREFIX = "mutual_aid.rules."
PLAN_LABELS = {"standard": "医疗互助标准方案（按比例）", "day_allowance": "医疗互助住院日补助方案"}


def rules_kind(plan_code: str) -> str:
    return PREFIX + plan_code


def rules_for(*, plan_code: str, organization: Organization, on: dt.date) -> tuple[PlanRules, ResolvedPolicy]:
    resolved = policy_for(kind=rules_kind(plan_code), organization=organization, on=on)
    return PlanRules.model_validate(resolved.body), resolved


def rules_of_body(body: dict[str, Any]) -> PlanRules:
    return PlanRules.model_validate(body)
