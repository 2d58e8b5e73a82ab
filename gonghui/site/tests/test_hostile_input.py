"""No server error on bad input: every GET filter and every form field of every console, H5
and clerk page, and every JSON endpoint, is sent hostile values (NaN, Infinity, 1e400, 10^20,
negative and zero years, non-numeric ids, naive datetimes, very long strings, year 1) by a
user allowed to use it, and must answer below 500.

The URL patterns are enumerated like site/tests/test_url_access.py, with union A's objects from
the apps' tests/url_objects.py. GET parameter names come from the view's source (and the helpers
it calls) and from the page's GET forms; form field names from the forms each page renders,
posted with the form's own values and one field replaced at a time. The page sweeps run once per
URL namespace (an app's pages), so the test id names the app and the suite's workers share them."""

import inspect
import json
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, resolve

from gonghui.core.permissions import Role
from gonghui.health import services as health_services
from gonghui.health.catalogue import forget_catalogue, load_catalogue, read_catalogue_file
from gonghui.health.models import CatalogueRelease, Checkup, Indicator, ReferenceInterval
from gonghui.health.tests.test_kiosk import post
from gonghui.members.card import card_token_issue
from gonghui.site.testing import World, grant, make_user
from gonghui.site.tests.test_url_access import _PARAM, all_patterns, build_path, url_object_builders

HOSTILE = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "1" + "0" * 20,
    "-1",
    "0",
    "-0.5",
    "abc",
    "²",  # a digit to str.isdigit(), not to int()
    "0001-01-01T00:00",
    "0001-01-01",
    "9999-12-31T23:59",
    "2026-07-01T09:00:00",
    "x" * 5000,
]
# One field at a time: the values that break a parser (the whole list goes into every field at once).
FIELD_HOSTILE = ["1e400", "1" + "0" * 20, "abc", "0001-01-01T00:00"]
SKIP_NAMES = {"accounts:logout"}  # would end the sweeping session


class _Forms(HTMLParser):
    """The forms of a page: method, action and each field's name with the value it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "fields": {}}
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._form is not None and self._select:
                self._option(a)
            return
        name = a["name"]
        fields: dict[str, list[str]] = self._form["fields"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                fields.setdefault(name, [])
                if "checked" in a or (kind == "radio" and not fields[name]):
                    fields[name] = [*fields[name], a.get("value", "on")] if kind == "checkbox" else [a.get("value", "")]
                return
            fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select = name
            fields.setdefault(name, [])
        elif tag == "textarea":
            self._textarea = name
            fields.setdefault(name, []).append("")
        elif tag == "option" and self._select:
            self._option(a)

    def _option(self, a: dict[str, str]) -> None:
        assert self._form is not None and self._select is not None
        values = self._form["fields"][self._select]
        if "selected" in a or not values:
            self._form["fields"][self._select] = [a.get("value", "")]

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            values = self._form["fields"][self._textarea]
            values[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


_GET_NAME = re.compile(r"""(?:GET|params|query)\.(?:get|getlist)\(\s*["'](\w+)["']|GET\[\s*["'](\w+)["']\]""")
_POST_NAME = re.compile(r"""POST\.(?:get|getlist)\(\s*["'](\w+)["']|POST\[\s*["'](\w+)["']\]""")
_CALL = re.compile(r"\b(_?\w+)\(")


def _source_names(view: Callable[..., Any], pattern: re.Pattern[str]) -> set[str]:
    """Parameter names the view reads, in its own source and in the module's functions it calls
    (one level deep: the `_filtered_members(request)` kind of helper)."""
    func = inspect.unwrap(view)
    module = inspect.getmodule(func)
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return set()
    sources = [source]
    for called in set(_CALL.findall(source)):
        helper = getattr(module, called, None)
        if inspect.isfunction(helper) and helper is not func and helper.__module__ == func.__module__:
            sources.append(inspect.getsource(helper))
    return {a or b for text in sources for a, b in pattern.findall(text)}


def _is_h5(route: str) -> bool:
    return route.startswith("h5/")


@pytest.fixture
def sweeper(world: World) -> Any:
    """Every role on the province (so on union A's objects below it) and on union A itself."""
    user = make_user("sweeper")
    grant(user, world.province, *Role.values)
    grant(user, world.union_a, *Role.values)
    return user


def _clients(world: World, sweeper: Any) -> tuple[Client, Client]:
    staff = world.client_for(sweeper)
    member = world.client_for(world.member_a.user)
    staff.raise_request_exception = False
    member.raise_request_exception = False
    return staff, member


def _namespace(name: str) -> str:
    return name.split(":", 1)[0] if ":" in name else "-"


def _html_patterns(namespace: str) -> Iterator[tuple[str, str, URLPattern]]:
    for route, name, pattern in all_patterns():
        if route.startswith("api/") or name in SKIP_NAMES or _namespace(name) != namespace:
            continue
        yield route, name, pattern


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "namespace" in metafunc.fixturenames:
        names = sorted({_namespace(name) for route, name, _p in all_patterns() if not route.startswith("api/")})
        metafunc.parametrize("namespace", names)


def _get(client: Client, path: str, params: dict[str, str]) -> Any:
    return client.get(path + ("?" + urlencode(params) if params else ""))


@pytest.mark.slow
@pytest.mark.django_db
def test_every_get_filter_survives_hostile_values(world: World, sweeper: Any, namespace: str) -> None:
    builders = url_object_builders()
    staff, member = _clients(world, sweeper)
    failures = []
    for route, name, pattern in _html_patterns(namespace):
        client = member if _is_h5(route) else staff
        kwargs = builders[name or route](world) if _PARAM.search(route) else {}
        path = build_path(route, kwargs)
        first = client.get(path)
        if first.status_code >= 500:
            failures.append(("GET", path, "", "", first.status_code))
            continue
        names = _source_names(pattern.callback, _GET_NAME)
        if first.status_code == 200 and first.get("Content-Type", "").startswith("text/html"):
            for form in page_forms(first.content.decode()):
                if form["method"] == "get" and urlsplit(urljoin(path, form["action"])).path == path:
                    names |= set(form["fields"])
        for value in HOSTILE:
            response = _get(client, path, dict.fromkeys(names, value))
            if response.status_code >= 500:
                failures.append(("GET", path, "*", value[:20], response.status_code))
        for param in sorted(names):
            for value in FIELD_HOSTILE:
                response = _get(client, path, {param: value})
                if response.status_code >= 500:
                    failures.append(("GET", path, param, value[:20], response.status_code))
    assert failures == []


@pytest.mark.slow
@pytest.mark.django_db
def test_every_form_field_survives_hostile_values(world: World, sweeper: Any, namespace: str) -> None:
    builders = url_object_builders()
    staff, member = _clients(world, sweeper)
    failures = []
    seen: set[tuple[str, frozenset[str]]] = set()
    for route, name, pattern in _html_patterns(namespace):
        client = member if _is_h5(route) else staff
        kwargs = builders[name or route](world) if _PARAM.search(route) else {}
        path = build_path(route, kwargs)
        forms: list[tuple[str, dict[str, list[str]]]] = []
        page = client.get(path)
        if page.status_code == 200 and page.get("Content-Type", "").startswith("text/html"):
            for form in page_forms(page.content.decode()):
                if form["method"] == "post":
                    forms.append((urlsplit(urljoin(path, form["action"] or path)).path, form["fields"]))
        posted = _source_names(pattern.callback, _POST_NAME)
        if posted:
            forms.append((path, {n: [""] for n in posted}))
        for action, fields in forms:
            key = (resolve(action).view_name, frozenset(fields))
            if key in seen or action.endswith("/logout/"):
                continue
            seen.add(key)
            for value in HOSTILE:
                response = client.post(action, dict.fromkeys(fields, value))
                if response.status_code >= 500:
                    failures.append(("POST", action, "*", value[:20], response.status_code))
            for field in sorted(fields):
                for value in FIELD_HOSTILE:
                    data = {**{n: v for n, v in fields.items() if n != field}, field: value}
                    response = client.post(action, data)
                    if response.status_code >= 500:
                        failures.append(("POST", action, field, value[:20], response.status_code))
    assert failures == []


def _hostile_bodies(schema: dict[str, Any], components: dict[str, Any]) -> Iterator[Any]:
    """Bodies for a JSON endpoint: not an object at all, then each property of the declared body
    replaced by each hostile value (and by a huge number and a deep structure)."""
    yield from ([], "x", 1e308, None)
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    properties = schema.get("properties", {})
    for prop in properties:
        for value in [*HOSTILE, 10**20, -(10**20), 1.5, True, None, [], {}, [[[]]]]:
            yield {**{p: "" for p in properties}, prop: value}


@pytest.mark.slow
@pytest.mark.django_db
def test_every_json_endpoint_survives_hostile_bodies(world: World, sweeper: Any) -> None:
    staff, member = _clients(world, sweeper)
    spec = staff.get("/api/openapi.json").json()
    components = spec.get("components", {}).get("schemas", {})
    builders = url_object_builders()
    failures = []
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            path = template
            for param in re.findall(r"{(\w+)}", template):
                name = next(
                    (n for r, n, _p in all_patterns() if r.startswith("api/") and "<" in r and param in r),
                    "",
                )
                value = builders[name](world)[param] if name in builders else 1
                path = path.replace("{%s}" % param, str(value))
            body_schema = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            )
            for client in (staff, member):
                if method == "get":
                    for value in HOSTILE:
                        params = {p["name"]: value for p in operation.get("parameters", []) if p.get("in") == "query"}
                        response = _get(client, path, params)
                        if response.status_code >= 500:
                            failures.append((method, path, value[:20], response.status_code))
                    continue
                for body in _hostile_bodies(body_schema, components):
                    response = client.generic(method.upper(), path, json.dumps(body), content_type="application/json")
                    if response.status_code >= 500:
                        failures.append((method, path, json.dumps(body)[:60], response.status_code))
    assert failures == []


@pytest.mark.django_db
def test_a_kiosk_reading_without_a_zone_is_read_in_local_time(world: World) -> None:
    if not CatalogueRelease.objects.exists():  # a transactional test flushed the migration's catalogue
        models = {"CatalogueRelease": CatalogueRelease, "Indicator": Indicator, "ReferenceInterval": ReferenceInterval}
        load_catalogue(read_catalogue_file(), models=models)
    forget_catalogue()
    device, secret = health_services.kiosk_register(
        actor=world.federation_admin, organization=world.street, name="小屋"
    )
    health_services.health_consent_grant(member=world.member_a)
    body = {
        "request_id": "naive-1",
        "card_token": card_token_issue(member=world.member_a).token,
        "readings": [{"code": "SBP", "value": 120, "unit": "mmHg"}],
        "measured_at": "2026-01-05T09:30:00",
    }
    response, _ = post(body, device.key_id, secret)
    assert response.status_code == 201, response.content
    assert Checkup.objects.get(pk=response.json()["checkup_id"]).exam_date.isoformat() == "2026-01-05"
    far, _ = post({**body, "request_id": "far-1", "measured_at": "9999-12-31T23:59:59+00:00"}, device.key_id, secret)
    assert far.status_code == 422
    assert far.json()["fields"] == {"measured_at": "时间无效"}
