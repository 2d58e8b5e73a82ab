"""The member list finds a member by 会员编号 (and card number) and by the start of the work
unit (issue 10 item 9)."""

import pytest

from gonghui.members.selectors import member_list_for_actor
from gonghui.site.testing import World, make_member

pytestmark = pytest.mark.django_db


def _names(world: World, **filters: str) -> list[str]:
    return [m.name for m in member_list_for_actor(actor=world.staff_a, **filters)]


def test_a_member_number_finds_exactly_that_member_in_any_case(world: World) -> None:
    other = make_member(world.union_a, name="王五")
    assert _names(world, query=other.member_no) == ["王五"]
    assert _names(world, query=other.member_no.lower()) == ["王五"]
    assert _names(world, query=f" {other.member_no} ") == ["王五"]
    assert _names(world, query=other.card_no) == ["王五"]
    # Another union's member stays out of reach by number.
    assert _names(world, query=world.member_b.member_no) == []


def test_a_work_unit_prefix_finds_the_members_of_that_unit(world: World) -> None:
    make_member(world.union_a, name="王五", work_unit="苏州恒通物流有限公司")
    make_member(world.union_a, name="赵六", work_unit="苏州恒通物流有限公司")
    make_member(world.union_a, name="钱七", work_unit="无锡恒通科技有限公司")
    make_member(world.union_b, name="孙八", work_unit="苏州恒通物流有限公司")
    assert _names(world, work_unit="苏州恒通") == ["赵六", "王五"]
    assert _names(world, work_unit="苏州恒通", query="zl") == ["赵六"]


def test_the_list_page_searches_by_number_and_by_work_unit(world: World) -> None:
    other = make_member(world.union_a, name="王五", work_unit="苏州恒通物流有限公司")
    client = world.client_for(world.staff_a)
    html = client.get("/console/members/", {"q": other.member_no}).content.decode()
    assert (other.member_no in html, world.member_a.member_no in html) == (True, False)
    html = client.get("/console/members/", {"unit": "苏州恒通"}).content.decode()
    assert (other.member_no in html, world.member_a.member_no in html) == (True, False)
    assert 'name="unit" value="苏州恒通"' in html
