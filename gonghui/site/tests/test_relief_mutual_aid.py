"""Relief's 大病救助 nets out what the platform's medical mutual aid paid (issue 14 item 7): mutual
aid offers the figure (registry.offer), relief asks for it without importing mutual aid."""

import pytest

from gonghui.core import registry
from gonghui.members.models import Member
from gonghui.mutual_aid.selectors import paid_benefits_fen
from gonghui.relief import cases
from gonghui.relief.tests.test_cases import illness
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db


def test_mutual_aid_offers_what_it_paid_and_relief_offers_nothing_back() -> None:
    assert registry.offered(cases.MUTUAL_AID_PAID) is paid_benefits_fen


def test_a_major_illness_case_nets_out_what_mutual_aid_paid_that_year(world: World) -> None:
    asked: list[tuple[int, int]] = []

    def paid(*, member: Member, year: int) -> int:
        asked.append((member.pk, year))
        return 1_500_000  # ¥15,000.00 paid by mutual aid this year

    registry.offer(cases.MUTUAL_AID_PAID, paid)
    try:
        # The applicant enters no mutual aid: net 80,000 − 40,000 − 15,000 − 15,000 = ¥10,000 → ¥1,500.
        case = illness(world, mutual_aid="0")
    finally:
        registry.offer(cases.MUTUAL_AID_PAID, paid_benefits_fen)
    assert asked == [(world.member_a.pk, case.event_date.year)]
    assert case.amount_requested_fen == 150_000
    assert cases.illness_reveal(actor=world.staff_a, case=case).net_personal_fen == 1_000_000


def test_a_larger_figure_entered_by_the_applicant_stands(world: World) -> None:
    case = illness(world)  # 5,000 entered; nothing paid by the platform's mutual aid
    assert paid_benefits_fen(member=world.member_a, year=case.event_date.year) == 0
    assert cases.illness_reveal(actor=world.staff_a, case=case).net_personal_fen == 2_000_000
