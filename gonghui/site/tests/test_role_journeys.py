"""One journey per role, in chromium: sign in, collect the links of the role's menu (the
console sidebar and each section's tabs, or the member's H5 home), follow each and one detail
link per page, and fail on what a person would trip over: an error status, a broken image, a
Python repr or a bare None/True/False in the visible text, an untranslated Django default page,
or a script error. One browser serves the whole module; each role gets a fresh world with a few
objects per domain, so the pages have rows to show."""

import datetime as dt
import re
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from gonghui.benefits.models import CouponStatus, PointKind
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_point, make_redemption
from gonghui.core.middleware import SESSION_OTP_OK
from gonghui.core.permissions import Role
from gonghui.health import services as health_services
from gonghui.health.catalogue import forget_catalogue, load_catalogue, read_catalogue_file
from gonghui.health.models import CatalogueRelease, Indicator, Programme, ProgrammeStatus, ReferenceInterval
from gonghui.health.tests.samples import messy_hl7
from gonghui.members import services as member_services
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import Education
from gonghui.site.testing import World, build_world, grant, make_member, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# What a person must never read on a page.
REPRS = ("dict_items(", "dict_keys(", "dict_values(", "{'", "<QuerySet", "object at 0x")
BARE_WORDS = re.compile(r"(?<![A-Za-z_])(None|True|False)(?![A-Za-z_])")
DJANGO_DEFAULTS = ("Not Found", "Server Error", "Page not found", "Bad Request (400)", "403 Forbidden")
# Links that download a file or leave the page (they are checked by the exports' own tests).
SKIP = re.compile(r"(\.xlsx|\.csv|/pdf/|\.pdf|[?&]export=|/logout|^mailto:|^tel:|^javascript:)")
MAX_PAGES = 50


def _session_cookie(user: Any, *, otp: bool = True) -> str:
    client = Client()
    client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    if otp:
        session = client.session
        session[SESSION_OTP_OK] = True
        session.save()
    return client.cookies["sessionid"].value


def _context(browser: Any, base: str, user: Any, *, phone: bool = False, otp: bool = True) -> Any:
    if phone:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
        )
    else:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": _session_cookie(user, otp=otp), "url": base}])
    context.set_default_timeout(15_000)
    context.route(re.compile(r"/static/"), _static_from_disk)
    return context


def _static_from_disk(route: Any) -> None:
    """The vendored files come straight from static/ (what whitenoise would serve), so the
    single live server spends its time on the pages under test."""
    name = unquote(urlparse(route.request.url).path).removeprefix(settings.STATIC_URL)
    path = finders.find(name)
    if path is None:
        route.continue_()
    else:
        route.fulfill(path=path, headers={"Cache-Control": "max-age=3600"})


def _world_with_domain_objects() -> World:
    """The four-actor world plus, in union A: an edited member and a second one, a redemption
    point with a published campaign, a claimed and a redeemed coupon, an open check-up
    programme and an imported check-up report the member has consented to see."""
    load_catalogue(
        read_catalogue_file(),
        models={"CatalogueRelease": CatalogueRelease, "Indicator": Indicator, "ReferenceInterval": ReferenceInterval},
    )
    forget_catalogue()
    world = build_world()
    member_services.member_update(
        actor=world.staff_a,
        member=world.member_a,
        data={"political_status": "群众", "work_unit": "苏州甲公司", "education": Education.BACHELOR},
        reason="核对档案",
    )
    make_member(world.union_a, name="王五", phone="13900000003")
    point = make_point(world.union_a, name="平江路工会驿站")
    make_point(world.union_a, name="甲公司售货机", kind=PointKind.VENDING)
    campaign = make_campaign(world.union_a, world.staff_a, points=[point], name="2026年送清凉")
    make_coupon(campaign, world.member_a, status=CouponStatus.CLAIMED, seq=1)
    other = make_campaign(world.union_a, world.staff_a, points=[point], name="2026年端午慰问")
    make_redemption(make_coupon(other, world.member_a, seq=1), point, world.staff_a)
    Programme.objects.create(
        organization=world.union_a,
        eligible_org=world.union_a,
        name="2026年甲公司职工体检",
        year=2026,
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 12, 31),
        status=ProgrammeStatus.OPEN,
        created_by=world.staff_a,
    )
    batch = health_services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="hl7",
        filename="lab.hl7",
        content=messy_hl7(
            decrypt_id_number(world.member_a.id_number_encrypted),
            decrypt_id_number(world.member_b.id_number_encrypted),
        ),
        enqueue=False,
    )
    health_services.import_batch_run(batch_id=batch.pk)
    health_services.health_consent_grant(member=world.member_a)
    return world


def _problems_on(page: Any, url: str, status: int | None) -> list[str]:
    problems = []
    if status is None or status >= 400:
        problems.append("%(url)s: HTTP %(status)s" % {"url": url, "status": status})
    page.wait_for_load_state("load")
    broken = page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.getAttribute('alt') || i.src.slice(0, 60))"
    )
    if broken:
        problems.append("%(url)s: broken images %(imgs)s" % {"url": url, "imgs": broken})
    text = page.inner_text("body")
    for marker in REPRS:
        if marker in text:
            problems.append("%(url)s: Python repr %(m)r in the text" % {"url": url, "m": marker})
    for word in sorted(set(BARE_WORDS.findall(text))):
        problems.append("%(url)s: bare %(w)s in the text" % {"url": url, "w": word})
    for marker in DJANGO_DEFAULTS:
        if marker in text:
            problems.append("%(url)s: Django default page text %(m)r" % {"url": url, "m": marker})
    return problems


def _links(page: Any, selector: str, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        if not href or href.startswith("#") or SKIP.search(href):
            continue
        absolute = urljoin(page.url, href)
        if urlparse(absolute).netloc != urlparse(base).netloc:
            continue
        out.append(absolute.split("#")[0])
    return out


def _journey(page: Any, base: str, start: str, *, menu: str, tabs: str, details: str) -> tuple[list[str], list[str]]:
    """Visit `start`, every `menu` link on it, every `tabs` link on those pages, and the first
    `details` link of each page. Returns (visited paths, problems)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append("%(url)s: script error %(e)s" % {"url": page.url, "e": exc}))
    visited: list[str] = []
    problems: list[str] = []

    def visit(url: str) -> bool:
        path = urlparse(url).path + (("?" + urlparse(url).query) if urlparse(url).query else "")
        if path in visited or len(visited) >= MAX_PAGES:
            return False
        visited.append(path)
        response = page.goto(url)
        problems.extend(_problems_on(page, path, response.status if response else None))
        return True

    visit(base + start)
    menu_links = _links(page, menu, base)
    tab_links: list[str] = []
    detail_links = _links(page, details, base)[:1]
    for url in menu_links:
        if visit(url):
            tab_links += _links(page, tabs, base)
            detail_links += _links(page, details, base)[:1]
    for url in tab_links:
        if visit(url):
            detail_links += _links(page, details, base)[:1]
    for url in detail_links:
        visit(url)
    return visited, problems + errors


CONSOLE = {
    "menu": "aside.app-sidebar a[href]",
    "tabs": "main .nav a[href]",
    "details": "main table a[href], main .list-group a[href]",
}


def _staff_journey(browser: Any, base: str, role: str, start: str = "/console/") -> list[str]:
    world = _world_with_domain_objects()
    user = grant(make_user("journey_%(r)s" % {"r": role}), world.union_a, role)
    context = _context(browser, base, user)
    try:
        visited, problems = _journey(context.new_page(), base, start, **CONSOLE)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    return visited


def test_member_on_a_phone(live_server, module_browser) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_domain_objects()
    context = _context(module_browser, live_server.url, world.member_a.user, phone=True)
    try:
        page = context.new_page()
        visited, problems = _journey(
            page,
            live_server.url,
            "/h5/",
            menu=".page a[href]:not(.h5-back)",
            tabs=".page a[href]:not(.h5-back)",
            details=".page a[href]:not(.h5-back)",
        )
        page.goto(live_server.url + "/h5/")
        wider = page.evaluate("document.documentElement.scrollWidth")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    assert wider <= 390
    for path in ("/h5/card/", "/h5/coupons/", "/h5/health/", "/h5/me/", "/h5/consents/"):
        assert path in visited
    assert any(re.fullmatch(r"/h5/coupons/\d+/", p) for p in visited), visited  # the coupon QR page
    assert any(re.fullmatch(r"/h5/health/reports/\d+/", p) for p in visited), visited


def test_handler(live_server, module_browser) -> None:  # type: ignore[no-untyped-def]
    visited = _staff_journey(module_browser, live_server.url, Role.HANDLER)
    for path in ("/console/members/", "/console/benefits/"):
        assert path in visited
    assert any(re.fullmatch(r"/console/members/\d+/", p) for p in visited), visited


def test_reviewer(live_server, module_browser) -> None:  # type: ignore[no-untyped-def]
    visited = _staff_journey(module_browser, live_server.url, Role.REVIEWER)
    assert "/console/benefits/" in visited


def test_finance(live_server, module_browser) -> None:  # type: ignore[no-untyped-def]
    visited = _staff_journey(module_browser, live_server.url, Role.FINANCE)
    assert "/console/benefits/" in visited


def test_redeemer(live_server, module_browser) -> None:  # type: ignore[no-untyped-def]
    visited = _staff_journey(module_browser, live_server.url, Role.REDEEMER)
    assert "/clerk/redeem/" in visited


def test_health_manager(live_server, module_browser) -> None:  # type: ignore[no-untyped-def]
    visited = _staff_journey(module_browser, live_server.url, Role.HEALTH)
    for path in ("/console/health/", "/console/health/catalogue/", "/console/health/members/"):
        assert path in visited


def test_auditor_enrols_totp_and_reads_the_audit_trail(live_server, module_browser) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_domain_objects()
    auditor = grant(make_user("journey_auditor"), world.union_a, Role.AUDITOR)
    # Before the second factor: the enrolment page shows its QR code, and it renders.
    context = _context(module_browser, live_server.url, auditor, otp=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/console/")
        assert "/accounts/otp/" in page.url
        qr = page.locator("img[alt=动态口令二维码]")
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    finally:
        context.close()
    context = _context(module_browser, live_server.url, auditor)
    try:
        visited, problems = _journey(context.new_page(), live_server.url, "/console/", **CONSOLE)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    assert "/console/audit/" in visited
