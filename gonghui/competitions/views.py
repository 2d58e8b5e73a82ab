"""劳动竞赛 console pages: the list, the 立项 form, one competition's page (review, rubric,
stages, teams, entrants, judges, results, 技术等级提升 — the whole flow without leaving it),
the results export and the judges' scoring pages. Thin: parsing here, rules in services."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.competitions import selectors, services
from gonghui.competitions.models import (
    Award,
    CompetitionKind,
    CompetitionStatus,
    ScoringRule,
    SkillGrade,
    StageStatus,
)
from gonghui.competitions.permissions import CompetitionPerm
from gonghui.competitions.workflows import COMPETITION
from gonghui.core import parsing
from gonghui.core.access import requires_perm
from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.core.exports import Sheet, download, xlsx_export
from gonghui.core.pagination import paginate
from gonghui.core.workflow import workflow_history, workflow_options
from gonghui.organizations.selectors import has_perm_anywhere, has_perm_on

P = CompetitionPerm


@require_GET
@requires_perm(P.VIEW)
def competition_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.competitions_for_actor(actor=request.user)
    status = request.GET.get("status", "")
    if status in CompetitionStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    kind = request.GET.get("kind", "")
    if kind in CompetitionKind.values:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    q = parsing.clean(request.GET.get("q"))[:40]
    if q:
        qs = qs.filter(title__icontains=q)
    page = paginate(request, qs.order_by("-created_at", "-id"))
    return render(
        request,
        "competitions/list.html",
        {
            "page": page,
            "status": status,
            "statuses": CompetitionStatus.choices,
            "kind": kind,
            "kinds": CompetitionKind.choices,
            "q": q,
            "can_apply": has_perm_anywhere(request.user, P.APPLY),
            "judging": selectors.judging_stages(actor=request.user).filter(status=StageStatus.SCORING).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(P.APPLY)
def competition_new(request: HttpRequest) -> HttpResponse:
    orgs = list(selectors.orgs_for_actor(actor=request.user, perm=P.APPLY).filter(parent__isnull=False)[:300])
    today = timezone.localdate()
    context: dict[str, Any] = {"orgs": orgs, "kinds": CompetitionKind.choices, "values": request.POST, "today": today}
    if request.method == "POST":
        try:
            org = next((o for o in orgs if str(o.pk) == request.POST.get("organization")), None)
            if org is None:
                raise ValidationFailed("请选择申报组织", fields={"organization": "请选择"})
            competition = services.competition_apply(
                actor=request.user,
                organization=org,
                kind=request.POST.get("kind", ""),
                title=request.POST.get("title"),
                organiser=request.POST.get("organiser"),
                plan=request.POST.get("plan"),
                targets=request.POST.get("targets"),
                trades=request.POST.get("trades"),
                budget_yuan=request.POST.get("budget"),
                starts_on=request.POST.get("starts_on"),
                ends_on=request.POST.get("ends_on"),
            )
        except ValidationFailed as exc:
            return render(
                request, "competitions/new.html", {**context, "error": exc.message, "errors": exc.fields}, status=422
            )
        messages.success(request, "已申报立项，待上级工会审核")
        return redirect("competitions:detail", competition.pk)
    return render(request, "competitions/new.html", context)


def _detail(request: HttpRequest, pk: int, *, error: str = "", status: int = 200) -> HttpResponse:
    competition = selectors.competition_get_for_actor(actor=request.user, pk=pk)
    stages = list(competition.stages.all())
    can_manage = has_perm_on(request.user, P.MANAGE, competition.organization)
    stage_rows = []
    for stage in stages:
        entries = list(selectors.stage_entries(stage))
        results = services.stage_results(stage) if stage.status == StageStatus.SCORING else {}
        stage_rows.append(
            {
                "stage": stage,
                "views": selectors.scores_for(actor=request.user, stage=stage, entries=entries),
                "pending": {k: v[0] is None for k, v in results.items()},
                "judges": services.judges_of(stage),
            }
        )
    entrants = list(competition.entrants.select_related("member", "team", "organization"))
    skill = list(competition.skill_records.select_related("member"))
    return render(
        request,
        "competitions/detail.html",
        {
            "c": competition,
            "options": workflow_options(actor=request.user, workflow=COMPETITION, obj=competition),
            "history": workflow_history(workflow=COMPETITION, obj=competition),
            "criteria": list(competition.criteria.all()),
            "stage_rows": stage_rows,
            "teams": list(competition.teams.all()),
            "entrants": entrants,
            "judges": list(competition.judges.select_related("user", "stage")),
            "skill_records": skill,
            "can_manage": can_manage,
            "editable": can_manage and competition.status in (CompetitionStatus.APPROVED, CompetitionStatus.RUNNING),
            "rules": ScoringRule.choices,
            "grades": SkillGrade.choices,
            "today": timezone.localdate(),
            "error": error,
            "budget_yuan": parsing.format_yuan(competition.budget_fen),
        },
        status=status,
    )


@require_GET
@requires_perm(P.VIEW)
def competition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


def _stage(competition: Any, post: Any) -> Any:
    stage = competition.stages.filter(pk=parsing.query_id(post, "stage") or 0).first()
    if stage is None:
        raise NotFound("阶段不存在")
    return stage


@require_POST
@requires_perm(P.REVIEW, P.MANAGE)
def competition_action(request: HttpRequest, pk: int) -> HttpResponse:
    competition = selectors.competition_get_for_actor(actor=request.user, pk=pk)
    op = request.POST.get("op", "")
    user, post = request.user, request.POST
    try:
        if op in ("approve", "reject"):
            services.competition_decide(
                actor=user, competition=competition, approve=op == "approve", reason=post.get("reason", "")
            )
            done = "已批准立项" if op == "approve" else "已不予立项"
        elif op == "start":
            services.competition_start(actor=user, competition=competition)
            done = "竞赛已开始"
        elif op == "finish":
            services.competition_finish(actor=user, competition=competition)
            done = "竞赛已结束"
        elif op == "criterion":
            services.criterion_add(
                actor=user, competition=competition, name=post.get("name"), max_points=post.get("max_points")
            )
            done = "已添加评分项"
        elif op == "stage":
            services.stage_add(
                actor=user,
                competition=competition,
                name=post.get("name"),
                scored=post.get("scored") == "1",
                rule=post.get("rule", ""),
                min_scores=post.get("min_scores"),
                advance=post.get("advance") or 0,
                first_prizes=post.get("first_prizes") or 0,
                second_prizes=post.get("second_prizes") or 0,
                third_prizes=post.get("third_prizes") or 0,
            )
            done = "已添加阶段"
        elif op == "team":
            services.team_add(actor=user, competition=competition, name=post.get("team"))
            done = "已添加班组"
        elif op == "entrant":
            team_id = parsing.query_id(post, "team")
            team = competition.teams.filter(pk=team_id).first() if team_id else None
            services.entrant_add(
                actor=user, competition=competition, member_no=post.get("member_no"), team=team, trade=post.get("trade")
            )
            done = "已添加选手"
        elif op == "judge":
            stage_id = parsing.query_id(post, "stage")
            stage = competition.stages.filter(pk=stage_id).first() if stage_id else None
            services.judge_assign(actor=user, competition=competition, username=post.get("username"), stage=stage)
            done = "已指定评委"
        elif op == "stage_open":
            stage = services.stage_open(actor=user, stage=_stage(competition, post))
            done = "“%s”已开始" % stage.name
        elif op == "stage_publish":
            stage = services.stage_publish(actor=user, stage=_stage(competition, post))
            done = "“%s”成绩已公布" % stage.name
        elif op == "upgrade":
            entrant = competition.entrants.filter(pk=parsing.query_id(post, "entrant") or 0).first()
            if entrant is None:
                raise NotFound("选手不存在")
            services.skill_upgrade(
                actor=user,
                entrant=entrant,
                from_grade=post.get("from_grade", ""),
                to_grade=post.get("to_grade", ""),
                basis=post.get("basis"),
                recorded_on=post.get("recorded_on"),
            )
            done = "已登记技术等级提升"
        else:
            raise ValidationFailed("未知操作")
    except DomainError as exc:
        return _detail(request, pk, error=exc.message, status=exc.status)
    messages.success(request, done)
    return redirect("competitions:detail", pk)


@require_GET
@requires_perm(P.VIEW)
def results_export(request: HttpRequest, pk: int) -> HttpResponse:
    competition = selectors.competition_get_for_actor(actor=request.user, pk=pk)
    rows = []
    for stage in competition.stages.filter(scored=True, status=StageStatus.PUBLISHED):
        for e in selectors.stage_entries(stage):
            rows.append(
                [
                    stage.name,
                    e.rank,
                    e.entrant.member.name,
                    e.entrant.member.member_no,
                    e.entrant.organization.name,
                    e.entrant.team.name if e.entrant.team else "",
                    e.entrant.trade,
                    e.result,
                    Award(e.award).label if e.award else "",
                    "是" if e.advanced else "",
                ]
            )
    export = xlsx_export(
        actor=request.user,
        action="competitions.results_export",
        filename="%s成绩.xlsx" % competition.title,
        sheets=[
            Sheet(
                title="成绩",
                header=["阶段", "名次", "姓名", "会员编号", "所属工会", "班组", "工种", "成绩", "奖项", "晋级"],
                rows=rows,
            )
        ],
        obj=competition,
        organization=competition.organization,
    )
    return download(export)


# ---- judges --------------------------------------------------------------------------------


@require_GET
def judging(request: HttpRequest) -> HttpResponse:
    stages = list(selectors.judging_stages(actor=request.user)[:100])
    return render(
        request,
        "competitions/judging.html",
        {"stages": stages, "show_tabs": has_perm_anywhere(request.user, P.VIEW)},
    )


def _judge_page(
    request: HttpRequest, pk: int, *, error: str = "", errors: Any = None, status: int = 200
) -> HttpResponse:
    stage = selectors.judging_stage_get(actor=request.user, pk=pk)
    entries = list(selectors.stage_entries(stage))
    return render(
        request,
        "competitions/judge_stage.html",
        {
            "stage": stage,
            "c": stage.competition,
            "criteria": list(stage.competition.criteria.all()),
            "views": selectors.scores_for(actor=request.user, stage=stage, entries=entries),
            "judges": len(services.judges_of(stage)),
            "error": error,
            "errors": errors or {},
            "values": request.POST,
            "show_tabs": has_perm_anywhere(request.user, P.VIEW),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def judge_stage(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return _judge_page(request, pk)
    stage = selectors.judging_stage_get(actor=request.user, pk=pk)
    try:
        entry = services.entry_get(stage=stage, pk=parsing.query_id(request.POST, "entry") or 0)
        points = {key.removeprefix("crit_"): value for key, value in request.POST.items() if key.startswith("crit_")}
        services.score_submit(actor=request.user, entry=entry, points=points)
    except DomainError as exc:
        return _judge_page(request, pk, error=exc.message, errors=exc.fields, status=exc.status)
    messages.success(request, "已提交 %s 的评分" % entry.entrant.member.name)
    return redirect("competitions:judge_stage", pk)
