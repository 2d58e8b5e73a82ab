"""Pagination that stays fast on tables of millions: the total is counted only up to a cap
("10000+" beyond it), and a page is fetched with one extra row to know if another follows."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest

COUNT_CAP = 10_000


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int
    total_capped: bool
    has_next: bool
    base_query: str

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


def paginate(request: HttpRequest, qs: QuerySet[Any], *, per_page: int = 20, count_cap: int = COUNT_CAP) -> Page:
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    number = min(number, 100_000)
    offset = (number - 1) * per_page
    rows = list(qs[offset : offset + per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if number == 1 and not has_next:
        total, capped = len(rows), False
    else:
        total = qs.order_by()[: count_cap + 1].count()
        capped = total > count_cap
        total = min(total, count_cap)
    params = [(k, v) for k, v in request.GET.items() if k != "page" and v != ""]
    return Page(rows, number, per_page, total, capped, has_next, urlencode(params))
