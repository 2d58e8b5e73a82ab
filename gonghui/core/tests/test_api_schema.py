"""The OpenAPI schema tells the truth: schemathesis drives every operation in-process through
the WSGI app (a signed-in member, a signed-in 核销员 with the second factor passed, a registered
device signing each generated body) and checks that nothing answers 5xx, every status is
documented and every body matches its documented schema."""

import json
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from gonghui.benefits.claiming import forget_rules
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_device, make_point
from gonghui.core import signing
from gonghui.health import services as health_services
from gonghui.site.testing import World, build_world

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
CSRF = "gonghuiContractTestCsrfSecret012"  # a 32-character CSRF secret, sent as cookie and header
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


def _session(client: Client) -> str:
    return client.cookies["sessionid"].value


@pytest.fixture
def _keep_test_connection() -> Any:
    """Like Django's test client, keep the end of a request from closing the connection that
    holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def actors(db: Any, _keep_test_connection: Any) -> dict[str, Any]:
    forget_rules()
    world: World = build_world()
    point = make_point(world.union_a, name="甲公司职工驿站")
    campaign = make_campaign(world.union_a, world.staff_a, points=[point], stock=50)
    make_coupon(make_campaign(world.union_a, world.staff_a, points=[point]), world.member_a)
    device, secret = make_device(point)
    kiosk, kiosk_secret = health_services.kiosk_register(
        actor=world.federation_admin, organization=world.street, name="平江街道健康小屋"
    )
    health_services.health_consent_grant(member=world.member_a)
    member = Client()
    member.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    return {
        "member": _session(member),
        "clerk": _session(world.client_for(world.staff_a)),
        "campaign": campaign.pk,
        "devices": {
            "/api/benefits/device/redeem": (device.key_id, secret),
            "/api/health/device/readings": (kiosk.key_id, kiosk_secret),
        },
    }


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_its_schema(case: Any, actors: dict[str, Any]) -> None:
    path = case.operation.path
    kwargs: dict[str, Any] = {"app": application, "checks": CHECKS}
    if path.startswith(("/api/benefits/device/", "/api/health/device/")):
        key_id, secret = actors["devices"][path]
        if isinstance(case.body, NotSet):
            body = b""
        elif isinstance(case.body, bytes):
            body = case.body
        else:
            body = json.dumps(case.body).encode()
        kwargs["headers"] = {
            **signing.signed_headers(key_id=key_id, secret=secret, method=case.method, path=path, body=body),
            "Content-Type": "application/json",
        }
        kwargs["data"] = body
    else:
        who = "clerk" if path == "/api/members/card/verify" else "member"
        kwargs["cookies"] = {"sessionid": actors[who], "csrftoken": CSRF}
        kwargs["headers"] = {"X-CSRFToken": CSRF}
    case.call_and_validate(**kwargs)
