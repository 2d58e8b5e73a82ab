"""The relief policy kinds: registered with their shipped defaults, validated in Chinese, edited
on 政策与参数 by whoever handles relief, and resolved by region and year."""

import pytest

from gonghui.core.errors import PermissionDenied, ValidationFailed
from gonghui.core.policies import policy_body_validate, policy_kind
from gonghui.organizations.policies import policy_for, policy_propose
from gonghui.relief import policies
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kind", "_label", "_schema", "default"), policies.KINDS)
def test_every_relief_policy_kind_is_registered_with_its_shipped_default(kind, _label, _schema, default) -> None:  # type: ignore[no-untyped-def]
    entry = policy_kind(kind)
    assert entry.default == default
    assert entry.manage_perm == "relief.manage"
    assert policy_body_validate(kind, default) == policy_body_validate(kind, policy_body_validate(kind, default))


def test_the_shipped_visit_groups_are_jiangsus_eleven() -> None:
    labels = [g["label"] for g in policies.VISIT_GROUPS_DEFAULT["groups"]]
    assert len(labels) == 11
    assert labels[:3] == ["下岗失业职工", "患重大疾病职工", "艰苦岗位一线职工（环卫工人、户外劳动者等）"]


def test_the_dibao_standard_is_found_by_region_then_city_then_province() -> None:
    body = policies.DIBAO_DEFAULT
    assert policies.dibao_monthly_fen(body, region_code="320508", year=2026) == 122_500  # 苏州
    assert policies.dibao_monthly_fen(body, region_code="320102", year=2026) == 121_000  # 南京
    assert policies.dibao_monthly_fen(body, region_code="321002", year=2026) == 90_000  # 江苏 fallback
    assert policies.dibao_monthly_fen(body, region_code="330106", year=2026) is None
    assert policies.dibao_monthly_fen(body, region_code="320508", year=2030) is None


@pytest.mark.parametrize(
    ("kind", "body", "field", "message"),
    [
        (
            policies.DIBAO,
            {"standards": [{"region_code": "32050A", "year": 2026, "monthly_fen": 1}]},
            "standards.0.region_code",
            "行政区划代码必须是 6 位数字",
        ),
        (
            policies.DIBAO,
            {"standards": [{"region_code": "320500", "year": 2026, "monthly_fen": 0}]},
            "standards.0.monthly_fen",
            "必须大于 0",
        ),
        (
            policies.CLASSES,
            {"deep_percent": 200, "relative_percent": 100, "accident_percent": 80},
            "body",
            "相对困难的倍数必须大于深度困难的倍数",
        ),
        (
            policies.CLASSES,
            {"deep_percent": 1.5, "relative_percent": 200, "accident_percent": 80},
            "deep_percent",
            "必须是整数",
        ),
        (
            policies.MAJOR_ILLNESS,
            {"tiers": [{"from_fen": 100, "to_fen": 50, "amount_fen": 1}], "yearly_cap_fen": 1},
            "tiers.0",
            "档次上限必须大于下限",
        ),
        (
            policies.MAJOR_ILLNESS,
            {
                "tiers": [
                    {"from_fen": 0, "to_fen": 100, "amount_fen": 5},
                    {"from_fen": 50, "to_fen": None, "amount_fen": 9},
                ],
                "yearly_cap_fen": 9,
            },
            "body",
            "档次必须按金额从低到高排列，且不能重叠",
        ),
        (
            policies.MAJOR_ILLNESS,
            {
                "tiers": [
                    {"from_fen": 0, "to_fen": 100, "amount_fen": 5},
                    {"from_fen": 100, "to_fen": None, "amount_fen": 4},
                ],
                "yearly_cap_fen": 9,
            },
            "body",
            "高档次的救助金额不能低于低档次",
        ),
        (
            policies.VISIT_GROUPS,
            {"groups": [{"code": "a", "label": "甲"}, {"code": "a", "label": "乙"}]},
            "body",
            "代码不能重复",
        ),
        (
            policies.APPROVAL_LIMITS,
            {"limits": [{"level": 5, "max_fen": 1}, {"level": 5, "max_fen": 2}]},
            "body",
            "同一层级只能设一个审批限额",
        ),
    ],
)
def test_a_bad_policy_body_is_refused_in_chinese(kind: str, body: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        policy_body_validate(kind, body)
    assert caught.value.fields[field] == message


def test_relief_staff_publish_the_dibao_standard_for_their_sub_tree_only(world: World) -> None:
    body = {"standards": [{"region_code": "320500", "year": 2026, "monthly_fen": 130_000}]}
    version = policy_propose(actor=world.staff_a, kind=policies.DIBAO, organization=world.union_a, body=body)
    assert version.status == "approved"  # no second person for the 低保 table
    assert policy_for(kind=policies.DIBAO, organization=world.union_a).version == version
    assert policy_for(kind=policies.DIBAO, organization=world.union_b).version is None
    with pytest.raises(PermissionDenied):
        policy_propose(actor=world.staff_b, kind=policies.DIBAO, organization=world.union_a, body=body)


def test_the_money_rules_need_a_second_person(world: World) -> None:
    version = policy_propose(
        actor=world.staff_a,
        kind=policies.MAJOR_ILLNESS,
        organization=world.union_a,
        body=policies.MAJOR_ILLNESS_DEFAULT,
    )
    assert version.status == "proposed"


def test_the_policy_editor_opens_for_a_relief_kind(world: World) -> None:
    client = world.client_for(world.federation_admin)
    response = client.get(
        "/console/organizations/policies/new/?kind=relief.major_illness&organization=%s" % world.province.code
    )
    assert response.status_code == 200
    assert "yearly_cap_fen" in response.content.decode()
