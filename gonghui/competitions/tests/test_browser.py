"""Done when, in chromium: one person runs a competition in the console from 立项 to results
and a 技术等级提升 (the street's reviewer approves in between, a second judge scores), the
member sees the result and the upgrade on the H5; a worker reports a hazard with a photo on
the H5, the reviewer frames the hazard on the photo and accepts it into the bank, the
organiser builds a quiz from it, and the member takes the quiz by clicking the hazard."""

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.competitions.models import (
    Attempt,
    AttemptStatus,
    Competition,
    CompetitionStatus,
    HazardReport,
    Question,
    ReportStatus,
    SkillRecord,
)
from gonghui.competitions.tests.factories import handler_of, judge_user, png, reviewer_of
from gonghui.site.testing import build_world, make_member

PASSWORD = "Gonghui-test-2026"


def _login(page, base: str, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


def _desk(browser, base: str, username: str, next_url: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    _login(page, base, username, next_url)
    return page


def _phone(browser, base: str, user):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    ctx.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_competition_from_application_to_results_and_skill_upgrade(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    base = live_server.url
    organiser = handler_of(world.union_a, "zhang_organiser")
    reviewer = reviewer_of(world.street, "street_reviewer")
    second = judge_user(world.union_a, "judge_two")
    other = make_member(world.union_a, name="王焊工")
    today = timezone.localdate().isoformat()

    desk = _desk(browser, base, organiser.username, "/console/competitions/")
    desk.click("[data-testid=competition-new]")
    form = desk.locator("[data-testid=apply-form]")
    form.locator("select[name=kind]").select_option("skill")
    form.locator("input[name=title]").fill("焊工职业技能竞赛")
    form.locator("input[name=organiser]").fill("苏州甲公司工会")
    form.locator("input[name=trades]").fill("焊工、数控车工")
    form.locator("textarea[name=plan]").fill("初赛、决赛两个阶段，决赛一等奖晋升一级")
    form.locator("textarea[name=targets]").fill("参赛职工 60 人\n技能提升 10 人")
    form.locator("input[name=budget]").fill("20000")
    form.locator("input[name=starts_on]").fill(today)
    form.locator("input[name=ends_on]").fill(today)
    desk.click("[data-testid=apply-submit]")
    competition = Competition.objects.get(title="焊工职业技能竞赛")
    desk.wait_for_url(f"{base}/console/competitions/{competition.pk}/")
    assert desk.inner_text("[data-testid=competition-status]") == "待审核"
    assert desk.locator("[data-testid=approve]").count() == 0  # the applicant cannot approve

    review = _desk(browser, base, reviewer.username, f"/console/competitions/{competition.pk}/")
    review.click("[data-testid=approve]")
    review.wait_for_selector("text=已批准立项")
    assert Competition.objects.get(pk=competition.pk).status == CompetitionStatus.APPROVED

    # The organiser sets the competition up without leaving its page.
    desk.reload()
    for name, top in (("操作规范", "60"), ("焊缝质量", "40")):
        crit = desk.locator("[data-testid=criterion-form]")
        crit.locator("input[name=name]").fill(name)
        crit.locator("input[name=max_points]").fill(top)
        desk.click("[data-testid=criterion-add]")
        desk.wait_for_selector(f"[data-testid=criterion-row] >> text={name}")
    stage = desk.locator("[data-testid=stage-form]")
    stage.locator("input[name=name]").fill("决赛")
    stage.locator("select[name=rule]").select_option("mean")
    stage.locator("input[name=min_scores]").fill("2")
    stage.locator("input[name=first_prizes]").fill("1")
    stage.locator("input[name=second_prizes]").fill("1")
    desk.click("[data-testid=stage-add]")
    desk.wait_for_selector("[data-testid=stage-card]")
    for member in (world.member_a, other):
        entrant = desk.locator("[data-testid=entrant-form]")
        entrant.locator("input[name=member_no]").fill(member.member_no)
        entrant.locator("select[name=trade]").select_option("焊工")
        desk.click("[data-testid=entrant-add]")
        desk.wait_for_selector(f"[data-testid=entrant-row] >> text={member.name}")
    for username in (organiser.username, second.username):
        judge = desk.locator("[data-testid=judge-form]")
        judge.locator("input[name=username]").fill(username)
        desk.click("[data-testid=judge-add]")
        desk.wait_for_selector(f"[data-testid=judge-row] >> text={username}")
    desk.click("[data-testid=start]")
    desk.wait_for_selector("[data-testid=stage-open]")
    desk.click("[data-testid=stage-open]")
    desk.wait_for_selector("[data-testid=stage-publish]")

    # Each judge scores alone.
    def score_all(page, scores) -> None:  # type: ignore[no-untyped-def]
        for i, values in enumerate(scores):
            form = page.locator("[data-testid=score-form]").first
            inputs = form.locator("input[inputmode=decimal]")
            inputs.nth(0).fill(values[0])
            inputs.nth(1).fill(values[1])
            form.locator("[data-testid=score-submit]").click()
            page.locator("[data-testid=my-score]").nth(i).wait_for()

    desk.click("[data-testid=nav-judging]")
    desk.click("[data-testid=judging-row] a")
    score_all(desk, [("55", "38"), ("50", "30")])  # 张三 93, 王焊工 80
    judge_page = _desk(browser, base, second.username, "/console/")
    judge_page.click("aside.app-sidebar >> text=我的评分")  # a 核销员's menu shows 我的评分
    judge_page.click("[data-testid=judging-row] a")
    assert "93.0" not in judge_page.content()  # blind until their own score
    score_all(judge_page, [("57", "40"), ("40", "30")])  # 张三 97, 王焊工 70
    assert "93.0" in judge_page.content()

    desk.goto(f"{base}/console/competitions/{competition.pk}/")
    desk.click("[data-testid=stage-publish]")
    desk.wait_for_selector("[data-testid=award]")
    rows = desk.locator("[data-testid=result-row]")
    assert "张三" in rows.nth(0).inner_text() and "95.00" in rows.nth(0).inner_text()
    assert "一等奖" in rows.nth(0).inner_text() and "二等奖" in rows.nth(1).inner_text()
    upgrade = desk.locator("[data-testid=upgrade-form]")
    upgrade.locator("select[name=entrant]").select_option(label="张三")
    upgrade.locator("select[name=from_grade]").select_option(label="中级工")
    upgrade.locator("select[name=to_grade]").select_option(label="高级工")
    upgrade.locator("input[name=basis]").fill("决赛一等奖")
    desk.click("[data-testid=upgrade-submit]")
    desk.wait_for_selector("[data-testid=skill-row]")
    assert SkillRecord.objects.get().member == world.member_a
    desk.click("[data-testid=finish]")
    desk.wait_for_selector("text=竞赛已结束")

    phone = _phone(browser, base, world.member_a.user)
    phone.goto(f"{base}/h5/competitions/")
    assert "一等奖" in phone.inner_text("[data-testid=h5-entries]")
    assert "中级工 → 高级工" in phone.inner_text("[data-testid=h5-skills]")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_quiz_built_from_a_reviewed_hazard_and_taken_by_a_member(live_server, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    base = live_server.url
    organiser = handler_of(world.union_a, "quiz_organiser")
    reviewer = reviewer_of(world.street, "hazard_reviewer")
    photo = tmp_path / "洞口.png"
    photo.write_bytes(png(400, 300))

    phone = _phone(browser, base, world.member_a.user)
    phone.goto(f"{base}/h5/competitions/")
    phone.click("[data-testid=h5-report-new]")
    form = phone.locator("[data-testid=h5-report-form]")
    form.locator("select[name=place_type]").select_option("site")
    form.locator("textarea[name=hazard]").fill("二层楼板洞口没有盖板")
    form.locator("textarea[name=right_answer]").fill("洞口加设固定盖板并设防护栏")
    form.locator("input[name=photo]").set_input_files(str(photo))
    phone.click("[data-testid=h5-report-submit]")
    phone.wait_for_selector("[data-testid=h5-report] >> text=待审核")
    report = HazardReport.objects.get()

    review = _desk(browser, base, reviewer.username, "/console/hazards/")
    review.click("[data-testid=report-row] a")
    accept = review.locator("[data-testid=accept-form]")
    accept.locator("select[name=kind]").select_option("spot")
    accept.locator("input[name=stem]").fill("找出图中的隐患：楼板洞口")
    image = review.locator("[data-region-image]")
    box = image.bounding_box()
    review.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    review.mouse.down()
    review.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=5)
    review.mouse.up()
    review.click("[data-testid=accept-submit]")
    review.wait_for_url(f"{base}/console/hazards/")
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    x, y, w, h = report.question.regions[0]
    assert abs(x - 0.2) < 0.03 and abs(y - 0.2) < 0.03 and abs(w - 0.3) < 0.03 and abs(h - 0.4) < 0.03

    desk = _desk(browser, base, organiser.username, "/console/quizzes/")
    quiz = desk.locator("[data-testid=quiz-form]")
    quiz.locator("input[name=title]").fill("工地隐患排查答题")
    quiz.locator("input[name=minutes]").fill("5")
    quiz.locator("input[name=mix_site]").fill("1")
    desk.click("[data-testid=quiz-submit]")
    desk.wait_for_selector("[data-testid=leaderboard]")

    phone.goto(f"{base}/h5/competitions/")
    phone.click("[data-testid=h5-quiz] >> text=工地隐患排查答题")
    phone.click("[data-testid=h5-start]")
    phone.wait_for_selector("[data-testid=h5-spot-image]")
    spot = phone.locator("[data-testid=h5-spot-image]")
    spot_box = spot.bounding_box()
    phone.mouse.click(spot_box["x"] + spot_box["width"] * 0.35, spot_box["y"] + spot_box["height"] * 0.4)
    phone.click("[data-testid=h5-hand-in]")
    phone.wait_for_selector("[data-testid=h5-result]")
    assert phone.inner_text("[data-testid=h5-result]").startswith("5 / 5")
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.score) == (AttemptStatus.SUBMITTED, 5)
    assert attempt.questions == [Question.objects.get().pk]
    desk.reload()
    assert "张三" in desk.inner_text("[data-testid=leaderboard]")
