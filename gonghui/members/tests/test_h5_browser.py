import re
import time

import pytest

from gonghui.accounts.sms import ConsoleSmsSender
from gonghui.core import registry
from gonghui.members.identity import decrypt_id_number
from gonghui.site.testing import build_world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_member_signs_in_by_sms_and_shows_a_rotating_card(live_server, phone_page) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    page = phone_page
    page.goto(f"{live_server.url}/h5/")
    assert "/h5/login/" in page.url
    page.fill("#phone", "13900000001")
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-sent]")
    message = [m for phone, m in ConsoleSmsSender.outbox if phone == "13900000001"][-1]
    code = re.search(r"验证码为 (\d{6})", message).group(1)  # type: ignore[union-attr]
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=member-name]")
    assert page.inner_text("[data-testid=member-name]") == "张三"

    page.click("text=我的资料")
    shown = page.inner_text("[data-testid=profile-id]")
    full = decrypt_id_number(world.member_a.id_number_encrypted)
    assert shown == world.member_a.id_masked
    assert full not in page.content()

    page.goto(f"{live_server.url}/h5/card/")
    qr = page.locator("[data-testid=card-qr] img")
    token = qr.get_attribute("data-token")
    expires = int(qr.get_attribute("data-expires") or 0)
    assert token and 0 < expires - time.time() <= 60
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("[data-testid=card-qr]").get_attribute("hx-trigger") == "every 30s"
    refreshed = page.request.get(f"{live_server.url}/h5/card/qr/").text()
    new_token = re.search(r'data-token="([^"]+)"', refreshed).group(1)  # type: ignore[union-attr]
    assert new_token != token


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sms_login_shows_every_refusal_in_chinese(live_server, phone_page) -> None:  # type: ignore[no-untyped-def]
    """htmx drops 4xx answers unless told otherwise (static/js/htmx_errors.js): an invalid
    phone (422) and a second code within 60 s (429) must show their message; so must a wrong code."""
    build_world()
    page = phone_page
    page.goto(f"{live_server.url}/h5/login/")
    page.fill("#phone", "123")
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-error]")
    assert "手机号" in page.inner_text("[data-testid=code-error]")

    page.fill("#phone", "13900000001")
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-sent]")
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-error]")
    assert page.inner_text("[data-testid=code-error]") == "验证码已发送，请60秒后再试"

    page.fill("input[name=code]", "123")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=login-error]")
    assert page.inner_text("[data-testid=login-error]") == "验证码错误"
    assert "/h5/login/" in page.url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_home_tiles_draw_icons_from_the_icon_font_and_mark_services_not_yet_open(live_server, phone_page) -> None:  # type: ignore[no-untyped-def]
    """Emoji need an emoji font the phone may not have; the icon font is vendored."""
    from django.test import Client

    world = build_world()
    client = Client()
    client.force_login(world.member_a.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    page = phone_page
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/h5/")
    page.wait_for_selector("[data-testid=member-name]")
    page.evaluate("document.fonts.ready.then(() => true)")
    icons = page.locator("[data-testid=tile-icon]")
    assert icons.count() == len(registry.tiles()) == 9
    for i in range(icons.count()):
        icon = icons.nth(i)
        font, width, height, glyph = icon.evaluate(
            "el => { const s = getComputedStyle(el, '::before'); const r = el.getBoundingClientRect();"
            " return [s.fontFamily, r.width, r.height, s.content]; }"
        )
        assert "bootstrap-icons" in font and width > 0 and height > 0 and glyph not in ("", "none")
    assert page.evaluate("document.fonts.check('28px bootstrap-icons')")
    assert page.evaluate("[...document.fonts].some(f => f.family.includes('bootstrap-icons') && f.status === 'loaded')")

    # The services whose app has not landed yet are the site's 即将开通 placeholders.
    soon = page.locator("[data-testid=tile-soon]")
    assert [soon.nth(i).inner_text().split("\n")[0] for i in range(soon.count())] == [
        t.label for t in registry.tiles() if t.url is None
    ]
    for i in range(soon.count()):
        tile = soon.nth(i)
        assert "即将开通" in tile.inner_text()
        assert tile.evaluate("el => el.tagName !== 'A' && el.closest('a') === null && el.querySelector('a') === null")
    assert page.locator("a[data-testid=tile]").count() == len([t for t in registry.tiles() if t.url]) >= 3
