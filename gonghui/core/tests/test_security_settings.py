"""Production refuses the shipped demo keys at start-up, HSTS follows HTTPS=1, and no response
that can show personal data may be cached (issue 9 item 8)."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from gonghui.health.services import health_consent_grant
from gonghui.health.tests.test_reports import import_hl7
from gonghui.members.identity import decrypt_id_number
from gonghui.site.testing import World

ROOT = Path(__file__).resolve().parents[3]
OWN_KEYS = {
    "SECRET_KEY": "x" * 50,
    "PII_KEYS": "k1:" + base64.b64encode(b"p" * 32).decode(),
    "PII_ACTIVE_KEY_ID": "k1",
    "BLIND_INDEX_KEY": base64.b64encode(b"b" * 32).decode(),
    "AUDIT_HMAC_KEY": "a" * 40,
}
SETUP = "import django; django.setup(); from django.conf import settings; print(settings.SECURE_HSTS_SECONDS)"


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    """`django.setup()` in a fresh process with a production environment plus `env`."""
    base = {k: v for k, v in os.environ.items() if k not in {"GONGHUI_DEMO", "DEBUG", "HTTPS", *OWN_KEYS}}
    base.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgres://gonghui@db.example:5432/gonghui",
        GONGHUI_VAR_DIR=str(ROOT / "var"),
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", SETUP], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("name", ["SECRET_KEY", "PII_KEYS", "BLIND_INDEX_KEY", "AUDIT_HMAC_KEY"])
def test_production_start_up_refuses_each_demo_key(name: str) -> None:
    keys = {k: v for k, v in OWN_KEYS.items() if k != name}
    if name == "PII_KEYS":  # the demo key kept beside a new one (a rotation not finished) is refused too
        keys["PII_KEYS"] = OWN_KEYS["PII_KEYS"] + ",demo1:" + django_settings.DEMO_KEYS["PII_KEYS"]
    started = _start(**keys)
    assert started.returncode != 0
    assert f"ImproperlyConfigured: {name} is the shipped demo value" in started.stderr


def test_production_starts_with_its_own_keys_and_the_demo_with_the_shipped_ones() -> None:
    assert _start(**OWN_KEYS).returncode == 0
    assert _start(GONGHUI_DEMO="1").returncode == 0
    assert _start(DEBUG="1").returncode == 0
    # SQLite is the demo's database (production runs on PostgreSQL): `manage.py seed_demo` on a
    # SQLite file needs no flag, as the README's demo path runs it.
    assert _start(DATABASE_URL="sqlite:////tmp/demo.sqlite3").returncode == 0
    assert _start(DATABASE_URL="sqlite:////tmp/demo.sqlite3", GONGHUI_DEMO="0").returncode != 0


def test_hsts_is_on_when_the_site_is_served_over_https() -> None:
    assert _start(**OWN_KEYS).stdout.split() == ["0"]
    assert _start(**OWN_KEYS, HTTPS="1").stdout.split() == [str(365 * 24 * 3600)]


@pytest.mark.django_db
def test_pages_and_api_answers_with_personal_data_are_not_stored(world: World, client) -> None:  # type: ignore[no-untyped-def]
    checkup = import_hl7(
        world,
        {
            "a": decrypt_id_number(world.member_a.id_number_encrypted),
            "b": decrypt_id_number(world.member_b.id_number_encrypted),
        },
    )
    health_consent_grant(member=world.member_a)
    staff = world.client_for(world.staff_a)
    member = world.client_for(world.member_a.user)
    answers = {
        "member detail": staff.get(f"/console/members/{world.member_a.pk}/"),
        "health report": staff.get(f"/console/health/reports/{checkup.pk}/"),
        "H5 card": member.get("/h5/card/"),
        "H5 health report": member.get(f"/h5/health/reports/{checkup.pk}/"),
        "API": member.get("/api/members/me"),
        "login page": client.get("/accounts/login/"),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 200)
    assert {name: r["Cache-Control"] for name, r in answers.items()} == dict.fromkeys(answers, "no-store")


def test_static_files_stay_cacheable(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/static/css/console.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
