import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from gonghui.benefits.claiming import forget_rules
from gonghui.benefits.forms import CampaignInput, ItemInput
from gonghui.benefits.models import RedemptionPoint
from gonghui.benefits.tests.factories import make_point
from gonghui.core.permissions import Role
from gonghui.site.testing import World, grant, make_user


@pytest.fixture(autouse=True)
def _fresh_campaign_rules() -> None:
    """Published campaign rules are cached per process for a few seconds; tests start cold."""
    forget_rules()


@pytest.fixture
def point_a(world: World) -> RedemptionPoint:
    return make_point(world.union_a, name="甲公司职工驿站")


@pytest.fixture
def reviewer_a(world: World) -> Any:
    return grant(make_user("reviewer_a"), world.union_a, Role.REVIEWER)


@pytest.fixture
def clerk_a(world: World) -> Any:
    return grant(make_user("clerk_a"), world.union_a, Role.REDEEMER)


def campaign_input(world: World, points: list[RedemptionPoint], **overrides: Any) -> CampaignInput:
    now = timezone.now()
    values: dict[str, Any] = {
        "name": "2026年送清凉",
        "kind": "cooling",
        "mode": "first_come",
        "organization_id": world.union_a.pk,
        "target_org_id": world.union_a.pk,
        "stock_total": 100,
        "budget_fen": 100 * 1800,
        "per_member_limit": 1,
        "claim_starts_at": now - dt.timedelta(hours=1),
        "claim_ends_at": now + dt.timedelta(days=7),
        "valid_from": now - dt.timedelta(hours=1),
        "valid_until": now + dt.timedelta(days=14),
        "point_ids": [p.pk for p in points],
        "items": [ItemInput(name="西瓜", face_value_fen=1000, quantity=1), ItemInput("绿豆汤", 400, 2)],
    }
    values.update(overrides)
    return CampaignInput(**values)
