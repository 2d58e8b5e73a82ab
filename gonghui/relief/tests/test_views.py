"""The console pages of 困难职工档案 and the member's H5 page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.relief.models import HardshipFile
from gonghui.relief.tests.factories import file_data, make_file, publish_dibao
from gonghui.site.testing import World, grant, make_member, make_user

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def world(world: World) -> World:
    publish_dibao(world)
    return world


def test_the_list_masks_names_filters_by_class_and_shows_an_empty_state(
    world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    make_file(world)
    make_file(world, member=make_member(world.union_a, name="王小二"), annual_income="60000", rigid_spending="0")
    client = world.client_for(world.staff_a)
    with django_assert_max_num_queries(12):
        body = client.get("/console/relief/files/").content.decode()
    assert "张*" in body and "王**" in body and "王小二" not in body and ">张三<" not in body
    deep = client.get("/console/relief/files/?class=deep").content.decode()
    assert "张*" in deep and "王**" not in deep
    empty = client.get("/console/relief/files/?class=accident").content.decode()
    assert "没有符合条件的困难职工档案" in empty
    overdue = client.get("/console/relief/files/?overdue=1").content.decode()
    assert "没有符合条件的困难职工档案" in overdue


@pytest.mark.parametrize("query", ["class=rich", "status=gone", "page=abc", "page=-1", "q=" + "x" * 500])
def test_the_list_answers_bad_filters_without_a_server_error(world: World, query: str) -> None:
    response = world.client_for(world.staff_a).get("/console/relief/files/?" + query)
    assert response.status_code in (200, 400, 422)


def test_the_export_is_masked_and_audited(world: World) -> None:
    make_file(world)
    response = world.client_for(world.staff_a).get("/console/relief/files/export.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "张*" in text and "张三" not in text and "深度困难" in text
    assert AuditEvent.objects.get(action="relief.files_export").detail["rows"] == 1


def test_filing_through_the_page_shows_the_class(world: World) -> None:
    client = world.client_for(world.staff_a)
    found = client.get("/console/relief/files/new/?member_no=" + world.member_a.member_no)
    assert "张*" in found.content.decode()
    response = client.post(
        "/console/relief/files/new/", {**file_data(), "member_no": world.member_a.member_no}, follow=True
    )
    body = response.content.decode()
    assert response.status_code == 200 and "已建档，认定为深度困难" in body
    assert 'data-testid="file-class">深度困难' in body


def test_filing_with_bad_input_answers_422_in_chinese_and_files_nothing(world: World) -> None:
    response = world.client_for(world.staff_a).post(
        "/console/relief/files/new/",
        {**file_data(annual_income="NaN"), "member_no": world.member_a.member_no},
    )
    assert response.status_code == 422
    assert "家庭年可支配收入应为以元为单位的数字" in response.content.decode()
    assert not HardshipFile.objects.exists()


def test_filing_a_member_of_a_sibling_union_is_not_found(world: World) -> None:
    response = world.client_for(world.staff_b).get("/console/relief/files/new/?member_no=" + world.member_a.member_no)
    assert "未找到该会员编号" in response.content.decode()


def test_the_detail_reveals_the_arithmetic_only_on_an_audited_request(world: World) -> None:
    file = make_file(world)
    client = world.client_for(world.staff_a)
    detail = client.get("/console/relief/files/%d/" % file.pk).content.decode()
    assert "深度困难" in detail and "¥40,000.00" not in detail
    assert not AuditEvent.objects.filter(action="relief.file_reveal").exists()
    revealed = client.post("/console/relief/files/%d/reveal/" % file.pk).content.decode()
    assert "¥40,000.00 − ¥10,000.00 = ¥30,000.00" in revealed and "认定为深度困难" in revealed
    assert AuditEvent.objects.filter(action="relief.file_reveal", actor_id=world.staff_a.pk).count() == 1


def test_a_reviewer_gets_no_reveal_button_and_a_refusal(world: World) -> None:
    file = make_file(world)
    client = world.client_for(grant(make_user("a_reviewer"), world.union_a, Role.REVIEWER))
    assert 'data-testid="reveal"' not in client.get("/console/relief/files/%d/" % file.pk).content.decode()
    assert client.post("/console/relief/files/%d/reveal/" % file.pk).status_code == 403
    assert not AuditEvent.objects.filter(action="relief.file_reveal").exists()


def test_roles_that_do_not_handle_relief_cannot_open_the_pages(world: World) -> None:
    client = world.client_for(grant(make_user("health_only"), world.union_a, Role.HEALTH))
    assert client.get("/console/relief/").status_code == 403
    assert client.get("/console/relief/files/").status_code == 403


def test_attachments_are_sealed_checked_by_content_and_read_with_an_audit_event(world: World) -> None:
    file = make_file(world)
    client = world.client_for(world.staff_a)
    refused = client.post(
        "/console/relief/files/%d/attachments/" % file.pk,
        {"upload": SimpleUploadedFile("a.png", b"MZ not an image", content_type="image/png")},
    )
    assert refused.status_code == 422 and "只能上传 PDF、PNG 或 JPG 文件" in refused.content.decode()
    client.post("/console/relief/files/%d/attachments/" % file.pk, {"upload": SimpleUploadedFile("诊断证明.png", PNG)})
    attachment = file.attachments.get()
    assert attachment.filename == "诊断证明.png" and attachment.content_type == "image/png"
    download = client.get("/console/relief/attachments/%d/" % attachment.pk)
    assert download.status_code == 200 and download.content == PNG
    assert AuditEvent.objects.filter(action="relief.attachment_read").count() == 1
    assert world.client_for(world.staff_b).get("/console/relief/attachments/%d/" % attachment.pk).status_code == 404


def test_the_overdue_list_and_the_visit_form(world: World) -> None:
    file = make_file(world)
    HardshipFile.objects.filter(pk=file.pk).update(next_visit_due="2026-01-01", filed_on="2025-07-01")
    client = world.client_for(world.staff_a)
    assert "张*" in client.get("/console/relief/overdue/").content.decode()
    today = timezone.localdate().isoformat()
    client.post("/console/relief/files/%d/visits/" % file.pk, {"visited_on": today, "notes": "送去慰问品"})
    assert "没有逾期未走访的家庭" in client.get("/console/relief/overdue/").content.decode()
    assert world.client_for(world.staff_b).get("/console/relief/overdue/").status_code == 200


def test_the_major_illness_calculator_shows_each_step(world: World) -> None:
    client = world.client_for(world.staff_a)
    body = client.get(
        "/console/relief/calculator/?total=80000&medical_insurance=40000&other_insurance=15000&mutual_aid=5000"
    ).content.decode()
    assert "¥80,000.00 − ¥40,000.00 − ¥15,000.00 − ¥5,000.00 = ¥20,000.00" in body
    assert 'data-testid="illness-amount">¥3,000.00<' in body
    bad = client.get("/console/relief/calculator/?total=abc")
    assert bad.status_code == 422 and "医疗总费用应为以元为单位的数字" in bad.content.decode()


def test_the_member_sees_their_own_file_status_on_h5(world: World) -> None:
    make_file(world)
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    body = client.get("/h5/relief/").content.decode()
    assert "在档" in body and "王帮扶" in body and "¥" not in body
    other = Client()
    other.force_login(world.member_b.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    assert "您尚未建立困难职工档案" in other.get("/h5/relief/").content.decode()


def test_the_dashboard_card_counts_files_by_class_and_overdue_visits(world: World) -> None:
    from gonghui.relief.dashboard import relief_card

    file = make_file(world)
    HardshipFile.objects.filter(pk=file.pk).update(next_visit_due=timezone.localdate().replace(year=2000))
    card = relief_card(world.staff_a)
    assert [(f.label, f.value) for f in card.figures] == [
        ("深度困难", "1"),
        ("相对困难", "0"),
        ("意外致困", "0"),
        ("走访逾期", "1"),
    ]
    assert relief_card(world.staff_b).figures[0].value == "0"
