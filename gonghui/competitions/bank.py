"""Writes of the 隐患排查题库: workers' hazard reports and their review into the bank, expert
questions (entered one by one or imported from XLSX/CSV), quizzes and members' timed attempts.

Time limits are the server's: an attempt's deadline is fixed when it starts; a submission
arriving later than the deadline plus `GRACE_SECONDS` (for the network) is recorded as 超时
with a score of 0, its answers discarded. A member has one attempt per quiz.

Import: the file's rows are all checked first; if any row fails, nothing is imported and the
per-row report (行号, the row, 错误原因) says why; otherwise every row becomes a question."""

import datetime as dt
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.competitions.models import (
    Attempt,
    AttemptStatus,
    HazardReport,
    PlaceType,
    Question,
    QuestionKind,
    QuestionSource,
    Quiz,
)
from gonghui.competitions.permissions import CompetitionPerm
from gonghui.competitions.workflows import REPORT
from gonghui.core import audit, exports, parsing, tabular
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.workflow import workflow_start, workflow_transition
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on

GRACE_SECONDS = 10
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}
PHOTO_MAX_BYTES = 5 * 1024 * 1024
MAX_OPTIONS = 6
LETTERS = "ABCDEF"
QUIZ_MAX_QUESTIONS = 100
IMPORT_MAX_ROWS = 5000

COLUMNS = tabular.register_columns(
    "competitions.questions",
    label="隐患排查题库",
    columns=[
        tabular.Column("kind", "题型", required=True, aliases=("题目类型",), choices=("单选题", "多选题")),
        tabular.Column("place", "场所类型", required=True, aliases=("场所",), choices=tuple(PlaceType.labels)),
        tabular.Column("stem", "题干", required=True, aliases=("题目",), width=40),
        tabular.Column("a", "选项A", required=True),
        tabular.Column("b", "选项B", required=True),
        tabular.Column("c", "选项C"),
        tabular.Column("d", "选项D"),
        tabular.Column("answer", "正确答案", required=True, aliases=("答案",), help="如 A 或 AC"),
        tabular.Column("explanation", "解析", width=30),
        tabular.Column("points", "分值", help="1–100，默认 5"),
    ],
)
KIND_BY_LABEL = {
    "单选题": QuestionKind.SINGLE,
    "单选": QuestionKind.SINGLE,
    "多选题": QuestionKind.MULTIPLE,
    "多选": QuestionKind.MULTIPLE,
}
PLACE_BY_LABEL = {label: value for value, label in PlaceType.choices}


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    data: bytes


def _text(raw: Any, *, field: str, label: str, maximum: int, required: bool = True) -> str:
    text = "" if raw is None else str(raw).strip()
    if required and not text:
        raise ValidationFailed("请填写%(label)s" % {"label": label}, fields={field: "必填"})
    if len(text) > maximum:
        message = "%(label)s不能超过 %(n)d 字" % {"label": label, "n": maximum}
        raise ValidationFailed(message, fields={field: message})
    return text


def _place(raw: Any) -> str:
    if raw not in PlaceType.values:
        raise ValidationFailed("请选择场所类型", fields={"place_type": "请选择"})
    return str(raw)


def _check_photo(photo: Upload | None) -> Upload:
    if photo is None or not photo.data:
        raise ValidationFailed("请上传隐患照片", fields={"photo": "必填"})
    if photo.content_type not in PHOTO_TYPES:
        raise ValidationFailed("照片只能是 JPG 或 PNG", fields={"photo": "类型不支持"})
    if len(photo.data) > PHOTO_MAX_BYTES:
        raise ValidationFailed("照片不能超过 5 MB", fields={"photo": "过大"})
    signature = (b"\xff\xd8", b"\x89PNG")
    if not photo.data.startswith(signature):
        raise ValidationFailed("照片文件已损坏或不是图片", fields={"photo": "不是图片"})
    return photo


def _store_photo(photo: Upload) -> str:
    return default_storage.save(
        "competitions/hazards/%s%s" % (secrets.token_hex(12), PHOTO_TYPES[photo.content_type]), ContentFile(photo.data)
    )


def photo_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        return bytes(f.read())


# ---- hazard reports --------------------------------------------------------------------------


def report_submit(
    *, member: Any, place_type: Any, hazard: Any, right_answer: Any, photo: Upload | None
) -> HazardReport:
    """A worker reports a hazard from their own work (隐患随手拍)."""
    place = _place(place_type)
    text = _text(hazard, field="hazard", label="隐患描述", maximum=300)
    answer = _text(right_answer, field="right_answer", label="正确做法", maximum=300)
    checked = _check_photo(photo)
    with transaction.atomic():
        report = HazardReport.objects.create(
            organization=member.organization,
            member=member,
            place_type=place,
            hazard=text,
            right_answer=answer,
            photo=_store_photo(checked),
            photo_type=checked.content_type,
        )
        workflow_start(actor=member.user, obj=report, workflow=REPORT, label="提交隐患", detail={"place": place})
    return report


def parse_regions(raw: Sequence[Sequence[Any]]) -> list[list[float]]:
    """Rectangles [x, y, w, h] as fractions of the image (0–1), each inside the image."""
    regions = []
    for rect in raw:
        try:
            x, y, w, h = (float(parsing.clean(v)) for v in rect)
        except (TypeError, ValueError):
            raise ValidationFailed("请在图片上框出隐患区域", fields={"region": "请框选"}) from None
        if not all(0 <= v <= 1 for v in (x, y, w, h)) or w < 0.01 or h < 0.01 or x + w > 1.0001 or y + h > 1.0001:
            raise ValidationFailed("隐患区域应在图片范围内", fields={"region": "超出图片"})
        regions.append([round(x, 4), round(y, 4), round(w, 4), round(h, 4)])
    if not regions:
        raise ValidationFailed("请在图片上框出隐患区域", fields={"region": "请框选"})
    return regions


def _choice_parts(kind: str, options: Sequence[Any], correct: Iterable[Any]) -> tuple[list[str], list[int]]:
    texts = [str(o or "").strip() for o in options]
    while texts and not texts[-1]:
        texts.pop()
    if len(texts) < 2 or any(not t for t in texts):
        raise ValidationFailed("请至少填写两个连续的选项", fields={"options": "选项不足"})
    if len(texts) > MAX_OPTIONS or any(len(t) > 100 for t in texts):
        raise ValidationFailed("选项最多 %d 个，每个不超过 100 字" % MAX_OPTIONS, fields={"options": "过多或过长"})
    picked = sorted({int(c) for c in correct if str(c).isascii() and str(c).isdigit() and int(c) < len(texts)})
    if not picked:
        raise ValidationFailed("请选择正确答案", fields={"correct": "请选择"})
    if kind == QuestionKind.SINGLE and len(picked) != 1:
        raise ValidationFailed("单选题只能有一个正确答案", fields={"correct": "只能一个"})
    if kind == QuestionKind.MULTIPLE and len(picked) < 2:
        raise ValidationFailed("多选题至少有两个正确答案", fields={"correct": "至少两个"})
    return texts, picked


def _question(
    *,
    actor: Any,
    organization: Organization,
    source: str,
    kind: str,
    place_type: Any,
    stem: Any,
    options: Sequence[Any] = (),
    correct: Iterable[Any] = (),
    regions: Sequence[Sequence[Any]] = (),
    image: str = "",
    explanation: Any = "",
    points: Any = 5,
) -> Question:
    if kind not in QuestionKind.values:
        raise ValidationFailed("请选择题型", fields={"kind": "请选择"})
    values: dict[str, Any] = {
        "place_type": _place(place_type),
        "stem": _text(stem, field="stem", label="题干", maximum=300),
        "explanation": _text(explanation, field="explanation", label="解析", maximum=300, required=False),
    }
    try:
        values["points"] = parsing.parse_int(points or 5, label="分值", minimum=1, maximum=100)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"points": str(exc)}) from None
    if kind == QuestionKind.SPOT:
        if not image:
            raise ValidationFailed("找隐患题需要图片", fields={"photo": "必填"})
        values["regions"] = parse_regions(regions)
    else:
        values["options"], values["correct"] = _choice_parts(kind, options, correct)
    return Question(organization=organization, source=source, kind=kind, image=image, created_by=actor, **values)


def question_create(
    *,
    actor: Any,
    organization: Organization,
    kind: str,
    place_type: Any,
    stem: Any,
    options: Sequence[Any] = (),
    correct: Iterable[Any] = (),
    regions: Sequence[Sequence[Any]] = (),
    photo: Upload | None = None,
    explanation: Any = "",
    points: Any = 5,
) -> Question:
    """An expert's question for the static bank."""
    if not has_perm_on(actor, CompetitionPerm.BANK_MANAGE, organization):
        raise PermissionDenied("您无权维护该组织的题库")
    image = ""
    if kind == QuestionKind.SPOT:
        image = _store_photo(_check_photo(photo))
    question = _question(
        actor=actor,
        organization=organization,
        source=QuestionSource.EXPERT,
        kind=kind,
        place_type=place_type,
        stem=stem,
        options=options,
        correct=correct,
        regions=regions,
        image=image,
        explanation=explanation,
        points=points,
    )
    with transaction.atomic():
        question.save()
        audit.record(
            actor=actor,
            action="competitions.question_create",
            obj=question,
            organization=organization,
            detail={"kind": kind, "place": question.place_type},
        )
    return question


def report_accept(
    *,
    actor: Any,
    report: HazardReport,
    kind: str,
    stem: Any,
    options: Sequence[Any] = (),
    correct: Iterable[Any] = (),
    regions: Sequence[Sequence[Any]] = (),
    explanation: Any = "",
    points: Any = 5,
) -> HazardReport:
    """Accept a report into the bank as a question (a spot question on its photo, or a choice
    question written from it)."""
    question = _question(
        actor=actor,
        organization=report.organization,
        source=QuestionSource.REPORT,
        kind=kind,
        place_type=report.place_type,
        stem=stem,
        options=options,
        correct=correct,
        regions=regions,
        image=report.photo if kind == QuestionKind.SPOT else "",
        explanation=explanation or report.right_answer,
        points=points,
    )

    def effect(obj: HazardReport, step: Any) -> list[str]:
        question.save()
        obj.question = question
        obj.decided_by = actor
        return ["question", "decided_by"]

    return workflow_transition(actor=actor, obj=report, workflow=REPORT, transition="accept", effect=effect, kind=kind)


def report_reject(*, actor: Any, report: HazardReport, reason: str) -> HazardReport:
    def effect(obj: HazardReport, step: Any) -> list[str]:
        obj.decided_by = actor
        obj.decision_reason = step.reason
        return ["decided_by", "decision_reason"]

    return workflow_transition(
        actor=actor, obj=report, workflow=REPORT, transition="reject", reason=reason, effect=effect
    )


def question_set_active(*, actor: Any, question: Question, active: bool) -> Question:
    if not has_perm_on(actor, CompetitionPerm.BANK_MANAGE, question.organization):
        raise PermissionDenied("您无权维护该题目")
    with transaction.atomic():
        Question.objects.filter(pk=question.pk).update(is_active=active)
        question.is_active = active
        audit.record(
            actor=actor,
            action="competitions.question_toggle",
            obj=question,
            organization=question.organization,
            detail={"active": active},
        )
    return question


# ---- import --------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    header: list[str]
    created: int
    errors: list[tabular.RowError]


def _cell(row: Sequence[str], positions: Mapping[str, int], key: str) -> str:
    i = positions.get(key)
    return str(row[i]).strip() if i is not None and i < len(row) else ""


def _row_question(actor: Any, organization: Organization, row: Sequence[str], positions: Mapping[str, int]) -> Question:
    kind = KIND_BY_LABEL.get(parsing.clean(_cell(row, positions, "kind")))
    if kind is None:
        raise ValidationFailed("题型应为“单选题”或“多选题”")
    place = PLACE_BY_LABEL.get(_cell(row, positions, "place"))
    if place is None:
        raise ValidationFailed("场所类型应为%s之一" % "、".join(PlaceType.labels))
    options = [_cell(row, positions, k) for k in ("a", "b", "c", "d")]
    answer = parsing.clean(_cell(row, positions, "answer")).upper().replace(",", "").replace("，", "").replace(" ", "")
    filled = len(options)
    while filled and not options[filled - 1]:
        filled -= 1
    if not answer or any(ch not in LETTERS[:filled] for ch in answer):
        raise ValidationFailed("正确答案应为选项字母，如 A 或 AC")
    return _question(
        actor=actor,
        organization=organization,
        source=QuestionSource.IMPORT,
        kind=kind,
        place_type=place,
        stem=_cell(row, positions, "stem"),
        options=options,
        correct=[LETTERS.index(ch) for ch in answer],
        explanation=_cell(row, positions, "explanation"),
        points=_cell(row, positions, "points") or 5,
    )


def questions_import(*, actor: Any, organization: Organization, stream: IO[bytes], file_name: str) -> ImportOutcome:
    """Import a static bank from XLSX/CSV, all or nothing (see the module's note)."""
    if not has_perm_on(actor, CompetitionPerm.BANK_MANAGE, organization):
        raise PermissionDenied("您无权维护该组织的题库")
    with tabular.open_tabular(stream, file_name=file_name, max_rows=IMPORT_MAX_ROWS) as table:
        header = table.header
        positions = COLUMNS.resolve(header).positions
        questions: list[Question] = []
        errors: list[tabular.RowError] = []
        seen: set[str] = set()
        for row_no, row in enumerate(table.text_rows(), start=2):
            if not any(parsing.clean(c) for c in row):
                continue
            try:
                question = _row_question(actor, organization, row, positions)
            except ValidationFailed as exc:
                errors.append(tabular.RowError(row_no, row, exc.message))
                continue
            if question.stem in seen:
                errors.append(tabular.RowError(row_no, row, "题干与文件中前面的题目重复"))
                continue
            seen.add(question.stem)
            questions.append(question)
    if not questions and not errors:
        raise ValidationFailed("文件中没有题目", fields={"file": "空文件"})
    if errors:
        return ImportOutcome(header, 0, errors)
    with transaction.atomic():
        Question.objects.bulk_create(questions, batch_size=500)
        audit.record(
            actor=actor,
            action="competitions.questions_import",
            organization=organization,
            object_type="competitions.question",
            detail={"rows": len(questions), "file": file_name[:60]},
        )
    return ImportOutcome(header, len(questions), [])


def import_error_report(*, actor: Any, organization: Organization, outcome: ImportOutcome) -> exports.Export:
    return tabular.error_report(
        actor=actor,
        action="competitions.questions_import_report",
        filename="题库导入错误报告.xlsx",
        header=outcome.header,
        rows=outcome.errors,
        organization=organization,
    )


def import_template(*, actor: Any) -> exports.Export:
    return exports.xlsx_export(
        actor=actor,
        action="competitions.questions_template",
        filename="隐患排查题库模板.xlsx",
        sheets=[
            exports.Sheet(
                title="题库",
                header=[c.header for c in COLUMNS.columns],
                rows=[
                    [
                        "单选题",
                        "工厂车间",
                        "砂轮机防护罩缺失时应当？",
                        "继续使用",
                        "停机并报修",
                        "戴手套使用",
                        "",
                        "B",
                        "防护罩缺失属重大隐患",
                        "5",
                    ]
                ],
            )
        ],
    )


# ---- quizzes and attempts -------------------------------------------------------------------


def bank_for(organization: Organization) -> Any:
    """The active questions a quiz of `organization` draws from: those of its sub-tree and of
    its ancestors."""
    ancestors = [organization.path[:i] for i in range(1, len(organization.path))]
    return Question.objects.filter(is_active=True).filter(
        organization__path__startswith=organization.path
    ) | Question.objects.filter(is_active=True, organization__path__in=ancestors)


def parse_mix(raw: Mapping[str, Any]) -> dict[str, int]:
    mix: dict[str, int] = {}
    for place in PlaceType.values:
        value = parsing.clean(raw.get(place, ""))
        if not value:
            continue
        try:
            n = parsing.parse_int(value, label=PlaceType(place).label + "题数", maximum=QUIZ_MAX_QUESTIONS)
        except ValueError as exc:
            raise ValidationFailed(str(exc), fields={"mix_%s" % place: str(exc)}) from None
        if n:
            mix[place] = n
    total = sum(mix.values())
    if not total:
        raise ValidationFailed("请至少为一种场所类型设置题数", fields={"mix": "必填"})
    if total > QUIZ_MAX_QUESTIONS:
        raise ValidationFailed("一次测验最多 %d 题" % QUIZ_MAX_QUESTIONS, fields={"mix": "过多"})
    return mix


def quiz_create(
    *,
    actor: Any,
    organization: Organization,
    title: Any,
    mix: Mapping[str, Any],
    minutes: Any,
    opens_on: Any,
    closes_on: Any,
) -> Quiz:
    if not has_perm_on(actor, CompetitionPerm.BANK_MANAGE, organization):
        raise PermissionDenied("您无权为该组织组织测验")
    name = _text(title, field="title", label="测验名称", maximum=60)
    parsed = parse_mix(mix)
    try:
        limit = parsing.parse_int(minutes, label="限时（分钟）", minimum=1, maximum=180) * 60
        start = parsing.parse_date(opens_on, label="开始日期")
        end = parsing.parse_date(closes_on, label="结束日期")
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    if end < start:
        raise ValidationFailed("结束日期不能早于开始日期", fields={"closes_on": "早于开始日期"})
    bank = bank_for(organization)
    for place, n in parsed.items():
        available = bank.filter(place_type=place).count()
        if available < n:
            message = "题库中“%(p)s”只有 %(a)d 题，少于设置的 %(n)d 题" % {
                "p": PlaceType(place).label,
                "a": available,
                "n": n,
            }
            raise ValidationFailed(message, fields={"mix_%s" % place: message})
    with transaction.atomic():
        quiz = Quiz.objects.create(
            organization=organization,
            title=name,
            mix=parsed,
            time_limit_s=limit,
            opens_on=start,
            closes_on=end,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="competitions.quiz_create",
            obj=quiz,
            organization=organization,
            detail={"mix": parsed, "seconds": limit},
        )
    return quiz


def quiz_open_for(quiz: Quiz, member: Any, today: dt.date | None = None) -> bool:
    day = today or timezone.localdate()
    return quiz.opens_on <= day <= quiz.closes_on and member.organization.path.startswith(quiz.organization.path)


def attempt_start(*, member: Any, quiz: Quiz) -> Attempt:
    """Start (or resume) the member's attempt: questions drawn per place type, deadline fixed."""
    if not quiz_open_for(quiz, member):
        raise Conflict("该测验不在开放时间内或不面向您的组织")
    existing = Attempt.objects.filter(quiz=quiz, member=member).first()
    if existing is not None:
        if existing.status != AttemptStatus.STARTED:
            raise Conflict("您已参加过该测验")
        return existing
    rng = random.Random(secrets.randbits(64))  # noqa: S311 - drawing questions, not a secret
    bank = bank_for(quiz.organization)
    drawn: list[int] = []
    for place, n in sorted(quiz.mix.items()):
        ids = sorted(bank.filter(place_type=place).values_list("pk", flat=True))
        drawn += rng.sample(ids, min(n, len(ids)))
    if not drawn:
        raise Conflict("题库中暂无可用题目")
    rng.shuffle(drawn)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(
                    quiz=quiz,
                    member=member,
                    organization=member.organization,
                    questions=drawn,
                    started_at=now,
                    deadline=now + dt.timedelta(seconds=quiz.time_limit_s),
                )
        except IntegrityError:
            return Attempt.objects.get(quiz=quiz, member=member)
        audit.record(
            actor=member.user,
            action="competitions.attempt_start",
            obj=attempt,
            organization=member.organization,
            detail={"questions": len(drawn)},
        )
    return attempt


def is_correct(question: Question, answer: Any) -> bool:
    """Choice: exactly the right options; spot: a click point [x, y] inside a region."""
    if question.kind == QuestionKind.SPOT:
        if not isinstance(answer, list | tuple) or len(answer) != 2:
            return False
        try:
            x, y = float(answer[0]), float(answer[1])
        except (TypeError, ValueError):
            return False
        return any(rx <= x <= rx + rw and ry <= y <= ry + rh for rx, ry, rw, rh in question.regions)
    if not isinstance(answer, list | tuple):
        return False
    return sorted({int(a) for a in answer if str(a).isascii() and str(a).isdigit()}) == sorted(question.correct)


def attempt_submit(*, member: Any, attempt: Attempt, answers: Mapping[int, Any]) -> Attempt:
    """Hand in: scored if it arrives in time, else recorded as 超时 with 0 points."""
    now = timezone.now()
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.member_id != member.pk:
            raise PermissionDenied("这不是您的答卷")
        if locked.status != AttemptStatus.STARTED:
            raise Conflict("该答卷已提交")
        questions = {q.pk: q for q in Question.objects.filter(pk__in=locked.questions)}
        locked.max_score = sum(q.points for q in questions.values())
        locked.submitted_at = now
        locked.seconds = min(int((now - locked.started_at).total_seconds()), locked.quiz.time_limit_s)
        if now > locked.deadline + dt.timedelta(seconds=GRACE_SECONDS):
            locked.status = AttemptStatus.TIMED_OUT
            locked.score = 0
            locked.answers = {}
        else:
            locked.status = AttemptStatus.SUBMITTED
            kept = {str(pk): answers[pk] for pk in locked.questions if pk in answers}
            locked.answers = kept
            locked.score = sum(q.points for pk, q in questions.items() if is_correct(q, kept.get(str(pk))))
        locked.save(update_fields=["max_score", "submitted_at", "seconds", "status", "score", "answers"])
        audit.record(
            actor=member.user,
            action="competitions.attempt_submit",
            obj=locked,
            organization=locked.organization,
            detail={"score": locked.score, "status": locked.status},
        )
    return locked
