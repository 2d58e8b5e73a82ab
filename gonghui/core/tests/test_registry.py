import pytest
from django.core.exceptions import ImproperlyConfigured

from gonghui.core import registry


def test_a_grant_needs_a_declared_role_and_declared_permissions():
    registry.role("_t_role", "测试角色")
    registry.permissions("_t", {"_t.view": "查看测试"})
    with pytest.raises(ImproperlyConfigured):
        registry.grant("_t_missing_role", "_t.view")
    with pytest.raises(ImproperlyConfigured):
        registry.grant("_t_role", "_t.undeclared")
    registry.grant("_t_role", "_t.view")
    registry.grant("_t_role", "_t.view")
    assert registry.perms_of("_t_role") == frozenset({"_t.view"})
    assert registry.roles_granting("_t.view") == ["_t_role"]
    assert registry.permission_label("_t.view") == "查看测试"


def test_nav_shows_entries_for_any_held_permission_in_order():
    registry.nav(registry.NavItem("_t_b", "乙", "x", "/b/", perms=("_t.b",), order=9001))
    registry.nav(registry.NavItem("_t_a", "甲", "x", "/a/", perms=("_t.a", "_t.b"), order=9000))
    shown = [i.key for i in registry.nav_items(lambda p: p == "_t.b") if i.key.startswith("_t_")]
    assert shown == ["_t_a", "_t_b"]
    assert [i.key for i in registry.nav_items(lambda p: False) if i.key.startswith("_t_")] == []


def test_unlabelled_audit_actions_fall_back_to_their_code():
    registry.audit_labels({"_t.did": "做了测试"}, details={"_t_key": "测试键"})
    assert registry.audit_label("_t.did") == "做了测试"
    assert registry.audit_label("_t.unknown") == "_t.unknown"
    assert registry.detail_label("_t_key") == "测试键"


@pytest.mark.django_db(transaction=True)
def test_a_device_cannot_name_an_organisation_that_does_not_exist():
    from django.db import IntegrityError, transaction

    from gonghui.core.models import Device

    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(
            key_id="dev_missing_org", name="无主设备", kind="terminal", organization_id=987654321, organization_path="x"
        )


def test_a_permission_an_app_registers_is_held_by_the_roles_it_grants_only_in_their_sub_tree(world):
    from gonghui.organizations.selectors import has_perm_anywhere, scope_paths

    registry.permissions("_t_app", {"_t_app.view": "查看测试模块"})
    registry.grant("handler", "_t_app.view")
    assert has_perm_anywhere(world.staff_a, "_t_app.view")
    assert scope_paths(world.staff_a, "_t_app.view") == [world.union_a.path]
    assert not has_perm_anywhere(world.auditor_b, "_t_app.view")
    assert not has_perm_anywhere(world.staff_a, "_t_app.undeclared")


def test_the_roles_that_need_a_second_factor_come_from_the_registry():
    assert registry.roles_requiring_totp() == frozenset({"admin", "auditor"})


def test_sections_of_a_page_render_in_order_and_leave_out_empty_ones():
    registry.section(registry.Section("_t_second", "_t.page", lambda request, obj: "<b>%s</b>" % obj, order=2))
    registry.section(registry.Section("_t_first", "_t.page", lambda request, obj: "<i>%s</i>" % obj, order=1))
    registry.section(registry.Section("_t_empty", "_t.page", lambda request, obj: "", order=0))
    registry.section(registry.Section("_t_other", "_t.other_page", lambda request, obj: "x"))
    assert registry.sections("_t.page", None, 7) == ["<i>7</i>", "<b>7</b>"]
    registry.section(registry.Section("_t_first", "_t.page", lambda request, obj: "again", order=3))
    assert registry.sections("_t.page", None, 7) == ["<b>7</b>", "again"]  # the same key replaces
