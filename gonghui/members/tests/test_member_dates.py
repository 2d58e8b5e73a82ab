"""The date joined is plausible: not in the future, not before the member turned 16, not
before 1950 — in the member form, its service and the bulk import."""

import datetime as dt

import pytest
from django.utils import timezone

from gonghui.core.errors import ValidationFailed
from gonghui.core.identifiers import make_resident_id
from gonghui.members import services
from gonghui.members.models import Member, MemberHistory
from gonghui.members.services import joined_on_error
from gonghui.site.testing import World, make_member

BIRTH = dt.date(1990, 6, 15)


@pytest.mark.parametrize(
    ("joined", "message"),
    [
        (dt.date(2006, 6, 14), "入会日期应在年满16周岁（2006-06-15）之后"),
        (dt.date(2006, 6, 15), None),
        (dt.date(1800, 1, 1), "入会日期不能早于 1950-01-01"),
        (dt.date(2026, 7, 2), "入会日期不能晚于今天"),
        (dt.date(2026, 7, 1), None),
    ],
)
def test_joined_on_boundaries(joined: dt.date, message: str | None) -> None:
    assert joined_on_error(joined, BIRTH, today=dt.date(2026, 7, 1)) == message


def test_a_leap_day_birth_turns_sixteen_on_the_leap_day_or_first_of_march() -> None:
    assert joined_on_error(dt.date(2024, 2, 28), dt.date(2008, 2, 29), today=dt.date(2026, 7, 1)) is not None
    assert joined_on_error(dt.date(2024, 2, 29), dt.date(2008, 2, 29), today=dt.date(2026, 7, 1)) is None
    assert services._years_after(dt.date(2084, 2, 29), 16) == dt.date(2100, 3, 1)  # 2100 is no leap year


@pytest.mark.django_db
def test_member_edit_refuses_a_joined_date_before_sixteen_and_changes_nothing(world: World) -> None:
    member = make_member(world.union_a, birth=BIRTH)
    client = world.client_for(world.staff_a)
    for joined, message in (("1800-01-01", "入会日期不能早于 1950-01-01"), ("2006-06-14", "入会日期应在年满16周岁")):
        response = client.post(
            "/console/members/%d/edit/" % member.pk,
            {"name": member.name, "phone": member.phone, "joined_on": joined, "version": str(member.version)},
        )
        assert response.status_code == 422
        assert message in response.content.decode()
    fresh = Member.objects.get(pk=member.pk)
    assert (fresh.joined_on, fresh.version) == (member.joined_on, member.version)
    assert not MemberHistory.objects.filter(member=member, action="update").exists()
    saved = services.member_update(actor=world.staff_a, member=fresh, data={"joined_on": "2006-06-15"})
    assert saved.joined_on == dt.date(2006, 6, 15)


@pytest.mark.django_db
def test_member_edit_with_a_version_that_is_not_a_number_is_refused_as_stale(world: World) -> None:
    member = make_member(world.union_a, birth=BIRTH)
    response = world.client_for(world.staff_a).post(
        "/console/members/%d/edit/" % member.pk,
        {"name": "新名字", "phone": member.phone, "joined_on": "2010-01-01", "version": "abc"},
    )
    assert response.status_code == 422  # the page shows every refusal with 422
    assert "该会员信息已被他人修改，请刷新后重试" in response.content.decode()
    assert Member.objects.get(pk=member.pk).name == member.name


@pytest.mark.django_db
def test_member_create_checks_the_joined_date_against_the_id_numbers_birth_date(world: World) -> None:
    number = make_resident_id("320508", dt.date(2000, 3, 1), 7, "M")
    data = {"name": "王五", "phone": "13900000099", "joined_on": "2016-02-29"}
    with pytest.raises(ValidationFailed) as exc:
        services.member_create(actor=world.staff_a, organization=world.union_a, id_number=number, data=data)
    assert exc.value.fields == {"joined_on": "入会日期应在年满16周岁（2016-03-01）之后"}
    assert not Member.objects.filter(name="王五").exists()
    member = services.member_create(
        actor=world.staff_a, organization=world.union_a, id_number=number, data={**data, "joined_on": "2016-03-01"}
    )
    assert member.joined_on == dt.date(2016, 3, 1)
    assert timezone.localdate() >= member.joined_on


@pytest.mark.django_db
def test_import_rows_check_the_joined_date_against_the_birth_date(world: World) -> None:
    from gonghui.members.import_models import ImportStatus
    from gonghui.members.tests.test_import_validation import issues_of, person, upload

    rows = [
        person(1, 入会日期="2006-01-01"),  # row 2: born 1990-01-01, joined on the sixteenth birthday
        person(2, 入会日期="2005-12-31"),  # row 3: the day before
        person(3, 入会日期="1800-01-01"),  # row 4
        person(4, 入会日期="2005年12月31日"),  # row 5: the spreadsheet spelling of row 3's date
    ]
    batch = upload(world, rows)
    assert batch.status == ImportStatus.VALIDATED
    assert (batch.rows_valid, batch.rows_invalid) == (1, 3)
    assert issues_of(batch) == {
        3: ["入会日期：入会日期应在年满16周岁（2006-01-01）之后"],
        4: ["入会日期：入会日期不能早于 1950-01-01"],
        5: ["入会日期：入会日期应在年满16周岁（2006-01-01）之后"],
    }
