"""Reports: abnormal first with explanations and trends, the consent gate on H5, audited staff
reads, the PDF with its embedded Chinese font, union statistics with small groups suppressed,
critical values per organisation, the catalogue page."""

import datetime as dt
import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.core.models import AuditEvent
from gonghui.health import services
from gonghui.health.models import Checkup, Indicator
from gonghui.health.report import build_report, report_text
from gonghui.health.tests.samples import messy_hl7
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import ConsentPurpose, Tag
from gonghui.members.services import has_consent
from gonghui.organizations.models import PolicyVersion
from gonghui.site.testing import World, make_member


def import_hl7(world: World, ids: dict[str, str]) -> Checkup:
    batch = services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="hl7",
        filename="lab.hl7",
        content=messy_hl7(ids["a"], ids["b"]),
        enqueue=False,
    )
    services.import_batch_run(batch_id=batch.pk)
    return Checkup.objects.get(external_id="TJ2025-001")


@pytest.mark.django_db
def test_report_lists_abnormal_items_first_with_trends(world: World, ids: dict[str, str]) -> None:
    view = build_report(import_hl7(world, ids))
    assert [(i.code, i.flag, i.value, i.grade, i.delta, i.newly_abnormal) for i in view.abnormal] == [
        ("UA", "high", "480", "高尿酸血症（需非同日复查确认）", "+80", True),
        ("GLU", "high", "6.30", "空腹血糖受损", "+1.02", True),
        ("TC", "high", "6.00", "边缘升高", "+1.00", True),
        ("SBP", "high", "142", "1级高血压", "+14", True),
        ("BMI", "high", "26.1", "超重", "", False),
    ]
    glu = view.abnormal[1]
    assert glu.reference == "≥3.9 且 <6.1"
    assert glu.advice.startswith("空腹血糖 6.1～6.9 为空腹血糖受损")
    assert [(p.year, p.value) for p in glu.previous] == [(2024, "5.28")]
    assert view.summary_lines == [
        "本次体检报告共 11 项，异常 5 项。",
        "尿酸 偏高：480 μmol/L（参考 ≤420），高尿酸血症（需非同日复查确认）；2024年为 400，变化 +80（今年新出现异常）。",
        "空腹血糖 偏高：6.30 mmol/L（参考 ≥3.9 且 <6.1），空腹血糖受损；2024年为 5.28，变化 +1.02（今年新出现异常）。",
        "总胆固醇 偏高：6.00 mmol/L（参考 <5.2），边缘升高；2024年为 5.00，变化 +1.00（今年新出现异常）。",
        "收缩压 偏高：142 mmHg（参考 ≥90 且 <140），1级高血压；2024年为 128，变化 +14（今年新出现异常）。",
        "体重指数 偏高：26.1 kg/m²（参考 ≥18.5 且 <24.0），超重。",
    ]
    assert view.chart["default"] == ["UA", "GLU", "TC", "SBP", "BMI"]
    assert view.chart["series"]["GLU"] == {
        "name": "空腹血糖",
        "unit": "mmol/L",
        "low": 3.9,
        "high": 6.1,
        "points": [["2024-03-10", 5.28, "exam"], ["2025-03-12", 6.3, "exam"]],
    }
    hgb = next(i for i in view.items if i.code == "HGB")
    assert (hgb.value, hgb.original, hgb.lab_range, hgb.advice) == ("142", "14.2 g/dL", "", "")
    assert [label for label, _ in view.by_category] == ["血常规", "肝功能", "肾功能", "血糖", "血脂", "一般检查"]


@pytest.mark.django_db
def test_member_must_consent_before_the_first_report(world: World, ids: dict[str, str]) -> None:
    checkup = import_hl7(world, ids)
    client = world.client_for(world.member_a.user)
    home = client.get("/h5/health/").content.decode()
    assert 'data-testid="consent-needed"' in home and "report-link" not in home
    response = client.get("/h5/health/reports/%d/" % checkup.pk)
    assert response.status_code == 302
    assert response["Location"] == "/h5/health/consent/?next=/h5/health/reports/%d/" % checkup.pk
    assert client.get("/h5/health/reports/%d/pdf/" % checkup.pk).status_code == 302
    refused = client.post("/h5/health/consent/", {"next": "/h5/health/reports/%d/" % checkup.pk})
    assert refused.status_code == 422 and not has_consent(member=world.member_a, purpose=ConsentPurpose.HEALTH)
    agreed = client.post("/h5/health/consent/", {"agree": "1", "next": "/h5/health/reports/%d/" % checkup.pk})
    assert agreed["Location"] == "/h5/health/reports/%d/" % checkup.pk
    page = client.get(agreed["Location"]).content.decode()
    codes = re.findall(r'data-testid="abnormal-item" data-code="(\w+)" data-flag="(\w+)"', page)
    assert codes == [("UA", "high"), ("GLU", "high"), ("TC", "high"), ("SBP", "high"), ("BMI", "high")]
    assert "尿酸是体内嘌呤代谢的产物" in page and 'id="health-chart"' in page
    # the member's own reads are not audited; staff reads are
    assert not AuditEvent.objects.filter(action="health.report_read").exists()


@pytest.mark.django_db
def test_consent_redirect_stays_inside_health_pages(world: World) -> None:
    client = world.client_for(world.member_a.user)
    response = client.post("/h5/health/consent/", {"agree": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/h5/health/"


@pytest.mark.django_db
def test_a_member_cannot_open_another_members_report(world: World, ids: dict[str, str]) -> None:
    checkup = import_hl7(world, ids)
    other = make_member(world.union_a, name="赵六")
    from gonghui.accounts.models import User

    other.user = User.objects.create_user(username="zhao6")
    other.save()
    services.health_consent_grant(member=other)
    client = Client()
    client.force_login(other.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    assert client.get("/h5/health/reports/%d/" % checkup.pk).status_code == 404
    assert client.get("/h5/health/reports/%d/pdf/" % checkup.pk).status_code == 404


@pytest.mark.django_db
def test_pdf_embeds_the_chinese_font(world: World, ids: dict[str, str]) -> None:
    checkup = import_hl7(world, ids)
    services.health_consent_grant(member=world.member_a)
    client = world.client_for(world.member_a.user)
    response = client.get("/h5/health/reports/%d/pdf/" % checkup.pk)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''" + quote(
        "体检报告_苏州甲公司工会_张三_2025-03-12.pdf"
    )
    body = response.content
    assert body.startswith(b"%PDF-")
    assert re.findall(rb"/BaseFont /([A-Z]{6})\+GonghuiSansSC", body)
    assert b"/FontFile3" in body  # the CFF font program is embedded, not referenced


@pytest.mark.django_db
def test_missing_glyphs_print_as_a_box() -> None:
    from gonghui.health.pdf import printable

    assert printable("张三") == "张三"
    assert printable("龔先生") == "□先生"


@pytest.mark.django_db
def test_staff_reads_are_audited_and_scoped(world: World, ids: dict[str, str], health_staff) -> None:  # type: ignore[no-untyped-def]
    checkup = import_hl7(world, ids)
    client = world.client_for(health_staff)
    page = client.get("/console/health/reports/%d/" % checkup.pk)
    assert page.status_code == 200 and "空腹血糖受损" in page.content.decode()
    event = AuditEvent.objects.get(action="health.report_read")
    assert (event.actor_id, event.object_id, event.organization_id) == (
        health_staff.pk,
        str(checkup.pk),
        world.union_a.pk,
    )
    assert client.get("/console/health/reports/%d/pdf/" % checkup.pk).status_code == 200
    assert AuditEvent.objects.filter(action="health.report_read").count() == 2
    outsider = world.client_for(world.staff_b)
    assert outsider.get("/console/health/reports/%d/" % checkup.pk).status_code == 404
    assert AuditEvent.objects.filter(action="health.report_read").count() == 2
    members = client.get("/console/health/members/?q=%s" % decrypt_id_number(world.member_a.id_number_encrypted))
    assert world.member_a.name in members.content.decode()


def _sbp_csv(rows: list[tuple[str, int]]) -> bytes:
    lines = ["身份证号,体检日期,项目代码,结果,单位"]
    lines += ["%s,2025-05-20,SBP,%d,mmHg" % (number, value) for number, value in rows]
    return "\n".join(lines).encode()


@pytest.mark.django_db
def test_union_statistics_suppress_groups_under_ten(world: World, health_staff) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for i in range(12):
        m = make_member(world.union_a, name="司机%d" % i, tags=Tag.TRUCK_DRIVER)
        rows.append((decrypt_id_number(m.id_number_encrypted), 150 if i < 5 else 120))
    for i in range(3):
        m = make_member(world.union_b, name="乙%d" % i)
        rows.append((decrypt_id_number(m.id_number_encrypted), 160))
    from gonghui.core.permissions import Role
    from gonghui.site.testing import grant, make_user

    street_health = grant(make_user("street_health"), world.street, Role.HEALTH)
    batch = services.import_batch_create(
        actor=street_health,
        organization=world.street,
        fmt="csv",
        filename="bp.csv",
        content=_sbp_csv(rows),
        enqueue=False,
    )
    assert services.import_batch_run(batch_id=batch.pk)["imported"] == 15
    from gonghui.health.selectors import HIGH_FLAGS, abnormal_share

    sbp = Indicator.objects.get(code="SBP").pk
    by_org = abnormal_share(
        actor=street_health, organization=world.street, indicator_id=sbp, year=2025, group_by="org", flags=HIGH_FLAGS
    )
    assert [(r.label, r.measured, r.abnormal, r.suppressed, r.share) for r in by_org] == [
        ("苏州甲公司工会", 12, 5, False, 41.7),
        ("苏州乙公司工会", 0, 0, True, None),
        ("平江街道总工会（本级）", 0, 0, True, None),
    ]
    by_tag = abnormal_share(
        actor=street_health, organization=world.street, indicator_id=sbp, year=2025, group_by="tag", flags=HIGH_FLAGS
    )
    # 15 measured in all (the sex grouping shows it): 货车司机 12 beside a hidden 无标签 would
    # give the hidden 3 away, so it is hidden too.
    assert [(r.label, r.measured, r.abnormal, r.suppressed, r.small) for r in by_tag] == [
        ("货车司机", 0, 0, True, False),
        ("无标签", 0, 0, True, True),
    ]
    client = world.client_for(street_health)
    page = client.get(
        "/console/health/stats/?organization=%s&indicator=SBP&year=2025&group_by=org&flags=high" % world.street.code
    ).content.decode()
    assert "人数不足 10 人，不予显示" in page and "41.7%" in page
    tag_page = client.get(
        "/console/health/stats/?organization=%s&indicator=SBP&year=2025&group_by=tag&flags=high" % world.street.code
    ).content.decode()
    assert "为防止由合计推算，不予显示" in tag_page and "41.7%" not in tag_page
    export = client.get(
        "/console/health/stats/?organization=%s&indicator=SBP&year=2025&group_by=tag&flags=high&export=csv"
        % world.street.code
    )
    assert export["Content-Disposition"] == "attachment; filename*=utf-8''" + quote(
        "体检异常统计_平江街道总工会_收缩压_2025年_%(day)s.csv" % {"day": timezone.localdate().isoformat()}
    )
    assert export.content.decode("utf-8-sig").splitlines() == [
        "分组,受检人数,异常人数,异常比例(%)",
        "货车司机,不予显示,不予显示,",
        "无标签,<10,不予显示,",
    ]
    # union A's own health staff sees only their union
    mine = world.client_for(health_staff)
    assert mine.get("/console/health/stats/?organization=%s" % world.street.code).status_code == 404


@pytest.mark.django_db
def test_union_statistics_take_the_threshold_from_the_policy(world: World) -> None:
    from gonghui.core.aggregates import SMALL_GROUP_POLICY
    from gonghui.core.permissions import Role
    from gonghui.health.selectors import HIGH_FLAGS, abnormal_share
    from gonghui.organizations.policies import policy_approve, policy_propose
    from gonghui.site.testing import grant, make_user

    rows = []
    for i in range(12):
        m = make_member(world.union_a, name="司机%d" % i, tags=Tag.TRUCK_DRIVER)
        rows.append((decrypt_id_number(m.id_number_encrypted), 150 if i < 5 else 120))
    for i in range(11):
        m = make_member(world.union_b, name="乙%d" % i)
        rows.append((decrypt_id_number(m.id_number_encrypted), 120))
    street_health = grant(make_user("street_health"), world.street, Role.HEALTH)
    batch = services.import_batch_create(
        actor=street_health,
        organization=world.street,
        fmt="csv",
        filename="bp.csv",
        content=_sbp_csv(rows),
        enqueue=False,
    )
    assert services.import_batch_run(batch_id=batch.pk)["imported"] == 23
    sbp = Indicator.objects.get(code="SBP").pk

    def by_org() -> list[tuple[str, int, bool, bool]]:
        found = abnormal_share(
            actor=street_health,
            organization=world.street,
            indicator_id=sbp,
            year=2025,
            group_by="org",
            flags=HIGH_FLAGS,
        )
        return [(r.label, r.measured, r.suppressed, r.small) for r in found]

    # the street's own level is empty and hidden; 乙 is hidden beside it, or 23 - 12 would show it
    assert by_org() == [
        ("苏州甲公司工会", 12, False, False),
        ("苏州乙公司工会", 0, True, False),
        ("平江街道总工会（本级）", 0, True, True),
    ]
    proposed = policy_propose(
        actor=world.federation_admin, kind=SMALL_GROUP_POLICY, organization=world.province, body={"min_group": 12}
    )
    policy_approve(actor=grant(make_user("province_reviewer"), world.province, Role.REVIEWER), version_id=proposed.pk)
    assert by_org() == [
        ("苏州甲公司工会", 12, False, False),
        ("苏州乙公司工会", 0, True, True),
        ("平江街道总工会（本级）", 0, True, True),
    ]
    page = world.client_for(street_health).get(
        "/console/health/stats/?organization=%s&indicator=SBP&year=2025&group_by=org&flags=high" % world.street.code
    )
    assert "人数不足 12 人，不予显示" in page.content.decode()


@pytest.mark.django_db
def test_critical_values_per_organisation(world: World, health_staff) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(health_staff)
    page = client.get("/console/health/critical/?organization=%s" % world.union_a.code)
    assert page.status_code == 200 and "&lt;2.8 或 &gt;6.2" in page.content.decode()
    bad = client.post(
        "/console/health/critical/",
        {"organization": world.union_a.code, "low_K": "6", "high_K": "3", "low_NA": "125", "high_NA": "155"},
    )
    assert bad.status_code == 422 and "危急值上限必须大于下限" in bad.content.decode()
    assert "部分危急值设置有误，全部未保存" in bad.content.decode()
    assert not PolicyVersion.objects.exists()
    ok = client.post("/console/health/critical/", {"organization": world.union_a.code, "low_K": "3.0", "high_K": "6.0"})
    assert ok.status_code == 302
    first = PolicyVersion.objects.get()
    assert (first.kind, first.version, first.body, first.created_by, first.approved_by) == (
        "health.critical_limits",
        1,
        {"limits": {"K": {"low": "3.0000", "high": "6.0000"}}},
        health_staff,
        health_staff,
    )
    client.post("/console/health/critical/", {"organization": world.union_a.code, "low_K": "3.0", "high_K": "6.5"})
    second = PolicyVersion.objects.get(version=2)
    assert second.body == {"limits": {"K": {"low": "3.0000", "high": "6.5000"}}}
    first.refresh_from_db()
    assert first.body == {"limits": {"K": {"low": "3.0000", "high": "6.0000"}}}
    client.post("/console/health/critical/", {"organization": world.union_a.code, "low_K": "", "high_K": ""})
    assert PolicyVersion.objects.get(version=3).body == {"limits": {}}
    assert AuditEvent.objects.filter(action="policy.publish").count() == 3
    outsider = world.client_for(world.staff_b)
    assert (
        outsider.post("/console/health/critical/", {"organization": world.union_a.code, "low_K": "1"}).status_code
        == 404
    )
    assert PolicyVersion.objects.count() == 3


@pytest.mark.django_db
def test_catalogue_and_console_pages_render(world: World, ids: dict[str, str], health_staff) -> None:  # type: ignore[no-untyped-def]
    import_hl7(world, ids)
    client = world.client_for(health_staff)
    catalogue = client.get("/console/health/catalogue/").content.decode()
    assert "WS/T 405—2012 表1（成人静脉血，男）" in catalogue and "14771-0" in catalogue
    assert "WS/T 404.5—2015《临床常用生化检验项目参考区间 第5部分：血清尿素、肌酐》" in catalogue
    for path in (
        "/console/health/",
        "/console/health/programmes/",
        "/console/health/imports/",
        "/console/health/centres/",
        "/console/health/kiosks/",
        "/console/health/members/%d/" % world.member_a.pk,
    ):
        assert client.get(path).status_code == 200, path


@pytest.mark.django_db
def test_report_text_holds_every_number_shown(world: World, ids: dict[str, str]) -> None:
    text = report_text(build_report(import_hl7(world, ids)))
    for expected in ("480", "6.30", "5.28", "+1.02", "2024-03-10", "26.1", "≤420"):
        assert expected in text
    assert dt.date(2025, 3, 12).isoformat() in text


@pytest.mark.django_db
def test_list_pages_do_not_query_per_row(world: World, ids: dict[str, str], health_staff) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.health_consent_grant(member=world.member_a)
    member_client = world.client_for(world.member_a.user)
    staff_client = world.client_for(health_staff)

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as h5:
            assert member_client.get("/h5/health/").status_code == 200
        with CaptureQueriesContext(connection) as console:
            assert staff_client.get("/console/health/members/%d/" % world.member_a.pk).status_code == 200
        return len(h5), len(console)

    import_hl7(world, ids)
    counts()  # warm up sessions and caches
    few = counts()
    for year in range(2015, 2021):
        Checkup.objects.create(
            member=world.member_a,
            organization=world.union_a,
            source="csv",
            external_id="Y%d" % year,
            exam_date=dt.date(year, 5, 1),
            kind="exam",
        )
    assert counts() == few


@pytest.mark.django_db
def test_catalogue_page_speaks_chinese(world: World, health_staff) -> None:  # type: ignore[no-untyped-def]
    """The boundary convention, the review note and the indicator names are Chinese; codes
    (LOINC, indicator codes, units) stay as codes."""
    html = world.client_for(health_staff).get("/console/health/catalogue/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1]))
    assert "边界约定： 参考区间（WS/T 404、WS/T 405）包含上下两端" in text
    assert "须经工会医学顾问审定后方可启用" in text
    assert "白细胞计数" in text and "6690-2" in text
    assert "White blood cell count" not in text
    assert re.findall(r"\b[a-z]{2,} [a-z]{2,} [a-z]{2,}\b", text) == []  # no English prose
