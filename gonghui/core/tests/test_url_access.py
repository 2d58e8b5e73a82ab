"""Every URL pattern in the project, enumerated: anonymous visitors are refused unless the
view is on the public allow-list below, and staff of sibling union B get 403/404 on union A's
objects. A new URL with a path parameter must say, in its app's `tests/url_objects.py`, how to
build union A's object for it — otherwise this test fails."""

import importlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from gonghui.core.models import AuditEvent
from gonghui.core.testing import World

PUBLIC_URL_NAMES = {
    "home",
    "healthz",
    "accounts:staff_login",
    "accounts:logout",
    "members:h5_login",
    "members:h5_send_code",
    "members:h5_join",  # 网上申请入会: the applicant is not a member yet; the phone is proved by SMS
    "members:h5_privacy",
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
}
# Device endpoints carry their own HMAC signature instead of a session; an unsigned request
# must be refused exactly like an anonymous one.
SIGNED_DEVICE_PREFIXES = ("/api/benefits/device/", "/api/health/device/")
STATIC_PREFIXES = ("/static/",)

ObjectBuilder = Callable[[World], dict[str, Any]]


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _patterns(entry, prefix + str(entry.pattern), ns)
        else:
            name = entry.name or ""
            full_name = f"{namespace}:{name}" if namespace and name else name
            yield prefix + str(entry.pattern), full_name, entry


def all_patterns() -> list[tuple[str, str, URLPattern]]:
    return [p for p in _patterns(get_resolver()) if not p[0].startswith(STATIC_PREFIXES)]


def url_object_builders() -> dict[str, ObjectBuilder]:
    builders: dict[str, ObjectBuilder] = {}
    for config in apps.get_app_configs():
        if config.name.startswith("gonghui."):
            try:
                module = importlib.import_module(f"{config.name}.tests.url_objects")
            except ModuleNotFoundError:
                continue
            builders.update(module.URL_OBJECTS)
    return builders


_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


def _key(route: str, name: str) -> str:
    return name or route


def build_path(route: str, kwargs: dict[str, Any]) -> str:
    path = _PARAM.sub(lambda m: str(kwargs[m.group("name")]), route)
    path = path.replace("^", "").replace("$", "")
    return "/" + path.lstrip("/")


def _request(client: Client, path: str) -> Any:
    response = client.get(path)
    if response.status_code == 405:
        response = client.post(path, data={})
    return response


def test_every_parameterised_url_has_an_object_builder() -> None:
    builders = url_object_builders()
    missing = [
        _key(route, name)
        for route, name, _ in all_patterns()
        if _PARAM.search(route) and _key(route, name) not in builders
    ]
    assert missing == [], f"add these to an app's tests/url_objects.py: {missing}"


@pytest.mark.django_db
def test_anonymous_is_refused_everywhere_but_the_allow_list(world: World) -> None:
    builders = url_object_builders()
    client = Client()
    leaks = []
    public_seen = set()
    for route, name, _pattern in all_patterns():
        key = _key(route, name)
        kwargs = builders[key](world) if _PARAM.search(route) else {}
        path = build_path(route, kwargs)
        response = _request(client, path)
        if name in PUBLIC_URL_NAMES:
            public_seen.add(name)
            assert response.status_code < 500, (path, response.status_code)
            continue
        if path.startswith("/api/"):
            ok = response.status_code in (401, 403)
        else:
            location = response.headers.get("Location", "")
            ok = response.status_code in (302, 401) and (
                "/accounts/login/" in location or "/h5/login/" in location or response.status_code == 401
            )
        if not ok:
            leaks.append((key, path, response.status_code))
    assert leaks == []
    assert public_seen == PUBLIC_URL_NAMES, "an allow-listed name no longer exists"


@pytest.mark.django_db
def test_sibling_union_staff_cannot_reach_union_a_objects(world: World) -> None:
    builders = url_object_builders()
    client = world.client_for(world.staff_b)
    leaks = []
    for route, name, _pattern in all_patterns():
        if not _PARAM.search(route):
            continue
        key = _key(route, name)
        kwargs = builders[key](world)
        path = build_path(route, kwargs)
        before = AuditEvent.objects.filter(organization_path__startswith=world.union_a.path, result="ok").count()
        response = _request(client, path)
        after = AuditEvent.objects.filter(organization_path__startswith=world.union_a.path, result="ok").count()
        if response.status_code not in (403, 404) or after != before:
            leaks.append((key, path, response.status_code, after - before))
    assert leaks == []


@pytest.mark.django_db
def test_members_cannot_open_the_staff_console(world: World) -> None:
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    for route, name, _ in all_patterns():
        if route.startswith("console/") and not _PARAM.search(route):
            response = client.get(build_path(route, {}))
            assert response.status_code == 403, (name, response.status_code)
