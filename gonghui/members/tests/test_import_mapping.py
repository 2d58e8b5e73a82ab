"""A union saves how its files name the member columns (the kernel's TabularMapping, kind
`members.import`): versioned, audited, only with the import permission, applied to its own
files and its sub-unions' files, and never to a sibling's."""

import pytest

from gonghui.core import tabular
from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent, TabularMapping
from gonghui.members.imports.columns import map_header
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db

KIND = "members.import"
HEADER = ["职工名", "公民号", "手机号", "入会日期"]


def test_a_saved_mapping_resolves_headers_no_alias_knows(world: World) -> None:
    with pytest.raises(ValidationFailed) as unknown:
        map_header(HEADER)
    assert unknown.value.message == "文件缺少必填列：姓名、证件号码。请使用导入模板，表头放在第一行"
    tabular.tabular_mapping_save(
        actor=world.staff_a, kind=KIND, organization=world.union_a, columns={"name": "职工名", "id_number": " 公民号 "}
    )
    saved = tabular.tabular_mapping_for(kind=KIND, organization=world.union_a)
    assert saved == {"name": "职工名", "id_number": "公民号"}
    assert map_header(HEADER, saved).positions == {"name": 0, "id_number": 1, "phone": 2, "joined_on": 3}
    event = AuditEvent.objects.get(action="tabular.mapping_save")
    assert event.detail == {"kind": KIND, "version": 1, "columns": {"name": "职工名", "id_number": "公民号"}}


def test_saving_again_makes_a_new_version_and_the_nearest_one_applies(world: World) -> None:
    tabular.tabular_mapping_save(
        actor=world.federation_admin, kind=KIND, organization=world.province, columns={"name": "职工名"}
    )
    assert tabular.tabular_mapping_for(kind=KIND, organization=world.union_a) == {"name": "职工名"}
    tabular.tabular_mapping_save(actor=world.staff_a, kind=KIND, organization=world.union_a, columns={"name": "员工"})
    second = tabular.tabular_mapping_save(
        actor=world.staff_a, kind=KIND, organization=world.union_a, columns={"name": "员工姓名"}
    )
    assert second.version == 2
    assert tabular.tabular_mapping_for(kind=KIND, organization=world.union_a) == {"name": "员工姓名"}
    assert tabular.tabular_mapping_for(kind=KIND, organization=world.union_b) == {"name": "职工名"}
    assert tabular.tabular_mapping_for(kind="health.results", organization=world.union_a) == {}


def test_a_sibling_union_may_not_change_the_mapping(world: World) -> None:
    with pytest.raises(PermissionDenied):
        tabular.tabular_mapping_save(actor=world.staff_b, kind=KIND, organization=world.union_a, columns={})
    with pytest.raises(PermissionDenied):  # a kind without a permission has no saved mappings
        tabular.tabular_mapping_save(
            actor=world.federation_admin, kind="health.results", organization=world.union_a, columns={}
        )
    assert TabularMapping.objects.count() == 0
    assert not AuditEvent.objects.filter(action="tabular.mapping_save").exists()


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"salary": "工资"}, "列映射中的字段“salary”无法识别"),
        ({"name": 3}, "“姓名”对应的列名必须是文本"),
        ({"name": "甲" * 101}, "“姓名”对应的列名超过 100 个字符"),
        ({"name": "编号", "id_number": "编号 "}, "文件中的列“编号”不能同时对应“姓名”和“证件号码”"),
        (["name"], "列对应必须是“字段: 文件中的列名”的对应表"),
    ],
)
def test_a_bad_mapping_is_refused_in_chinese_and_nothing_is_saved(world: World, columns: object, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        tabular.tabular_mapping_save(actor=world.staff_a, kind=KIND, organization=world.union_a, columns=columns)
    assert refused.value.message == message
    assert TabularMapping.objects.count() == 0
