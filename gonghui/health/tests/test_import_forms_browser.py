"""In chromium: a 健康管理员 sets a centre's column mapping, uploads that centre's file with
it, and the 正在后台导入 notice goes away by itself once the worker has run."""

import pytest
from django.core.management import call_command

from gonghui.core.permissions import Role
from gonghui.health.models import CheckupCentre, ImportBatch
from gonghui.health.tests.conftest import id_of
from gonghui.site.testing import build_world, grant, make_user

PASSWORD = "Gonghui-test-2026"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loaded_catalogue")
def test_upload_with_a_saved_mapping_and_the_notice_goes_away(live_server, desktop_page) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    staff = grant(make_user("health_mapping", password=PASSWORD), world.union_a, Role.HEALTH)
    centre = CheckupCentre.objects.create(organization=world.union_a, name="姑苏体检中心")
    base = live_server.url
    page = desktop_page
    page.goto(f"{base}/accounts/login/?next=/console/health/centres/")
    page.fill("#username", staff.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/health/centres/")

    page.click("[data-testid=centre-mapping-link]")
    page.fill("[data-testid=mapping-field-id_number]", "证件号")
    page.fill("[data-testid=mapping-field-exam_date]", "检查时间")
    page.locator("[data-testid=mapping-column]").nth(0).fill("FBG值")
    page.locator("[data-testid=mapping-indicator]").nth(0).select_option("GLU")
    page.locator("[data-testid=mapping-unit]").nth(0).fill("mmol/L")
    page.click("[data-testid=mapping-save]")
    page.wait_for_selector("text=已保存列映射（第 1 版）")

    page.goto(f"{base}/console/health/imports/")
    page.select_option("[data-testid=import-format]", "csv")
    page.select_option("[data-testid=import-centre]", str(centre.pk))
    content = "证件号,检查时间,FBG值\n%s,2026-03-12,5.6\n" % id_of(world.member_a)
    page.set_input_files(
        "[data-testid=import-file]", {"name": "姑苏体检.csv", "mimeType": "text/csv", "buffer": content.encode()}
    )
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("[data-testid=import-pending]")
    assert "正在后台导入" in page.inner_text("[data-testid=import-pending]")
    assert ImportBatch.objects.get().saved_mapping.version == 1  # type: ignore[union-attr]

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    page.wait_for_selector("[data-testid=import-status][data-status=succeeded]", timeout=20_000)
    assert page.locator("[data-testid=import-pending]").count() == 0
    assert "正在后台导入" not in page.inner_text("body")
    assert page.inner_text("[data-testid=import-imported]") == "1"
