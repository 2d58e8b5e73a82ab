"""纳入: what an accepted candidate opens in the relief app, through relief's own services.

A 建档 candidate opens a 困难职工档案 (`relief.services.hardship_file_create`), a 临时救助 one a
case (`relief.cases.case_submit`), a 大病救助 one a major-illness case
(`relief.cases.illness_case_submit`). The screening evidence pre-fills what it knows (the cause,
the situation, the date, the year's personal spend, a description); the reviewer adds what only
the household can tell (income, household size, the payee's card).

A 常态化慰问 candidate is a referral to a visit group of relief's `relief.visit_groups` policy
(the rule's suggestion names it: its code, or the start of its label — 下岗失业 → 下岗失业职工).
Accepted, the member is one of the group's targets on every 慰问计划 of their union or above for
`VISIT_REFERRAL_DAYS` (`visit_referrals`, offered to relief as `screening.visit_referrals`),
where the grassroots staff record the visit."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from gonghui.core import parsing
from gonghui.core.errors import ValidationFailed
from gonghui.organizations.policies import policy_for
from gonghui.relief import cases as relief_cases
from gonghui.relief import policies as relief_policies
from gonghui.relief import services as relief_services
from gonghui.relief.models import Cause
from gonghui.screening.evidence import evidence_lines
from gonghui.screening.kinds import DatasetKind
from gonghui.screening.models import Candidate, CandidateStatus, SuggestionKind

# The 致困原因 a dataset suggests for the file.
SOURCE_CAUSES: dict[str, str] = {
    DatasetKind.RS_UNEMPLOYMENT: Cause.LAID_OFF,
    DatasetKind.YB_SETTLEMENT: Cause.MAJOR_ILLNESS,
    DatasetKind.RS_INJURY: Cause.ACCIDENT,
    DatasetKind.CL_DISABILITY: Cause.NO_LABOUR_ABILITY,
}
# The 临时救助 situation (relief's situations policy codes) a rule's suggestion names.
SUGGESTION_SITUATIONS = {"患职业病": "occupational"}
RELIEF_WINDOW_DAYS = 366  # relief accepts an event date up to a year back
VISIT_REFERRAL_DAYS = 365  # an accepted visit referral puts the member on plans for a year


def names_group(suggestion: str, *, code: str, label: str) -> bool:
    """Whether a rule's suggestion names the visit group (`code`, `label`)."""
    text = suggestion.strip()
    return bool(text) and (text == code or label.startswith(text))


def visit_group(candidate: Candidate) -> tuple[str, str]:
    """The (code, label) of the visit group the candidate's rule suggests, in force at the
    candidate's union; a suggestion naming no active group is refused in Chinese."""
    groups = policy_for(kind=relief_policies.VISIT_GROUPS, organization=candidate.organization)
    for code, label in relief_policies.active_choices(groups.body, "groups"):
        if names_group(candidate.rule.suggestion, code=str(code), label=str(label)):
            return str(code), str(label)
    raise ValidationFailed(
        "规则建议的慰问对象“%(s)s”不是现行的常态化慰问类别，请选择其他纳入方式或修改规则"
        % {"s": candidate.rule.suggestion},
        fields={"target_kind": "慰问类别不存在"},
    )


def visit_referrals(*, group: str, group_label: str) -> QuerySet[Candidate, int]:
    """The members referred to visit group (`group`, `group_label`) by an accepted candidate of
    the last `VISIT_REFERRAL_DAYS` (member ids, for relief's plan targets)."""
    since = timezone.now() - dt.timedelta(days=VISIT_REFERRAL_DAYS)
    accepted = Candidate.objects.filter(
        status=CandidateStatus.ACCEPTED, target_kind=SuggestionKind.VISIT, decided_at__gte=since
    )
    suggestions = set(accepted.values_list("rule__suggestion", flat=True).distinct())
    named = [s for s in suggestions if names_group(s, code=group, label=group_label)]
    return accepted.filter(rule__suggestion__in=named).values_list("member_id", flat=True)


def prefill(candidate: Candidate, *, today: dt.date | None = None) -> dict[str, str]:
    """The relief form's values the evidence already answers."""
    today = today or timezone.localdate()
    evidence = candidate.evidence
    rule = candidate.rule
    day = today
    if evidence.get("event_date"):
        found = dt.date.fromisoformat(evidence["event_date"])
        if today - dt.timedelta(days=RELIEF_WINDOW_DAYS) <= found <= today:
            day = found
    kind = rule.dataset_kinds[0] if rule.dataset_kinds else ""
    values = {
        "main_cause": str(SOURCE_CAUSES.get(kind, Cause.OTHER)),
        "situation": SUGGESTION_SITUATIONS.get(rule.suggestion, ""),
        "event_date": day.isoformat(),
        "description": ("筛查比对发现（%s）：" % rule.name + "；".join(evidence_lines(evidence)))[:500],
        "total": "",
    }
    if rule.suggestion_kind == SuggestionKind.MEDICAL and evidence.get("amount_fen") is not None:
        values["total"] = parsing.format_yuan(int(evidence["amount_fen"]))
    return values


def open_in_relief(*, actor: Any, candidate: Candidate, target_kind: str, data: Mapping[str, Any]) -> str:
    """Open the file or case (in the caller's transaction) and return its number; relief's
    own validation refuses what is missing, in Chinese."""
    member = candidate.member
    values = {**prefill(candidate), **{k: v for k, v in data.items() if v not in ("", None)}}
    if target_kind == SuggestionKind.FILE:
        if not parsing.clean(values.get("contact_name")):
            values["contact_user"] = actor  # the reviewer is the household's contact unless named
        file = relief_services.hardship_file_create(actor=actor, member=member, data=values)
        return str(file.file_no)
    if target_kind == SuggestionKind.CASE:
        return str(relief_cases.case_submit(actor=actor, member=member, data=values).case_no)
    if target_kind == SuggestionKind.MEDICAL:
        return str(relief_cases.illness_case_submit(actor=actor, member=member, data=values).case_no)
    _code, label = visit_group(candidate)
    return label
