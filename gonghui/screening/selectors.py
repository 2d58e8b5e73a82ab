"""Screening reads for an actor, narrowed with `scope_q` to the sub-tree where the actor holds
the permission. Candidates are scoped by the member's grassroots union: a sibling union sees
none of them."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from gonghui.core import parsing
from gonghui.core.errors import NotFound
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import scope_q
from gonghui.screening.models import Candidate, CandidateStatus, Change, Dataset, DatasetStatus, Rule, Run
from gonghui.screening.permissions import ScreeningPerm

MEMBER_QUERY_CHARS = 20


def datasets_for_actor(*, actor: Any) -> QuerySet[Dataset]:
    perm = ScreeningPerm.DATASET_MANAGE
    return Dataset.objects.filter(scope_q(actor, perm)).select_related("organization", "job", "created_by")


def dataset_get_for_actor(*, actor: Any, pk: int | str) -> Dataset:
    dataset = datasets_for_actor(actor=actor).filter(pk=pk).first()
    if dataset is None:
        raise NotFound("比对数据不存在或无权访问")
    return dataset


def rules_all() -> list[Rule]:
    """Every rule key's newest version (rules are federation-wide, readable by any screening staff)."""
    newest: dict[str, Rule] = {}
    for rule in Rule.objects.order_by("key", "-version"):
        newest.setdefault(rule.key, rule)
    return sorted(newest.values(), key=lambda r: r.pk)


def rule_get(*, key: str) -> Rule:
    rule = Rule.objects.filter(key=key).order_by("-version").first()
    if rule is None:
        raise NotFound("规则不存在")
    return rule


def rule_versions(*, key: str) -> list[Rule]:
    return list(Rule.objects.filter(key=key).order_by("-version").select_related("created_by"))


def runs_for_actor(*, actor: Any) -> QuerySet[Run]:
    return Run.objects.filter(scope_q(actor, ScreeningPerm.VIEW)).select_related("organization", "job", "created_by")


def run_get_for_actor(*, actor: Any, pk: int | str) -> Run:
    run = runs_for_actor(actor=actor).filter(pk=pk).first()
    if run is None:
        raise NotFound("筛查不存在或无权访问")
    return run


def candidates_for_actor(*, actor: Any) -> QuerySet[Candidate]:
    return Candidate.objects.filter(scope_q(actor, ScreeningPerm.VIEW)).select_related(
        "member", "organization", "rule", "run"
    )


def candidate_get_for_actor(*, actor: Any, pk: int | str) -> Candidate:
    candidate = candidates_for_actor(actor=actor).filter(pk=pk).first()
    if candidate is None:
        raise NotFound("筛查线索不存在或无权访问")
    return candidate


@dataclass(frozen=True, slots=True)
class CandidateFilters:
    run: Run | None
    rule_key: str
    status: str
    change: str
    organization: Organization | None


def run_visible_to(*, actor: Any, pk: int) -> Run | None:
    """A run the actor ran or found candidates of (a grassroots union sees its own candidates of
    a city's run), else None."""
    seen = candidates_for_actor(actor=actor).filter(run_id=pk).exists()
    return Run.objects.filter(pk=pk).first() if seen else runs_for_actor(actor=actor).filter(pk=pk).first()


def latest_run_for_actor(*, actor: Any) -> Run | None:
    """The newest finished run that found candidates the actor may see."""
    newest = candidates_for_actor(actor=actor).order_by("-run_id").values_list("run_id", flat=True).first()
    return Run.objects.filter(pk=newest).first() if newest else None


def candidate_filters(*, actor: Any, params: Mapping[str, Any]) -> CandidateFilters:
    """The list's filters from a query string; an implausible value is treated as absent."""
    run_id = parsing.query_id(params, "run")
    run = run_visible_to(actor=actor, pk=run_id) if run_id else latest_run_for_actor(actor=actor)
    rule_key = str(params.get("rule", ""))[:40]
    status = str(params.get("status", CandidateStatus.OPEN))
    if status not in (*CandidateStatus.values, "all"):
        status = CandidateStatus.OPEN
    change = str(params.get("change", ""))
    if change not in Change.values:
        change = ""
    org_id = parsing.query_id(params, "org")
    organization = Organization.objects.filter(pk=org_id).first() if org_id else None
    return CandidateFilters(run=run, rule_key=rule_key, status=status, change=change, organization=organization)


def candidate_list(*, actor: Any, filters: CandidateFilters) -> QuerySet[Candidate]:
    found = candidates_for_actor(actor=actor)
    if filters.run is None:
        return found.none()
    found = found.filter(run=filters.run)
    if filters.rule_key:
        found = found.filter(rule_key=filters.rule_key)
    if filters.status != "all":
        found = found.filter(status=filters.status)
    if filters.change:
        found = found.filter(change=filters.change)
    if filters.organization is not None:
        found = found.filter(organization__path__startswith=filters.organization.path)
    return found.order_by("id")


def gone_candidates_for_actor(*, actor: Any, run: Run, limit: int = 50) -> list[Candidate]:
    """The previous run's candidates (that the actor may see) that this run no longer found."""
    if run.previous_id is None:
        return []
    current = Candidate.objects.filter(run=run).values("member_id", "rule_key")
    previous = candidates_for_actor(actor=actor).filter(run_id=run.previous_id)
    kept = {(c["member_id"], c["rule_key"]) for c in current}
    gone = [c for c in previous.order_by("id") if (c.member_id, c.rule_key) not in kept]
    return gone[:limit]


def datasets_ready_count(*, actor: Any) -> int:
    return datasets_for_actor(actor=actor).filter(status=DatasetStatus.READY).count()


def open_candidates_count(*, actor: Any) -> int:
    run = latest_run_for_actor(actor=actor)
    if run is None:
        return 0
    return candidates_for_actor(actor=actor).filter(run=run, status=CandidateStatus.OPEN).count()
