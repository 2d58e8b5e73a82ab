"""Member H5 pages: my competitions and results, skill records, quizzes (take one, timed by
the server, with my organisation's leaderboard) and hazard reports (隐患随手拍)."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.competitions import bank, selectors
from gonghui.competitions.models import AttemptStatus, PlaceType, Question, QuestionKind
from gonghui.core import parsing
from gonghui.core.errors import DomainError, NotFound
from gonghui.members.selectors import member_of_user

BOARD_SIZE = 10


def _me(request: HttpRequest) -> Any:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


@require_GET
def h5_home(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    today = timezone.localdate()
    quizzes = list(selectors.quizzes_for_member(member).filter(opens_on__lte=today, closes_on__gte=today)[:20])
    done = selectors.member_attempt_statuses(member=member, quizzes=quizzes)
    return render(
        request,
        "competitions/h5/home.html",
        {
            "entries": list(selectors.member_entries(member)[:50]),
            "skills": list(selectors.member_skill_records(member)[:20]),
            "quizzes": [(q, done.get(q.pk)) for q in quizzes],
            "reports": list(selectors.member_reports(member)[:20]),
        },
    )


@require_http_methods(["GET", "POST"])
def h5_report_new(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    context: dict[str, Any] = {"places": PlaceType.choices, "values": request.POST}
    if request.method == "POST":
        f = request.FILES.get("photo")
        photo = bank.Upload(f.name or "photo", f.content_type or "", f.read(bank.PHOTO_MAX_BYTES + 1)) if f else None
        try:
            bank.report_submit(
                member=member,
                place_type=request.POST.get("place_type", ""),
                hazard=request.POST.get("hazard"),
                right_answer=request.POST.get("right_answer"),
                photo=photo,
            )
        except DomainError as exc:
            return render(
                request, "competitions/h5/report_new.html", {**context, "error": exc.message}, status=exc.status
            )
        messages.success(request, "已提交，审核通过后将进入题库")
        return redirect("competitions:h5_home")
    return render(request, "competitions/h5/report_new.html", context)


@require_http_methods(["GET", "POST"])
def h5_quiz(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    quiz = selectors.quiz_get_for_member(member=member, pk=pk)
    attempt = selectors.member_attempt_of(member=member, quiz=quiz)
    if request.method == "POST":
        try:
            attempt = bank.attempt_start(member=member, quiz=quiz)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("competitions:h5_quiz", quiz.pk)
        return redirect("competitions:h5_attempt", attempt.pk)
    board = list(selectors.leaderboard(quiz=quiz, organization=member.organization)[:BOARD_SIZE])
    return render(
        request,
        "competitions/h5/quiz.html",
        {
            "quiz": quiz,
            "attempt": attempt,
            "open": bank.quiz_open_for(quiz, member),
            "minutes": quiz.time_limit_s // 60,
            "count": sum(quiz.mix.values()),
            "board": [
                (i + 1, selectors.mask_name(a.member.name), a, a.member_id == member.pk) for i, a in enumerate(board)
            ],
        },
    )


def _answers(post: Any, questions: list[Question]) -> dict[int, Any]:
    answers: dict[int, Any] = {}
    for q in questions:
        key = "q%d" % q.pk
        if q.kind == QuestionKind.SPOT:
            x, y = parsing.clean(post.get(key + "_x")), parsing.clean(post.get(key + "_y"))
            if x and y:
                answers[q.pk] = [x[:12], y[:12]]
        else:
            picked = [v for v in post.getlist(key) if v.isascii() and v.isdigit() and len(v) < 3]
            if picked:
                answers[q.pk] = picked
    return answers


@require_http_methods(["GET", "POST"])
def h5_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    attempt = selectors.attempt_get_for_member(member=member, pk=pk)
    questions = selectors.attempt_questions(attempt)
    if request.method == "POST":
        try:
            attempt = bank.attempt_submit(member=member, attempt=attempt, answers=_answers(request.POST, questions))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("competitions:h5_attempt", attempt.pk)
    remaining = max(0, int((attempt.deadline - timezone.now()).total_seconds()))
    answers = attempt.answers or {}
    rows = [
        {
            "q": q,
            "options": list(enumerate(q.options)),
            "mine": answers.get(str(q.pk)),
            "right": bank.is_correct(q, answers.get(str(q.pk))),
        }
        for q in questions
    ]
    return render(
        request,
        "competitions/h5/attempt.html",
        {"attempt": attempt, "rows": rows, "remaining": remaining, "started": attempt.status == AttemptStatus.STARTED},
    )


@require_GET
def h5_question_image(request: HttpRequest, pk: int, question: int) -> HttpResponse:
    """The picture of a spot question, for the member whose attempt drew it."""
    member = _me(request)
    attempt = selectors.attempt_get_for_member(member=member, pk=pk)
    found = selectors.attempt_picture(attempt=attempt, question_id=question)
    response = HttpResponse(
        bank.photo_bytes(found.image), content_type="image/png" if found.image.endswith(".png") else "image/jpeg"
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
