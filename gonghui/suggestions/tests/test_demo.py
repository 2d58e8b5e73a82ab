"""The demo seeder: closed, publishable items on several organisations' public pages, the
phone numbers and names typed into them masked on the rendered page."""

import datetime as dt
import io
import random

import pytest
from django.test import Client

from gonghui.accounts.models import User
from gonghui.core.models import WorkflowStep
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant
from gonghui.suggestions import demo
from gonghui.suggestions.models import Item, ItemStatus, Satisfaction, SubmitterKind

pytestmark = pytest.mark.django_db


def test_the_demo_puts_masked_items_on_several_public_pages(world: World) -> None:
    for username, role in (
        ("demo_handler", Role.HANDLER),
        ("demo_reviewer", Role.REVIEWER),
        ("demo_admin", Role.ADMIN),
    ):
        grant(User.objects.create_staff_user(username=username, password="x-Gonghui-2026"), world.city, role)
    demo.seed(rng=random.Random(7), stdout=io.StringIO(), today=dt.date(2026, 12, 4))
    published = Item.objects.filter(publishable=True, status=ItemStatus.CLOSED)
    orgs = set(published.values_list("organization__code", flat=True))
    assert len(orgs) >= 2
    assert Item.objects.exclude(status=ItemStatus.CLOSED).exists()
    # The anonymous submitters rated their closed items with the tracking code, naming no account.
    ratings = Satisfaction.objects.filter(item__submitter_kind=SubmitterKind.ANONYMOUS)
    assert ratings.count() == 2 * len(orgs)
    steps = WorkflowStep.objects.filter(workflow="suggestion", transition="confirm")
    assert (
        steps.count() >= ratings.count()
        and not steps.filter(object_id__in=ratings.values("item_id")).exclude(actor=None).exists()
    )
    for code in orgs:
        body = Client().get("/gongkai/%s/" % code).content.decode()
        assert "食堂晚餐品种太少" in body and "联系电话 ＊＊" in body
        assert "13912345678" not in body and "王建国" not in body and "李师傅" not in body
