"""Django's own error pages come from templates/4xx.html and 500.html, in Chinese."""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import RequestFactory
from django.views import defaults

ENGLISH = ("Not Found", "Server Error", "Page not found", "Forbidden", "Bad Request")


@pytest.mark.django_db
def test_an_unknown_address_answers_a_chinese_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "<h1>页面不存在</h1>" in body and "错误代码 404" in body
    assert not [word for word in ENGLISH if word in body]


@pytest.mark.parametrize(
    ("view", "status", "heading"),
    [
        (defaults.server_error, 500, "服务器出错了"),
        (lambda r: defaults.permission_denied(r, PermissionDenied()), 403, "无权访问"),
        (lambda r: defaults.bad_request(r, SuspiciousOperation()), 400, "请求无效"),
        (lambda r: defaults.page_not_found(r, Exception()), 404, "页面不存在"),
    ],
)
def test_django_error_views_render_the_chinese_templates(view, status, heading) -> None:  # type: ignore[no-untyped-def]
    response = view(RequestFactory().get("/console/x/"))
    body = response.content.decode()
    assert response.status_code == status
    assert "<h1>%(h)s</h1>" % {"h": heading} in body
    assert not [word for word in ENGLISH if word in body]
    assert "{%" not in body and "{{" not in body


def test_the_500_page_needs_no_template_tags() -> None:
    """Django renders 500.html with an empty context after something already failed; the
    page must not depend on static files, URL reversing or the request."""
    source = (settings.BASE_DIR / "templates" / "500.html").read_text(encoding="utf-8")
    assert "{%" not in source and "{{" not in source
