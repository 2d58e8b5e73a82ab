"""Competitions, judges, questions and quizzes for the tests, made through the services."""

import datetime as dt
import io
from typing import Any

from django.utils import timezone
from PIL import Image

from gonghui.competitions import bank, services
from gonghui.competitions.models import Competition, CompetitionKind, PlaceType, QuestionKind, Quiz, ScoringRule, Stage
from gonghui.core.permissions import Role
from gonghui.site.testing import grant, make_member, make_user


def png(width: int = 200, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 50, 50)).save(out, format="PNG")
    return out.getvalue()


PHOTO = bank.Upload("hazard.png", "image/png", png())


def handler_of(org: Any, username: str | None = None) -> Any:
    return grant(make_user(username), org, Role.HANDLER)


def reviewer_of(org: Any, username: str | None = None) -> Any:
    return grant(make_user(username), org, Role.REVIEWER)


def judge_user(org: Any, username: str | None = None) -> Any:
    """A staff account with the least role (核销员), to be assigned as a judge."""
    return grant(make_user(username), org, Role.REDEEMER)


def make_competition(org: Any, *, actor: Any = None, title: str = "焊工技能竞赛") -> Competition:
    today = timezone.localdate()
    return services.competition_apply(
        actor=actor or handler_of(org),
        organization=org,
        kind=CompetitionKind.SKILL,
        title=title,
        organiser="苏州甲公司工会",
        plan="分初赛、决赛两个阶段",
        targets="参赛职工 50 人\n技能提升 10 人",
        trades="焊工、数控车工",
        budget_yuan="12000.50",
        starts_on=today.isoformat(),
        ends_on=(today + dt.timedelta(days=30)).isoformat(),
    )


def running_stage(
    org: Any,
    *,
    judges: int = 3,
    entrants: int = 3,
    rule: str = ScoringRule.TRIMMED,
    min_scores: int = 3,
    prizes: tuple[int, int, int] = (1, 1, 1),
    members: list[Any] | None = None,
) -> tuple[Stage, Any, list[Any]]:
    """An approved, running competition of `org` with one scored stage open for scoring:
    (stage, organiser, judges). The rubric is 操作 (60) and 质量 (40)."""
    organiser = handler_of(org)
    competition = make_competition(org, actor=organiser)
    competition = services.competition_decide(actor=reviewer_of(org.parent), competition=competition, approve=True)
    services.criterion_add(actor=organiser, competition=competition, name="操作", max_points="60")
    services.criterion_add(actor=organiser, competition=competition, name="质量", max_points="40")
    stage = services.stage_add(
        actor=organiser,
        competition=competition,
        name="决赛",
        scored=True,
        rule=rule,
        min_scores=min_scores,
        first_prizes=prizes[0],
        second_prizes=prizes[1],
        third_prizes=prizes[2],
    )
    people = members if members is not None else [make_member(org, name="选手%d" % i) for i in range(entrants)]
    for m in people:
        services.entrant_add(actor=organiser, competition=competition, member_no=m.member_no, trade="焊工")
    judge_users = [judge_user(org) for _ in range(judges)]
    for j in judge_users:
        services.judge_assign(actor=organiser, competition=competition, username=j.username)
    competition = services.competition_start(actor=organiser, competition=competition)
    stage = services.stage_open(actor=organiser, stage=Stage.objects.get(pk=stage.pk))
    return stage, organiser, judge_users


def score(stage: Stage, judge: Any, entry: Any, operation: str, quality: str) -> Any:
    criteria = list(stage.competition.criteria.all())
    return services.score_submit(
        actor=judge, entry=entry, points={str(criteria[0].pk): operation, str(criteria[1].pk): quality}
    )


def bank_questions(org: Any, *, place: str = PlaceType.WORKSHOP, n: int = 3) -> list[Any]:
    actor = grant(make_user(), org, Role.HANDLER)
    return [
        bank.question_create(
            actor=actor,
            organization=org,
            kind=QuestionKind.SINGLE,
            place_type=place,
            stem="第 %d 题：砂轮机防护罩缺失时应？" % i,
            options=["继续使用", "停机报修", "戴手套使用"],
            correct=["1"],
        )
        for i in range(n)
    ]


def make_quiz(org: Any, *, mix: dict[str, str] | None = None, minutes: str = "5") -> Quiz:
    today = timezone.localdate()
    return bank.quiz_create(
        actor=handler_of(org),
        organization=org,
        title="安全知识竞答",
        mix=mix or {PlaceType.WORKSHOP: "2"},
        minutes=minutes,
        opens_on=today.isoformat(),
        closes_on=today.isoformat(),
    )
