import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.activities import services
from gonghui.activities.models import Activity, ActivityKind, Course, TrainingPlan
from gonghui.core.permissions import Role
from gonghui.members.models import Member, ModelWorkerLevel
from gonghui.organizations.models import Organization
from gonghui.site.testing import grant, make_member, make_user

_users = itertools.count(1)


def handler_of(org: Organization) -> User:
    username = "act_handler_%d" % org.pk
    user = User.objects.filter(username=username).first()
    return user or grant(make_user(username), org, Role.HANDLER)


def make_instructor(org: Organization, name: str = "王工匠") -> Member:
    return make_member(org, name=name, model_worker_level=ModelWorkerLevel.CITY)


def make_plan(org: Organization, **overrides: Any) -> TrainingPlan:
    today = timezone.localdate()
    data = services.PlanInput(
        name=overrides.get("name", "职工夜校（测试）"),
        description="",
        starts_on=overrides.get("starts_on", today - dt.timedelta(days=10)),
        ends_on=overrides.get("ends_on", today + dt.timedelta(days=60)),
    )
    return services.plan_create(actor=handler_of(org), organization=org, data=data)


def make_course(
    org: Organization, *, capacity: int = 10, threshold: int = 2, plan: TrainingPlan | None = None, name: str = "焊接班"
) -> Course:
    plan = plan or make_plan(org)
    data = services.CourseInput(
        name=name,
        trade="焊接",
        instructor=make_instructor(org),
        location="实训车间",
        description="",
        capacity=capacity,
        certificate_sessions=threshold,
    )
    return services.course_create(actor=handler_of(org), plan=plan, data=data)


def make_activity(
    org: Organization,
    *,
    capacity: int = 10,
    kind: str = ActivityKind.RUN,
    lottery: bool = False,
    closes_in: dt.timedelta = dt.timedelta(days=5),
    title: str = "职工半程马拉松",
) -> Activity:
    today = timezone.localdate()
    data = services.ActivityInput(
        kind=kind,
        title=title,
        description="",
        location="金鸡湖",
        starts_on=today + dt.timedelta(days=20),
        ends_on=today + dt.timedelta(days=22),
        signup_closes_at=timezone.now() + closes_in,
        capacity=capacity,
        lottery=lottery,
    )
    return services.activity_create(actor=handler_of(org), organization=org, data=data)


def members(org: Organization, count: int, prefix: str = "学员") -> list[Member]:
    result = []
    for i in range(count):
        user = User.objects.create_user(username="act_member_%d" % next(_users))
        result.append(make_member(org, name="%s%d" % (prefix, i), user=user))
    return result
