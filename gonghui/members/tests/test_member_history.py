import re

from gonghui.members import services
from gonghui.members.models import Education, MembershipStatus, Tag
from gonghui.site.testing import World


def _history_text(world: World) -> str:
    html = world.client_for(world.staff_a).get(f"/console/members/{world.member_a.pk}/").content.decode()
    section = html.split("修改历史", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_history_shows_field_labels_choice_names_and_chinese_actions(world: World) -> None:
    member = services.member_update(
        actor=world.staff_a,
        member=world.member_a,
        data={
            "political_status": "群众",
            "work_unit": "苏州甲公司",
            "education": Education.BACHELOR,
            "tags": Tag.MIGRANT | Tag.OUTDOOR,
        },
        reason="核对档案",
    )
    services.member_change_status(actor=world.staff_a, member=member, status=MembershipStatus.RETAINED, reason="退休")

    text = _history_text(world)

    assert "v3 " in text and "变更会籍状态 会籍状态：在会 → 保留会籍" in text
    assert "修改资料" in text
    assert "政治面貌：（空） → 群众" in text
    assert "工作单位：（空） → 苏州甲公司" in text
    assert "学历：（空） → 本科" in text
    assert "标签：（空） → 农民工、户外劳动者" in text
    assert "原因：核对档案" in text
    for raw in ("political_status", "work_unit", "education", "bachelor", "update", "retained", "tags"):
        assert raw not in text
