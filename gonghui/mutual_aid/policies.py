"""Each plan's benefit rules are a versioned policy kind, `mutual_aid.rules.<plan code>`, whose
body is a `rules.PlanRules`. The two shipped plans are registered with their example bodies as
defaults (editable on 政策与参数, four eyes); a claim decision stores the version it used."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from gonghui.core.policies import policy_kind
from gonghui.mutual_aid.rules import PlanRules
from gonghui.organizations.models import PATH_STEP, Organization, PolicyStatus, PolicyVersion
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


def rules_for_days(
    *, plan_code: str, organization: Organization, days: Iterable[dt.date]
) -> dict[dt.date, tuple[PlanRules, ResolvedPolicy]]:
    """`rules_for` on each of `days`, from one query: the approved versions of the plan's
    kind set by the organisation or an ancestor, the nearest one's latest version valid on
    each day winning (as `policy_for` resolves them). A batch of claims admitted on many
    days is adjudicated without a query per day."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    kind = rules_kind(plan_code)
    step = PATH_STEP + 1
    prefixes = [organization.path[:i] for i in range(step, len(organization.path) + 1, step)]
    versions = list(
        PolicyVersion.objects.filter(
            kind=kind, status=PolicyStatus.APPROVED, valid_from__lte=wanted[-1], organization__path__in=prefixes
        )
        .select_related("organization")
        .order_by("version")
    )
    default = policy_kind(kind).default
    out: dict[dt.date, tuple[PlanRules, ResolvedPolicy]] = {}
    parsed: dict[int | None, PlanRules] = {}
    for day in wanted:
        best: dict[str, PolicyVersion] = {}
        for version in versions:
            if version.valid_from <= day:
                best[version.organization.path] = version
        chosen = next((best[p] for p in reversed(prefixes) if p in best), None)
        body = dict(chosen.body) if chosen is not None else dict(default)
        key = chosen.pk if chosen is not None else None
        if key not in parsed:
            parsed[key] = PlanRules.model_validate(body)
        out[day] = (parsed[key], ResolvedPolicy(kind=kind, body=body, version=chosen))
    return out
