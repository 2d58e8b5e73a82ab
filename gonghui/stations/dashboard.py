"""The stations card of the console home: active stations, those never inspected or failing
the "六有" standard at their latest inspection, and this month's check-ins."""

from typing import Any

from django.urls import reverse
from django.utils import timezone

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.stations import selectors
from gonghui.stations.permissions import StationPerm


def stations_card(actor: Any) -> Card:
    counts = selectors.overview_for_actor(actor=actor, today=timezone.localdate())
    failing = reverse("stations:failing")
    todos = []
    if counts.failing:
        todos.append(Todo("%(n)s 个站点最近一次“六有”检查未达标，请督促整改" % {"n": counts.failing}, url=failing))
    if counts.never_inspected:
        todos.append(
            Todo(
                "%(n)s 个在用站点尚未做过“六有”检查" % {"n": counts.never_inspected},
                url="%s?requirement=%s" % (failing, selectors.NEVER),
            )
        )
    return Card(
        key="stations.overview",
        title="服务阵地",
        icon="bi-geo-alt",
        figures=[
            Figure("在用站点", str(counts.active), reverse("stations:list") + "?active=1"),
            Figure("本月签到", str(counts.checkins_this_month), reverse("stations:usage")),
            Figure("检查未达标", str(counts.failing), failing),
            Figure("从未检查", str(counts.never_inspected), "%s?requirement=%s" % (failing, selectors.NEVER)),
        ],
        todos=todos,
        empty_todo="在用站点最近一次“六有”检查均已达标",
        link_url=reverse("stations:list"),
        link_label="服务阵地台账",
    )


def register_cards() -> None:
    register("stations.overview", perm=StationPerm.VIEW, order=55, build=stations_card)
