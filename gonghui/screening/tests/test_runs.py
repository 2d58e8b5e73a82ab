import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from gonghui.core import jobs
from gonghui.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent, JobStatus
from gonghui.organizations.models import Level, Organization
from gonghui.relief import plans
from gonghui.relief import selectors as relief_selectors
from gonghui.relief.models import CaseKind, HardshipFile, PlanVisit, ReliefCase
from gonghui.screening import selectors, services
from gonghui.screening.models import Candidate, CandidateStatus, Change, Rule, Run, RunStatus
from gonghui.screening.tests import world as sw
from gonghui.screening.tests.helpers import id_of, run
from gonghui.site.testing import make_member, make_org


@pytest.fixture
def screening(world):  # type: ignore[no-untyped-def]
    return sw.build(world)


def _found(r: Run) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for c in Candidate.objects.filter(run=r):
        out.setdefault(c.rule_key, set()).add(c.member_id)
    return out


@pytest.mark.django_db
def test_a_city_run_finds_every_shipped_rule_with_masked_evidence(screening):
    w = screening.world
    r = run(w.federation_admin, w.city, reference_date=sw.REFERENCE)
    assert r.job.status == JobStatus.SUCCEEDED and r.status == RunStatus.SUCCEEDED
    assert _found(r) == {
        "medical_spend": {screening.sick.pk},
        "civil_aid": {screening.poor.pk},
        "unemployment_new": {screening.jobless.pk},
        "work_injury": {screening.injured.pk},
    }
    assert (r.candidates_count, r.new_count, r.still_count, r.gone_count) == (4, 4, 0, 0)
    assert r.members_scanned == 5
    medical = Candidate.objects.get(run=r, rule_key="medical_spend")
    assert medical.organization == w.union_b  # the member's grassroots union reviews it
    assert medical.evidence == {
        "suggestion": "大病救助",
        "source": "医保 结算明细",
        "dataset": {"id": screening.datasets["yb"].pk, "name": "医保结算明细", "version": 1},
        "amount_fen": 6500050,
        "row_count": 2,
        "event_date": "2026-03-02",
        "threshold_fen": 6_000_000,
    }
    injury = Candidate.objects.get(run=r, rule_key="work_injury")
    assert injury.evidence["category"] == "职业病" and injury.evidence["suggestion"] == "患职业病"
    # What the run read is recorded, with versions.
    assert {d["kind"]: d["version"] for d in r.inputs["datasets"]} == {
        "yb_settlement": 1,
        "mz_dibao": 1,
        "rs_unemployment": 1,
        "rs_injury": 1,
    }
    assert {x["key"]: x["version"] for x in r.inputs["rules"]} == {
        "medical_spend": 1,
        "civil_aid": 1,
        "unemployment_new": 1,
        "work_injury": 1,
    }
    assert r.inputs["engine"] == "duckdb"
    # No plaintext ID number in any evidence or audit detail.
    numbers = [id_of(m) for m in (screening.sick, screening.poor, screening.jobless, screening.injured)]
    stored = str(list(Candidate.objects.values_list("evidence", flat=True))) + str(
        list(AuditEvent.objects.values_list("detail", flat=True))
    )
    assert not any(n in stored for n in numbers)


@pytest.mark.django_db
def test_a_run_over_a_street_leaves_out_members_elsewhere_in_the_city(screening, world):
    county = make_org(world.city, Level.COUNTY, "吴中区总工会", "320506")
    elsewhere = make_member(make_org(county, Level.GRASSROOTS, "吴中丙公司工会", "320506"), name="周九")
    sw.upload_dibao(world, [screening.poor, elsewhere])
    street_run = run(world.federation_admin, world.street, reference_date=sw.REFERENCE)
    assert _found(street_run)["civil_aid"] == {screening.poor.pk}
    city_run = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    assert _found(city_run)["civil_aid"] == {screening.poor.pk, elsewhere.pk}
    assert city_run.previous is None  # another scope's run is not this scope's previous one


@pytest.mark.django_db
def test_the_next_run_shows_new_still_and_gone(screening, world):
    first = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    # The new 低保 list no longer has member A; the new 失业登记 window starts after the first run.
    sw.upload_dibao(world, [])
    second = run(world.federation_admin, world.city, reference_date=sw.REFERENCE + dt.timedelta(days=30))
    assert second.previous == first
    assert _found(second) == {"medical_spend": {screening.sick.pk}, "work_injury": {screening.injured.pk}}
    assert (second.new_count, second.still_count, second.gone_count) == (0, 2, 2)
    assert set(Candidate.objects.filter(run=second).values_list("change", flat=True)) == {Change.STILL}
    gone = selectors.gone_candidates_for_actor(actor=world.federation_admin, run=second)
    assert {(c.member_id, c.rule_key) for c in gone} == {
        (screening.poor.pk, "civil_aid"),
        (screening.jobless.pk, "unemployment_new"),
    }
    assert {d["kind"]: d["version"] for d in second.inputs["datasets"]}["mz_dibao"] == 2
    # Union B's staff see only their union's part of the diff.
    gone_b = selectors.gone_candidates_for_actor(actor=world.staff_b, run=second)
    assert gone_b == []


@pytest.mark.django_db
def test_a_rejected_candidate_stays_away_until_its_evidence_changes(screening, world):
    first = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    medical = Candidate.objects.get(run=first, rule_key="medical_spend")
    services.candidate_reject(actor=world.staff_b, candidate=medical, reason="已由单位全额报销")
    second = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    again = Candidate.objects.get(run=second, rule_key="medical_spend")
    assert again.status == CandidateStatus.REJECTED and again.reason == "已由单位全额报销"
    assert second.suppressed_count == 1
    assert not selectors.candidate_list(
        actor=world.staff_b, filters=selectors.candidate_filters(actor=world.staff_b, params={"run": str(second.pk)})
    ).filter(rule_key="medical_spend")
    # A new settlement raises the year's spend: the evidence changed, the candidate is open again.
    sw.upload_medical(world, sw.medical_rows(screening.sick, ["35000.00", "30000.50", "2000"]))
    third = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    back = Candidate.objects.get(run=third, rule_key="medical_spend")
    assert back.status == CandidateStatus.OPEN and back.evidence["amount_fen"] == 6700050
    assert back.change == Change.STILL


@pytest.mark.django_db
def test_candidates_refer_to_real_runs_unions_rules_and_deciders(screening, world):
    """The keys have no database constraint (see `Candidate`): the run checks them itself."""
    first = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    medical = Candidate.objects.get(run=first, rule_key="medical_spend")
    # A reason with the CSV's delimiter and quote comes back from the export intact.
    services.candidate_reject(actor=world.staff_b, candidate=medical, reason='已报销,见"单位证明"')
    second = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    carried = Candidate.objects.get(run=second, rule_key="medical_spend")
    assert carried.reason == '已报销,见"单位证明"' and carried.decided_by == world.staff_b
    assert carried.decided_at == Candidate.objects.get(pk=medical.pk).decided_at
    rows = Candidate.objects.values_list("run_id", "organization_id", "rule_id", "decided_by_id")
    runs, unions, rules, deciders = (set(column) for column in zip(*rows, strict=True))
    assert runs == {first.pk, second.pk}
    assert unions <= set(Organization.objects.filter(level=Level.GRASSROOTS).values_list("pk", flat=True))
    assert rules <= set(Rule.objects.values_list("pk", flat=True))
    assert deciders - {None} == {world.staff_b.pk}
    # Each candidate's union is its member's.
    assert all(c.organization_id == c.member.organization_id for c in Candidate.objects.select_related("member"))


@pytest.mark.django_db
def test_a_run_naming_a_missing_union_fails_and_writes_nothing(screening, world, monkeypatch):
    shape = services.shape_found

    def shape_with_a_stale_union(local, **kwargs):  # type: ignore[no-untyped-def]
        shape(local, **kwargs)
        local.execute("UPDATE shaped SET org_id = 987654321 WHERE rule_key = 'civil_aid'")

    monkeypatch.setattr(services, "shape_found", shape_with_a_stale_union)
    started = services.run_start(actor=world.federation_admin, organization=world.city, reference_date=sw.REFERENCE)
    with pytest.raises(IntegrityError, match=r"missing organizations\.Organization rows: 987654321"):
        jobs.job_execute(job_id=started.job_id)
    r = Run.objects.select_related("job").get(pk=started.pk)
    assert r.job.status == JobStatus.FAILED and r.status == RunStatus.FAILED
    assert not Candidate.objects.filter(run=r).exists()


@pytest.mark.django_db
def test_reject_needs_a_reason_and_sibling_staff_may_not_review(screening, world):
    r = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    civil = Candidate.objects.get(run=r, rule_key="civil_aid")  # union A's
    with pytest.raises(ValidationFailed, match="请填写排除原因"):
        services.candidate_reject(actor=world.staff_a, candidate=civil, reason=" 。"[:1])
    with pytest.raises(PermissionDenied):
        services.candidate_reject(actor=world.staff_b, candidate=civil, reason="不是本单位职工")
    with pytest.raises(PermissionDenied):
        services.candidate_accept(actor=world.staff_b, candidate=civil, target_kind="file")
    civil.refresh_from_db()
    assert civil.status == CandidateStatus.OPEN and civil.reason == "" and civil.decided_by is None
    with pytest.raises(NotFound):
        selectors.candidate_get_for_actor(actor=world.staff_b, pk=civil.pk)
    # The file needs the household's figures, which no agency sends: refused, nothing changed.
    with pytest.raises(ValidationFailed, match="家庭年可支配收入"):
        services.candidate_accept(actor=world.staff_a, candidate=civil, target_kind="file")
    civil.refresh_from_db()
    assert civil.status == CandidateStatus.OPEN and not HardshipFile.objects.exists()
    figures = {"annual_income": "12000", "rigid_spending": "6000", "household_size": "3"}
    accepted = services.candidate_accept(actor=world.staff_a, candidate=civil, target_kind="file", data=figures)
    assert accepted.status == CandidateStatus.ACCEPTED and accepted.target_kind == "file"
    file = HardshipFile.objects.get(member=screening.poor)
    assert accepted.target_ref == file.file_no and file.organization == world.union_a
    assert file.contact_user == world.staff_a and file.main_cause == "other"
    assert AuditEvent.objects.filter(action="screening.candidate_accept", object_id=str(civil.pk)).count() == 1


@pytest.mark.django_db
def test_accepting_a_medical_candidate_opens_a_major_illness_case_prefilled_with_the_spend(screening, world):
    r = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    medical = Candidate.objects.get(run=r, rule_key="medical_spend")
    accepted = services.candidate_accept(
        actor=world.staff_b, candidate=medical, target_kind="medical", data={"payee_card": "6222020200112233445"}
    )
    case = ReliefCase.objects.get(member=screening.sick)
    assert case.kind == CaseKind.MAJOR_ILLNESS and accepted.target_ref == case.case_no
    assert case.event_date == dt.date(2026, 3, 2) and "65000.50 元" in case.description


@pytest.mark.django_db
def test_grassroots_staff_cannot_start_a_run_and_the_run_needs_a_plausible_date(screening, world):
    with pytest.raises(PermissionDenied):
        services.run_start(actor=world.staff_a, organization=world.city)
    with pytest.raises(ValidationFailed):
        services.run_start(actor=world.federation_admin, organization=world.union_a)
    with pytest.raises(ValidationFailed):
        services.run_start(
            actor=world.federation_admin, organization=world.city, reference_date=dt.date.today() + dt.timedelta(days=2)
        )
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_a_saved_rule_version_is_used_and_recorded_by_the_next_run(screening, world):
    services.rules_install_shipped()
    data = {
        "name": "医保个人负担超 3 万元",
        "condition_type": "yearly_sum",
        "dataset_kinds": ["yb_settlement"],
        "threshold": "30000",
        "since": "any",
        "suggestion_kind": "medical",
        "suggestion": "大病救助",
        "evidence": ["amount_fen", "row_count"],
        "is_active": True,
    }
    preview = services.rule_preview(
        actor=world.federation_admin, organization=world.city, data=data, reference_date=sw.REFERENCE
    )
    assert preview.count == 1 and preview.sample[0]["name"] == "李*"
    assert "金额：65000.50 元（门槛 30000.00 元）" in preview.sample[0]["lines"]
    with pytest.raises(PermissionDenied):
        services.rule_save(actor=world.staff_a, key="medical_spend", data=data)
    with pytest.raises(ValidationFailed, match="金额门槛"):
        services.rule_save(actor=world.federation_admin, key="medical_spend", data={**data, "threshold": "-5"})
    saved = services.rule_save(actor=world.federation_admin, key="medical_spend", data=data)
    assert saved.version == 2
    r = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    assert {x["key"]: x["version"] for x in r.inputs["rules"]}["medical_spend"] == 2
    assert Candidate.objects.get(run=r, rule_key="medical_spend").rule == saved


@pytest.mark.django_db
def test_an_accepted_visit_candidate_puts_the_member_on_the_groups_visit_plans(screening, world):
    r = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    jobless = Candidate.objects.get(run=r, rule_key="unemployment_new")  # union A's, 下岗失业
    today = timezone.localdate().isoformat()
    plan = {"title": "春节慰问", "occasion": "festival", "starts_on": today, "ends_on": today, "goods": "米面油"}
    laid_off = plans.plan_create(
        actor=world.federation_admin, organization=world.city, data={**plan, "group": "laid_off"}
    )
    frontline = plans.plan_create(
        actor=world.federation_admin, organization=world.city, data={**plan, "group": "frontline"}
    )
    assert not relief_selectors.plan_targets(actor=world.staff_a, plan=laid_off).filter(pk=screening.jobless.pk)

    accepted = services.candidate_accept(actor=world.staff_a, candidate=jobless, target_kind="visit")
    assert (accepted.status, accepted.target_kind, accepted.target_ref) == ("accepted", "visit", "下岗失业职工")
    # The grassroots staff find the member on the 下岗失业 plan (not on another group's) and record the visit.
    targets = relief_selectors.plan_targets(actor=world.staff_a, plan=laid_off)
    assert list(targets.values_list("pk", flat=True)) == [screening.jobless.pk]
    assert not relief_selectors.plan_targets(actor=world.staff_a, plan=frontline).filter(pk=screening.jobless.pk)
    assert not relief_selectors.plan_targets(actor=world.staff_b, plan=laid_off).exists()  # union B's staff
    visit = plans.plan_visit_record(
        actor=world.staff_a,
        plan=laid_off,
        member=screening.jobless,
        data={"visited_on": today, "goods": "米面油"},
        budget=None,
    )
    assert PlanVisit.objects.get(plan=laid_off).pk == visit.pk and visit.organization == world.union_a
    # The next run finds no new 失业登记 since this one; the referral stands all the same.
    again = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    assert not Candidate.objects.filter(run=again, rule_key="unemployment_new").exists()
    assert relief_selectors.plan_targets(actor=world.staff_a, plan=laid_off).filter(pk=screening.jobless.pk).exists()


@pytest.mark.django_db
def test_a_visit_suggestion_naming_no_visit_group_is_refused(screening, world):
    services.rules_install_shipped()
    Rule.objects.filter(key="unemployment_new").update(suggestion="不存在的类别")
    r = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    jobless = Candidate.objects.get(run=r, rule_key="unemployment_new")
    with pytest.raises(ValidationFailed, match="不是现行的常态化慰问类别"):
        services.candidate_accept(actor=world.staff_a, candidate=jobless, target_kind="visit")
    jobless.refresh_from_db()
    assert jobless.status == CandidateStatus.OPEN
