import datetime as dt
import time
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.identifiers import make_resident_id
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import Role
from gonghui.members import card, selectors, services
from gonghui.members.identity import decrypt_id_number, name_initials
from gonghui.members.models import Member, MemberHistory, MembershipStatus, Tag, TransferStatus
from gonghui.site.testing import World, grant, make_member, make_user

VALID = {"name": "王小明", "phone": "13912345678", "joined_on": "2024-03-01"}


def _id(seq: int = 7, sex: str = "M") -> str:
    return make_resident_id("320508", dt.date(1990, 5, 17), seq, sex)


@pytest.mark.django_db
def test_create_member_encrypts_the_id_and_derives_birth_and_sex(world: World) -> None:
    number = _id(sex="F")
    member = services.member_create(actor=world.staff_a, organization=world.union_a, id_number=number, data=dict(VALID))
    assert member.birth_date == dt.date(1990, 5, 17)
    assert member.sex == "F"
    assert number not in member.id_number_encrypted
    assert decrypt_id_number(member.id_number_encrypted) == number
    assert member.id_masked == number[:4] + "*" * 10 + number[-4:]
    assert member.name_initials == "wxm"
    assert AuditEvent.objects.filter(action="member.create", object_id=str(member.pk)).count() == 1


@pytest.mark.django_db
def test_create_reports_every_bad_field_in_chinese_and_saves_nothing(world: World) -> None:
    before = Member.objects.count()
    with pytest.raises(ValidationFailed) as info:
        services.member_create(
            actor=world.staff_a,
            organization=world.union_a,
            id_number=_id()[:17] + ("0" if _id()[17] != "0" else "1"),
            data={"name": "", "phone": "123", "joined_on": "2099-01-01"},
        )
    assert info.value.fields == {
        "name": "请填写姓名",
        "phone": "手机号码应为11位、以1开头的中国大陆号码",
        "joined_on": "入会日期不能晚于今天",
        "id_number": "身份证号码校验位错误",
    }
    assert Member.objects.count() == before


@pytest.mark.django_db
def test_duplicate_id_number_is_refused_even_across_unions(world: World) -> None:
    number = _id(9)
    services.member_create(actor=world.staff_b, organization=world.union_b, id_number=number, data=dict(VALID))
    with pytest.raises(ValidationFailed) as info:
        services.member_create(actor=world.staff_a, organization=world.union_a, id_number=number, data=dict(VALID))
    assert info.value.fields["id_number"] == "该身份证号码已登记为会员"


@pytest.mark.django_db
def test_staff_cannot_create_in_a_sibling_union(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.member_create(actor=world.staff_b, organization=world.union_a, id_number=_id(11), data=dict(VALID))
    assert not Member.objects.filter(name="王小明").exists()


@pytest.mark.django_db
def test_edit_keeps_history_with_old_values(world: World) -> None:
    member = services.member_update(
        actor=world.staff_a,
        member=world.member_a,
        data={"phone": "13700000009", "tags": Tag.COURIER},
        reason="本人申请",
    )
    assert member.version == 2
    entry = MemberHistory.objects.get(member=member, version=2)
    assert entry.changes == {"phone": ["13900000001", "13700000009"], "tags": [0, Tag.COURIER]}
    assert entry.reason == "本人申请"
    with pytest.raises(Conflict):
        services.member_update(actor=world.staff_a, member=member, data={"phone": "13700000010"}, expected_version=1)
    member.refresh_from_db()
    assert member.phone == "13700000009"


@pytest.mark.django_db
def test_reveal_needs_permission_and_reason_and_is_audited(world: World) -> None:
    handler = grant(make_user("handler_only"), world.union_a, Role.HANDLER)
    with pytest.raises(PermissionDenied):
        services.member_reveal_id_number(actor=handler, member=world.member_a, reason="核对身份信息")
    with pytest.raises(ValidationFailed):
        services.member_reveal_id_number(actor=world.staff_a, member=world.member_a, reason="")
    number = services.member_reveal_id_number(actor=world.staff_a, member=world.member_a, reason="核对身份信息")
    assert number == decrypt_id_number(world.member_a.id_number_encrypted)
    events = AuditEvent.objects.filter(action="member.reveal_id", object_id=str(world.member_a.pk))
    assert [(e.result, e.detail.get("reason")) for e in events.order_by("id")] == [
        ("denied", None),
        ("ok", "核对身份信息"),
    ]


@pytest.mark.django_db
def test_pages_show_only_the_masked_id(world: World) -> None:
    full = decrypt_id_number(world.member_a.id_number_encrypted)
    client = world.client_for(world.staff_a)
    for url in ("/console/members/", f"/console/members/{world.member_a.pk}/"):
        body = client.get(url).content.decode()
        assert world.member_a.id_masked in body
        assert full not in body
    revealed = client.post(f"/console/members/{world.member_a.pk}/reveal-id/", {"reason": "核对身份信息"})
    assert full in revealed.content.decode()


@pytest.mark.django_db
def test_search_by_initials_phone_full_id_and_name_prefix(world: World) -> None:
    zhang_san_feng = make_member(world.union_a, name="张三丰", phone="13655556666")
    make_member(world.union_a, name="赵四", phone="13811112222")

    def names(query: str, actor=world.staff_a) -> list[str]:  # type: ignore[no-untyped-def]
        return sorted(m.name for m in selectors.member_list_for_actor(actor=actor, query=query))

    assert names("zs") == ["张三", "张三丰", "赵四"]
    assert names("zsf") == ["张三丰"]
    assert names("1365555") == ["张三丰"]
    assert names("张三") == ["张三", "张三丰"]
    full = decrypt_id_number(zhang_san_feng.id_number_encrypted)
    assert names(full) == ["张三丰"]
    assert names(full.lower()) == ["张三丰"]
    assert names("zs", actor=world.staff_b) == []
    assert names("ls", actor=world.staff_b) == ["李四"]
    assert names("zs", actor=world.federation_admin) == ["张三", "张三丰", "赵四"]


@pytest.mark.django_db
def test_list_filters_by_tag_and_status(world: World) -> None:
    make_member(world.union_a, name="骑手甲", tags=Tag.FOOD_DELIVERY | Tag.NEW_FORM)
    make_member(world.union_a, name="快递乙", tags=Tag.COURIER, status=MembershipStatus.RETAINED)
    riders = selectors.member_list_for_actor(actor=world.staff_a, tag=Tag.FOOD_DELIVERY)
    assert [m.name for m in riders] == ["骑手甲"]
    retained = selectors.member_list_for_actor(actor=world.staff_a, status=MembershipStatus.RETAINED)
    assert [m.name for m in retained] == ["快递乙"]


def test_pinyin_initials() -> None:
    assert name_initials("张三") == "zs"
    assert name_initials("欧阳娜娜") == "oynn"


@pytest.mark.django_db
def test_transfer_needs_out_and_in_approval_by_someone_else(world: World) -> None:
    transfer = services.transfer_submit(
        actor=world.staff_a, member=world.member_a, to_org=world.union_b, reason="工作调动"
    )
    world.member_a.refresh_from_db()
    assert world.member_a.status == MembershipStatus.TRANSFERRING
    with pytest.raises(PermissionDenied, match="提交人不能审批"):
        services.transfer_decide(actor=world.staff_a, transfer=transfer, approve=True)
    with pytest.raises(PermissionDenied):
        services.transfer_decide(actor=world.staff_b, transfer=transfer, approve=True)  # B cannot approve A's "out"
    reviewer_a = grant(make_user("reviewer_a"), world.union_a, Role.REVIEWER)
    transfer = services.transfer_decide(actor=reviewer_a, transfer=transfer, approve=True)
    assert transfer.status == TransferStatus.PENDING_IN
    with pytest.raises(PermissionDenied):
        services.transfer_decide(actor=reviewer_a, transfer=transfer, approve=True)  # A cannot approve B's "in"
    transfer = services.transfer_decide(actor=world.staff_b, transfer=transfer, approve=True)
    assert transfer.status == TransferStatus.COMPLETED
    world.member_a.refresh_from_db()
    assert (world.member_a.organization_id, world.member_a.status) == (world.union_b.pk, MembershipStatus.ACTIVE)
    assert MemberHistory.objects.filter(member=world.member_a, action="transfer").count() == 1


@pytest.mark.django_db
def test_rejected_transfer_restores_the_member(world: World) -> None:
    transfer = services.transfer_submit(
        actor=world.staff_a, member=world.member_a, to_org=world.union_b, reason="工作调动"
    )
    reviewer_a = grant(make_user("reviewer_a2"), world.union_a, Role.REVIEWER)
    with pytest.raises(ValidationFailed):
        services.transfer_decide(actor=reviewer_a, transfer=transfer, approve=False, reason="")
    services.transfer_decide(actor=reviewer_a, transfer=transfer, approve=False, reason="材料不全")
    world.member_a.refresh_from_db()
    assert (world.member_a.organization_id, world.member_a.status) == (world.union_a.pk, MembershipStatus.ACTIVE)
    with pytest.raises(Conflict):
        services.transfer_decide(actor=world.staff_b, transfer=transfer, approve=True)


@pytest.mark.django_db
def test_membership_status_changes_follow_the_allowed_paths(world: World) -> None:
    member = services.member_change_status(
        actor=world.staff_a, member=world.member_a, status=MembershipStatus.RETAINED, reason="下岗保留会籍"
    )
    assert member.status == MembershipStatus.RETAINED
    with pytest.raises(Conflict, match="不能从“保留会籍”变更为“转出中”"):
        services.member_change_status(
            actor=world.staff_a, member=member, status=MembershipStatus.TRANSFERRING, reason="x"
        )


@pytest.mark.django_db
def test_card_token_expires_and_cannot_be_forged(world: World) -> None:
    now = time.time()
    token = card.card_token_issue(member=world.member_a, now=now)
    assert token.expires_at - int(now) <= 60
    assert card.card_token_verify(token=token.token, now=now).pk == world.member_a.pk
    with pytest.raises(ValidationFailed, match="已过期"):
        card.card_token_verify(token=token.token, now=now + 61)
    _member_id, expires, nonce, signature = token.token.split(".")
    forged = f"{world.member_b.pk}.{expires}.{nonce}.{signature}"
    with pytest.raises(ValidationFailed, match="会员码无效"):
        card.card_token_verify(token=forged, now=now)


@pytest.mark.django_db
def test_card_verify_api_is_for_clerks_in_scope(world: World) -> None:
    token = card.card_token_issue(member=world.member_a).token
    ok = world.client_for(world.staff_a).post(
        "/api/members/card/verify", {"token": token}, content_type="application/json"
    )
    assert ok.status_code == 200
    assert ok.json()["name_masked"] == "张*"
    sibling = world.client_for(world.staff_b).post(
        "/api/members/card/verify", {"token": token}, content_type="application/json"
    )
    assert sibling.status_code == 404
    assert "张" not in sibling.content.decode()


@pytest.mark.django_db
def test_member_list_query_count_does_not_grow_with_rows(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(world.staff_a)
    client.get("/console/members/")  # warm the session
    for i in range(3):
        make_member(world.union_a, name=f"甲{i}")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/console/members/").status_code == 200
    for i in range(30):
        make_member(world.union_a, name=f"乙{i}")
    with django_assert_max_num_queries(
        len(few.captured_queries) + 1
    ):  # +1: the capped total count once a second page exists
        assert client.get("/console/members/").status_code == 200


@pytest.mark.django_db
def test_export_is_masked_scoped_and_audited(world: World) -> None:
    import io

    from openpyxl import load_workbook

    response = world.client_for(world.staff_a).get("/console/members/export.xlsx?q=zs")
    assert response.status_code == 200
    name = "会员名册_苏州甲公司工会_%(day)s.xlsx" % {"day": timezone.localdate().isoformat()}
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''" + quote(name)
    assert response["Cache-Control"] == "no-store"
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("会员编号", "姓名", "性别", "出生日期", "证件号码")
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [("张三", world.member_a.id_masked, "139****0001")]
    event = AuditEvent.objects.get(action="member.export")
    assert event.detail == {"export": name, "rows": 1, "filters": {"q": "zs"}}


@pytest.mark.django_db
def test_card_data_export_lists_active_members_of_the_editors_subtree_and_is_audited(world: World) -> None:
    import io

    from openpyxl import load_workbook

    retired = make_member(world.union_a, name="王退会")
    Member.objects.filter(pk=retired.pk).update(status=MembershipStatus.WITHDRAWN)
    page = world.client_for(world.staff_a).get("/console/members/")
    assert 'data-testid="card-export"' in page.content.decode()
    response = world.client_for(world.staff_a).get("/console/members/cards.xlsx")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("会员卡号", "姓名", "性别", "所属工会", "工会代码", "入会时间", "会员编号")
    card = world.member_a.card_no
    expected = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert [(r[0], r[1], r[4]) for r in rows[1:]] == [(expected, "张三", world.union_a.code)]  # not 王退会, not 李四
    assert AuditEvent.objects.get(action="member.card_export").detail == {
        "export": "制卡数据_苏州甲公司工会_%(day)s.xlsx" % {"day": timezone.localdate().isoformat()},
        "rows": 1,
        "filters": {},
    }

    reviewer = grant(make_user("reviewer_only"), world.union_a, Role.REVIEWER)  # may view members, not edit
    assert 'data-testid="card-export"' not in world.client_for(reviewer).get("/console/members/").content.decode()
    assert world.client_for(reviewer).get("/console/members/cards.xlsx").status_code == 403
    assert (
        world.client_for(world.staff_b).get(f"/console/members/cards.xlsx?org={world.union_a.code}").status_code == 404
    )


@pytest.mark.django_db
def test_member_sees_and_withdraws_a_consent(world: World) -> None:
    from django.test import Client

    from gonghui.members.models import Consent, ConsentPurpose

    services.consent_grant(member=world.member_a, purpose=ConsentPurpose.HEALTH, text_version="2026-1")
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    assert "已于" in client.get("/h5/consents/").content.decode()
    assert client.post("/h5/consents/health/withdraw/").status_code == 302
    assert not services.has_consent(member=world.member_a, purpose=ConsentPurpose.HEALTH)
    assert Consent.objects.get(member=world.member_a).withdrawn_at is not None
    assert AuditEvent.objects.filter(action="consent.withdraw", organization_path=world.union_a.path).count() == 1
