"""The competition flow through the services: 立项 reviewed above the applicant with
separation of duties, rubric and stages, judges scoring once each, results published only
when no entry is pending, awards, advancing, and 技术等级提升 only upward."""

import decimal

import pytest
from django.utils import timezone

from gonghui.competitions import services
from gonghui.competitions.models import (
    Award,
    Competition,
    CompetitionStatus,
    Entry,
    Score,
    ScoringRule,
    SkillGrade,
    SkillRecord,
    Stage,
    StageStatus,
)
from gonghui.competitions.tests.factories import (
    handler_of,
    judge_user,
    make_competition,
    reviewer_of,
    running_stage,
    score,
)
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_member

pytestmark = pytest.mark.django_db
D = decimal.Decimal


def test_application_is_reviewed_by_the_organisation_above(world: World) -> None:
    competition = make_competition(world.union_a, actor=world.staff_a)
    assert competition.review_org == world.street
    assert competition.budget_fen == 1_200_050
    assert competition.targets == [
        {"name": "参赛职工", "value": 50, "unit": "人"},
        {"name": "技能提升", "value": 10, "unit": "人"},
    ]
    assert competition.trades == ["焊工", "数控车工"]
    # union A's own admin (who holds 审核 on union A) cannot approve: the review is the street's
    with pytest.raises(PermissionDenied):
        services.competition_decide(actor=world.staff_a, competition=competition, approve=True)
    reviewer = reviewer_of(world.street)
    approved = services.competition_decide(actor=reviewer, competition=competition, approve=True, reason="同意")
    assert approved.status == CompetitionStatus.APPROVED and approved.decided_by == reviewer
    assert (
        AuditEvent.objects.filter(action="competition.approve", object_id=str(competition.pk), result="ok").count() == 1
    )


def test_the_applicant_can_never_approve_their_own_application(world: World) -> None:
    both = grant(handler_of(world.street), world.street, Role.REVIEWER)  # applies and reviews
    competition = make_competition(world.union_a, actor=both)
    with pytest.raises(PermissionDenied, match="申报人不能审核"):
        services.competition_decide(actor=both, competition=competition, approve=True)
    assert Competition.objects.get(pk=competition.pk).status == CompetitionStatus.SUBMITTED
    assert AuditEvent.objects.filter(action="competition.approve", result="denied").count() == 1
    services.competition_decide(actor=reviewer_of(world.street), competition=competition, approve=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("targets", "参赛职工 很多 人", "目标数值应为整数"),
        ("targets", "", "请至少填写一项量化目标"),
        ("budget_yuan", "-5", "预算不能为负数"),
        ("budget_yuan", "1.234", "最多保留两位小数"),
        ("trades", "", "请填写竞赛工种"),
        ("ends_on", "2020-01-01", "结束日期不能早于开始日期"),
        ("starts_on", "明天", "格式应为"),
    ],
)
def test_application_fields_are_validated(world: World, field: str, value: str, message: str) -> None:
    values = {
        "kind": "skill",
        "title": "竞赛",
        "organiser": "甲",
        "plan": "方案",
        "targets": "参赛职工 5 人",
        "trades": "焊工",
        "budget_yuan": "100",
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": timezone.localdate().isoformat(),
        field: value,
    }
    with pytest.raises(ValidationFailed, match=message):
        services.competition_apply(actor=world.staff_a, organization=world.union_a, **values)
    assert not Competition.objects.exists()


def test_staff_of_a_sibling_union_cannot_apply_or_organise(world: World) -> None:
    with pytest.raises(PermissionDenied):
        make_competition(world.union_a, actor=world.staff_b)
    stage, _organiser, _judges = running_stage(world.union_a)
    with pytest.raises(PermissionDenied):
        services.criterion_add(actor=world.staff_b, competition=stage.competition, name="x", max_points="5")
    with pytest.raises(PermissionDenied):
        services.stage_publish(actor=world.staff_b, stage=stage)


def test_only_members_of_the_sub_tree_can_enter(world: World) -> None:
    organiser = handler_of(world.union_a)
    competition = make_competition(world.union_a, actor=organiser)
    competition = services.competition_decide(actor=reviewer_of(world.street), competition=competition, approve=True)
    with pytest.raises(ValidationFailed, match="未找到会员编号"):
        services.entrant_add(actor=organiser, competition=competition, member_no=world.member_b.member_no)
    services.entrant_add(actor=organiser, competition=competition, member_no=world.member_a.member_no)
    with pytest.raises(ValidationFailed, match="已报名"):
        services.entrant_add(actor=organiser, competition=competition, member_no=world.member_a.member_no)


def test_nothing_can_be_organised_before_approval(world: World) -> None:
    organiser = handler_of(world.union_a)
    competition = make_competition(world.union_a, actor=organiser)
    with pytest.raises(Conflict, match="获批后"):
        services.criterion_add(actor=organiser, competition=competition, name="操作", max_points="60")


def test_a_judge_scores_each_entry_once_within_the_rubric(world: World) -> None:
    stage, _organiser, judges = running_stage(world.union_a)
    entry = stage.entries.first()
    with pytest.raises(ValidationFailed, match=r"操作应在 0 到 60\.0 之间"):
        score(stage, judges[0], entry, "61", "30")
    with pytest.raises(ValidationFailed, match="质量应为数字"):
        score(stage, judges[0], entry, "50", "NaN")
    first = score(stage, judges[0], entry, "50.5", "30")
    assert first.total == D("80.5")
    with pytest.raises(Conflict, match="不能修改"):
        score(stage, judges[0], entry, "10", "10")
    assert Score.objects.get(pk=first.pk).total == D("80.5")
    with pytest.raises(PermissionDenied, match="不是该阶段的评委"):
        score(stage, judge_user(world.union_a), entry, "50", "30")
    assert Score.objects.count() == 1


def test_results_are_pending_until_enough_scores_then_ranked_with_awards(world: World) -> None:
    stage, organiser, judges = running_stage(world.union_a, judges=4, entrants=3, prizes=(1, 1, 1))
    entries = list(stage.entries.order_by("id"))
    table = {
        entries[0].pk: (("50", "40"), ("50", "36"), ("44", "40"), ("30", "30")),  # 90 86 84 60 → 85, lowest 84
        entries[1].pk: (("45", "40"), ("50", "35"), ("55", "30"), ("60", "40")),  # 85 85 85 100 → 85, lowest 85
        entries[2].pk: (("40", "30"), ("40", "30")),  # two of four judges: pending
    }
    for entry in entries:
        for judge, (op, q) in zip(judges, table[entry.pk], strict=False):
            score(stage, judge, entry, op, q)
    results = services.stage_results(stage)
    assert results[entries[2].pk][0] is None
    with pytest.raises(Conflict, match="1 名选手的有效评分不足 3 个"):
        services.stage_publish(actor=organiser, stage=stage)
    assert Stage.objects.get(pk=stage.pk).status == StageStatus.SCORING
    score(stage, judges[2], entries[2], "10", "10")  # 70, 70, 20 → 70 over the three submitted
    services.stage_publish(actor=organiser, stage=stage)
    got = {e.entrant_id: (e.result, e.rank, e.award) for e in Entry.objects.filter(stage=stage)}
    # entries 0 and 1 both 85.00: entry 1's lowest counted score (85) beats entry 0's (84)
    assert got[entries[0].entrant_id] == (D("85.00"), 2, Award.SECOND)
    assert got[entries[1].entrant_id] == (D("85.00"), 1, Award.FIRST)
    assert got[entries[2].entrant_id] == (D("70.00"), 3, Award.THIRD)
    with pytest.raises(Conflict):
        score(stage, judges[0], entries[2], "1", "1")  # the stage is closed


def test_mean_with_a_minimum_of_two_publishes_over_the_scores_submitted(world: World) -> None:
    stage, organiser, judges = running_stage(world.union_a, judges=3, entrants=2, rule=ScoringRule.MEAN, min_scores=2)
    a, b = stage.entries.order_by("id")
    score(stage, judges[0], a, "50", "40")
    score(stage, judges[1], a, "40", "40")  # 90, 80 → 85
    score(stage, judges[0], b, "45", "40")
    score(stage, judges[1], b, "45", "40")
    score(stage, judges[2], b, "45", "40")  # 85 ×3 → 85, lowest 85 ahead of a's 80
    services.stage_publish(actor=organiser, stage=stage)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.result, a.rank, a.scores_counted) == (D("85.00"), 2, 2)
    assert (b.result, b.rank, b.scores_counted) == (D("85.00"), 1, 3)


def test_the_next_stage_takes_those_who_advanced(world: World) -> None:
    organiser = handler_of(world.union_a)
    competition = make_competition(world.union_a, actor=organiser)
    competition = services.competition_decide(actor=reviewer_of(world.street), competition=competition, approve=True)
    services.criterion_add(actor=organiser, competition=competition, name="操作", max_points="100")
    signup = services.stage_add(actor=organiser, competition=competition, name="报名", scored=False)
    prelim = services.stage_add(
        actor=organiser,
        competition=competition,
        name="初赛",
        scored=True,
        rule=ScoringRule.MEAN,
        min_scores=1,
        advance=2,
    )
    final = services.stage_add(actor=organiser, competition=competition, name="决赛", scored=True, min_scores=1)
    for i in range(3):
        services.entrant_add(
            actor=organiser, competition=competition, member_no=make_member(world.union_a, name="选手%d" % i).member_no
        )
    judge = judge_user(world.union_a)
    services.judge_assign(actor=organiser, competition=competition, username=judge.username)
    competition = services.competition_start(actor=organiser, competition=competition)
    with pytest.raises(Conflict, match="上一阶段"):
        services.stage_open(actor=organiser, stage=prelim)
    assert services.stage_open(actor=organiser, stage=signup).status == StageStatus.PUBLISHED
    prelim = services.stage_open(actor=organiser, stage=prelim)
    c = competition.criteria.get()
    for points, entry in zip(("90", "70", "80"), prelim.entries.order_by("id"), strict=True):
        services.score_submit(actor=judge, entry=entry, points={str(c.pk): points})
    services.stage_publish(actor=organiser, stage=prelim)
    final = services.stage_open(actor=organiser, stage=final)
    finalists = sorted(e.entrant.member.name for e in final.entries.select_related("entrant__member"))
    assert finalists == ["选手0", "选手2"]


def test_skill_upgrade_after_a_published_result_only_upward(world: World) -> None:
    stage, organiser, judges = running_stage(world.union_a, judges=1, entrants=1, rule=ScoringRule.MEAN, min_scores=1)
    entry = stage.entries.select_related("entrant").get()
    upgrade = {
        "actor": organiser,
        "entrant": entry.entrant,
        "from_grade": SkillGrade.INTERMEDIATE,
        "to_grade": SkillGrade.SENIOR,
        "basis": "决赛一等奖",
        "recorded_on": timezone.localdate().isoformat(),
    }
    with pytest.raises(Conflict, match="还没有公布的成绩"):
        services.skill_upgrade(**upgrade)
    score(stage, judges[0], entry, "50", "40")
    services.stage_publish(actor=organiser, stage=stage)
    with pytest.raises(ValidationFailed, match="新等级应高于原等级"):
        services.skill_upgrade(**{**upgrade, "to_grade": SkillGrade.JUNIOR})
    with pytest.raises(PermissionDenied):
        services.skill_upgrade(**{**upgrade, "actor": world.staff_b})
    record = services.skill_upgrade(**upgrade)
    assert (record.member, record.trade, record.to_grade) == (entry.entrant.member, "焊工", SkillGrade.SENIOR)
    with pytest.raises(Conflict, match="已登记"):
        services.skill_upgrade(**upgrade)
    assert SkillRecord.objects.count() == 1
