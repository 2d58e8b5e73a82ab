"""The hazard bank through its services: reports reviewed into the bank, spot questions
answered by a point inside a region, quizzes drawing per place type, the server's time
limit, one attempt per member, and the all-or-nothing import with its per-row report."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gonghui.competitions import bank
from gonghui.competitions.models import (
    Attempt,
    AttemptStatus,
    HazardReport,
    PlaceType,
    Question,
    QuestionKind,
    QuestionSource,
    ReportStatus,
)
from gonghui.competitions.tests.factories import PHOTO, bank_questions, handler_of, make_quiz, reviewer_of
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.site.testing import World, xlsx_of

pytestmark = pytest.mark.django_db


def _report(world: World) -> HazardReport:
    return bank.report_submit(
        member=world.member_a,
        place_type=PlaceType.WAREHOUSE,
        hazard="消防通道堆放纸箱",
        right_answer="保持通道畅通",
        photo=PHOTO,
    )


def test_a_report_enters_the_bank_only_when_a_reviewer_accepts_it(world: World) -> None:
    report = _report(world)
    assert report.status == ReportStatus.SUBMITTED and not Question.objects.exists()
    with pytest.raises(PermissionDenied):
        bank.report_accept(
            actor=world.staff_b, report=report, kind=QuestionKind.SPOT, stem="找隐患", regions=[[0.1, 0.1, 0.2, 0.2]]
        )
    with pytest.raises(ValidationFailed, match="隐患区域应在图片范围内"):
        bank.report_accept(
            actor=world.staff_a, report=report, kind=QuestionKind.SPOT, stem="找隐患", regions=[[0.9, 0.1, 0.2, 0.2]]
        )
    assert not Question.objects.exists()
    accepted = bank.report_accept(
        actor=reviewer_of(world.union_a),
        report=report,
        kind=QuestionKind.SPOT,
        stem="找出图中的隐患",
        regions=[["0.25", "0.5", "0.25", "0.25"]],
    )
    q = accepted.question
    assert accepted.status == ReportStatus.ACCEPTED
    assert (q.source, q.kind, q.place_type, q.image, q.regions) == (
        QuestionSource.REPORT,
        QuestionKind.SPOT,
        PlaceType.WAREHOUSE,
        report.photo,
        [[0.25, 0.5, 0.25, 0.25]],
    )
    assert q.explanation == "保持通道畅通"


@pytest.mark.parametrize(
    ("answer", "right"),
    [
        (["0.3", "0.6"], True),
        (["0.25", "0.5"], True),  # on the edge
        (["0.5", "0.75"], True),  # the far corner
        (["0.51", "0.6"], False),
        (["0.3", "0.4"], False),
        (["x", "0.6"], False),
        (["0.3"], False),
        (None, False),
    ],
)
def test_a_spot_answer_is_a_point_inside_a_region(answer: object, right: bool) -> None:
    q = Question(kind=QuestionKind.SPOT, regions=[[0.25, 0.5, 0.25, 0.25], [0.9, 0.9, 0.05, 0.05]])
    assert bank.is_correct(q, answer) is right


@pytest.mark.parametrize(
    ("kind", "correct", "answer", "right"),
    [
        (QuestionKind.SINGLE, [1], ["1"], True),
        (QuestionKind.SINGLE, [1], ["0"], False),
        (QuestionKind.MULTIPLE, [0, 2], ["2", "0"], True),
        (QuestionKind.MULTIPLE, [0, 2], ["0"], False),
        (QuestionKind.MULTIPLE, [0, 2], ["0", "1", "2"], False),
        (QuestionKind.SINGLE, [1], [], False),
    ],
)
def test_choice_answers_must_be_exactly_the_right_options(kind: str, correct: list, answer: list, right: bool) -> None:
    assert bank.is_correct(Question(kind=kind, correct=correct), answer) is right


def test_a_quiz_draws_per_place_type_and_refuses_a_mix_the_bank_cannot_fill(world: World) -> None:
    bank_questions(world.union_a, place=PlaceType.WORKSHOP, n=3)
    bank_questions(world.city, place=PlaceType.SITE, n=2)  # an ancestor's questions count too
    bank_questions(world.union_b, place=PlaceType.SITE, n=5)  # a sibling's do not
    with pytest.raises(ValidationFailed, match="“建筑工地”只有 2 题"):
        make_quiz(world.union_a, mix={PlaceType.SITE: "3"})
    quiz = make_quiz(world.union_a, mix={PlaceType.WORKSHOP: "2", PlaceType.SITE: "2"})
    attempt = bank.attempt_start(member=world.member_a, quiz=quiz)
    drawn = list(Question.objects.filter(pk__in=attempt.questions))
    assert len(attempt.questions) == 4
    assert sorted(q.place_type for q in drawn) == ["site", "site", "workshop", "workshop"]
    assert all(q.organization_id in (world.union_a.pk, world.city.pk) for q in drawn)
    with pytest.raises(Conflict, match="不面向您的组织"):
        bank.attempt_start(member=world.member_b, quiz=quiz)


def test_scoring_and_one_attempt_per_member(world: World) -> None:
    bank_questions(world.union_a, n=2)
    quiz = make_quiz(world.union_a)
    attempt = bank.attempt_start(member=world.member_a, quiz=quiz)
    assert bank.attempt_start(member=world.member_a, quiz=quiz).pk == attempt.pk  # resumed, not redrawn
    first, second = attempt.questions
    done = bank.attempt_submit(member=world.member_a, attempt=attempt, answers={first: ["1"], second: ["2"]})
    assert (done.status, done.score, done.max_score) == (AttemptStatus.SUBMITTED, 5, 10)
    with pytest.raises(Conflict, match="已提交"):
        bank.attempt_submit(member=world.member_a, attempt=attempt, answers={second: ["1"]})
    with pytest.raises(Conflict, match="已参加过"):
        bank.attempt_start(member=world.member_a, quiz=quiz)
    assert Attempt.objects.get(pk=attempt.pk).score == 5


@pytest.mark.parametrize(
    ("late_by", "status", "score"), [(5, AttemptStatus.SUBMITTED, 10), (11, AttemptStatus.TIMED_OUT, 0)]
)
def test_the_time_limit_is_the_servers(world: World, late_by: int, status: str, score: int) -> None:
    bank_questions(world.union_a, n=2)
    quiz = make_quiz(world.union_a, minutes="1")
    attempt = bank.attempt_start(member=world.member_a, quiz=quiz)
    moved = timezone.now() - dt.timedelta(seconds=60 + late_by)
    Attempt.objects.filter(pk=attempt.pk).update(started_at=moved, deadline=moved + dt.timedelta(seconds=60))
    attempt.refresh_from_db()
    done = bank.attempt_submit(member=world.member_a, attempt=attempt, answers={q: ["1"] for q in attempt.questions})
    assert (done.status, done.score, done.max_score, done.seconds) == (status, score, 10, 60)


def test_quiz_fields_are_validated(world: World) -> None:
    bank_questions(world.union_a, n=2)
    with pytest.raises(ValidationFailed, match="请至少为一种场所类型设置题数"):
        make_quiz(world.union_a, mix={PlaceType.WORKSHOP: "0"})
    with pytest.raises(ValidationFailed, match="题数应为整数"):
        make_quiz(world.union_a, mix={PlaceType.WORKSHOP: "两"})
    with pytest.raises(ValidationFailed, match="限时（分钟）不能大于 180"):
        make_quiz(world.union_a, minutes="999")
    with pytest.raises(PermissionDenied):
        bank.quiz_create(
            actor=world.staff_b,
            organization=world.union_a,
            title="x",
            mix={PlaceType.WORKSHOP: "1"},
            minutes="5",
            opens_on="2026-01-01",
            closes_on="2026-01-02",
        )


HEADER = ["题型", "场所类型", "题干", "选项A", "选项B", "选项C", "选项D", "正确答案", "解析", "分值"]


def test_import_is_all_or_nothing_with_a_per_row_report(world: World) -> None:
    actor = handler_of(world.union_a)
    rows = [
        HEADER,
        ["单选题", "仓库", "叉车可以载人吗？", "可以", "不可以", "", "", "B", "", "5"],
        ["多选题", "工厂车间", "检修前要？", "断电", "挂牌", "不用", "", "AB", "", ""],
        ["判断题", "仓库", "题型错误", "对", "错", "", "", "A", "", ""],
        ["单选题", "码头", "场所错误", "对", "错", "", "", "A", "", ""],
        ["单选题", "仓库", "答案错误", "对", "错", "", "", "C", "", ""],
        ["多选题", "仓库", "多选只有一个答案", "对", "错", "", "", "A", "", ""],
        ["单选题", "仓库", "叉车可以载人吗？", "可以", "不可以", "", "", "B", "", ""],
    ]
    outcome = bank.questions_import(
        actor=actor, organization=world.union_a, stream=io.BytesIO(xlsx_of(rows)), file_name="题库.xlsx"
    )
    assert outcome.created == 0 and not Question.objects.exists()
    assert [(e.row_no, e.reason) for e in outcome.errors] == [
        (4, "题型应为“单选题”或“多选题”"),
        (5, "场所类型应为工厂车间、仓库、建筑工地、物流运输之一"),
        (6, "正确答案应为选项字母，如 A 或 AC"),
        (7, "多选题至少有两个正确答案"),
        (8, "题干与文件中前面的题目重复"),
    ]
    report = bank.import_error_report(actor=actor, organization=world.union_a, outcome=outcome)
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert [c.value for c in sheet[1]] == ["行号", *HEADER, "错误原因"]
    assert sheet.max_row == 6
    good = rows[:3]
    outcome = bank.questions_import(
        actor=actor, organization=world.union_a, stream=io.BytesIO(xlsx_of(good)), file_name="题库.xlsx"
    )
    assert outcome.created == 2
    multi = Question.objects.get(stem="检修前要？")
    assert (multi.kind, multi.correct, multi.options, multi.source) == (
        QuestionKind.MULTIPLE,
        [0, 1],
        ["断电", "挂牌", "不用"],
        QuestionSource.IMPORT,
    )


def test_import_reads_csv_in_gbk(world: World) -> None:
    text = ",".join(HEADER) + "\r\n" + "单选题,物流运输,货车可以超载吗？,可以,不可以,,,B,,3\r\n"
    outcome = bank.questions_import(
        actor=handler_of(world.union_a),
        organization=world.union_a,
        stream=io.BytesIO(text.encode("gb18030")),
        file_name="题库.csv",
    )
    assert outcome.created == 1
    assert Question.objects.get().points == 3


def test_a_report_needs_a_real_picture(world: World) -> None:
    with pytest.raises(ValidationFailed, match="不是图片"):
        bank.report_submit(
            member=world.member_a,
            place_type=PlaceType.SITE,
            hazard="洞口",
            right_answer="加盖板",
            photo=bank.Upload("x.png", "image/png", b"<svg>"),
        )
    with pytest.raises(ValidationFailed, match="请选择场所类型"):
        bank.report_submit(member=world.member_a, place_type="sea", hazard="洞口", right_answer="加盖板", photo=PHOTO)
    assert not HazardReport.objects.exists()
