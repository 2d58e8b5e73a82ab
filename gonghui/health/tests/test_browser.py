"""The issue's "done when", in chromium: a 健康管理员 uploads an HL7 file on the console and
the background worker imports it; a FHIR bundle comes in through the command; the member, on
a phone-sized page, consents, opens the report with flags, explanations and a trend chart, and
downloads the PDF with the Chinese font embedded."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from gonghui.core.permissions import Role
from gonghui.health.models import Checkup, ImportBatch
from gonghui.health.tests.conftest import id_of
from gonghui.health.tests.samples import fhir_bundle, messy_hl7
from gonghui.site.testing import build_world, grant, make_user

PASSWORD = "Gonghui-test-2026"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loaded_catalogue")
def test_import_then_member_reads_report_and_downloads_pdf(live_server, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    staff = grant(make_user("health_a", password=PASSWORD), world.union_a, Role.HEALTH)
    base = live_server.url

    # 1. The 健康管理员 uploads the centre's HL7 file on the console.
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/?next=/console/health/imports/")
    page.fill("#username", staff.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/health/imports/")
    page.select_option("[data-testid=import-format]", "hl7")
    page.set_input_files(
        "[data-testid=import-file]",
        {
            "name": "lab-20250312.hl7",
            "mimeType": "text/plain",
            "buffer": messy_hl7(id_of(world.member_a), id_of(world.member_b)),
        },
    )
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("[data-testid=import-status][data-status=queued]")
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    page.wait_for_selector("[data-testid=import-status][data-status=succeeded]", timeout=20_000)
    assert page.inner_text("[data-testid=import-imported]") == "15"
    assert page.inner_text("[data-testid=import-problems]") == "7"
    assert "项目编码与单位不一致：项目“14771-0”，单位“mg/dL”" in page.content()
    desk.close()

    # 2. A FHIR bundle from another centre arrives through the command.
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(fhir_bundle(id_of(world.member_a)))
    out = io.StringIO()
    call_command(
        "import_health_results",
        str(bundle),
        "--format",
        "fhir",
        "--org",
        world.union_a.code,
        stdout=out,
        stderr=io.StringIO(),
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (summary["imported"], summary["problems"]) == (9, 4)
    assert ImportBatch.objects.count() == 2
    latest = Checkup.objects.get(external_id="DR-2026-0420")

    # 3. The member opens the report on a phone.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    phone.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/h5/health/")
    page.click("[data-testid=consent-link]")
    page.check("[data-testid=consent-agree]")
    page.click("[data-testid=consent-submit]")
    page.wait_for_selector("[data-testid=report-link]")
    assert page.locator("[data-testid=report-link]").count() == 3
    page.locator("[data-testid=report-link]").first.click()
    page.wait_for_url(f"{base}/h5/health/reports/{latest.pk}/")
    items = page.locator("[data-testid=abnormal-item]")
    codes = [items.nth(i).get_attribute("data-code") for i in range(items.count())]
    assert codes == ["UA", "GLU", "HBA1C", "TC", "HDL", "LDL", "SBP", "DBP"]
    first = items.first
    assert first.locator("[data-testid=flag]").inner_text() == "偏高"
    assert "尿酸是体内嘌呤代谢的产物" in first.locator("[data-testid=explanation]").inner_text()
    assert "每天饮水 2000 毫升以上" in first.locator("[data-testid=advice]").inner_text()
    assert "2025年 480" in first.inner_text() and "2024年 400" in first.inner_text()
    hdl = page.locator("[data-testid=abnormal-item][data-code=HDL]")
    assert hdl.get_attribute("data-flag") == "low" and hdl.locator("[data-testid=flag]").inner_text() == "偏低"
    page.wait_for_selector("#trend-chart[data-ready='1'] canvas")
    assert page.locator("#trend-select").input_value() == "UA"
    page.locator("[data-testid=abnormal-item][data-code=GLU] [data-trend-code=GLU]").click()
    assert page.locator("#trend-select").input_value() == "GLU"
    canvas = page.locator("#trend-chart canvas").first.bounding_box()
    assert canvas is not None and canvas["width"] > 300 and canvas["height"] > 200
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

    # 4. The PDF downloads with the Chinese font embedded.
    with page.expect_download() as download:
        page.click("[data-testid=pdf-download]")
    pdf = download.value
    assert pdf.suggested_filename == "体检报告_苏州甲公司工会_张三_2026-04-20.pdf"
    body = open(pdf.path(), "rb").read()  # noqa: SIM115
    assert body.startswith(b"%PDF-") and b"+GonghuiSansSC" in body and b"/FontFile3" in body
    phone.close()
