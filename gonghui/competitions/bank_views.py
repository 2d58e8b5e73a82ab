"""隐患排查题库 console pages: workers' reports and their review, the bank, expert questions,
import from XLSX/CSV with the per-row report, quizzes and their leaderboards."""

import io
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.competitions import bank, selectors
from gonghui.competitions.models import PlaceType, QuestionKind, QuestionSource, ReportStatus
from gonghui.competitions.permissions import CompetitionPerm
from gonghui.competitions.workflows import REPORT
from gonghui.core import parsing
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.pagination import paginate
from gonghui.core.workflow import workflow_history, workflow_options
from gonghui.organizations.selectors import has_perm_anywhere, has_perm_on, scope_paths

P = CompetitionPerm
IMPORT_MAX_BYTES = 10 * 1024 * 1024


def _photo(request: HttpRequest) -> bank.Upload | None:
    f = request.FILES.get("photo")
    if f is None:
        return None
    return bank.Upload(f.name or "photo", f.content_type or "", f.read(bank.PHOTO_MAX_BYTES + 1))


def _regions(post: Any) -> list[list[Any]]:
    values = [post.get(k, "") for k in ("rx", "ry", "rw", "rh")]
    return [values] if any(parsing.clean(v) for v in values) else []


def _image(name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(bank.photo_bytes(name), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _type_of(name: str) -> str:
    return "image/png" if name.endswith(".png") else "image/jpeg"


# ---- reports -------------------------------------------------------------------------------


@require_GET
@requires_perm(P.BANK_VIEW)
def report_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.reports_for_actor(actor=request.user)
    status = request.GET.get("status", ReportStatus.SUBMITTED)
    if status in ReportStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    place = request.GET.get("place", "")
    if place in PlaceType.values:
        qs = qs.filter(place_type=place)
    else:
        place = ""
    page = paginate(request, qs.order_by("-created_at", "-id"))
    return render(
        request,
        "competitions/reports.html",
        {"page": page, "status": status, "statuses": ReportStatus.choices, "place": place, "places": PlaceType.choices},
    )


def _report_page(request: HttpRequest, pk: int, *, error: str = "", status: int = 200) -> HttpResponse:
    report = selectors.report_get_for_actor(actor=request.user, pk=pk)
    return render(
        request,
        "competitions/report.html",
        {
            "r": report,
            "options": workflow_options(actor=request.user, workflow=REPORT, obj=report),
            "history": workflow_history(workflow=REPORT, obj=report),
            "kinds": QuestionKind.choices,
            "values": request.POST,
            "error": error,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@requires_perm(P.BANK_VIEW)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return _report_page(request, pk)
    report = selectors.report_get_for_actor(actor=request.user, pk=pk)
    post = request.POST
    try:
        if post.get("op") == "reject":
            bank.report_reject(actor=request.user, report=report, reason=post.get("reason", ""))
            messages.success(request, "已标记为不予采用")
        else:
            bank.report_accept(
                actor=request.user,
                report=report,
                kind=post.get("kind", ""),
                stem=post.get("stem"),
                options=post.getlist("option"),
                correct=post.getlist("correct"),
                regions=_regions(post),
                explanation=post.get("explanation"),
                points=post.get("points") or 5,
            )
            messages.success(request, "已审核入库")
    except DomainError as exc:
        return _report_page(request, pk, error=exc.message, status=exc.status)
    return redirect("competitions:reports")


@require_GET
@requires_perm(P.BANK_VIEW)
def report_photo(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get_for_actor(actor=request.user, pk=pk)
    return _image(report.photo, report.photo_type)


# ---- the bank ------------------------------------------------------------------------------


@require_GET
@requires_perm(P.BANK_VIEW)
def question_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.questions_for_actor(actor=request.user)
    place = request.GET.get("place", "")
    if place in PlaceType.values:
        qs = qs.filter(place_type=place)
    else:
        place = ""
    source = request.GET.get("source", "")
    if source in QuestionSource.values:
        qs = qs.filter(source=source)
    else:
        source = ""
    kind = request.GET.get("kind", "")
    if kind in QuestionKind.values:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    page = paginate(request, qs.order_by("-id"))
    return render(
        request,
        "competitions/questions.html",
        {
            "page": page,
            "place": place,
            "places": PlaceType.choices,
            "source": source,
            "sources": QuestionSource.choices,
            "kind": kind,
            "kinds": QuestionKind.choices,
            "can_manage": has_perm_anywhere(request.user, P.BANK_MANAGE),
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(P.BANK_MANAGE)
def question_new(request: HttpRequest) -> HttpResponse:
    orgs = list(selectors.orgs_for_actor(actor=request.user, perm=P.BANK_MANAGE)[:300])
    context: dict[str, Any] = {
        "orgs": orgs,
        "kinds": QuestionKind.choices,
        "places": PlaceType.choices,
        "values": request.POST,
    }
    if request.method == "POST":
        post = request.POST
        try:
            org = next((o for o in orgs if str(o.pk) == post.get("organization")), None)
            if org is None:
                raise ValidationFailed("请选择组织", fields={"organization": "请选择"})
            bank.question_create(
                actor=request.user,
                organization=org,
                kind=post.get("kind", ""),
                place_type=post.get("place_type", ""),
                stem=post.get("stem"),
                options=post.getlist("option"),
                correct=post.getlist("correct"),
                regions=_regions(post),
                photo=_photo(request),
                explanation=post.get("explanation"),
                points=post.get("points") or 5,
            )
        except DomainError as exc:
            return render(
                request, "competitions/question_new.html", {**context, "error": exc.message}, status=exc.status
            )
        messages.success(request, "已加入题库")
        return redirect("competitions:questions")
    return render(request, "competitions/question_new.html", context)


@require_GET
@requires_perm(P.BANK_VIEW)
def question_image(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_get_for_actor(actor=request.user, pk=pk)
    if not question.image:
        return HttpResponse(status=404)
    return _image(question.image, _type_of(question.image))


@require_POST
@requires_perm(P.BANK_MANAGE)
def question_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_get_for_actor(actor=request.user, pk=pk, perm=P.BANK_MANAGE)
    bank.question_set_active(actor=request.user, question=question, active=request.POST.get("active") == "1")
    messages.success(request, "已启用" if question.is_active else "已停用")
    return redirect("competitions:questions")


@require_http_methods(["GET", "POST"])
@requires_perm(P.BANK_MANAGE)
def question_import(request: HttpRequest) -> HttpResponse:
    orgs = list(selectors.orgs_for_actor(actor=request.user, perm=P.BANK_MANAGE)[:300])
    context: dict[str, Any] = {"orgs": orgs, "columns": bank.COLUMNS.columns, "values": request.POST}
    if request.method == "GET":
        return render(request, "competitions/question_import.html", context)
    upload = request.FILES.get("file")
    try:
        org = next((o for o in orgs if str(o.pk) == request.POST.get("organization")), None)
        if org is None:
            raise ValidationFailed("请选择组织", fields={"organization": "请选择"})
        if upload is None or not upload.size:
            raise ValidationFailed("请选择要导入的文件", fields={"file": "必填"})
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationFailed("文件不能超过 10 MB", fields={"file": "过大"})
        outcome = bank.questions_import(
            actor=request.user, organization=org, stream=io.BytesIO(upload.read()), file_name=upload.name or ""
        )
    except DomainError as exc:
        return render(
            request, "competitions/question_import.html", {**context, "error": exc.message}, status=exc.status
        )
    if outcome.errors:
        if request.POST.get("report") == "1":
            return download(bank.import_error_report(actor=request.user, organization=org, outcome=outcome))
        return render(
            request,
            "competitions/question_import.html",
            {**context, "outcome": outcome, "error": "有 %d 行未通过校验，未导入任何题目" % len(outcome.errors)},
            status=422,
        )
    messages.success(request, "已导入 %d 道题" % outcome.created)
    return redirect("competitions:questions")


@require_GET
@requires_perm(P.BANK_MANAGE)
def question_template(request: HttpRequest) -> HttpResponse:
    return download(bank.import_template(actor=request.user))


# ---- quizzes -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires_perm(P.BANK_VIEW)
def quiz_list(request: HttpRequest) -> HttpResponse:
    orgs = list(selectors.orgs_for_actor(actor=request.user, perm=P.BANK_MANAGE)[:300])
    today = timezone.localdate()
    context: dict[str, Any] = {
        "orgs": orgs,
        "places": PlaceType.choices,
        "values": request.POST,
        "today": today,
        "can_manage": bool(orgs),
    }
    status = 200
    if request.method == "POST":
        post = request.POST
        try:
            org = next((o for o in orgs if str(o.pk) == post.get("organization")), None)
            if org is None:
                raise ValidationFailed("请选择组织", fields={"organization": "请选择"})
            quiz = bank.quiz_create(
                actor=request.user,
                organization=org,
                title=post.get("title"),
                mix={p: post.get("mix_%s" % p, "") for p in PlaceType.values},
                minutes=post.get("minutes"),
                opens_on=post.get("opens_on"),
                closes_on=post.get("closes_on"),
            )
        except DomainError as exc:
            context["error"] = exc.message
            status = exc.status
        else:
            messages.success(request, "已发布测验")
            return redirect("competitions:quiz", quiz.pk)
    page = paginate(request, selectors.quizzes_for_actor(actor=request.user).order_by("-opens_on", "-id"))
    return render(request, "competitions/quizzes.html", {**context, "page": page}, status=status)


@require_GET
@requires_perm(P.BANK_VIEW)
def quiz_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = selectors.quiz_get_for_actor(actor=request.user, pk=pk)
    orgs = list(
        selectors.orgs_for_actor(actor=request.user, perm=P.BANK_VIEW).filter(path__startswith=quiz.organization.path)[
            :300
        ]
    )
    org_id = parsing.query_id(request.GET, "organization")
    org = next((o for o in orgs if o.pk == org_id), None)
    if org is not None:
        board = selectors.leaderboard(quiz=quiz, organization_paths=[org.path])
    else:
        board = selectors.leaderboard(quiz=quiz, organization_paths=scope_paths(request.user, P.BANK_VIEW))
    page = paginate(request, board)
    return render(
        request,
        "competitions/quiz.html",
        {
            "quiz": quiz,
            "orgs": orgs,
            "org": org,
            "page": page,
            "start": (page.number - 1) * page.per_page,
            "by_org": selectors.board_by_organization(quiz=quiz, actor=request.user),
            "mix": [(PlaceType(p).label, n) for p, n in quiz.mix.items()],
            "can_manage": has_perm_on(request.user, P.BANK_MANAGE, quiz.organization),
        },
    )
