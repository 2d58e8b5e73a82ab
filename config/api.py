"""The JSON API, mounted at /api/ with OpenAPI docs at /api/docs.

Authentication is on by default for every operation (session auth, CSRF-checked); an
operation opts out only by naming another `auth` (device signatures) or `auth=None` (listed
in the URL test's public allow-list)."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import SessionAuth

from gonghui.core.errors import DomainError

api = NinjaAPI(
    title="工会数字化服务平台 API",
    version="1.0",
    auth=SessionAuth(csrf=True),
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


def _mount() -> None:
    from gonghui.benefits.api import router as benefits_router
    from gonghui.health.api import router as health_router
    from gonghui.members.api import router as members_router

    api.add_router("/members", members_router)
    api.add_router("/benefits", benefits_router)
    api.add_router("/health", health_router)


_mount()
