"""The health card of the console home (健康管理员): critical values to follow up, imports."""

from typing import Any

from django.urls import reverse
from django.utils import timezone

from gonghui.core.dashboard import Card, Figure, Todo, register
from gonghui.health import selectors
from gonghui.health.permissions import HealthPerm


def health_card(actor: Any) -> Card:
    work = selectors.health_work_for_actor(actor=actor, today=timezone.localdate())
    todos = [
        Todo(
            "%(date)s %(name)s 的体检报告有 %(n)s 项危急值，请核实并通知本人"
            % {"date": c.exam_date.isoformat(), "name": c.member.name_masked, "n": c.critical_count},
            url=reverse("health:report", args=[c.pk]),
        )
        for c in work.critical_recent
    ]
    todos += [
        Todo(
            "%(file)s：%(status)s" % {"file": b.filename, "status": b.job.get_status_display()},
            url=reverse("health:import_detail", args=[b.pk]),
        )
        for b in work.imports_running
    ]
    if work.imports_failed_count:
        todos.append(
            Todo(
                "近 %(days)s 天有 %(n)s 个导入批次失败，请查看原因后重新导入"
                % {"days": selectors.FAILED_IMPORT_DAYS, "n": work.imports_failed_count},
                url=reverse("health:imports"),
            )
        )
    return Card(
        key="health.work",
        title="职工体检",
        icon="bi-heart-pulse",
        figures=[
            Figure("近 %(days)s 天危急值报告" % {"days": selectors.CRITICAL_FOLLOW_UP_DAYS}, str(work.critical_count)),
            Figure("正在导入的批次", str(len(work.imports_running))),
            Figure("近 %(days)s 天导入失败" % {"days": selectors.FAILED_IMPORT_DAYS}, str(work.imports_failed_count)),
        ],
        todos=todos,
        empty_todo="没有待处理的危急值或导入",
        link_url=reverse("health:dashboard"),
        link_label="体检工作台",
    )


def register_cards() -> None:
    register("health.work", perm=HealthPerm.HEALTH_MANAGE, order=30, build=health_card)
