"""The JSON API, mounted at /api/ with OpenAPI docs at /api/docs.

Authentication is on by default for every operation: a session (CSRF-checked) that the
console's own login policy lets into the staff area (a staff role, and the TOTP step passed
for 管理员/审计员; see `gonghui.accounts.api_auth`). A member operation names
`auth=member_session`; an operation opts out only by naming another `auth` (device
signatures) or `auth=None` (listed in the URL test's public allow-list).

Every refusal, whoever raises it (a service, Ninja's own parameter validation, the session
check), answers with the project's `{"code", "message", "fields"}` body in Chinese. The docs
page runs the vendored Swagger UI (static/vendor/) started by a static script, so the CSP
holds and nothing is fetched from a CDN."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import Swagger

from gonghui.accounts.api_auth import staff_session
from gonghui.benefits.api import router as benefits_router
from gonghui.core.errors import DomainError
from gonghui.health.api import router as health_router
from gonghui.members.api import router as members_router

# Pydantic error types → the message shown beside the field.
_FIELD_MESSAGES = {
    "missing": "必填",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "string_type": "应为文本",
    "string_too_long": "过长",
    "string_too_short": "过短",
    "string_pattern_mismatch": "格式无效",
    "bool_parsing": "应为 true 或 false",
    "datetime_parsing": "日期时间格式无效",
    "datetime_from_date_parsing": "日期时间格式无效",
    "datetime_type": "日期时间格式无效",
    "list_type": "应为数组",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "json_invalid": "JSON 格式无效",
    "literal_error": "取值无效",
    "enum": "取值无效",
}
_HTTP_ERRORS = {
    400: ("bad_request", "请求体无法解析，请以 UTF-8 编码的 JSON 发送"),
    401: ("unauthenticated", "请先登录"),
    403: ("permission_denied", "请求被拒绝（CSRF 校验失败或无权访问），请刷新页面后重试"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
}


class VendoredSwagger(Swagger):
    """Swagger UI from static/vendor/, configured by JSON in the page and a static init script."""

    template = "api/docs.html"

    def render_page(self, request: HttpRequest, api: "NinjaAPI", **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        return render(request, self.template, {"swagger_settings": settings, "api": api, "add_csrf": True})


api = NinjaAPI(
    title="工会数字化服务平台 API",
    version="1.0",
    auth=staff_session,
    urls_namespace="api",
    docs_url="/docs",
    docs=VendoredSwagger(),
)


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "payload", "readings", 0, "code")` → `readings.0.code`; `("query", "tab")` → `tab`."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
        if loc[0] == "body" and len(parts) > 1:
            parts = parts[1:]  # the name of the body parameter itself
    return ".".join(parts) or "body"


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for error in exc.errors:
        fields.setdefault(_field_name(error.get("loc", ())), _FIELD_MESSAGES.get(error.get("type", ""), "格式无效"))
    return api.create_response(
        request, error_body("validation_failed", "请求内容有误，请按字段提示修改", fields), status=422
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code, message = _HTTP_ERRORS.get(exc.status_code, ("http_error", "请求无法处理"))
    return api.create_response(request, error_body(code, message), status=exc.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body(*_HTTP_ERRORS[404]), status=404)


def _mount() -> None:
    api.add_router("/members", members_router)
    api.add_router("/benefits", benefits_router)
    api.add_router("/health", health_router)


_mount()
