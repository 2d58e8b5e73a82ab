"""列对应设置: a union saves the headers its files use for the columns the template headers and
aliases do not know (versioned, audited, inherited by the sub-tree), and the member import
recognises them; a sibling union's staff can neither read nor change it."""

import pytest

from gonghui.core.models import AuditEvent, TabularMapping
from gonghui.members import imports
from gonghui.members.tests.test_import_validation import HEADER, csv_bytes, person
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db

URL = "/console/organizations/columns/"


def _custom_file(n: int = 1) -> bytes:
    """A file from another system: 人员名称 and 居民证件编号 instead of the template headers."""
    renamed = {"姓名": "人员名称", "证件号码": "居民证件编号"}
    header = [renamed.get(h, h) for h in HEADER]
    rows = [{renamed.get(k, k): v for k, v in person(i).items()} for i in range(n)]
    return csv_bytes(rows, header=header)


def test_a_saved_mapping_lets_the_import_read_another_systems_headers(world: World) -> None:
    with pytest.raises(Exception, match=r"姓名|证件号码"):
        imports.import_batch_upload(
            actor=world.staff_a, organization=world.union_a, file_name="导出.csv", content=_custom_file()
        )
    client = world.client_for(world.staff_a)
    page = client.get(URL, {"kind": "members.import", "organization": world.union_a.code})
    assert page.status_code == 200
    assert "尚未设置，按模板表头和别名识别" in page.content.decode()
    saved = client.post(
        URL,
        {
            "kind": "members.import",
            "organization": world.union_a.code,
            "col_name": "人员名称",
            "col_id_number": "居民证件编号",
        },
    )
    assert saved.status_code == 302
    mapping = TabularMapping.objects.get(kind="members.import", organization=world.union_a)
    assert (mapping.version, mapping.columns) == (1, {"name": "人员名称", "id_number": "居民证件编号"})
    assert AuditEvent.objects.filter(action="tabular.mapping_save", object_id=str(mapping.pk)).count() == 1
    shown = client.get(saved["Location"]).content.decode()
    assert "当前为第 1 版" in shown and 'value="人员名称"' in shown and "已保存第 1 版列对应" in shown

    batch = imports.import_batch_upload(
        actor=world.staff_a, organization=world.union_a, file_name="导出.csv", content=_custom_file(3)
    )
    assert (batch.rows_total, batch.rows_valid) == (3, 3)
    # A file laid out like the template still imports: the mapping only adds names.
    plain = imports.import_batch_upload(
        actor=world.staff_a, organization=world.union_a, file_name="模板.csv", content=csv_bytes([person(9)])
    )
    assert plain.rows_valid == 1


def test_a_higher_unions_mapping_applies_below_until_a_lower_one_saves_its_own(world: World) -> None:
    admin = world.client_for(world.federation_admin)
    admin.post(URL, {"kind": "members.import", "organization": world.province.code, "col_name": "人员名称"})
    staff = world.client_for(world.staff_a)
    page = staff.get(URL, {"kind": "members.import", "organization": world.union_a.code}).content.decode()
    assert "沿用%s的第 1 版" % world.province.name in page
    assert 'value="人员名称"' in page
    staff.post(URL, {"kind": "members.import", "organization": world.union_a.code, "col_name": "员工姓名"})
    page = staff.get(URL, {"kind": "members.import", "organization": world.union_a.code}).content.decode()
    assert "当前为第 1 版" in page and 'value="员工姓名"' in page


def test_sibling_staff_can_neither_read_nor_change_another_unions_mapping(world: World) -> None:
    world.client_for(world.staff_a).post(
        URL, {"kind": "members.import", "organization": world.union_a.code, "col_name": "人员名称"}
    )
    sibling = world.client_for(world.staff_b)
    page = sibling.get(URL, {"kind": "members.import", "organization": world.union_a.code})
    assert page.status_code == 422
    text = page.content.decode()
    assert "工会代码不存在或无权设置" in text and "人员名称" not in text
    posted = sibling.post(URL, {"kind": "members.import", "organization": world.union_a.code, "col_name": "x"})
    assert posted.status_code == 422
    assert TabularMapping.objects.filter(organization=world.union_a).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "nope"}, "未知的文件种类"),
        ({"col_name": "名" * 101}, "超过 100 个字符"),
        ({"col_name": "名字", "col_phone": "名字"}, "不能同时对应"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_saves_nothing(world: World, data: dict[str, str], message: str) -> None:
    client = world.client_for(world.staff_a)
    response = client.post(URL, {"kind": "members.import", "organization": world.union_a.code, **data})
    assert response.status_code in (400, 422)
    assert message in response.content.decode()
    assert not TabularMapping.objects.exists()


def test_a_role_without_any_mapping_permission_is_refused(world: World) -> None:
    response = world.client_for(world.auditor_b).get(URL)
    assert response.status_code == 403
