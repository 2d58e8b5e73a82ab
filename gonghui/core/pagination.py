"""Pagination that stays fast on tables of millions: the total is counted only up to a cap
("10000+" beyond it), and a page is fetched with one extra row to know if another follows.
A page number past the end shows the last page."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest

from gonghui.core.plans import custom_plans

COUNT_CAP = 10_000
MAX_PAGE = 100_000
# Page links shown on each side of the current page, between the first and the last.
WINDOW = 2


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int
    total_capped: bool
    has_next: bool
    base_query: str
    params: list[tuple[str, str]]

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def total_label(self) -> str:
        return f"{self.total}+" if self.total_capped else str(self.total)

    @property
    def num_pages(self) -> int | None:
        return None if self.total_capped else max(1, -(-self.total // self.per_page))

    def url_for(self, number: int) -> str:
        sep = "&" if self.base_query else ""
        return f"?{self.base_query}{sep}page={number}"

    @property
    def next_url(self) -> str:
        return self.url_for(self.number + 1)

    @property
    def previous_url(self) -> str:
        return self.url_for(self.number - 1)

    @property
    def links(self) -> list[tuple[int | None, str]]:
        """(number, url) of the page links to show, None for an ellipsis: the first page, the
        pages around the current one, and the last page — or, past a capped total, the next
        page and an ellipsis."""
        last = self.num_pages
        reach = last if last is not None else self.number + int(self.has_next)
        numbers = {1, *range(max(1, self.number - WINDOW), min(reach, self.number + WINDOW) + 1)}
        if last is not None:
            numbers.add(last)
        out: list[tuple[int | None, str]] = []
        shown = 0
        for n in sorted(numbers):
            if n > shown + 1:
                out.append((None, ""))
            out.append((n, self.url_for(n)))
            shown = n
        if last is None and self.has_next:
            out.append((None, ""))
        return out


def _requested_page(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(1, number), MAX_PAGE)


def paginate(request: HttpRequest, qs: QuerySet[Any], *, per_page: int = 20, count_cap: int = COUNT_CAP) -> Page:
    number = _requested_page(request)
    with custom_plans():  # a list's filters decide its plan (core.plans)
        rows = list(qs[(number - 1) * per_page : number * per_page + 1])
        if number > 1 and not rows:
            # Past the end: show the last page. Only here is the total counted without the cap.
            last = max(1, -(-qs.order_by().count() // per_page))
            number = min(number, last)
            rows = list(qs[(number - 1) * per_page : number * per_page + 1])
        has_next = len(rows) > per_page
        rows = rows[:per_page]
        if number == 1 and not has_next:
            total, capped = len(rows), False
        else:
            total = qs.order_by()[: count_cap + 1].count()
            capped = total > count_cap
            total = min(total, count_cap)
    params = [(k, str(v)) for k, v in request.GET.items() if k != "page" and v != ""]
    return Page(rows, number, per_page, total, capped, has_next, urlencode(params), params)
