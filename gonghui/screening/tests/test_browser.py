"""The issue's "done when", in chromium: a city's 经办人 uploads a 低保 list and a 医保 file, runs
screening for the city, sees candidates with evidence and the diff from the last run, rejects
one with a reason and accepts one into a hardship file."""

import pytest
from django.core.management import call_command

from gonghui.core.permissions import Role
from gonghui.relief.models import HardshipFile
from gonghui.screening.models import Candidate, CandidateStatus
from gonghui.screening.tests.helpers import csv_bytes, id_of
from gonghui.site.testing import build_world, grant, make_member, make_user

PASSWORD = "Gonghui-test-2026"


def _work() -> None:
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_upload_run_review_in_the_browser(live_server, browser, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.SCREENING_DIR = tmp_path / "screening"
    world = build_world()
    staff = grant(make_user("city_handler", password=PASSWORD), world.city, Role.HANDLER)
    poor, sick = world.member_a, world.member_b
    other = make_member(world.union_a, name="王小明")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/?next=/console/screening/datasets/")
    page.fill("#username", staff.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/screening/datasets/")

    def upload(kind: str, name: str, content: bytes) -> None:
        page.goto(f"{base}/console/screening/datasets/")
        page.select_option("[data-testid=dataset-org]", world.city.code)
        page.select_option("[data-testid=dataset-kind]", kind)
        page.fill("[data-testid=dataset-name]", name)
        page.set_input_files(
            "[data-testid=dataset-file]", {"name": f"{name}.csv", "mimeType": "text/csv", "buffer": content}
        )
        page.click("[data-testid=dataset-submit]")
        page.wait_for_selector("[data-testid=dataset-status]")
        _work()
        page.reload()
        page.wait_for_selector("[data-testid=dataset-status][data-status=ready]")

    # 1. The 民政 低保 list (one bad row) and the 医保 settlements.
    upload(
        "mz_dibao",
        "低保名单",
        csv_bytes(["姓名", "身份证号码", "认定日期"], [["张三", id_of(poor), "2025-10-01"], ["某某", "123", ""]]),
    )
    assert page.inner_text("[data-testid=dataset-valid]") == "1"
    assert page.inner_text("[data-testid=dataset-failed]") == "1"
    assert "身份证号码应为18位" in page.content()
    medical = [[id_of(sick), "2026-03-01", "70000"], [id_of(other), "2026-03-02", "1200"]]
    upload("yb_settlement", "医保结算", csv_bytes(["身份证号码", "结算日期", "个人负担金额"], medical))

    # 2. Screening for the city.
    def screen() -> None:
        page.goto(f"{base}/console/screening/runs/")
        page.select_option("[data-testid=run-org]", world.city.code)
        page.fill("#run-date", "2026-06-30")
        page.click("[data-testid=run-submit]")
        page.wait_for_selector("[data-testid=run-status]")
        _work()
        page.reload()
        page.wait_for_selector("[data-testid=run-status][data-status=succeeded]")

    screen()
    assert page.inner_text("[data-testid=run-candidates]") == "2"
    assert "新增 2 · 持续 0 · 消失 0" in page.inner_text("[data-testid=run-diff]")

    # 3. A new 医保 file: the other member's spend now passes the line too; screening again.
    medical.append([id_of(other), "2026-05-02", "65000"])
    upload("yb_settlement", "医保结算", csv_bytes(["身份证号码", "结算日期", "个人负担金额"], medical))
    screen()
    assert "新增 1 · 持续 2 · 消失 0" in page.inner_text("[data-testid=run-diff]")
    page.click("[data-testid=run-open-candidates]")
    page.wait_for_selector("[data-testid=candidate-table]")
    rows = page.locator("[data-testid=candidate-row]")
    assert rows.count() == 3
    table = page.inner_text("[data-testid=candidate-table]")
    assert "金额：70000.00 元（门槛 60000.00 元）" in table and "数据来源：民政 低保（低保名单 v1）" in table
    assert "张*" in table and "张三" not in table

    # 4. Reject the 大病救助 candidate of 王小明 with a reason (an empty one is refused first).
    page.goto(f"{base}/console/screening/candidates/?rule=medical_spend")
    page.locator("[data-testid=candidate-row]", has_text="王**").locator("[data-testid=candidate-open]").click()
    page.click("[data-testid=reject-submit]")
    page.wait_for_selector("[data-testid=candidate-error]")
    assert "请填写排除原因" in page.inner_text("[data-testid=candidate-error]")
    page.fill("[data-testid=reject-reason]", "单位大病保险已报销")
    page.click("[data-testid=reject-submit]")
    page.wait_for_selector("[data-testid=candidate-status]")
    assert "已排除" in page.inner_text("[data-testid=candidate-status]")

    # 5. Accept the 低保 candidate into a hardship file.
    page.goto(f"{base}/console/screening/candidates/?rule=civil_aid")
    page.locator("[data-testid=candidate-open]").first.click()
    page.select_option("[data-testid=accept-target]", "file")
    page.fill("[data-testid=accept-income]", "12000")
    page.fill("[data-testid=accept-rigid]", "6000")
    page.fill("[data-testid=accept-size]", "3")
    page.click("[data-testid=accept-submit]")
    page.wait_for_selector("[data-testid=candidate-status]")
    assert "已纳入：建立困难职工档案 KN" in page.inner_text("[data-testid=candidate-status]")
    context.close()
    latest = Candidate.objects.filter(rule_key="civil_aid").order_by("-run_id").first()
    assert latest is not None and (latest.status, latest.target_kind) == (CandidateStatus.ACCEPTED, "file")
    assert HardshipFile.objects.get(member=poor).file_no == latest.target_ref
