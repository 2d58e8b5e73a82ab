"""Declared workflows: a case's states and transitions as data, and the one service that moves
a case from one state to the next.

A `Workflow` names its model, its states (a `TextChoices`), the field that holds the state and
its `Transition`s. A transition says from which states it may be taken, where it leads, the
permission it needs, on which organisation that permission is checked (`on`: the name of the
object's organisation attribute — the transfer's `to_org` for the 转入 approval), who may never
take it (`forbid`: the object's user fields such as `"submitted_by"`, or `"step:<transition>"`
for whoever took that earlier transition on this object), whether a reason is required, and
amount limits per organisation level: an approval above the limit of the highest level at which
the actor holds the permission does not approve; it moves the case to `escalate_to` and the
decision to the next level up, whose approvers then take the same transition again. A workflow
also declares deadlines per state: the due time is stored with the case, so an overdue list is
a query (`overdue`).

A transition declared `by_applicant` is taken by the case's own applicant (the member who asked,
or someone without an account who holds the proof the case was given, such as a tracking code)
instead of by a staff role: no permission is asked; the workflow's `applicant` test decides
whether the actor — the user, or None — with the `proof` passed in is the applicant. Everything
else is the same: the state check under the lock, the reason, the effect, the history row, the
audit event (a refusal audited as `not_applicant`) and the hooks. The proof itself is never
recorded; the step's data says `by_applicant` and, when a proof identified them, `by_proof`.

`workflow_transition` is the only writer: it refuses early (an audited refusal, nothing
changed), then locks the row, re-reads the state and re-checks every rule under the lock,
applies the state change and the domain's `effect`, writes a `WorkflowStep` and one audit event
named `<workflow>.<transition>`, and enqueues the after-commit hooks subscribed to the
transition.

The kernel knows no organisation model: the tenant layer registers an `Authorizer`
(`register_authorizer`, from `gonghui.organizations.apps`) that answers whether an actor holds
a permission on an organisation (or an ancestor), gives an organisation's line of ancestors and
its level, and loads an organisation by id.
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from gonghui.core import audit, sql
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditResult, WorkflowCase, WorkflowStep

STEP_PREFIX = "step:"


class Authorizer(Protocol):
    def has_perm(self, actor: Any, perm: str, organization: Any) -> bool:
        """Does `actor` hold `perm` on `organization` or one of its ancestors?"""

    def lineage(self, organization: Any) -> list[Any]:
        """The organisation's ancestors from the root down, ending with the organisation."""

    def level(self, organization: Any) -> int: ...

    def get(self, organization_id: int) -> Any: ...

    def has_perm_anywhere(self, actor: Any, perm: str) -> bool:
        """Does `actor` hold `perm` on some organisation?"""

    def is_staff(self, actor: Any) -> bool:
        """Does `actor` hold any staff role?"""

    def requires_totp(self, actor: Any) -> bool:
        """Does one of `actor`'s roles require the second factor?"""

    def scope_q(self, actor: Any, perm: str, *, field: str) -> Q:
        """Rows whose organisation path (reached through `field`) lies where `actor` holds `perm`."""

    def holds_at_root(self, actor: Any, perm: str) -> bool:
        """Does `actor` hold `perm` on a root organisation (a province's federation)?"""


_registered: dict[str, Authorizer] = {}


def register_authorizer(authorizer: Authorizer) -> None:
    _registered["authorizer"] = authorizer


def authorizer() -> Authorizer:
    """The tenant layer's answers about organisations and roles (for kernel code that must ask)."""
    return _auth()


def _auth() -> Authorizer:
    if "authorizer" not in _registered:
        raise ImproperlyConfigured("no workflow authorizer registered (the tenant layer registers one in ready())")
    return _registered["authorizer"]


Limits = Mapping[int, int]


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    perm: str = ""
    on: str = "organization"
    forbid: tuple[str, ...] = ()
    forbid_message: str = ""
    reason_required: bool = False
    reason_max: int = 200
    # Organisation level → the largest amount (fen) an approver at that level may decide; a
    # level missing from the mapping decides any amount. A callable gets the object (and can
    # read a versioned policy).
    limits: Limits | Callable[[Any], Limits] | None = None
    escalate_to: str = ""
    # Taken by the case's applicant (see the module's docstring), never by a staff role.
    by_applicant: bool = False


# Is `actor` (a user, or None for someone without an account) holding `proof` (a secret the case
# gave its applicant, or "") the applicant of `obj`?
ApplicantTest = Callable[[Any, Any, str], bool]


@dataclass(frozen=True)
class Option:
    """A transition the actor's roles allow from the object's state; `allowed` is False when
    a separation-of-duties rule forbids this actor, with the reason in `message`."""

    transition: Transition
    allowed: bool
    message: str = ""


@dataclass(frozen=True)
class Step:
    """What the domain's `effect` is told about the transition being applied."""

    actor: Any
    transition: Transition
    from_state: str
    to_state: str
    reason: str
    amount_fen: int | None
    at: dt.datetime
    data: Mapping[str, Any]

    @property
    def escalated(self) -> bool:
        return bool(self.transition.escalate_to) and self.to_state == self.transition.escalate_to


# An effect applies the domain's part of a transition to the locked object (and may raise a
# domain error, which undoes everything); it returns the names of the object's fields it set.
Effect = Callable[[Any, Step], Iterable[str] | None]


@dataclass(frozen=True)
class Workflow:
    name: str
    noun: str
    model: type[models.Model]
    states: type[models.TextChoices]
    transitions: tuple[Transition, ...]
    state_field: str = "status"
    deadlines: Mapping[str, dt.timedelta] = field(default_factory=dict)
    applicant: ApplicantTest | None = None
    applicant_label: str = "申请人"
    hooks: dict[str, list[Callable[[int], None]]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        states = set(self.states.values)
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ImproperlyConfigured("workflow %s: transition names must be unique" % self.name)
        for t in self.transitions:
            used = {*t.sources, t.target, *([t.escalate_to] if t.escalate_to else [])}
            if not used <= states:
                raise ImproperlyConfigured("workflow %s: %s uses unknown states" % (self.name, t.name))
            for rule in t.forbid:
                if rule.startswith(STEP_PREFIX) and rule.removeprefix(STEP_PREFIX) not in names:
                    raise ImproperlyConfigured("workflow %s: %s forbids an unknown step" % (self.name, t.name))
            if t.by_applicant and (self.applicant is None or t.perm or t.limits is not None or t.escalate_to):
                raise ImproperlyConfigured(
                    "workflow %s: %s is the applicant's: it needs the workflow's applicant test and takes "
                    "no permission, limits or escalation" % (self.name, t.name)
                )
            if not t.by_applicant and not t.perm:
                raise ImproperlyConfigured("workflow %s: %s needs a permission" % (self.name, t.name))
        if not set(self.deadlines) <= states:
            raise ImproperlyConfigured("workflow %s: deadline for an unknown state" % self.name)

    def transition(self, name: str) -> Transition:
        for t in self.transitions:
            if t.name == name:
                return t
        raise KeyError(name)

    def action(self, transition: str) -> str:
        """The audit action of a transition: `<workflow>.<transition>`."""
        return "%s.%s" % (self.name, transition)

    def subscribe(self, transition: str, hook: Callable[[int], None]) -> None:
        """Run `hook(object_id)` after the commit of every `transition` taken."""
        self.transition(transition)
        self.hooks.setdefault(transition, []).append(hook)

    def state_of(self, obj: Any) -> str:
        return str(getattr(obj, self.state_field))

    def state_label(self, state: str) -> str:
        return str(dict(self.states.choices).get(state, state))

    def due_at(self, state: str, now: dt.datetime) -> dt.datetime | None:
        delta = self.deadlines.get(state)
        return now + delta if delta is not None else None


# ---- reading -------------------------------------------------------------------------------


def _content_type(workflow: Workflow) -> ContentType:
    return ContentType.objects.get_for_model(workflow.model)


def _cases(workflow: Workflow, pks: Iterable[int]) -> dict[int, WorkflowCase]:
    return {
        c.object_id: c
        for c in WorkflowCase.objects.filter(content_type=_content_type(workflow), object_id__in=list(pks))
    }


def _step_actors(workflow: Workflow, pks: Iterable[int], transitions: set[str]) -> dict[tuple[int, str], set[int]]:
    actors: dict[tuple[int, str], set[int]] = {}
    if not transitions:
        return actors
    rows = WorkflowStep.objects.filter(
        content_type=_content_type(workflow), object_id__in=list(pks), transition__in=transitions
    ).values_list("object_id", "transition", "actor_id")
    for object_id, name, actor_id in rows:
        if actor_id is not None:
            actors.setdefault((object_id, name), set()).add(actor_id)
    return actors


def _forbidden_steps(workflow: Workflow) -> set[str]:
    return {
        rule.removeprefix(STEP_PREFIX)
        for t in workflow.transitions
        for rule in t.forbid
        if rule.startswith(STEP_PREFIX)
    }


def _decision_org(workflow: Workflow, transition: Transition, obj: Any, case: WorkflowCase | None) -> Any:
    if case is not None and case.escalated_org_id is not None and case.state == workflow.state_of(obj):
        return _auth().get(case.escalated_org_id)
    return getattr(obj, transition.on)


def _is_forbidden(
    transition: Transition, actor: Any, obj: Any, step_actors: Mapping[tuple[int, str], set[int]]
) -> bool:
    if getattr(actor, "pk", None) is None:
        return False  # the rules name accounts; someone without one is none of them
    for rule in transition.forbid:
        if rule.startswith(STEP_PREFIX):
            if actor.pk in step_actors.get((obj.pk, rule.removeprefix(STEP_PREFIX)), set()):
                return True
        elif getattr(obj, "%s_id" % rule) == actor.pk:
            return True
    return False


def _forbid_message(workflow: Workflow, transition: Transition) -> str:
    return transition.forbid_message or "您已经办理过%(noun)s的前一步，不能再%(label)s，请由另一位工作人员办理" % {
        "label": transition.label,
        "noun": workflow.noun,
    }


def _may_take(workflow: Workflow, transition: Transition, actor: Any, obj: Any, org: Any, proof: str) -> bool:
    """The role half of a refusal: the actor holds the permission, or is the applicant."""
    if transition.by_applicant:
        assert workflow.applicant is not None
        return workflow.applicant(obj, actor, proof)
    return actor is not None and _auth().has_perm(actor, transition.perm, org)


def workflow_options_many(
    *, actor: Any, workflow: Workflow, objs: Sequence[Any], proof: str = ""
) -> dict[int, list[Option]]:
    """For each object, the transitions from its state that the actor's roles allow — and,
    where the actor (with `proof`) is the object's applicant, the applicant's transitions (two
    queries for the whole list): what a page shows as buttons."""
    pks = [o.pk for o in objs]
    cases = _cases(workflow, pks)
    step_actors = _step_actors(workflow, pks, _forbidden_steps(workflow))
    result: dict[int, list[Option]] = {}
    for obj in objs:
        options = []
        for t in workflow.transitions:
            if workflow.state_of(obj) not in t.sources:
                continue
            if not _may_take(workflow, t, actor, obj, _decision_org(workflow, t, obj, cases.get(obj.pk)), proof):
                continue
            if _is_forbidden(t, actor, obj, step_actors):
                options.append(Option(t, False, _forbid_message(workflow, t)))
            else:
                options.append(Option(t, True))
        result[obj.pk] = options
    return result


def workflow_options(*, actor: Any, workflow: Workflow, obj: Any, proof: str = "") -> dict[str, Option]:
    """The actor's options on one object, by transition name."""
    options = workflow_options_many(actor=actor, workflow=workflow, objs=[obj], proof=proof)
    return {o.transition.name: o for o in options[obj.pk]}


def workflow_history(*, workflow: Workflow, obj: Any) -> QuerySet[WorkflowStep]:
    return WorkflowStep.objects.filter(content_type=_content_type(workflow), object_id=obj.pk).select_related("actor")


def workflow_case(*, workflow: Workflow, obj: Any) -> WorkflowCase | None:
    return WorkflowCase.objects.filter(content_type=_content_type(workflow), object_id=obj.pk).first()


def overdue(*, workflow: Workflow, now: dt.datetime | None = None) -> QuerySet[Any]:
    """The workflow's objects whose current state is past its due time (one query)."""
    cases = WorkflowCase.objects.filter(
        workflow=workflow.name, content_type=_content_type(workflow), due_at__lt=now or timezone.now()
    )
    return workflow.model._default_manager.filter(pk__in=cases.values("object_id"))


def escalated_to(*, workflow: Workflow, path_prefixes: Sequence[str]) -> QuerySet[Any]:
    """The workflow's objects whose decision was escalated to an organisation under one of
    `path_prefixes` (a tenant selector passes the actor's scope)."""
    condition = models.Q(pk__in=[])
    for prefix in path_prefixes:
        condition |= models.Q(escalated_org_path__startswith=prefix)
    cases = WorkflowCase.objects.filter(condition, workflow=workflow.name, escalated_org_id__isnull=False)
    return workflow.model._default_manager.filter(pk__in=cases.values("object_id"))


# ---- writing -------------------------------------------------------------------------------


def _pick(workflow: Workflow, names: Sequence[str], obj: Any) -> Transition:
    state = workflow.state_of(obj)
    for name in names:
        t = workflow.transition(name)
        if state in t.sources:
            return t
    raise Conflict(
        "%(noun)s当前为“%(state)s”，不能%(label)s"
        % {"noun": workflow.noun, "state": workflow.state_label(state), "label": workflow.transition(names[0]).label}
    )


def _check_input(transition: Transition, reason: str, amount_fen: int | None) -> None:
    if transition.reason_required and not reason:
        raise ValidationFailed("%(label)s时请填写原因" % {"label": transition.label}, fields={"reason": "请填写原因"})
    if len(reason) > transition.reason_max:
        raise ValidationFailed(
            "意见不能超过%(max)d字" % {"max": transition.reason_max},
            fields={"reason": "不能超过%(max)d字" % {"max": transition.reason_max}},
        )
    if transition.limits is not None and (amount_fen is None or amount_fen < 0):
        raise ValidationFailed("请填写审批金额", fields={"amount": "请填写审批金额"})


def _refusal(
    workflow: Workflow, transition: Transition, actor: Any, obj: Any, case: WorkflowCase | None, proof: str
) -> tuple[PermissionDenied, str, Any] | None:
    org = _decision_org(workflow, transition, obj, case)
    if not _may_take(workflow, transition, actor, obj, org, proof):
        if transition.by_applicant:
            message = "只有%(who)s本人可以%(label)s%(noun)s" % {
                "who": workflow.applicant_label,
                "label": transition.label,
                "noun": workflow.noun,
            }
            return PermissionDenied(message), "not_applicant", org
        message = "您无权%(label)s%(noun)s" % {"label": transition.label, "noun": workflow.noun}
        return PermissionDenied(message), "permission", org
    step_actors = _step_actors(workflow, [obj.pk], _forbidden_steps(workflow))
    if _is_forbidden(transition, actor, obj, step_actors):
        return PermissionDenied(_forbid_message(workflow, transition)), "separation_of_duties", org
    return None


def _outcome(transition: Transition, actor: Any, obj: Any, org: Any, amount_fen: int | None) -> tuple[str, Any, dict]:
    """(to-state, organisation the decision moves to or None, facts for the step's data)."""
    if transition.limits is None:
        return transition.target, None, {}
    assert amount_fen is not None
    auth = _auth()
    limits = transition.limits(obj) if callable(transition.limits) else transition.limits
    lineage = auth.lineage(org)
    index, reach = next((i, o) for i, o in enumerate(lineage) if auth.has_perm(actor, transition.perm, o))
    level = auth.level(reach)
    limit = limits.get(level)
    facts = {"amount_fen": amount_fen, "level": level, "limit_fen": limit}
    if limit is None or amount_fen <= limit:
        return transition.target, None, facts
    if not transition.escalate_to or index == 0:
        raise PermissionDenied(
            "金额 %(amount).2f 元超出您的审批权限（%(limit).2f 元）"
            % {"amount": amount_fen / 100, "limit": limit / 100}
        )
    parent = lineage[index - 1]
    return transition.escalate_to, parent, {**facts, "escalated_to": parent.pk}


def _save_case(
    workflow: Workflow, obj: Any, state: str, now: dt.datetime, escalated_org: Any, case: WorkflowCase | None
) -> None:
    values = {
        "workflow": workflow.name,
        "state": state,
        "escalated_org_id": getattr(escalated_org, "pk", None),
        "escalated_org_path": getattr(escalated_org, "path", "") or "",
        "entered_at": now,
        "due_at": workflow.due_at(state, now),
    }
    if case is None:
        WorkflowCase.objects.create(content_type=_content_type(workflow), object_id=obj.pk, **values)
    else:
        for name, value in values.items():
            setattr(case, name, value)
        case.save()


def _auto_now_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


def workflow_start(
    *,
    actor: Any,
    obj: Any,
    workflow: Workflow,
    step: str = "submit",
    label: str = "提交",
    organization: Any = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Open the case of a newly created object, in the caller's transaction: the first
    history row, the case with the initial state's deadline, and the audit event
    `<workflow>.<step>`. `actor` may be None (an applicant without an account)."""
    now = timezone.now()
    state = workflow.state_of(obj)
    _save_case(workflow, obj, state, now, None, None)
    WorkflowStep.objects.create(
        workflow=workflow.name,
        content_type=_content_type(workflow),
        object_id=obj.pk,
        transition=step,
        label=label,
        from_state="",
        to_state=state,
        actor=actor,
        at=now,
        data=dict(detail or {}),
    )
    audit.record(
        actor=actor,
        action=workflow.action(step),
        obj=obj,
        organization=organization if organization is not None else getattr(obj, "organization", None),
        detail=dict(detail or {}),
    )


def workflow_transition(
    *,
    actor: Any,
    obj: Any,
    workflow: Workflow,
    transition: str | Sequence[str],
    reason: str = "",
    amount_fen: int | None = None,
    effect: Effect | None = None,
    proof: str = "",
    **data: Any,
) -> Any:
    """Take `transition` on `obj` (or, given several names, the one that leaves the object's
    state read under the lock) and return the locked, updated object. Refusals raise
    `Conflict` (wrong state), `PermissionDenied` (role, applicant, separation of duties,
    amount) or `ValidationFailed` (reason, amount) and change nothing; a refusal found before
    the lock is recorded as a denied audit event. `actor` may be None only for an applicant's
    transition, identified by `proof`."""
    names = (transition,) if isinstance(transition, str) else tuple(transition)
    reason = reason.strip()
    # Refuse early on a fresh read (the caller's copy may be stale), so that a refusal can be
    # audited outside the transaction it would otherwise be rolled back with.
    current = workflow.model._default_manager.get(pk=obj.pk)
    chosen = _pick(workflow, names, current)
    _check_input(chosen, reason, amount_fen)
    refused = _refusal(workflow, chosen, actor, current, workflow_case(workflow=workflow, obj=current), proof)
    if refused is not None:
        error, why, org = refused
        audit.record(
            actor=actor,
            action=workflow.action(chosen.name),
            obj=current,
            organization=org,
            result=AuditResult.DENIED,
            detail={"reason": why},
        )
        raise error
    with transaction.atomic():
        locked = workflow.model._default_manager.select_for_update().get(pk=obj.pk)
        case = (
            WorkflowCase.objects.select_for_update()
            .filter(content_type=_content_type(workflow), object_id=locked.pk)
            .first()
        )
        chosen = _pick(workflow, names, locked)
        _check_input(chosen, reason, amount_fen)
        refused = _refusal(workflow, chosen, actor, locked, case, proof)
        if refused is not None:
            raise refused[0]
        org = _decision_org(workflow, chosen, locked, case)
        to_state, escalated_org, facts = _outcome(chosen, actor, locked, org, amount_fen)
        if chosen.by_applicant:
            facts = {"by_applicant": True, **({"by_proof": True} if proof else {})}
        now = timezone.now()
        from_state = workflow.state_of(locked)
        step = Step(actor, chosen, from_state, to_state, reason, amount_fen, now, data)
        setattr(locked, workflow.state_field, to_state)
        changed = list(effect(locked, step) or ()) if effect is not None else []
        locked.save(update_fields=[workflow.state_field, *changed, *_auto_now_fields(workflow.model)])
        _save_case(workflow, locked, to_state, now, escalated_org, case)
        step_data = {**facts, **data}
        WorkflowStep.objects.create(
            workflow=workflow.name,
            content_type=_content_type(workflow),
            object_id=locked.pk,
            transition=chosen.name,
            label=chosen.label,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason,
            at=now,
            data=step_data,
        )
        audit.record(
            actor=actor,
            action=workflow.action(chosen.name),
            obj=locked,
            organization=org,
            detail={"from": from_state, "to": to_state, **({"reason": reason} if reason else {}), **step_data},
        )
        for hook in workflow.hooks.get(chosen.name, []):
            transaction.on_commit(functools.partial(hook, locked.pk))
    return locked


# An effect over many objects: applies the domain's part of one transition to every locked
# object (in primary-key order, with their steps), returns the names of the fields it set.
EffectMany = Callable[[list[Any], list[Step]], Iterable[str] | None]


class _Refused(Exception):
    def __init__(self, error: PermissionDenied, obj: Any, org: Any, why: str):
        super().__init__(error.message)
        self.error, self.obj, self.org, self.why = error, obj, org, why


def workflow_transition_many(
    *,
    actor: Any,
    workflow: Workflow,
    objs: Sequence[Any],
    transition: str,
    reason: str = "",
    effect: EffectMany | None = None,
    **data: Any,
) -> list[Any]:
    """Take one `transition` on every object of `objs` at once (a 批量初审), all or nothing,
    with the guarantees of `workflow_transition` — every object locked (in primary-key
    order) and its state, permission and separation of duties checked under the lock — in
    a number of round trips that does not grow with the objects: one lock per table, one
    UPDATE per table (`sql.update_rows`), the history rows in one INSERT, the audit
    events appended together (`audit.record_many`). The domain's `effect` sees the locked
    objects together (so that it can lock and update what they share in one go). A
    transition with amount limits goes one object at a time (`workflow_transition`).
    Returns the updated objects in primary-key order."""
    chosen = workflow.transition(transition)
    if chosen.limits is not None:
        raise ImproperlyConfigured("workflow %s: %s has amount limits" % (workflow.name, chosen.name))
    reason = reason.strip()
    _check_input(chosen, reason, None)
    pks = sorted({o.pk for o in objs})
    if not pks:
        return []
    try:
        with transaction.atomic():
            rows = workflow.model._default_manager.select_for_update(of=("self",)).filter(pk__in=pks)
            if workflow.model._meta.get_field(chosen.on).is_relation:
                rows = rows.select_related(chosen.on)  # the decision's organisation, read with the lock
            locked = list(rows.order_by("pk"))
            if len(locked) != len(pks):
                raise Conflict("%(noun)s已不存在" % {"noun": workflow.noun})
            content_type = _content_type(workflow)
            cases = {
                c.object_id: c
                for c in WorkflowCase.objects.select_for_update().filter(content_type=content_type, object_id__in=pks)
            }
            steps_needed = {r.removeprefix(STEP_PREFIX) for r in chosen.forbid if r.startswith(STEP_PREFIX)}
            step_actors = _step_actors(workflow, pks, steps_needed)
            allowed: dict[Any, bool] = {}
            orgs = []
            for obj in locked:
                _pick(workflow, (chosen.name,), obj)
                org = _decision_org(workflow, chosen, obj, cases.get(obj.pk))
                key = getattr(org, "pk", org)
                if chosen.by_applicant:
                    ok = _may_take(workflow, chosen, actor, obj, org, "")
                else:
                    if key not in allowed:
                        allowed[key] = actor is not None and _auth().has_perm(actor, chosen.perm, org)
                    ok = allowed[key]
                if not ok:
                    message = "您无权%(label)s%(noun)s" % {"label": chosen.label, "noun": workflow.noun}
                    raise _Refused(PermissionDenied(message), obj, org, "permission")
                if _is_forbidden(chosen, actor, obj, step_actors):
                    raise _Refused(
                        PermissionDenied(_forbid_message(workflow, chosen)), obj, org, "separation_of_duties"
                    )
                orgs.append(org)
            now = timezone.now()
            steps = []
            for obj in locked:
                from_state = workflow.state_of(obj)
                steps.append(Step(actor, chosen, from_state, chosen.target, reason, None, now, data))
                setattr(obj, workflow.state_field, chosen.target)
            changed = list(effect(locked, steps) or ()) if effect is not None else []
            stamped = _auto_now_fields(workflow.model)
            for obj in locked:
                for name in stamped:
                    setattr(obj, name, now)
            sql.update_rows(locked, [workflow.state_field, *changed, *stamped])
            due = workflow.due_at(chosen.target, now)
            fresh = []
            for obj in locked:
                case = cases.get(obj.pk)
                if case is None:
                    fresh.append(
                        WorkflowCase(
                            content_type=content_type,
                            object_id=obj.pk,
                            workflow=workflow.name,
                            state=chosen.target,
                            entered_at=now,
                            due_at=due,
                        )
                    )
                    continue
                case.workflow, case.state, case.entered_at, case.due_at = workflow.name, chosen.target, now, due
                case.escalated_org_id, case.escalated_org_path = None, ""
            sql.update_rows(
                cases.values(), ["workflow", "state", "entered_at", "due_at", "escalated_org_id", "escalated_org_path"]
            )
            WorkflowCase.objects.bulk_create(fresh)
            WorkflowStep.objects.bulk_create(
                [
                    WorkflowStep(
                        workflow=workflow.name,
                        content_type=content_type,
                        object_id=obj.pk,
                        transition=chosen.name,
                        label=chosen.label,
                        from_state=step.from_state,
                        to_state=step.to_state,
                        actor=actor,
                        reason=reason,
                        at=now,
                        data=dict(data),
                    )
                    for obj, step in zip(locked, steps, strict=True)
                ]
            )
            audit.record_many(
                actor=actor,
                entries=[
                    audit.Entry(
                        workflow.action(chosen.name),
                        obj=obj,
                        organization=org,
                        detail={
                            "from": step.from_state,
                            "to": step.to_state,
                            **({"reason": reason} if reason else {}),
                            **data,
                        },
                    )
                    for obj, org, step in zip(locked, orgs, steps, strict=True)
                ],
            )
            for obj in locked:
                for hook in workflow.hooks.get(chosen.name, []):
                    transaction.on_commit(functools.partial(hook, obj.pk))
    except _Refused as refused:
        audit.record(
            actor=actor,
            action=workflow.action(chosen.name),
            obj=refused.obj,
            organization=refused.org,
            result=AuditResult.DENIED,
            detail={"reason": refused.why},
        )
        raise refused.error from None
    return locked
