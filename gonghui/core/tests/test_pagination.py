"""Page numbers with ellipses, a jump-to-page form, and page numbers past the end clamped
(issue 10 item 9); every list page still renders with them."""

import re

import pytest

from gonghui.core.pagination import Page
from gonghui.site.testing import World, make_member
from gonghui.site.tests.test_url_access import _PARAM, all_patterns, build_path


def _page(number: int, total: int, *, capped: bool = False, has_next: bool | None = None) -> Page:
    if has_next is None:
        has_next = number * 20 < total
    return Page([], number, 20, total, capped, has_next, "q=%E5%BC%A0", [("q", "张")])


def _numbers(page: Page) -> list[int | None]:
    return [number for number, _url in page.links]


def test_links_show_the_first_the_last_and_two_either_side_with_ellipses() -> None:
    assert _numbers(_page(9, 8660)) == [1, None, 7, 8, 9, 10, 11, None, 433]
    assert _numbers(_page(1, 8660)) == [1, 2, 3, None, 433]
    assert _numbers(_page(433, 8660)) == [1, None, 431, 432, 433]
    assert _numbers(_page(4, 8660)) == [1, 2, 3, 4, 5, 6, None, 433]
    assert _numbers(_page(2, 60)) == [1, 2, 3]
    assert dict(_page(2, 60).links)[3] == "?q=%E5%BC%A0&page=3"


def test_past_a_capped_total_the_links_stop_at_the_next_page() -> None:
    assert _numbers(_page(600, 10_000, capped=True, has_next=True)) == [1, None, 598, 599, 600, 601, None]
    assert _numbers(_page(3, 10_000, capped=True, has_next=True)) == [1, 2, 3, 4, None]


@pytest.fixture
def staff_a_members(world: World) -> World:
    for _ in range(45):
        make_member(world.union_a, name="王五")
    return world  # 46 members of union A with member_a: pages of 20, 20 and 6


def _rows(html: str) -> int:
    return len(re.findall(r'<tr><td class="mono"><a href="/console/members/\d+/">', html))


@pytest.mark.django_db
def test_a_page_past_the_end_shows_the_last_page(staff_a_members: World) -> None:
    client = staff_a_members.client_for(staff_a_members.staff_a)
    html = client.get("/console/members/", {"page": "9999"}).content.decode()
    assert "共 46 条，第 3/3 页" in html
    assert _rows(html) == 6
    assert '<li class="page-item active" aria-current="page"><span class="page-link">3</span></li>' in html
    assert '<a class="page-link" href="?page=1">1</a>' in html
    assert '<a class="page-link" href="?page=2">2</a>' in html


@pytest.mark.django_db
def test_page_links_and_the_jump_form_keep_the_filters(staff_a_members: World) -> None:
    client = staff_a_members.client_for(staff_a_members.staff_a)
    html = client.get("/console/members/", {"q": "王", "page": "2"}).content.decode()
    assert "共 45 条，第 2/3 页" in html
    assert _rows(html) == 20
    assert '<a class="page-link" href="?q=%E7%8E%8B&amp;page=3">3</a>' in html
    jump = html[html.index('data-testid="page-jump"') :]
    assert '<input type="hidden" name="q" value="王">' in jump
    assert 'max="3" name="page"' in jump
    html = client.get("/console/members/", {"q": "王", "page": "3"}).content.decode()
    assert _rows(html) == 5


# Not lists: pages whose object is named in the query string (404 without it): the union picker's
# htmx answer (?purpose=) and the proposal of a policy version (?kind=&organization=).
NAMED_BY_QUERY = {"organizations:picker", "organizations:policy_new"}


@pytest.mark.django_db
def test_every_console_list_renders_a_page_past_its_end(world: World) -> None:
    """Every list shares the pagination: each console page without a path parameter answers
    200 (or a redirect/refusal, never a server error) for `?page=9999` and `?page=x`."""
    client = world.client_for(world.federation_admin)
    answered = 0
    for route, name, _pattern in all_patterns():
        if not route.startswith("console/") or _PARAM.search(route) or name in NAMED_BY_QUERY:
            continue
        for page in ("9999", "x"):
            response = client.get(build_path(route, {}), {"page": page})
            assert response.status_code in (200, 302, 403, 405), (name, page, response.status_code)
            answered += response.status_code == 200
    assert answered > 20
