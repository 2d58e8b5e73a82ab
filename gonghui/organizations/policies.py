"""Versioned policies, the tenant half (the kinds and their schemas live in
`gonghui.core.policies`).

Resolution: `policy_for(kind=..., organization=..., on=day)` takes, among the organisation and
its ancestors, the nearest one holding an approved version valid on `day` (`valid_from <= day`),
and of that organisation's versions the latest valid one. With none anywhere, the kind's shipped
default applies (`ResolvedPolicy.version is None`). A decision stores the `PolicyVersion` it
applied; `policy_explain(kind=..., version=...)` gives the exact body of that version later,
whatever was published since.

Approval: a version is proposed by someone holding the kind's `manage_perm` on the
organisation. For kinds registered with `four_eyes=True` it stays `proposed` until a different
person holding `policy.approve` there approves it (the proposer may never approve their own
proposal); for the others the proposer's own act approves it at once and `approved_by` is the
proposer. One open proposal per (kind, organisation) at a time, so version numbers follow the
order of proposal and approval alike."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from gonghui.core import audit
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.permissions import Perm
from gonghui.core.policies import policy_body_validate, policy_kind
from gonghui.organizations.models import PATH_STEP, Organization, PolicyStatus, PolicyVersion
from gonghui.organizations.selectors import has_perm_on, scope_q


@dataclass(frozen=True)
class ResolvedPolicy:
    kind: str
    body: dict[str, Any]
    version: PolicyVersion | None

    @property
    def version_id(self) -> int | None:
        return self.version.pk if self.version is not None else None

    @property
    def label(self) -> str:
        """ "v3（苏州市总工会）" or "系统默认"."""
        if self.version is None:
            return "系统默认"
        return "v%(v)s（%(org)s）" % {"v": self.version.version, "org": self.version.organization.name}


def _prefixes(path: str) -> list[str]:
    step = PATH_STEP + 1
    return [path[:i] for i in range(step, len(path) + 1, step)]


def policies_for_paths(*, kind: str, paths: Iterable[str], on: dt.date | None = None) -> dict[str, ResolvedPolicy]:
    """`policy_for` for many organisations in one query, keyed by organisation path."""
    entry = policy_kind(kind)
    day = on or timezone.localdate()
    wanted = set(paths)
    prefixes = {p for path in wanted for p in _prefixes(path)}
    best: dict[str, PolicyVersion] = {}
    for version in (
        PolicyVersion.objects.filter(
            kind=kind, status=PolicyStatus.APPROVED, valid_from__lte=day, organization__path__in=prefixes
        )
        .select_related("organization")
        .order_by("version")
    ):
        best[version.organization.path] = version
    out: dict[str, ResolvedPolicy] = {}
    for path in wanted:
        chosen = next((best[p] for p in reversed(_prefixes(path)) if p in best), None)
        body = dict(chosen.body) if chosen is not None else dict(entry.default)
        out[path] = ResolvedPolicy(kind=kind, body=body, version=chosen)
    return out


def policy_for(*, kind: str, organization: Organization, on: dt.date | None = None) -> ResolvedPolicy:
    return policies_for_paths(kind=kind, paths=[organization.path], on=on)[organization.path]


def policy_explain(*, kind: str, version: PolicyVersion | int | None) -> dict[str, Any]:
    """The body a decision was made under: the stored version's, or the shipped default when the
    decision recorded none."""
    if version is None:
        return dict(policy_kind(kind).default)
    row = version if isinstance(version, PolicyVersion) else PolicyVersion.objects.get(pk=version, kind=kind)
    return dict(row.body)


# ---- reads for an actor ---------------------------------------------------------------------


def policy_versions_for_actor(*, actor: Any, kind: str | None = None) -> QuerySet[PolicyVersion]:
    qs = PolicyVersion.objects.filter(scope_q(actor, Perm.POLICY_VIEW)).select_related(
        "organization", "created_by", "approved_by"
    )
    return qs.filter(kind=kind) if kind else qs


def policy_version_get_for_actor(*, actor: Any, pk: int | str) -> PolicyVersion:
    version = policy_versions_for_actor(actor=actor).filter(pk=pk).first()
    if version is None:
        raise NotFound("政策版本不存在或无权访问")
    return version


def policy_history(*, actor: Any, kind: str, organization: Organization) -> list[PolicyVersion]:
    """Every version an organisation published for a kind, newest first."""
    if not has_perm_on(actor, Perm.POLICY_VIEW, organization):
        raise NotFound("组织不存在或无权访问")
    return list(
        PolicyVersion.objects.filter(kind=kind, organization=organization)
        .select_related("organization", "created_by", "approved_by")
        .order_by("-version")
    )


# ---- writes ---------------------------------------------------------------------------------


def policy_propose(
    *,
    actor: Any,
    kind: str,
    organization: Organization,
    body: object,
    valid_from: dt.date | None = None,
    note: str = "",
) -> PolicyVersion:
    """Propose the next version of `kind` for `organization` (approved at once for kinds
    without four-eyes approval). The body is validated by the kind's schema."""
    entry = policy_kind(kind)
    if not has_perm_on(actor, entry.manage_perm, organization):
        raise PermissionDenied("无权修改该组织的%(label)s" % {"label": entry.label})
    today = timezone.localdate()
    day = valid_from or today
    if day < today:
        raise ValidationFailed("生效日期不能早于今天", fields={"valid_from": "不能早于今天"})
    clean = policy_body_validate(kind, body)
    note = note.strip()
    if len(note) > 200:
        raise ValidationFailed("修改说明过长", fields={"note": "最多 200 个字符"})
    now = timezone.now()
    with transaction.atomic():
        # The organisation row serialises version numbering for all its kinds.
        Organization.objects.select_for_update().get(pk=organization.pk)
        versions = PolicyVersion.objects.filter(kind=kind, organization=organization)
        if versions.filter(status=PolicyStatus.PROPOSED).exists():
            raise Conflict("该组织已有一个待审批的版本，请先审批或驳回")
        last = versions.order_by("-version").values_list("version", flat=True).first() or 0
        approved_now = not entry.four_eyes
        version = PolicyVersion.objects.create(
            kind=kind,
            organization=organization,
            version=last + 1,
            valid_from=day,
            body=clean,
            note=note,
            status=PolicyStatus.APPROVED if approved_now else PolicyStatus.PROPOSED,
            created_by=actor,
            approved_by=actor if approved_now else None,
            approved_at=now if approved_now else None,
        )
        audit.record(
            actor=actor,
            action="policy.publish" if approved_now else "policy.propose",
            obj=version,
            organization=organization,
            detail={"kind": kind, "version": version.version, "valid_from": day.isoformat(), "body": clean},
        )
    return version


def _decide(*, actor: Any, version_id: int | str, approve: bool) -> PolicyVersion:
    with transaction.atomic():
        version = (
            PolicyVersion.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(pk=version_id)
            .first()
        )
        if version is None or not has_perm_on(actor, Perm.POLICY_VIEW, version.organization):
            raise NotFound("政策版本不存在或无权访问")
        if not has_perm_on(actor, Perm.POLICY_APPROVE, version.organization):
            raise PermissionDenied("您的角色无权审批政策")
        if version.status != PolicyStatus.PROPOSED:
            raise Conflict("该版本已审批过，不能再次处理")
        if version.created_by_id == getattr(actor, "pk", None):
            raise PermissionDenied("不能审批自己提出的版本，请由另一位有审批权的人员处理")
        version.status = PolicyStatus.APPROVED if approve else PolicyStatus.REJECTED
        version.approved_by = actor
        version.approved_at = timezone.now()
        version.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(
            actor=actor,
            action="policy.approve" if approve else "policy.reject",
            obj=version,
            organization=version.organization,
            detail={"kind": version.kind, "version": version.version},
        )
    return version


def policy_approve(*, actor: Any, version_id: int | str) -> PolicyVersion:
    return _decide(actor=actor, version_id=version_id, approve=True)


def policy_reject(*, actor: Any, version_id: int | str) -> PolicyVersion:
    return _decide(actor=actor, version_id=version_id, approve=False)
