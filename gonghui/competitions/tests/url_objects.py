"""How to build union A's object for each parameterised URL of the competitions app (see
site/tests/test_url_access.py)."""

from typing import Any

from gonghui.competitions import bank
from gonghui.competitions.models import Attempt, HazardReport, PlaceType, Question, QuestionKind, Stage
from gonghui.competitions.tests.factories import PHOTO, make_quiz, running_stage
from gonghui.site.testing import World


def _stage(world: World) -> Stage:
    stage = Stage.objects.filter(competition__organization=world.union_a).first()
    return stage or running_stage(world.union_a, judges=1, entrants=1)[0]


def competition_pk(world: World) -> dict[str, Any]:
    return {"pk": _stage(world).competition_id}


def stage_pk(world: World) -> dict[str, Any]:
    return {"pk": _stage(world).pk}


def report_pk(world: World) -> dict[str, Any]:
    report = HazardReport.objects.filter(organization=world.union_a).first()
    if report is None:
        report = bank.report_submit(
            member=world.member_a, place_type=PlaceType.SITE, hazard="洞口无盖板", right_answer="加盖板", photo=PHOTO
        )
    return {"pk": report.pk}


def _spot(world: World) -> Question:
    question = Question.objects.filter(organization=world.union_a, kind=QuestionKind.SPOT).first()
    if question is None:
        question = bank.question_create(
            actor=world.staff_a,
            organization=world.union_a,
            kind=QuestionKind.SPOT,
            place_type=PlaceType.SITE,
            stem="找出图中的隐患",
            regions=[[0.1, 0.1, 0.5, 0.5]],
            photo=PHOTO,
        )
    return question


def question_pk(world: World) -> dict[str, Any]:
    return {"pk": _spot(world).pk}


def _attempt(world: World) -> Attempt:
    attempt = Attempt.objects.filter(member=world.member_a).first()
    if attempt is None:
        spot = _spot(world)
        Question.objects.filter(pk=spot.pk).update(is_active=True)  # a sweep may have switched it off
        quiz = make_quiz(world.union_a, mix={spot.place_type: "1"})
        Question.objects.filter(place_type=spot.place_type).exclude(pk=spot.pk).update(is_active=False)
        attempt = bank.attempt_start(member=world.member_a, quiz=quiz)
    return attempt


def quiz_pk(world: World) -> dict[str, Any]:
    return {"pk": _attempt(world).quiz_id}


def attempt_pk(world: World) -> dict[str, Any]:
    return {"pk": _attempt(world).pk}


def attempt_image(world: World) -> dict[str, Any]:
    return {"pk": _attempt(world).pk, "question": _spot(world).pk}


URL_OBJECTS = {
    "competitions:detail": competition_pk,
    "competitions:action": competition_pk,
    "competitions:results_export": competition_pk,
    "competitions:judge_stage": stage_pk,
    "competitions:report": report_pk,
    "competitions:report_photo": report_pk,
    "competitions:question_image": question_pk,
    "competitions:question_toggle": question_pk,
    "competitions:quiz": quiz_pk,
    "competitions:h5_quiz": quiz_pk,
    "competitions:h5_attempt": attempt_pk,
    "competitions:h5_question_image": attempt_image,
}
