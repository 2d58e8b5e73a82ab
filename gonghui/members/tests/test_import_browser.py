"""In the browser: login → member search → import dry run → error report → commit with a real
task worker → progress bar → result."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gonghui.core.permissions import Role
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.models import Member
from gonghui.members.tests.test_import_kill import start_worker
from gonghui.members.tests.test_import_validation import HEADER, csv_bytes, person
from gonghui.site.testing import build_world, grant, make_user


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_handler_imports_members_through_the_console(live_server, desktop_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    handler = grant(make_user("import_handler"), world.union_a, Role.HANDLER)
    base = live_server.url
    page = desktop_page

    # The real login form; 经办人 needs no second factor.
    page.goto(f"{base}/accounts/login/")
    page.fill("#username", handler.username)
    page.fill("#password", "Gonghui-test-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")

    # Member search by pinyin initials.
    page.click("a:has-text('会员管理')")
    page.fill("[data-testid=member-search]", "zs")
    page.wait_for_url("**/console/members/?q=zs**")
    assert "张三" in page.inner_text("[data-testid=member-table]")
    assert "李四" not in page.inner_text("[data-testid=member-table]")

    # Upload a file with one bad row: the dry run reports it and writes nothing.
    rows = [person(1, 姓名="陈小雨"), person(2, 姓名="林大海"), person(3, 姓名="王美丽", 手机号="1380013800")]
    rows.append(person(4, 姓名="黄志强"))
    upload = tmp_path / "会员信息.csv"
    upload.write_bytes(csv_bytes(rows))
    page.click("a:has-text('会员导入')")
    # Typing before htmx has bound the picker's input sends no search at all.
    page.wait_for_url("**/console/members/import/")
    page.wait_for_load_state("load")
    page.fill("[data-testid=import-org-search]", world.union_a.code)
    page.click("[data-testid=org-option]:has-text('%s')" % world.union_a.name)
    page.set_input_files("[data-testid=import-file]", str(upload))
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("[data-testid=dry-run-warning]")
    assert page.inner_text("[data-testid=rows-valid]") == "3"
    assert page.inner_text("[data-testid=rows-invalid]") == "1"
    issues = page.inner_text("[data-testid=import-issues]")
    assert "王美丽" in issues and "手机号：手机号码应为11位、以1开头的中国大陆号码" in issues
    assert not Member.objects.filter(name="陈小雨").exists()

    # The error report: the bad row as uploaded, with the reason in the last column.
    with page.expect_download() as download_info:
        page.click("[data-testid=import-report]")
    report = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).active
    values = [[c.value for c in row] for row in report.iter_rows()]
    assert values[0] == ["行号", *HEADER, "错误原因"]
    assert values[1][:2] == [4, "王美丽"]
    assert values[1][-1] == "手机号：手机号码应为11位、以1开头的中国大陆号码"

    # Commit the good rows with a task worker running against this database.
    worker = start_worker()
    try:
        page.check("[data-testid=keep-good-rows]")
        page.click("[data-testid=import-commit]")
        page.wait_for_selector("[data-testid=import-progress]")
        page.wait_for_selector("[data-testid=import-progress][aria-valuenow='100']", timeout=60_000)
        assert page.inner_text("[data-testid=result-created]") == "3"
        assert page.inner_text("[data-testid=result-updated]") == "0"
        assert "跳过有问题的 1 行" in page.inner_text("[data-testid=import-result]")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created, batch.rows_invalid) == (ImportStatus.SUCCEEDED, 3, 1)
    assert set(Member.objects.filter(organization=world.union_a).values_list("name", flat=True)) == {
        "张三",
        "陈小雨",
        "林大海",
        "黄志强",
    }

    # The new members can be found at once.
    page.goto(f"{base}/console/members/?q=cxy")
    assert "陈小雨" in page.inner_text("[data-testid=member-table]")
