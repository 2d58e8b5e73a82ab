import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from gonghui.core.models import AuditEvent
from gonghui.screening.models import Candidate, CandidateStatus
from gonghui.screening.tests import world as sw
from gonghui.screening.tests.helpers import run
from gonghui.site.testing import make_member


@pytest.fixture
def screened(world):  # type: ignore[no-untyped-def]
    screening = sw.build(world)
    return screening, run(world.federation_admin, world.city, reference_date=sw.REFERENCE)


@pytest.mark.django_db
def test_grassroots_staff_see_only_their_unions_candidates(screened, world):
    _screening, r = screened
    page_a = world.client_for(world.staff_a).get("/console/screening/candidates/")
    page_b = world.client_for(world.staff_b).get("/console/screening/candidates/")
    assert page_a.status_code == page_b.status_code == 200
    listed_a = {c.pk for c in page_a.context["page"].items}
    listed_b = {c.pk for c in page_b.context["page"].items}
    assert listed_a == set(Candidate.objects.filter(run=r, organization=world.union_a).values_list("pk", flat=True))
    assert listed_b == set(Candidate.objects.filter(run=r, organization=world.union_b).values_list("pk", flat=True))
    assert len(listed_a) == len(listed_b) == 2
    text = page_a.content.decode()
    assert "张*" in text and "张三" not in text  # names masked
    # Union B's candidate is not found for union A's staff, nor can they decide it.
    theirs = Candidate.objects.get(run=r, rule_key="medical_spend")
    client_a = world.client_for(world.staff_a)
    assert client_a.get(f"/console/screening/candidates/{theirs.pk}/").status_code == 404
    assert client_a.post(f"/console/screening/candidates/{theirs.pk}/reject/", {"reason": "不认识"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == CandidateStatus.OPEN


@pytest.mark.django_db
def test_filters_and_a_hostile_query_string(screened, world):
    _screening, r = screened
    client = world.client_for(world.federation_admin)
    page = client.get("/console/screening/candidates/", {"rule": "medical_spend", "run": str(r.pk)})
    assert [c.rule_key for c in page.context["page"].items] == ["medical_spend"]
    hostile = client.get(
        "/console/screening/candidates/", {"run": "1e99", "status": "<x>", "change": "'", "page": "-3"}
    )
    assert hostile.status_code == 200
    assert len(hostile.context["page"].items) == 4  # the latest run, open candidates


@pytest.mark.django_db
def test_reject_page_validates_the_reason_and_accept_records_the_target(screened, world):
    _screening, r = screened
    civil = Candidate.objects.get(run=r, rule_key="civil_aid")
    client = world.client_for(world.staff_a)
    refused = client.post(f"/console/screening/candidates/{civil.pk}/reject/", {"reason": " "})
    assert refused.status_code == 422
    assert "请填写排除原因" in refused.content.decode()
    civil.refresh_from_db()
    assert civil.status == CandidateStatus.OPEN
    missing = client.post(f"/console/screening/candidates/{civil.pk}/accept/", {"target_kind": "file"})
    assert missing.status_code == 422 and "家庭年可支配收入" in missing.content.decode()
    figures = {"annual_income": "12000", "rigid_spending": "6000", "household_size": "3"}
    accepted = client.post(f"/console/screening/candidates/{civil.pk}/accept/", {"target_kind": "file", **figures})
    assert accepted.status_code == 302
    civil.refresh_from_db()
    assert (civil.status, civil.target_kind, civil.decided_by) == (CandidateStatus.ACCEPTED, "file", world.staff_a)
    again = client.post(f"/console/screening/candidates/{civil.pk}/reject/", {"reason": "重复"})
    assert again.status_code == 422 and "已核实" in again.content.decode()


@pytest.mark.django_db
def test_run_detail_shows_inputs_and_the_diff(screened, world):
    _screening, r = screened
    page = world.client_for(world.federation_admin).get(f"/console/screening/runs/{r.pk}/")
    text = page.content.decode()
    assert "新增 4 · 持续 0 · 消失 0" in text
    assert "医保结算明细 v1" in text and "低保名单 v1" in text
    # Grassroots staff open the city's run through their candidates.
    assert world.client_for(world.staff_a).get(f"/console/screening/runs/{r.pk}/").status_code == 200


@pytest.mark.django_db
def test_export_lists_the_staffs_candidates_masked_and_is_audited(screened, world):
    _screening, r = screened
    response = world.client_for(world.staff_b).get("/console/screening/candidates/export.xlsx", {"run": str(r.pk)})
    assert response.status_code == 200
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(response.content)).active.iter_rows()]
    assert rows[0][:5] == ["线索编号", "姓名", "会员编号", "所属工会", "规则"]
    assert sorted(row[1] for row in rows[1:]) == ["李*", "钱*"]
    assert AuditEvent.objects.filter(action="screening.candidates_export", actor_id=world.staff_b.pk).count() == 1


@pytest.mark.django_db
def test_pages_render_for_their_roles(screened, world):
    client = world.client_for(world.federation_admin)
    for url in (
        "/console/screening/",
        "/console/screening/datasets/",
        "/console/screening/runs/",
        "/console/screening/rules/",
        "/console/screening/rules/medical_spend/",
        "/console/screening/rules/new/",
    ):
        assert client.get(url).status_code == 200, url
    # Grassroots staff review; they do not manage rules.
    assert world.client_for(world.staff_a).get("/console/screening/rules/new/").status_code == 403
    assert world.client_for(world.member_a.user).get("/console/screening/").status_code in (302, 403)


@pytest.mark.django_db
def test_rule_preview_page_counts_without_saving(screened, world):
    client = world.client_for(world.federation_admin)
    before = list(client.get("/console/screening/rules/").context["rules"])
    response = client.post(
        "/console/screening/rules/medical_spend/",
        {
            "action": "preview",
            "organization": world.city.code,
            "name": "医保个人负担超 1 万元",
            "condition_type": "yearly_sum",
            "dataset_kinds": ["yb_settlement"],
            "threshold": "8000",
            "since": "any",
            "suggestion_kind": "medical",
            "suggestion": "大病救助",
            "evidence": ["amount_fen"],
            "is_active": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["preview"].count == 2
    assert list(client.get("/console/screening/rules/").context["rules"]) == before


@pytest.mark.django_db
def test_the_candidate_list_costs_the_same_queries_for_more_rows(screened, world):
    screening, _first = screened
    client = world.client_for(world.federation_admin)
    client.get("/console/screening/candidates/")  # warm the session and the caches
    with CaptureQueriesContext(connection) as few:
        shown = len(client.get("/console/screening/candidates/").context["page"].items)
    extra = [make_member(world.union_a, name="新会员%d" % i) for i in range(6)]
    sw.upload_dibao(world, [screening.poor, *extra])
    later = run(world.federation_admin, world.city, reference_date=sw.REFERENCE)
    with CaptureQueriesContext(connection) as more:
        page = client.get("/console/screening/candidates/", {"run": str(later.pk)})
    assert len(page.context["page"].items) == shown + 6 - 1  # six more on the list, no new 失业登记
    assert len(more.captured_queries) <= len(few.captured_queries) + 1  # + the run named in the query
