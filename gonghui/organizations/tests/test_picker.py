"""The union picker: what each purpose lets an actor choose, the public search of the join
form, and the forms that refuse an empty choice with "请选择工会"."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from gonghui.core.errors import NotFound, PermissionDenied
from gonghui.core.permissions import Role
from gonghui.members.models import JoinApplication, Transfer
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.selectors import grassroots_union_search, organization_picker_for_actor
from gonghui.site.testing import World, grant, make_org, make_user

pytestmark = pytest.mark.django_db

CODE = re.compile(r'data-code="([^"]+)"')


def _codes(options: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(o.code for o in options)


def test_organisations_carry_their_pinyin_initials(world: World) -> None:
    assert world.union_a.name_initials == "szjgsgh"
    assert Organization.objects.get(pk=world.union_b.pk).name_initials == "szygsgh"


def test_import_picker_of_b_cannot_pick_a(world: World) -> None:
    for query in ("", "苏州", world.union_a.code, "szjg", "甲公司"):
        options = organization_picker_for_actor(actor=world.staff_b, purpose="member_import", query=query)
        assert world.union_a.code not in _codes(options)
    assert _codes(organization_picker_for_actor(actor=world.staff_b, purpose="member_import", query="")) == [
        world.union_b.code
    ]
    assert _codes(
        organization_picker_for_actor(actor=world.federation_admin, purpose="member_import", query="szjg")
    ) == [world.union_a.code]


def test_transfer_picker_finds_any_grassroots_union_by_name_code_or_initials(world: World) -> None:
    for query in ("甲公司", world.union_a.code, "SZJG", "jgs"):
        options = organization_picker_for_actor(actor=world.staff_b, purpose="transfer", query=query)
        assert _codes(options) == [world.union_a.code], query
        assert options[0].name == world.union_a.name
    both = organization_picker_for_actor(actor=world.staff_b, purpose="transfer", query="苏州")
    assert _codes(both) == sorted([world.union_a.code, world.union_b.code])  # not 苏州市总工会
    assert organization_picker_for_actor(actor=world.staff_b, purpose="transfer", query="") == []


def test_picker_refuses_an_actor_without_the_purposes_permission(world: World) -> None:
    auditor = grant(make_user("auditor_picker"), world.union_a, Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        organization_picker_for_actor(actor=auditor, purpose="transfer", query="苏州")
    with pytest.raises(NotFound):
        organization_picker_for_actor(actor=world.staff_a, purpose="everything", query="苏州")
    assert world.client_for(auditor).get("/console/organizations/picker/?purpose=transfer&q=苏州").status_code == 403


def test_picker_endpoint_answers_a_short_list_of_the_actors_choices(world: World) -> None:
    client = world.client_for(world.staff_b)
    response = client.get("/console/organizations/picker/", {"purpose": "member_import", "q": "苏州"})
    assert response.status_code == 200
    assert CODE.findall(response.content.decode()) == [world.union_b.code]
    assert client.get("/console/organizations/picker/", {"purpose": "nope", "q": "苏州"}).status_code == 404


def test_public_search_returns_only_grassroots_names_and_codes(world: World) -> None:
    cache.clear()
    client = Client(REMOTE_ADDR="203.0.113.10")
    response = client.get("/h5/join/unions/", {"q": "苏州"})
    assert response.status_code == 200
    body = response.content.decode()
    assert sorted(CODE.findall(body)) == sorted([world.union_a.code, world.union_b.code])
    assert "苏州市总工会" not in body and world.union_a.region_code not in body
    assert "请至少输入 2 个字" in client.get("/h5/join/unions/", {"q": "苏"}).content.decode()
    assert CODE.findall(client.get("/h5/join/unions/", {"q": "苏"}).content.decode()) == []


def test_public_search_answers_at_most_ten(world: World) -> None:
    for n in range(12):
        make_org(world.street, Level.GRASSROOTS, "姑苏建筑第%s工会" % n)
    assert len(grassroots_union_search(query="姑苏建筑")) == 10


def test_public_search_is_rate_limited(world: World) -> None:
    cache.clear()
    client = Client(REMOTE_ADDR="203.0.113.11")
    statuses = [client.get("/h5/join/unions/", {"q": "苏州"}).status_code for _ in range(41)]
    assert statuses[:40] == [200] * 40
    assert statuses[40] == 429
    assert "查询过于频繁" in client.get("/h5/join/unions/", {"q": "苏州"}).content.decode()
    assert Client(REMOTE_ADDR="203.0.113.12").get("/h5/join/unions/", {"q": "苏州"}).status_code == 200


def test_an_empty_transfer_target_says_choose_a_union(world: World) -> None:
    client = world.client_for(world.staff_a)
    response = client.post(f"/console/members/{world.member_a.pk}/transfer/", {"to_org": "", "reason": "工作调动"})
    assert response.status_code == 422
    assert "请选择工会" in response.content.decode()
    assert Transfer.objects.count() == 0


def test_an_empty_import_target_says_choose_a_union(world: World) -> None:
    response = world.client_for(world.staff_a).post("/console/members/import/upload/", {"organization": ""})
    assert response.status_code == 422
    assert "请选择工会" in response.content.decode()


def test_an_empty_union_on_the_join_form_says_choose_a_union(world: World) -> None:
    response = Client().post("/h5/join/", {"union_code": "", "name": "钱快递"})
    assert "请选择工会" in response.content.decode()
    assert "代码不存在" not in response.content.decode()
    assert JoinApplication.objects.count() == 0
