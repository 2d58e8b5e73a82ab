import contextlib
import os

import pytest
from hypothesis import HealthCheck, settings

from gonghui.site.testing import World, build_world

# The suite runs on a shared 2-core machine beside PostgreSQL and chromium: how fast examples are
# generated or run says nothing about the rules under test, so time is no failure here (the
# properties and their example counts stay as written).
settings.register_profile("gonghui", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gonghui")


@pytest.fixture(autouse=True, scope="session")
def _empty_cache():  # type: ignore[no-untyped-def]
    """Cached figures are keyed by ids that repeat between runs of a fresh test database."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_server_errors_behind_the_browser(request):  # type: ignore[no-untyped-def]
    """A page that renders a 500 behind a browser test fails the test, even if the test
    never looks at that page's content."""
    if "live_server" not in request.fixturenames:
        yield
        return
    from django.core.signals import got_request_exception

    errors: list[str] = []

    def record(sender, request=None, **kwargs):  # type: ignore[no-untyped-def]
        errors.append(getattr(request, "path", "?"))

    got_request_exception.connect(record, weak=False)
    try:
        yield
    finally:
        got_request_exception.disconnect(record)
    assert errors == [], f"server errors while the browser test ran: {errors}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def _chromium():  # type: ignore[no-untyped-def]
    """Debian's chromium driven by Playwright (its own browser download does not work here).
    Playwright's sync API runs an event loop in this thread, so the ORM must be told that
    calls from the test body are intended."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    with _chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def module_browser():  # type: ignore[no-untyped-def]
    """One chromium for a whole module of browser tests (each test opens its own context)."""
    with _chromium() as instance:
        yield instance


@pytest.fixture
def phone_page(browser):  # type: ignore[no-untyped-def]
    """A phone-sized page (the member H5 experience)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
