"""Reads that know who is asking. Every tenant-owned query in the project narrows itself with
`scope_q(actor, perm, field)`: the rows of the organisations where the actor holds a role that
grants `perm`, and of their sub-trees — nothing else."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from gonghui.core import jobs, registry
from gonghui.core.errors import NotFound, PermissionDenied
from gonghui.core.models import Job
from gonghui.organizations.models import Level, Organization, RoleAssignment
from gonghui.organizations.permissions import OrgPerm

_CACHE_ATTR = "_gonghui_role_cache"


def _assignments(actor: Any) -> list[tuple[str, str, int]]:
    """(role, org path, org id) for the actor, loaded once per request object. Only a staff
    account holds roles: a member's account has none, whatever rows say."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_staff_account", False):
        return []
    cached = getattr(actor, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.filter(user=actor, organization__is_active=True).values_list(
                "role", "organization__path", "organization_id"
            )
        )
        setattr(actor, _CACHE_ATTR, cached)
    return cached


def forget_roles(actor: Any) -> None:
    if hasattr(actor, _CACHE_ATTR):
        delattr(actor, _CACHE_ATTR)


def minimal_paths(paths: Iterable[str]) -> list[str]:
    """Drop every path that lies under another one in the list."""
    result: list[str] = []
    for path in sorted(set(paths)):
        if not result or not path.startswith(result[-1]):
            result.append(path)
    return result


def scope_paths(actor: Any, perm: str) -> list[str]:
    return minimal_paths(path for role, path, _ in _assignments(actor) if registry.holds(role, perm))


def has_perm_anywhere(actor: Any, perm: str) -> bool:
    return bool(scope_paths(actor, perm))


def has_perm_on(actor: Any, perm: str, organization: Organization | str) -> bool:
    path = organization if isinstance(organization, str) else organization.path
    return any(path.startswith(p) for p in scope_paths(actor, perm))


def is_staff_user(actor: Any) -> bool:
    return bool(_assignments(actor))


def requires_totp(actor: Any) -> bool:
    return bool(roles_of(actor) & registry.roles_requiring_totp())


def roles_of(actor: Any) -> set[str]:
    return {role for role, _, _ in _assignments(actor)}


def scope_q(actor: Any, perm: str, field: str = "organization__path") -> Q:
    """A filter for rows whose organisation path (reached through `field`) lies in the
    actor's scope for `perm`. An actor without the permission matches nothing."""
    paths = scope_paths(actor, perm)
    if not paths:
        return Q(pk__in=[])
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def scope_root_for_actor(*, actor: Any, perm: str) -> Organization | None:
    """The highest organisation where `actor` holds `perm` (the first of several, by path)."""
    paths = minimal_paths(scope_paths(actor, perm))
    if not paths:
        return None
    return Organization.objects.filter(path__in=paths).order_by("level", "path").first()


def organizations_for_actor(*, actor: Any, perm: str) -> QuerySet[Organization]:
    return Organization.objects.filter(scope_q(actor, perm, field="path"))


def organization_get_for_actor(*, actor: Any, perm: str, pk: int | str) -> Organization:
    org = organizations_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if org is None:
        raise NotFound("组织不存在或无权访问")
    return org


def role_assignments_for_actor(*, actor: Any, organization: Organization) -> QuerySet[RoleAssignment]:
    """The roles held on `organization`, for an actor who manages staff there; none otherwise."""
    if not has_perm_on(actor, OrgPerm.STAFF_MANAGE, organization):
        return RoleAssignment.objects.none()
    return RoleAssignment.objects.filter(organization=organization).select_related("user").order_by("role", "user_id")


def role_assignment_get_for_actor(*, actor: Any, pk: int | str, organization: Organization) -> RoleAssignment:
    assignment = role_assignments_for_actor(actor=actor, organization=organization).filter(pk=pk).first()
    if assignment is None:
        raise NotFound("该角色不存在或无权访问")
    return assignment


def organization_by_code_for_actor(*, actor: Any, perm: str, code: str) -> Organization:
    org = organizations_for_actor(actor=actor, perm=perm).filter(code=code).first()
    if org is None:
        raise NotFound("组织不存在或无权访问")
    return org


def subtree(org: Organization) -> QuerySet[Organization]:
    return Organization.objects.filter(path__startswith=org.path)


def organization_children(org: Organization) -> QuerySet[Organization]:
    """The unions directly under `org` (one the actor was allowed to open), each with its
    member count, by code."""
    return Organization.objects.filter(parent=org).annotate(member_count=Count("members")).order_by("code")


def ancestors(org: Organization) -> list[Organization]:
    step = len(Organization.path_segment(1))
    prefixes = [org.path[: i + step] for i in range(0, len(org.path) - step, step)]
    by_path = {o.path: o for o in Organization.objects.filter(path__in=prefixes)}
    return [by_path[p] for p in prefixes if p in by_path]


# ---- the organisation picker -------------------------------------------------------------------

PICKER_LIMIT = 10
PUBLIC_MIN_CHARS = 2


@dataclass(frozen=True, slots=True)
class PickerOption:
    """What a picker shows of a union: its name and code, never its data."""

    code: str
    name: str
    level: str

    @property
    def label(self) -> str:
        return "%(name)s（%(code)s）" % {"name": self.name, "code": self.code}


@dataclass(frozen=True, slots=True)
class PickerPurpose:
    perm: str
    # Transfers go to another union, anywhere in the federation; other purposes stay in the
    # actor's sub-tree for `perm`.
    whole_federation: bool
    grassroots_only: bool


PICKER_PURPOSES: dict[str, PickerPurpose] = {}


def register_picker_purpose(name: str, purpose: PickerPurpose) -> None:
    """Let a domain app offer the organisation picker for `name` (in its AppConfig.ready())."""
    PICKER_PURPOSES[name] = purpose


def _matching(query: str) -> Q:
    """Name contains the text, code starts with it, or the pinyin initials contain it."""
    condition = Q(name__contains=query) | Q(code__istartswith=query)
    if query.isascii() and query.isalnum():
        condition |= Q(name_initials__contains=query.lower())
    return condition


def _options(qs: QuerySet[Organization], limit: int) -> list[PickerOption]:
    labels = dict(Level.choices)
    return [
        PickerOption(code=code, name=name, level=str(labels.get(level, "")))
        for code, name, level in qs.order_by("level", "name", "id").values_list("code", "name", "level")[:limit]
    ]


def organization_picker_for_actor(
    *, actor: Any, purpose: str, query: str, limit: int = PICKER_LIMIT
) -> list[PickerOption]:
    """The unions `actor` may choose for `purpose`, matching `query`. Only what the actor may
    pick: its own sub-tree for imports; for a transfer target any active grassroots union, by
    name and code only (an empty query lists none of the federation)."""
    rule = PICKER_PURPOSES.get(purpose)
    if rule is None:
        raise NotFound("未知的选择用途")
    if not has_perm_anywhere(actor, rule.perm):
        raise PermissionDenied("您的角色无权使用此功能")
    query = query.strip()
    qs = Organization.objects.filter(is_active=True)
    if not rule.whole_federation:
        qs = qs.filter(scope_q(actor, rule.perm, field="path"))
    elif not query:
        return []
    if rule.grassroots_only:
        qs = qs.filter(level=Level.GRASSROOTS)
    if query:
        qs = qs.filter(_matching(query))
    return _options(qs, limit)


def grassroots_union_search(*, query: str, limit: int = PICKER_LIMIT) -> list[PickerOption]:
    """The public search of the H5 join form: active grassroots unions by name, code or pinyin
    initials, at least two characters typed, at most `limit` answers, name and code only."""
    query = query.strip()
    if len(query) < PUBLIC_MIN_CHARS:
        return []
    qs = Organization.objects.filter(_matching(query), is_active=True, level=Level.GRASSROOTS)
    return _options(qs, limit)


def transfer_target_by_code(*, code: str) -> Organization | None:
    """The grassroots union a transfer may go to, chosen in the picker (any active one)."""
    code = code.strip()
    if not code:
        return None
    return Organization.objects.filter(code=code, level=Level.GRASSROOTS, is_active=True).first()


def jobs_for_actor(*, actor: Any) -> QuerySet[Job]:
    """Background jobs the actor may see: of each registered kind, those of organisations in
    the actor's sub-tree for that kind's permission (a health officer sees health imports,
    not 定向发放); of a personal kind (an export), only the actor's own."""
    condition = Q(pk__in=[])
    for kind in jobs.job_kinds():
        paths = scope_paths(actor, kind.perm)
        if paths:
            in_scope = Q()
            for path in paths:
                in_scope |= Q(organization__path__startswith=path)
            mine = Q(created_by_id=getattr(actor, "pk", None)) if kind.personal else Q()
            condition |= Q(kind=kind.name) & in_scope & mine
    return Job.objects.filter(condition).select_related("organization", "created_by")


def job_get_for_actor(*, actor: Any, pk: int | str) -> Job:
    job = jobs_for_actor(actor=actor).filter(pk=pk).first()
    if job is None:
        raise NotFound("后台任务不存在或无权访问")
    return job
