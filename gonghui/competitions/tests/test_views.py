"""The pages: a judge sees no other judge's score of an entry before submitting their own
(on the scoring page and on the competition page), staff of a sibling union reach nothing of
union A's, the 立项 form and actions, the import page with its per-row report, the member H5
(quiz taken through the pages, hazard report) and the skill records on the member page."""

import io

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.competitions import bank, services
from gonghui.competitions.models import (
    Attempt,
    AttemptStatus,
    Competition,
    CompetitionStatus,
    HazardReport,
    PlaceType,
    Question,
    ReportStatus,
    SkillGrade,
)
from gonghui.competitions.tests.factories import (
    PHOTO,
    bank_questions,
    make_quiz,
    png,
    reviewer_of,
    running_stage,
    score,
)
from gonghui.site.testing import World, xlsx_of

pytestmark = pytest.mark.django_db


def _member_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return client


def test_a_judge_cannot_see_other_judges_scores_before_submitting(world: World) -> None:
    stage, _organiser, judges = running_stage(world.union_a, judges=2, entrants=1)
    entry = stage.entries.get()
    score(stage, judges[0], entry, "51.5", "33")  # 84.5
    url = reverse("competitions:judge_stage", args=[stage.pk])
    second = world.client_for(judges[1])
    page = second.get(url).content.decode()
    assert "84.5" not in page and "51.5" not in page
    assert 'data-testid="score-form"' in page and "已有 1 位评委提交" in page
    # the competition page, which a judge holding a console role could open, hides them too
    detail = world.client_for(judges[1]).get(reverse("competitions:detail", args=[stage.competition_id]))
    assert detail.status_code in (403, 404) or "84.5" not in detail.content.decode()
    criteria = list(stage.competition.criteria.all())
    response = second.post(url, {"entry": entry.pk, "crit_%d" % criteria[0].pk: "40", "crit_%d" % criteria[1].pk: "30"})
    assert response.status_code == 302
    page = second.get(url).content.decode()
    assert "84.5" in page and "70.0" in page  # now both judges' totals


def test_the_organiser_who_also_judges_sees_no_scores_before_their_own(world: World) -> None:
    stage, organiser, judges = running_stage(world.union_a, judges=1, entrants=1)
    services.judge_assign(actor=organiser, competition=stage.competition, username=organiser.username, stage=stage)
    entry = stage.entries.get()
    score(stage, judges[0], entry, "55", "35")  # 90.0
    detail = world.client_for(organiser).get(reverse("competitions:detail", args=[stage.competition_id]))
    body = detail.content.decode()
    assert detail.status_code == 200 and "90.0" not in body and "您提交自己的评分后可见" in body
    score(stage, organiser, entry, "50", "30")
    body = world.client_for(organiser).get(reverse("competitions:detail", args=[stage.competition_id])).content.decode()
    assert "90.0" in body and "80.0" in body


def test_a_non_judge_gets_no_scoring_page_and_cannot_post_a_score(world: World) -> None:
    stage, _organiser, _judges = running_stage(world.union_a, judges=1, entrants=1)
    entry = stage.entries.get()
    url = reverse("competitions:judge_stage", args=[stage.pk])
    assert world.client_for(world.staff_a).get(url).status_code == 404
    assert world.client_for(world.staff_a).post(url, {"entry": entry.pk}).status_code == 404
    assert not entry.scores.exists()


def test_sibling_union_staff_see_none_of_union_a(world: World) -> None:
    stage, _organiser, _judges = running_stage(world.union_a, judges=1, entrants=1)
    bank.report_submit(
        member=world.member_a, place_type=PlaceType.SITE, hazard="甲公司的洞口", right_answer="盖板", photo=PHOTO
    )
    bank_questions(world.union_a, n=2)
    quiz = make_quiz(world.union_a)
    client = world.client_for(world.staff_b)
    for name in ("competitions:list", "competitions:reports", "competitions:questions", "competitions:quizzes"):
        body = client.get(reverse(name) + "?status=all").content.decode()
        assert stage.competition.title not in body and "甲公司的洞口" not in body and "砂轮机" not in body, name
        assert quiz.title not in body, name
    assert client.get(reverse("competitions:detail", args=[stage.competition_id])).status_code == 404
    response = client.post(
        reverse("competitions:action", args=[stage.competition_id]), {"op": "criterion", "name": "x", "max_points": "5"}
    )
    assert response.status_code == 404
    assert stage.competition.criteria.count() == 2
    assert client.get(reverse("competitions:quiz", args=[quiz.pk])).status_code == 404


def test_apply_review_and_organise_through_the_pages(world: World) -> None:
    client = world.client_for(world.staff_a)
    bad = client.post(reverse("competitions:new"), {"organization": world.union_a.pk, "kind": "skill", "title": ""})
    assert bad.status_code == 422 and "请填写竞赛名称" in bad.content.decode()
    response = client.post(
        reverse("competitions:new"),
        {
            "organization": world.union_a.pk,
            "kind": "safety",
            "title": "安全竞赛",
            "organiser": "甲公司工会",
            "plan": "隐患排查",
            "targets": "参赛职工 100 人",
            "trades": "电工，叉车司机",
            "budget": "5000",
            "starts_on": "2026-06-01",
            "ends_on": "2026-06-30",
        },
    )
    competition = Competition.objects.get(title="安全竞赛")
    assert response.status_code == 302 and competition.trades == ["电工", "叉车司机"]
    action = reverse("competitions:action", args=[competition.pk])
    refused = client.post(action, {"op": "approve"})
    assert refused.status_code == 403
    assert Competition.objects.get(pk=competition.pk).status == CompetitionStatus.SUBMITTED
    street = world.client_for(reviewer_of(world.street))
    assert street.post(action, {"op": "approve"}).status_code == 302
    bad = client.post(action, {"op": "criterion", "name": "操作", "max_points": "abc"})
    assert bad.status_code == 422 and "满分应为数字" in bad.content.decode()
    assert client.post(action, {"op": "criterion", "name": "操作", "max_points": "100"}).status_code == 302
    assert client.post(action, {"op": "entrant", "member_no": world.member_a.member_no}).status_code == 302
    unknown = client.post(action, {"op": "entrant", "member_no": world.member_b.member_no})
    assert unknown.status_code == 422 and competition.entrants.count() == 1


def test_results_export_is_an_xlsx(world: World) -> None:
    stage, organiser, judges = running_stage(world.union_a, judges=1, entrants=1, min_scores=1, rule="mean")
    score(stage, judges[0], stage.entries.get(), "50", "40")
    services.stage_publish(actor=organiser, stage=stage)
    response = world.client_for(organiser).get(reverse("competitions:results_export", args=[stage.competition_id]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_import_page_shows_row_errors_and_offers_the_report(world: World) -> None:
    client = world.client_for(world.staff_a)
    header = ["题型", "场所类型", "题干", "选项A", "选项B", "正确答案"]
    data = xlsx_of([header, ["单选题", "仓库", "好题", "对", "错", "A"], ["单选题", "太空", "坏题", "对", "错", "A"]])
    url = reverse("competitions:question_import")

    def upload(**extra: str):  # type: ignore[no-untyped-def]
        f = io.BytesIO(data)
        f.name = "题库.xlsx"
        return client.post(url, {"organization": world.union_a.pk, "file": f, **extra})

    page = upload()
    assert page.status_code == 422 and "有 1 行未通过校验" in page.content.decode()
    report = upload(report="1")
    assert report.status_code == 200 and "xlsx" in report["Content-Disposition"]
    assert not Question.objects.exists()
    missing = client.post(url, {"organization": world.union_a.pk})
    assert missing.status_code == 422 and "请选择要导入的文件" in missing.content.decode()


def test_a_member_takes_a_quiz_on_the_h5_and_sees_the_leaderboard(world: World) -> None:
    questions = bank_questions(world.union_a, n=2)
    quiz = make_quiz(world.union_a)
    client = _member_client(world.member_a.user)
    home = client.get(reverse("competitions:h5_home")).content.decode()
    assert quiz.title in home
    started = client.post(reverse("competitions:h5_quiz", args=[quiz.pk]))
    attempt = Attempt.objects.get(member=world.member_a)
    assert started.status_code == 302 and started["Location"] == reverse("competitions:h5_attempt", args=[attempt.pk])
    page = client.get(started["Location"]).content.decode()
    assert all(q.stem in page for q in questions)
    first, second = attempt.questions
    client.post(started["Location"], {"q%d" % first: "1", "q%d" % second: "0"})
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.max_score) == (AttemptStatus.SUBMITTED, 5, 10)
    board = client.get(reverse("competitions:h5_quiz", args=[quiz.pk])).content.decode()
    assert "5/10" in board and 'data-testid="h5-board-row"' in board
    # member B (a sibling union) neither sees nor opens the quiz, nor A's paper
    other = _member_client(world.member_b.user)
    assert quiz.title not in other.get(reverse("competitions:h5_home")).content.decode()
    assert other.get(reverse("competitions:h5_quiz", args=[quiz.pk])).status_code == 404
    assert other.get(reverse("competitions:h5_attempt", args=[attempt.pk])).status_code == 404


def test_a_member_reports_a_hazard_with_a_photo(world: World) -> None:
    client = _member_client(world.member_a.user)
    url = reverse("competitions:h5_report_new")
    bad = client.post(url, {"place_type": "site", "hazard": "洞口", "right_answer": "盖板"})
    assert bad.status_code == 422 and "请上传隐患照片" in bad.content.decode()
    photo = io.BytesIO(png())
    photo.name = "洞口.png"
    ok = client.post(
        url, {"place_type": "site", "hazard": "二楼洞口无盖板", "right_answer": "加设盖板", "photo": photo}
    )
    assert ok.status_code == 302
    report = HazardReport.objects.get()
    assert (report.member, report.organization, report.status) == (
        world.member_a,
        world.union_a,
        ReportStatus.SUBMITTED,
    )
    assert "二楼洞口无盖板" in client.get(reverse("competitions:h5_home")).content.decode()
    staff = world.client_for(world.staff_a)
    photo_response = staff.get(reverse("competitions:report_photo", args=[report.pk]))
    assert photo_response.status_code == 200 and photo_response.content.startswith(b"\x89PNG")


def test_skill_records_show_on_the_member_page_and_the_h5(world: World) -> None:
    stage, organiser, judges = running_stage(
        world.union_a, judges=1, entrants=0, min_scores=1, rule="mean", members=[world.member_a]
    )
    score(stage, judges[0], stage.entries.get(), "50", "40")
    services.stage_publish(actor=organiser, stage=stage)
    services.skill_upgrade(
        actor=organiser,
        entrant=stage.entries.get().entrant,
        from_grade=SkillGrade.INTERMEDIATE,
        to_grade=SkillGrade.SENIOR,
        basis="决赛一等奖",
        recorded_on="2026-06-30",
    )
    page = world.client_for(world.staff_a).get(reverse("members:detail", args=[world.member_a.pk])).content.decode()
    assert 'data-testid="skill-record"' in page and "中级工" in page and "高级工" in page
    h5 = _member_client(world.member_a.user).get(reverse("competitions:h5_home")).content.decode()
    assert "中级工 → 高级工" in h5 and "一等奖" in h5
