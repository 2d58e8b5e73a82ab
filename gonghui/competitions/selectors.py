"""Reads of competitions and the hazard bank, narrowed to what the acting user may see.

A judge's view of scores: before a judge has submitted their own score of an entry they see
no other judge's score of it (not even on the organiser's pages, if they organise and judge);
afterwards they see all submitted scores of that entry."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet

from gonghui.competitions import services
from gonghui.competitions.models import (
    Attempt,
    AttemptStatus,
    Competition,
    Entry,
    HazardReport,
    Judge,
    Question,
    Quiz,
    Score,
    SkillRecord,
    Stage,
)
from gonghui.competitions.permissions import CompetitionPerm
from gonghui.core.errors import NotFound
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import organizations_for_actor, scope_q

P = CompetitionPerm


def competitions_for_actor(*, actor: Any, perm: str = P.VIEW) -> QuerySet[Competition]:
    return Competition.objects.filter(scope_q(actor, perm)).select_related("organization", "review_org")


def competition_get_for_actor(*, actor: Any, pk: int, perm: str = P.VIEW) -> Competition:
    found = competitions_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if found is None:
        raise NotFound("竞赛不存在或不在您的管辖范围内")
    return found


def orgs_for_actor(*, actor: Any, perm: str) -> QuerySet[Organization]:
    return organizations_for_actor(actor=actor, perm=perm).order_by("path")


def judging_stages(*, actor: Any) -> QuerySet[Stage]:
    """The scored stages the actor judges (assigned to the stage or the whole competition)."""
    whole = Judge.objects.filter(user=actor, stage=None).values("competition_id")
    own = Judge.objects.filter(user=actor, stage__isnull=False).values("stage_id")
    return (
        Stage.objects.filter(Q(competition_id__in=whole) | Q(pk__in=own), scored=True)
        .select_related("competition")
        .order_by("-competition_id", "order")
    )


def judging_stage_get(*, actor: Any, pk: int) -> Stage:
    stage = judging_stages(actor=actor).filter(pk=pk).first()
    if stage is None:
        raise NotFound("您不是该阶段的评委")
    return stage


@dataclass(frozen=True)
class EntryView:
    entry: Entry
    mine: Score | None
    visible: list[Score]
    submitted: int


def scores_for(*, actor: Any, stage: Stage, entries: Sequence[Entry]) -> list[EntryView]:
    """The entries with the scores `actor` may see (the module's rule)."""
    by_entry: dict[int, list[Score]] = {}
    for score in Score.objects.filter(entry__in=[e.pk for e in entries]).select_related("judge").order_by("id"):
        by_entry.setdefault(score.entry_id, []).append(score)
    judging = services.is_judge(actor, stage)
    out = []
    for entry in entries:
        scores = by_entry.get(entry.pk, [])
        mine = next((s for s in scores if s.judge_id == actor.pk), None)
        visible = scores if (mine is not None or not judging) else []
        out.append(EntryView(entry, mine, visible, len(scores)))
    return out


def stage_entries(stage: Stage) -> QuerySet[Entry]:
    return stage.entries.select_related("entrant__member", "entrant__team", "entrant__organization").order_by(
        "rank", "id"
    )


def member_entries(member: Any) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(entrant__member=member, stage__scored=True)
        .select_related("stage__competition")
        .order_by("-stage__competition_id", "stage__order")
    )


def member_skill_records(member: Any) -> QuerySet[SkillRecord]:
    return SkillRecord.objects.filter(member=member).select_related("competition")


def skill_records_for_actor(*, actor: Any, member: Any) -> QuerySet[SkillRecord]:
    return member_skill_records(member).filter(scope_q(actor, P.VIEW))


# ---- hazard bank ---------------------------------------------------------------------------


def reports_for_actor(*, actor: Any, perm: str = P.BANK_VIEW) -> QuerySet[HazardReport]:
    return HazardReport.objects.filter(scope_q(actor, perm)).select_related("organization", "member")


def report_get_for_actor(*, actor: Any, pk: int, perm: str = P.BANK_VIEW) -> HazardReport:
    found = reports_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if found is None:
        raise NotFound("隐患报告不存在或不在您的管辖范围内")
    return found


def questions_for_actor(*, actor: Any, perm: str = P.BANK_VIEW) -> QuerySet[Question]:
    return Question.objects.filter(scope_q(actor, perm)).select_related("organization")


def question_get_for_actor(*, actor: Any, pk: int, perm: str = P.BANK_VIEW) -> Question:
    found = questions_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if found is None:
        raise NotFound("题目不存在或不在您的管辖范围内")
    return found


def quizzes_for_actor(*, actor: Any, perm: str = P.BANK_VIEW) -> QuerySet[Quiz]:
    return Quiz.objects.filter(scope_q(actor, perm)).select_related("organization")


def quiz_get_for_actor(*, actor: Any, pk: int, perm: str = P.BANK_VIEW) -> Quiz:
    found = quizzes_for_actor(actor=actor, perm=perm).filter(pk=pk).first()
    if found is None:
        raise NotFound("测验不存在或不在您的管辖范围内")
    return found


def quizzes_for_member(member: Any) -> QuerySet[Quiz]:
    path = member.organization.path
    ancestors = [path[:i] for i in range(1, len(path) + 1)]
    return Quiz.objects.filter(organization__path__in=ancestors).select_related("organization")


def quiz_get_for_member(*, member: Any, pk: int) -> Quiz:
    found = quizzes_for_member(member).filter(pk=pk).first()
    if found is None:
        raise NotFound("测验不存在")
    return found


def attempt_get_for_member(*, member: Any, pk: int) -> Attempt:
    found = Attempt.objects.filter(pk=pk, member=member).select_related("quiz").first()
    if found is None:
        raise NotFound("答卷不存在")
    return found


def leaderboard(
    *, quiz: Quiz, organization_paths: Sequence[str] = (), organization: Organization | None = None
) -> QuerySet[Attempt]:
    """Submitted attempts, best first (score, then time taken), within an organisation or the
    given sub-trees."""
    qs = Attempt.objects.filter(quiz=quiz).exclude(status=AttemptStatus.STARTED)
    if organization is not None:
        qs = qs.filter(organization=organization)
    else:
        condition = Q(pk__in=[])
        for p in organization_paths:
            condition |= Q(organization__path__startswith=p)
        qs = qs.filter(condition)
    return qs.select_related("member", "organization").order_by("-score", "seconds", "submitted_at", "id")


def board_by_organization(*, quiz: Quiz, actor: Any) -> list[dict[str, Any]]:
    """Per organisation in the actor's scope: participants, average and best score."""
    rows = (
        Attempt.objects.filter(scope_q(actor, P.BANK_VIEW), quiz=quiz)
        .exclude(status=AttemptStatus.STARTED)
        .values("organization__name", "organization_id")
        .annotate(n=Count("id"), avg=Avg("score"), best=Max("score"))
        .order_by("-avg", "organization__name")
    )
    return [dict(r) for r in rows[:200]]


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def member_attempt_statuses(*, member: Any, quizzes: Sequence[Quiz]) -> dict[int, str]:
    return dict(Attempt.objects.filter(member=member, quiz__in=quizzes).values_list("quiz_id", "status"))


def member_attempt_of(*, member: Any, quiz: Quiz) -> Attempt | None:
    return Attempt.objects.filter(quiz=quiz, member=member).first()


def attempt_questions(attempt: Attempt) -> list[Question]:
    """The attempt's questions, in the order they were drawn."""
    by_id = {q.pk: q for q in Question.objects.filter(pk__in=attempt.questions)}
    return [by_id[i] for i in attempt.questions if i in by_id]


def attempt_picture(*, attempt: Attempt, question_id: int) -> Question:
    """A spot question's picture, only for an attempt that drew it."""
    found = (
        Question.objects.filter(pk=question_id).exclude(image="").first() if question_id in attempt.questions else None
    )
    if found is None:
        raise NotFound("图片不存在")
    return found


def member_reports(member: Any) -> QuerySet[HazardReport]:
    return HazardReport.objects.filter(member=member).order_by("-created_at", "-id")
