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
from gonghui.site.testing import World

PUBLIC_URL_NAMES = {
    "home",
    "healthz",
    "accounts:staff_login",
    "accounts:logout",
    "members:h5_login",
    "members:h5_send_code",
    "members:h5_join",  # 网上申请入会: the applicant is not a member yet; the phone is proved by SMS
    "members:h5_union_search",  # the join form's union search: grassroots names and codes, rate-limited
    "members:h5_privacy",
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
    "suggestions:track",  # 诉求查询: the anonymous submitter's tracking code alone, rate-limited
    "suggestions:anonymous_new",  # 匿名提出诉求 from the union's link, rate-limited
    "suggestions:public",  # 院务公开: closed, publishable items with personal data masked
    "activities:verify",  # 证书查验: a certificate number answers with the masked holder, rate-limited
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
        if not _PARAM.search(route) or name in PUBLIC_URL_NAMES:
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


# A member URL whose path parameter is not an object of member A: member B acts on their own
# (a service station, its photos and its QR check-in are a public place's, open to every member).
MEMBER_OWN_PARAMETER_URLS = {
    "members:h5_consent_withdraw",
    "stations:h5_station",
    "stations:h5_photo",
    "stations:h5_checkin",
}


def _member_client(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return client


def _member_a_markers(world: World) -> list[str]:
    """Text that only member A's data would put on a page."""
    a = world.member_a
    return [a.name, a.phone, a.phone_masked, a.member_no, a.card_no]


def _leaked(response: Any, markers: list[str]) -> list[str]:
    body = response.content.decode("utf-8", errors="ignore")
    return [marker for marker in markers if marker in body]


@pytest.mark.django_db
def test_member_b_cannot_reach_member_a_objects(world: World) -> None:
    builders = url_object_builders()
    client = _member_client(world.member_b.user)
    markers = _member_a_markers(world)
    leaks = []
    swept_h5 = set()
    for route, name, _pattern in all_patterns():
        if not _PARAM.search(route) or name in MEMBER_OWN_PARAMETER_URLS or name in PUBLIC_URL_NAMES:
            continue
        key = _key(route, name)
        path = build_path(route, builders[key](world))
        before = AuditEvent.objects.filter(organization_path__startswith=world.union_a.path, result="ok").count()
        response = _request(client, path)
        after = AuditEvent.objects.filter(organization_path__startswith=world.union_a.path, result="ok").count()
        if route.startswith("h5/"):
            swept_h5.add(name)
        if response.status_code not in (403, 404) or after != before or _leaked(response, markers):
            leaks.append((key, path, response.status_code, after - before, _leaked(response, markers)))
    assert leaks == []
    assert swept_h5 == {
        "benefits:h5_coupon_detail",
        "competitions:h5_quiz",
        "competitions:h5_attempt",
        "competitions:h5_question_image",
        "benefits:h5_campaign",
        "benefits:h5_claim",
        "health:h5_report",
        "health:h5_report_pdf",
        "health:h5_programme",
        "health:h5_appointment_cancel",
        "mutual_aid:h5_claim",
        "mutual_aid:h5_claim_appeal",
        "mutual_aid:h5_claim_create",
        "suggestions:h5_item",
        "activities:h5_course",
        "activities:h5_activity",
        "activities:h5_checkin",
        "activities:h5_certificate",
    }


@pytest.mark.django_db
def test_member_b_h5_pages_show_none_of_member_a_data(world: World) -> None:
    """With member A's coupons, health reports, appointments and applications in place, every
    H5 page without a path parameter shows member B their own data and none of A's."""
    builders = url_object_builders()
    for route, name, _pattern in all_patterns():
        if _PARAM.search(route) and route.startswith("h5/"):
            builders[_key(route, name)](world)
    client = _member_client(world.member_b.user)
    markers = _member_a_markers(world)
    seen = []
    for route, name, _pattern in all_patterns():
        if not route.startswith("h5/") or _PARAM.search(route):
            continue
        response = _request(client, build_path(route, {}))
        assert response.status_code < 500, (name, response.status_code)
        assert _leaked(response, markers) == [], name
        seen.append(name)
    profile = client.get("/h5/me/").content.decode()
    assert world.member_b.member_no in profile  # the page does show its member's own data
    assert {"members:h5_home", "members:h5_profile", "members:h5_card", "benefits:h5_coupons"} <= set(seen)


def _audit_rows(response: Any) -> set[str]:
    return set(re.findall(r'data-event="(\d+-\d+)"', response.content.decode()))


@pytest.mark.django_db
def test_an_auditor_of_union_b_reads_no_event_of_union_a(world: World) -> None:
    """Scoping, not only refusal: union B's 审计员 sees B's events, and no filter, search or
    page of the audit list reaches an event of union A's objects."""
    from gonghui.organizations.services import role_grant
    from gonghui.site.testing import make_user

    role_grant(actor=world.federation_admin, user=make_user("clerk_of_a"), organization=world.union_a, role="redeemer")
    role_grant(actor=world.federation_admin, user=make_user("clerk_of_b"), organization=world.union_b, role="redeemer")
    events_a = AuditEvent.objects.filter(organization_path__startswith=world.union_a.path)
    events_b = AuditEvent.objects.filter(organization_path__startswith=world.union_b.path)
    rows_a = {f"{e.chain}-{e.seq}" for e in events_a}
    rows_b = {f"{e.chain}-{e.seq}" for e in events_b}
    assert rows_a and rows_b
    event_a = events_a.order_by("-id").first()
    assert event_a is not None
    client = world.client_for(world.auditor_b)
    listing = _audit_rows(client.get("/console/audit/"))
    assert listing == rows_b  # B's own events, and nothing outside B's sub-tree
    for query in (
        {"action": event_a.action},
        {"action": event_a.action.split(".")[0]},
        {"object_id": event_a.object_id},
        {"actor": event_a.actor_label},
        {"date_from": "2000-01-01", "date_to": "2100-01-01"},
        {"organization_path": world.union_a.path},
        {"page": "2"},
        {"page": "9999"},
        {"action": event_a.action, "page": "9999"},
    ):
        response = client.get("/console/audit/", query)
        assert response.status_code == 200, query
        assert _audit_rows(response) & rows_a == set(), query
        assert _audit_rows(response) <= rows_b, query
    # The same filter that finds A's event for A's own auditor finds nothing for B's.
    assert _audit_rows(client.get("/console/audit/", {"object_id": event_a.object_id})) == set()
