"""Relief test helpers: the 低保 standard published for the test world, form data, a filed household."""

import datetime as dt
from typing import Any

from django.utils import timezone

from gonghui.members.models import Member
from gonghui.organizations.policies import policy_propose
from gonghui.relief import services
from gonghui.relief.models import HardshipFile
from gonghui.site.testing import World

DIBAO_FEN = 100_000  # ¥1,000.00 a month: for 3 persons the deep line is ¥36,000.00, relative ¥72,000.00


def publish_dibao(world: World, monthly_fen: int = DIBAO_FEN) -> None:
    """The province's 低保 standard for every year a test may travel to."""
    year = timezone.localdate().year
    policy_propose(
        actor=world.federation_admin,
        kind="relief.dibao",
        organization=world.province,
        body={
            "standards": [
                {"region_code": "320000", "year": y, "monthly_fen": monthly_fen} for y in range(year - 1, year + 3)
            ]
        },
    )


def file_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "annual_income": "40000",
        "rigid_spending": "10000",  # disposable ¥30,000 < ¥36,000: deep
        "hardship_costs": "0",
        "household_size": "3",
        "main_cause": "illness",
        "secondary_causes": ["schooling"],
        "contact_name": "王帮扶",
        "contact_phone": "13800000000",
    }
    data.update(overrides)
    return data


def make_file(world: World, member: Member | None = None, **overrides: Any) -> HardshipFile:
    return services.hardship_file_create(
        actor=world.staff_a, member=member or world.member_a, data=file_data(**overrides)
    )


def days_later(n: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=n)
