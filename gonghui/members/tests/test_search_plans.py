"""Searches stay planned for their parameters on a connection that has prepared them
(issue 9 item 15): a generic plan cannot use the prefix index for `name LIKE $1`."""

import pytest
from django.db import connection

from gonghui.site.testing import World, make_member

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]


def _plans(fragment: str) -> list[tuple[int, int]]:
    """(generic, custom) plan counts of the statements this connection prepared that contain `fragment`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%" + fragment + "%"],
        )
        return list(cursor.fetchall())


@pytest.mark.parametrize(
    ("query", "fragment"),
    [("张", '"members_member"."name"::text LIKE'), ("zs", '"members_member"."name_initials"::text LIKE')],
)
def test_a_search_repeated_on_one_connection_never_switches_to_a_generic_plan(
    world: World, query: str, fragment: str
) -> None:
    for i in range(25):
        make_member(world.union_a if i % 2 else world.union_b, name="张三丰")
    make_member(world.union_b, name="王五")
    client = world.client_for(world.federation_admin)
    for _ in range(15):
        response = client.get("/console/members/", {"q": query})
        assert response.status_code == 200
        assert "张三" in response.content.decode()
    plans = _plans(fragment)
    # The page's row query and its count query, each prepared after five runs and run ten more times.
    assert len(plans) == 2
    assert all(generic == 0 and custom >= 10 for generic, custom in plans), plans
