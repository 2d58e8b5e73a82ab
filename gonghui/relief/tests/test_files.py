"""困难职工档案: filing with the class computed from the policy, one household one file, the
Chinese refusals, sealed figures and the audited reveal, visits every six months, 退档 with a
public notice of five working days and the parent organisation's approval, follow-up, re-filing."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.members.models import Tag
from gonghui.organizations.policies import policy_approve, policy_propose
from gonghui.relief import policies, selectors, services
from gonghui.relief.models import FileStatus, HardshipFile, add_months
from gonghui.relief.rules import HardshipClass
from gonghui.relief.tests.factories import DIBAO_FEN, file_data, make_file, publish_dibao
from gonghui.site.testing import World, grant, make_member, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world: World) -> World:
    publish_dibao(world)
    return world


@pytest.fixture
def street_reviewer(world: World):  # type: ignore[no-untyped-def]
    """审核人 of the street union above A and B: the level that approves their 退档."""
    return grant(make_user("street_reviewer"), world.street, Role.REVIEWER)


def test_filing_computes_the_class_and_stores_the_policy_versions_used(world: World) -> None:
    file = make_file(world)
    assert file.hardship_class == HardshipClass.DEEP
    assert file.dibao_monthly_fen == DIBAO_FEN and file.assessment_year == timezone.localdate().year
    assert file.dibao_policy is not None and file.dibao_policy.kind == "relief.dibao"
    assert file.classes_policy is None  # the shipped default formula
    assert file.status == FileStatus.ACTIVE
    assert file.next_visit_due == add_months(file.filed_on, 6)
    assert AuditEvent.objects.filter(action="relief_file.create", object_id=str(file.pk)).count() == 1


@pytest.mark.parametrize(
    ("rule", "income", "rigid", "expected"),
    [
        ("deep_one_yuan_below_dibao_x12x3", "45999", "10000", HardshipClass.DEEP),
        ("relative_exactly_at_dibao_x12x3", "46000", "10000", HardshipClass.RELATIVE),
        ("relative_one_fen_below_twice", "81999.99", "10000", HardshipClass.RELATIVE),
    ],
)
def test_filing_classes_at_the_boundaries(world: World, rule: str, income: str, rigid: str, expected: str) -> None:
    file = make_file(world, annual_income=income, rigid_spending=rigid)
    assert file.hardship_class == expected, rule


def test_a_household_at_twice_the_line_without_accident_is_not_filed(world: World) -> None:
    with pytest.raises(ValidationFailed, match="不符合困难职工条件"):
        make_file(world, annual_income="82000", rigid_spending="10000")
    assert not HardshipFile.objects.exists()


def test_an_accident_household_above_the_lines_is_filed_as_accident(world: World) -> None:
    file = make_file(world, annual_income="100000", rigid_spending="0", hardship_costs="80000.01")
    assert file.hardship_class == HardshipClass.ACCIDENT


def test_one_household_one_file_a_second_filing_is_refused(world: World) -> None:
    make_file(world)
    with pytest.raises(Conflict, match="一户一档"):
        make_file(world)
    assert HardshipFile.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"main_cause": ""}, "main_cause", "请选择主要致困原因"),
        ({"secondary_causes": ["laid_off", "accident", "other", "schooling"]}, "secondary_causes", "最多选三项"),
        ({"secondary_causes": ["illness"]}, "secondary_causes", "不能与主要原因相同"),
        ({"secondary_causes": ["nonsense"]}, "secondary_causes", "请从列表中选择"),
        ({"household_size": "0"}, "household_size", "共同生活人口不能小于 1"),
        ({"household_size": "abc"}, "household_size", "共同生活人口应为整数"),
        ({"annual_income": "1e5"}, "annual_income", "家庭年可支配收入应为以元为单位的数字，如 12.50"),
        ({"annual_income": "-1"}, "annual_income", "家庭年可支配收入不能为负数"),
        ({"contact_name": ""}, "contact_name", "请选择工作人员或填写联系人姓名"),
        ({"contact_phone": "123"}, "contact_phone", "请填写 11 位手机号"),
        ({"visit_group": "astronauts"}, "visit_group", "请从列表中选择"),
    ],
)
def test_filing_refuses_bad_input_in_chinese(world: World, overrides: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_file(world, **overrides)
    assert caught.value.fields[field] == message
    assert not HardshipFile.objects.exists()


def test_secondary_causes_up_to_three_are_kept(world: World) -> None:
    file = make_file(world, secondary_causes=["laid_off", "accident", "schooling"])
    assert file.causes_display() == ["下岗失业", "意外事故", "子女上学"]


def test_migrant_worker_needs_at_least_one_year_of_labour_relation(world: World) -> None:
    migrant = make_member(world.union_a, name="赵农", tags=Tag.MIGRANT)
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as caught:
        make_file(world, member=migrant)
    assert caught.value.fields["labour_since"] == "请填写劳动关系起始日期"
    almost = add_months(today, -12) + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed, match="满 1 年") as caught:
        make_file(world, member=migrant, labour_since=almost.isoformat())
    assert caught.value.fields["labour_since"] == "劳动关系未满 1 年"
    file = make_file(world, member=migrant, labour_since=add_months(today, -12).isoformat())
    assert file.labour_since == add_months(today, -12)


def test_the_migrant_worker_group_also_needs_the_labour_relation(world: World) -> None:
    with pytest.raises(ValidationFailed, match="劳动关系"):
        make_file(world, visit_group=policies.MIGRANT_GROUP)


def test_income_figures_are_sealed_at_rest_and_revealed_with_an_audit_event(world: World) -> None:
    file = make_file(world)
    raw = HardshipFile.objects.values("annual_income_encrypted", "rigid_spending_encrypted").get(pk=file.pk)
    assert raw["annual_income_encrypted"].startswith("v1:") and "4000000" not in raw["annual_income_encrypted"]
    revealed = services.hardship_file_reveal(actor=world.staff_a, file=file)
    assert revealed.figures.annual_income_fen == 4_000_000 and revealed.figures.rigid_spending_fen == 1_000_000
    assert revealed.assessment.klass == HardshipClass.DEEP
    assert revealed.assessment.steps[0].endswith("¥40,000.00 − ¥10,000.00 = ¥30,000.00")
    event = AuditEvent.objects.get(action="relief.file_reveal")
    assert event.actor_id == world.staff_a.pk and event.object_id == str(file.pk)


def test_household_members_health_and_disability_are_sealed(world: World) -> None:
    file = make_file(world)
    services.household_member_add(
        actor=world.staff_a,
        file=file,
        data={
            "name": "张小明",
            "relation": "child",
            "birth_year": "2012",
            "schooling": "compulsory",
            "annual_income": "0",
            "health": "先天性心脏病",
            "disability": "无",
        },
    )
    person = file.household.get()
    assert "心脏" not in person.health_encrypted and person.name_masked == "张**"
    revealed = services.hardship_file_reveal(actor=world.staff_a, file=file)
    assert revealed.household[0]["health"] == "先天性心脏病"


def test_household_members_cannot_outnumber_the_household_size(world: World) -> None:
    file = make_file(world, household_size="2")
    person = {"name": "李梅", "relation": "spouse", "annual_income": "1000"}
    services.household_member_add(actor=world.staff_a, file=file, data=person)
    with pytest.raises(ValidationFailed, match="不能超过共同生活人口"):
        services.household_member_add(actor=world.staff_a, file=file, data=person)
    assert file.household.count() == 1


def test_a_decision_under_version_1_is_explained_with_version_1_after_version_2(world: World) -> None:
    reviewer = grant(make_user("province_reviewer"), world.province, Role.REVIEWER)
    v1 = policy_propose(
        actor=world.federation_admin,
        kind=policies.CLASSES,
        organization=world.province,
        body={"deep_percent": 100, "relative_percent": 200, "accident_percent": 80},
    )
    policy_approve(actor=reviewer, version_id=v1.pk)
    file = make_file(world, annual_income="70000", rigid_spending="0")  # ¥70,000 < ¥72,000: relative under v1
    assert file.hardship_class == HardshipClass.RELATIVE and file.classes_policy_id == v1.pk
    v2 = policy_propose(
        actor=world.federation_admin,
        kind=policies.CLASSES,
        organization=world.province,
        body={"deep_percent": 100, "relative_percent": 150, "accident_percent": 80},
    )
    policy_approve(actor=reviewer, version_id=v2.pk)
    # Today's policy would class the same figures as none (¥70,000 ≥ ¥54,000) …
    assert services.assess(organization=world.union_a, figures=services.figures_open(file)).assessment.klass == "none"
    # … but the stored decision is explained with version 1.
    explained = services.explain(HardshipFile.objects.get(pk=file.pk))
    assert explained.klass == HardshipClass.RELATIVE
    assert "× 200% = ¥72,000.00，认定为相对困难" in explained.steps[-1]


def test_a_visit_moves_the_next_visit_six_months_on_and_clears_the_overdue_list(world: World) -> None:
    file = make_file(world)
    later = timezone.localdate() + dt.timedelta(days=200)
    assert list(selectors.overdue_visits_for_actor(actor=world.staff_a, today=later)) == [file]
    with time_machine.travel(timezone.now() + dt.timedelta(days=200)):
        visit_day = timezone.localdate()
        services.visit_record(
            actor=world.staff_a, file=file, data={"visited_on": visit_day.isoformat(), "notes": "上门慰问"}
        )
        file.refresh_from_db()
        assert file.last_visit_on == visit_day and file.next_visit_due == add_months(visit_day, 6)
        assert list(selectors.overdue_visits_for_actor(actor=world.staff_a, today=visit_day)) == []


def test_a_visit_in_the_future_or_without_notes_is_refused(world: World) -> None:
    file = make_file(world)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed, match="走访日期不能晚于"):
        services.visit_record(actor=world.staff_a, file=file, data={"visited_on": tomorrow.isoformat(), "notes": "x"})
    with pytest.raises(ValidationFailed, match="请填写走访情况"):
        services.visit_record(actor=world.staff_a, file=file, data={"visited_on": timezone.localdate().isoformat()})
    assert not file.visits.exists()


def test_working_days_skip_weekends_and_the_national_day_holiday_and_count_the_makeup_saturday(world: World) -> None:
    calendar = services.calendar_for(world.union_a)
    # Wed 30 Sep 2026; 1–7 Oct off; Thu 8, Fri 9, Sat 10 (调休上班), Mon 12.
    assert calendar.nth_working_day(dt.date(2026, 9, 30), 5) == dt.date(2026, 10, 12)
    assert calendar.nth_working_day(dt.date(2026, 12, 7), 5) == dt.date(2026, 12, 11)  # Mon → Fri
    assert calendar.nth_working_day(dt.date(2026, 12, 5), 5) == dt.date(2026, 12, 11)  # Sat → next Fri
    assert calendar.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 12)) == 5
    assert not calendar.is_working_day(dt.date(2026, 10, 1)) and calendar.is_working_day(dt.date(2026, 10, 10))


def _notice(world: World, file: HardshipFile) -> HardshipFile:
    return services.withdrawal_notice(actor=world.staff_a, file=file, reason="家庭收入已高于认定标准")


def test_a_unions_local_day_off_lengthens_the_notice(world: World) -> None:
    start = dt.date(2026, 12, 7)  # Monday
    assert services.calendar_for(world.union_a).nth_working_day(start, 5) == dt.date(2026, 12, 11)
    policy_propose(
        actor=world.federation_admin,
        kind="core.workdays",
        organization=world.city,
        body={"holidays": ["2026-12-09"], "workdays": [], "note": "本地纪念日"},
    )
    assert services.calendar_for(world.union_a).nth_working_day(start, 5) == dt.date(2026, 12, 14)
    assert services.calendar_for(world.union_b).nth_working_day(start, 5) == dt.date(2026, 12, 14)


def test_withdrawal_needs_five_working_days_of_notice_and_the_parent_unions_approval(
    world: World, street_reviewer
) -> None:  # type: ignore[no-untyped-def]
    file = _notice(world, make_file(world))
    assert file.status == FileStatus.NOTICE
    calendar = services.calendar_for(world.union_a)
    assert file.notice_ends_on == calendar.nth_working_day(timezone.localdate(), 5)
    assert calendar.working_days_between(file.notice_starts_on, file.notice_ends_on) == 5
    # Union A's own reviewer may not approve: the decision lies one level up.
    with pytest.raises(PermissionDenied):
        services.withdrawal_decide(actor=world.staff_a, file=file, approve=True)
    # The parent's reviewer may not approve before the notice has run its course …
    with pytest.raises(Conflict, match="公示期未满 5 个工作日"):
        services.withdrawal_decide(actor=street_reviewer, file=file, approve=True)
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.NOTICE
    # … and does once it has.
    assert file.notice_ends_on is not None
    after = dt.datetime.combine(
        file.notice_ends_on + dt.timedelta(days=1), dt.time(10), tzinfo=timezone.get_current_timezone()
    )
    with time_machine.travel(after):
        done = services.withdrawal_decide(actor=street_reviewer, file=file, approve=True)
        assert done.status == FileStatus.WITHDRAWN
        assert done.withdrawn_on == timezone.localdate()
        assert done.follow_up_until == add_months(timezone.localdate(), 6)


def test_whoever_opened_the_notice_cannot_approve_it(world: World) -> None:
    both = grant(make_user("street_both"), world.street, Role.HANDLER, Role.REVIEWER)
    file = services.withdrawal_notice(actor=both, file=make_file(world), reason="收入提高")
    with pytest.raises(PermissionDenied, match="不能审批自己发起的退档公示"):
        services.withdrawal_decide(actor=both, file=file, approve=True)
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.NOTICE


def test_a_withdrawal_notice_needs_a_reason(world: World) -> None:
    file = make_file(world)
    with pytest.raises(ValidationFailed, match="请填写原因"):
        services.withdrawal_notice(actor=world.staff_a, file=file, reason=" ")
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.ACTIVE


def test_the_parent_can_keep_the_family_on_file(world: World, street_reviewer) -> None:  # type: ignore[no-untyped-def]
    file = _notice(world, make_file(world))
    kept = services.withdrawal_decide(actor=street_reviewer, file=file, approve=False, reason="仍有重病患者")
    assert kept.status == FileStatus.ACTIVE and kept.notice_starts_on is None


def test_follow_up_lasts_six_months_then_a_family_that_falls_back_is_filed_again(world: World, street_reviewer) -> None:  # type: ignore[no-untyped-def]
    file = _notice(world, make_file(world))
    assert file.notice_ends_on is not None
    with time_machine.travel(timezone.now() + dt.timedelta(days=20)):
        file = services.withdrawal_decide(actor=street_reviewer, file=file, approve=True)
        with pytest.raises(Conflict, match="未到期不能结束跟踪"):
            services.follow_up_end(actor=world.staff_a, file=file)
    with time_machine.travel(timezone.now() + dt.timedelta(days=20 + 190)):
        ended = services.follow_up_end(actor=world.staff_a, file=file)
        assert ended.status == FileStatus.ENDED
        with pytest.raises(ValidationFailed, match="不符合困难职工条件"):
            services.hardship_file_refile(
                actor=world.staff_a, file=ended, data=file_data(annual_income="90000", reason="复查")
            )
        assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.ENDED
        again = services.hardship_file_refile(
            actor=world.staff_a,
            file=ended,
            data=file_data(annual_income="60000", rigid_spending="0", reason="再次患病"),
        )
        assert again.status == FileStatus.ACTIVE and again.hardship_class == HardshipClass.RELATIVE
        assert again.refiled_count == 1 and again.follow_up_until is None and again.filed_on == timezone.localdate()
    assert HardshipFile.objects.filter(member=world.member_a).count() == 1


def test_a_sibling_unions_staff_sees_nothing_of_union_a(world: World) -> None:
    file = make_file(world)
    assert list(selectors.files_for_actor(actor=world.staff_b)) == []
    from gonghui.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.file_get_for_actor(actor=world.staff_b, pk=file.pk)
    with pytest.raises(PermissionDenied):
        services.hardship_file_reveal(actor=world.staff_b, file=file)
    with pytest.raises(PermissionDenied):
        services.visit_record(actor=world.staff_b, file=file, data={"visited_on": "2026-01-01", "notes": "x"})
    with pytest.raises(PermissionDenied):
        services.withdrawal_notice(actor=world.staff_b, file=file, reason="x")
    assert not AuditEvent.objects.filter(action="relief.file_reveal").exists()
    assert selectors.counts_for_actor(actor=world.staff_b, today=timezone.localdate()).open_total == 0


def test_a_staff_member_of_a_sibling_union_cannot_file_union_a_members(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.hardship_file_create(actor=world.staff_b, member=world.member_a, data=file_data())
    assert not HardshipFile.objects.exists()


def test_roles_that_do_not_handle_relief_see_no_file(world: World) -> None:
    make_file(world)
    health_only = grant(make_user("health_only"), world.union_a, Role.HEALTH, Role.REDEEMER, Role.AUDITOR)
    assert list(selectors.files_for_actor(actor=health_only)) == []
    assert selectors.files_for_actor(actor=world.federation_admin).count() == 1


def test_a_reviewer_sees_files_but_cannot_reveal_the_income(world: World) -> None:
    file = make_file(world)
    reviewer = grant(make_user("a_reviewer"), world.union_a, Role.REVIEWER)
    assert selectors.file_get_for_actor(actor=reviewer, pk=file.pk) == file
    with pytest.raises(PermissionDenied):
        services.hardship_file_reveal(actor=reviewer, file=file)


def test_filing_without_a_dibao_standard_for_the_region_says_so(db) -> None:  # type: ignore[no-untyped-def]
    from gonghui.organizations.models import Level
    from gonghui.site.testing import make_org

    root = make_org(None, Level.PROVINCE, "浙江省总工会", "330000")
    union = make_org(root, Level.GRASSROOTS, "杭州丙公司工会", "330106")
    staff = grant(make_user("zj_staff"), union, Role.HANDLER)
    member = make_member(union, name="钱五")
    with pytest.raises(ValidationFailed, match="低保标准尚未设置"):
        services.hardship_file_create(actor=staff, member=member, data=file_data())
