"""The portal on the gateway in-process: sessions (random ids, expiry, revocation, rotation),
CSRF on sign-in and sign-out, the secure cookie behind TLS, no unsigned words on a page, and
the security headers. (The pages' parts are in unit/test_gateway_portal_pages.py, the pages in a
real browser in tests/test_portal_browser_*.py.)"""

import re

import httpx
import pytest
from fastapi import FastAPI

from gateway import api
from gateway.portal import SecurityHeaders, install
from gateway.portal.settings import PortalSettings
from servicekit.hosting.http import install_problem_handlers

from gateway_test_helpers import HOSTILE, OPERATOR_TOKEN


@pytest.fixture
def portal_app(gateway, db, clock):
    app = FastAPI()
    install_problem_handlers(app)
    api.install(app, gateway)
    install(app, db, settings=PortalSettings(idle_minutes=30, absolute_hours=12), clock=clock)
    app.add_middleware(SecurityHeaders)
    return app


@pytest.fixture
async def browser(portal_app):
    transport = httpx.ASGITransport(app=portal_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def sign_in(browser: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await browser.get("/portal/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    return await browser.post("/portal/sign-in", data={"token": token, "csrf": csrf.group(1)})


def page_csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_the_session_cookie_is_a_new_random_id_not_the_token(browser):
    answer = await sign_in(browser, OPERATOR_TOKEN)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal"
    first = browser.cookies["mkt_session"]
    assert OPERATOR_TOKEN not in first and OPERATOR_TOKEN not in answer.headers["set-cookie"]
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/portal" in cookie
    assert "secure" not in cookie  # plain http here
    csrf = page_csrf(await browser.get("/portal/notifications"))
    await sign_in(browser, OPERATOR_TOKEN)
    second = browser.cookies["mkt_session"]
    assert second != first
    assert page_csrf(await browser.get("/portal/notifications")) != csrf
    browser.cookies.set("mkt_session", first, path="/portal")
    assert (await browser.get("/portal/notifications")).status_code == 303  # the old one ended


async def test_signing_out_ends_the_session_and_needs_the_csrf_token(browser):
    await sign_in(browser, OPERATOR_TOKEN)
    session = browser.cookies["mkt_session"]
    forged = await browser.post("/portal/sign-out", data={})
    assert forged.status_code == 403
    assert (await browser.get("/portal/notifications")).status_code == 200
    csrf = page_csrf(await browser.get("/portal/notifications"))
    out = await browser.post("/portal/sign-out", data={"csrf": csrf})
    assert out.status_code == 303
    browser.cookies.set("mkt_session", session, path="/portal")
    answer = await browser.get("/portal/notifications")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/portal/sign-in")


async def test_sign_in_without_its_csrf_token_is_refused(browser):
    answer = await browser.post("/portal/sign-in", data={"token": OPERATOR_TOKEN})
    assert answer.status_code == 403
    assert "mkt_session" not in browser.cookies


async def test_a_session_expires_when_idle_and_at_its_absolute_age(browser, clock):
    await sign_in(browser, OPERATOR_TOKEN)
    clock.advance(29 * 60)
    assert (await browser.get("/portal/notifications")).status_code == 200
    clock.advance(31 * 60)
    assert (await browser.get("/portal/notifications")).status_code == 303
    await sign_in(browser, OPERATOR_TOKEN)
    for _ in range(12 * 3):  # used every 20 minutes, it still ends after 12 hours
        clock.advance(20 * 60)
        answer = await browser.get("/portal/notifications")
    assert answer.status_code == 303


async def test_a_revoked_token_ends_its_sessions(browser, client, buyer):
    await sign_in(browser, buyer["Authorization"].removeprefix("Bearer "))
    assert (await browser.get("/portal/notifications")).status_code == 200
    assert (await client.delete("/v1/me/token", headers=buyer)).status_code == 204
    assert (await browser.get("/portal/notifications")).status_code == 303


async def test_the_cookie_is_secure_over_tls(portal_app):
    transport = httpx.ASGITransport(app=portal_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://gateway") as tls:
        answer = await sign_in(tls, OPERATOR_TOKEN)
    assert "secure" in answer.headers["set-cookie"].lower()


async def test_sign_in_shows_only_its_own_words(browser):
    page = await browser.get("/portal/sign-in", params={"error": HOSTILE, "notice": "Call us"})
    assert page.status_code == 200
    assert "alert" not in page.text and "Call us" not in page.text
    page = await browser.get("/portal/sign-in", params={"error": "invalid"})
    assert "That token is not valid." in page.text


async def test_a_signed_in_page_shows_no_unsigned_message(browser):
    await sign_in(browser, OPERATOR_TOKEN)
    page = await browser.get("/portal/notifications", params={"error": "Wire 500 EUR to X"})
    assert page.status_code == 200 and "Wire 500" not in page.text


async def test_portal_pages_carry_the_security_headers(browser):
    for page in (await browser.get("/portal/sign-in"), await browser.get("/v1/me")):
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    await sign_in(browser, OPERATOR_TOKEN)
    page = await browser.get("/portal/notifications")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


async def sign_in_with_next(browser: httpx.AsyncClient, token: str, asked: str) -> httpx.Response:
    form = await browser.get("/portal/sign-in", params={"next": asked})
    return await browser.post(
        "/portal/sign-in", data={"token": token, "csrf": page_csrf(form), "next": asked}
    )


async def test_sign_in_returns_to_the_page_asked_for(browser):
    asked = await browser.get("/portal/notifications", params={"page": "2"})
    assert asked.status_code == 303
    assert asked.headers["location"] == "/portal/sign-in?next=%2Fportal%2Fnotifications%3Fpage%3D2"
    form = await browser.get(asked.headers["location"])
    assert 'name="next" value="/portal/notifications?page=2"' in form.text
    signed = await browser.post(
        "/portal/sign-in",
        data={"token": OPERATOR_TOKEN, "csrf": page_csrf(form), "next": "/portal/notifications"},
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/portal/notifications"


async def test_sign_in_never_sends_anyone_off_the_site(browser):
    for elsewhere in ("https://evil.example/portal", "//evil.example/portal", "/\\evil.example"):
        form = await browser.get("/portal/sign-in", params={"next": elsewhere})
        assert "evil.example" not in form.text
        signed = await sign_in_with_next(browser, OPERATOR_TOKEN, elsewhere)
        assert signed.status_code == 303 and signed.headers["location"] == "/portal"
    wrong = await sign_in_with_next(browser, "mkt_not-a-token", "/portal/ops")
    assert wrong.headers["location"] == "/portal/sign-in?error=invalid&next=%2Fportal%2Fops"


async def test_errors_are_pages_inside_the_layout_with_a_way_back(browser):
    await sign_in(browser, OPERATOR_TOKEN)
    missing = await browser.get("/portal/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "Page not found" in missing.text and 'href="/portal"' in missing.text
    assert 'nav aria-label="Main"' in missing.text  # the layout, with the reader's menu
    expired = await browser.post("/portal/notifications/ntf_1/read", data={"csrf": "old"})
    assert expired.status_code == 403 and "Form expired" in expired.text
    assert 'href="/portal"' in expired.text
    assert (await browser.get("/portal/static/portal.css")).status_code == 200
