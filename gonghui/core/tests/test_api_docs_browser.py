"""/api/docs renders the operation list from the vendored Swagger UI under the project's CSP."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_lists_every_operation_without_csp_errors(live_server, desktop_page) -> None:  # type: ignore[no-untyped-def]
    console: list[str] = []
    desktop_page.on("console", lambda message: console.append("%s: %s" % (message.type, message.text)))
    failed: list[str] = []
    desktop_page.on("requestfailed", lambda request: failed.append(request.url))
    response = desktop_page.goto(live_server.url + "/api/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    desktop_page.wait_for_selector(".opblock-summary-path")
    paths = desktop_page.locator(".opblock-summary-path").all_inner_texts()
    assert sorted(p.replace("\u200b", "") for p in paths) == [
        "/api/benefits/campaigns/{campaign_id}/claim",
        "/api/benefits/device/redeem",
        "/api/benefits/my-coupons",
        "/api/health/device/readings",
        "/api/members/card/verify",
        "/api/members/me",
    ]
    assert desktop_page.locator(".info .title").inner_text().startswith("工会数字化服务平台 API")
    assert [line for line in console if "Content Security Policy" in line or line.startswith("error")] == []
    assert failed == []
