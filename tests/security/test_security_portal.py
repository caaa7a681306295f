"""The web portal against an attacker (issue #16): everything a user wrote is shown as text on
every page, a link cannot put words on a page, every page carries a strict
Content-Security-Policy and the other security headers, and a portal session is not the API
token: a random id, new at every sign-in, ended by sign-out and by the token's revocation or
expiry, with CSRF checked on sign-in and sign-out. The stored-XSS chain that granted credit is
replayed in Chromium in tests/test_portal_browser_security.py."""

import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import httpx
import pytest

from e2e_helpers import (
    ADDRESS,
    Api,
    advance,
    authorized_order,
    eventually,
    now_of,
    ok,
    opened_ticket,
)

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)></textarea><b>hostile'
MARKUP = ("<script>alert", "<img src=x", "</textarea><b>", "<b>hostile")
ESCAPED = "&lt;script&gt;"


def principal(operator: Api, gateway_url: str, role: str, **extra: object) -> Api:
    answer = operator.post(
        "/v1/principals",
        {"role": role, "name": f"{HOSTILE} {role}", "email": f"{uuid.uuid4().hex[:8]}@example.com"}
        | extra,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return Api(gateway_url, body["token"], body)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


@contextmanager
def portal(gateway_url: str, token: str) -> Iterator[httpx.Client]:
    """A browser signed in to the portal through its form."""
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        form = client.get("/portal/sign-in").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        signed = client.post(
            "/portal/sign-in", data={"token": token, "csrf": csrf.group(1) if csrf else ""}
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/portal", signed.text
        yield client


def assert_shown_as_text(page: httpx.Response, where: str) -> None:
    assert page.status_code == 200, (where, page.status_code, page.text[:300])
    for markup in MARKUP:
        assert markup not in page.text, f"{where}: {markup!r} reached the page as markup"


def test_hostile_text_in_every_field_is_shown_as_text_on_every_page(gateway_url, operator):
    seller = principal(operator, gateway_url, "seller")
    buyer = principal(operator, gateway_url, "buyer")
    agent = principal(operator, gateway_url, "agent")
    order = authorized_order(seller, buyer, title=HOSTILE)
    ok(buyer.post(f"/v1/orders/{order['id']}/messages", {"body": HOSTILE}))
    ok(seller.post(f"/v1/orders/{order['id']}/messages", {"body": HOSTILE}))
    hostile_address = ADDRESS | {"name": HOSTILE, "line1": HOSTILE, "city": HOSTILE}
    ok(buyer.put(f"/v1/orders/{order['id']}/shipping-address", hostile_address))
    declined = authorized_order(seller, buyer, title=HOSTILE)
    ok(seller.post(f"/v1/orders/{declined['id']}/decline", {"reason": HOSTILE}))
    cancelled = authorized_order(seller, buyer, title=HOSTILE)
    ok(buyer.post(f"/v1/orders/{cancelled['id']}/cancel", {"reason": HOSTILE}))
    ticket = opened_ticket(buyer, order["id"], HOSTILE, HOSTILE)
    eventually(lambda: agent.get(f"/v1/tickets/{ticket['id']}").status_code == 200)
    ok(agent.post(f"/v1/tickets/{ticket['id']}/messages", {"body": HOSTILE, "internal": False}))

    with ExitStack() as signed_in:
        buyer_portal, seller_portal, agent_portal, operator_portal = (
            signed_in.enter_context(portal(gateway_url, who.token))
            for who in (buyer, seller, agent, operator)
        )
        pages = read_every_page(
            buyer_portal,
            seller_portal,
            agent_portal,
            operator_portal,
            order,
            declined,
            cancelled,
            ticket,
        )
        pages["sign-in"] = httpx.get(
            f"{gateway_url}/portal/sign-in", params={"error": HOSTILE, "notice": HOSTILE}
        )
    for where, page in pages.items():
        assert_shown_as_text(page, where)
    for where in ("buyer order", "seller order", "buyer ticket", "agent ticket", "agent queue"):
        assert ESCAPED in pages[where].text, f"{where}: the hostile text is not on the page at all"


def read_every_page(
    buyer_portal: httpx.Client,
    seller_portal: httpx.Client,
    agent_portal: httpx.Client,
    operator_portal: httpx.Client,
    order: dict,
    declined: dict,
    cancelled: dict,
    ticket: dict,
) -> dict[str, httpx.Response]:
    return {
        "buyer orders": buyer_portal.get("/portal/orders"),
        "buyer order": buyer_portal.get(f"/portal/orders/{order['id']}"),
        "buyer declined order": buyer_portal.get(f"/portal/orders/{declined['id']}"),
        "buyer cancelled order": buyer_portal.get(f"/portal/orders/{cancelled['id']}"),
        "buyer tickets": buyer_portal.get("/portal/tickets"),
        "buyer ticket": buyer_portal.get(f"/portal/tickets/{ticket['id']}"),
        "buyer notifications": buyer_portal.get("/portal/notifications"),
        "buyer credits": buyer_portal.get("/portal/credits"),
        "seller orders": seller_portal.get("/portal/orders"),
        "seller order": seller_portal.get(f"/portal/orders/{order['id']}"),
        "seller standards": seller_portal.get("/portal/standards"),
        "agent queue": agent_portal.get("/portal/tickets"),
        "agent ticket": agent_portal.get(f"/portal/tickets/{ticket['id']}"),
        "operator": operator_portal.get("/portal/ops"),
    }


def test_a_link_cannot_put_words_on_a_portal_page(gateway_url, buyer):
    phishing = "Your account is locked: call +1 555 0100"
    sign_in = httpx.get(f"{gateway_url}/portal/sign-in", params={"error": phishing})
    assert sign_in.status_code == 200 and "call +1 555" not in sign_in.text
    with portal(gateway_url, buyer.token) as signed_in:
        page = signed_in.get("/portal/orders", params={"notice": phishing})
    assert page.status_code == 200 and "call +1 555" not in page.text


def test_every_portal_page_carries_the_security_headers(gateway_url, buyer):
    with portal(gateway_url, buyer.token) as signed_in:
        pages = [signed_in.get("/portal/orders"), signed_in.get("/portal/notifications")]
    pages.append(httpx.get(f"{gateway_url}/portal/sign-in"))
    for page in pages:
        policy = page.headers.get("content-security-policy", "")
        assert "default-src 'none'" in policy or "default-src 'self'" in policy, policy
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
        assert page.headers.get("x-frame-options") == "DENY"
        assert page.headers.get("x-content-type-options") == "nosniff"
        assert page.headers.get("referrer-policy")
    assert all(p.headers.get("cache-control") == "no-store" for p in pages[:2])
    api = buyer.get("/v1/me")
    assert api.headers.get("x-content-type-options") == "nosniff"


def test_the_session_cookie_is_not_the_token_and_rotates_at_each_sign_in(gateway_url, buyer):
    with portal(gateway_url, buyer.token) as first:
        session = first.cookies["mkt_session"]
        assert buyer.token not in session
        again = first.post(
            "/portal/sign-in",
            data={"token": buyer.token, "csrf": csrf_of(first.get("/portal/sign-in"))},
        )
        assert again.status_code == 303
        assert first.cookies["mkt_session"] != session
    # The bare token is no session, and the replaced session has ended.
    for cookie in (buyer.token, session):
        with httpx.Client(base_url=gateway_url, cookies={"mkt_session": cookie}) as stranger:
            answer = stranger.get("/portal/orders")
        assert answer.status_code == 303 and answer.headers["location"].startswith(
            "/portal/sign-in"
        )


def test_signing_out_revokes_the_session_and_needs_the_csrf_token(gateway_url, buyer):
    with portal(gateway_url, buyer.token) as browser:
        session = browser.cookies["mkt_session"]
        assert browser.post("/portal/sign-out").status_code == 403  # forged: no CSRF token
        assert browser.get("/portal/orders").status_code == 200
        csrf = csrf_of(browser.get("/portal/orders"))
        assert browser.post("/portal/sign-out", data={"csrf": csrf}).status_code == 303
    with httpx.Client(base_url=gateway_url, cookies={"mkt_session": session}) as replay:
        assert replay.get("/portal/orders").status_code == 303


def test_sign_in_without_the_forms_csrf_token_is_refused(gateway_url, buyer):
    """Login CSRF: another site cannot sign a victim's browser in as the attacker."""
    with httpx.Client(base_url=gateway_url) as victim:
        answer = victim.post("/portal/sign-in", data={"token": buyer.token})
        assert answer.status_code == 403
        assert "mkt_session" not in victim.cookies


def test_a_session_ends_when_its_token_is_revoked_or_expires(gateway_url, operator, new_principal):
    revoked = new_principal("buyer")
    with portal(gateway_url, revoked.token) as browser:
        assert browser.get("/portal/orders").status_code == 200
        assert revoked.http.delete("/v1/me/token").status_code == 204
        assert browser.get("/portal/orders").status_code == 303

    expires_at = now_of(operator) + timedelta(hours=1)
    expiring = principal(operator, gateway_url, "buyer", expires_at=expires_at.isoformat())
    with portal(gateway_url, expiring.token) as browser:
        assert browser.get("/portal/orders").status_code == 200
        advance(operator, hours=2)
        assert browser.get("/portal/orders").status_code == 303


@pytest.mark.parametrize("amount", ["12abc", "1e3", "²", "-5", ""])
def test_bad_input_in_the_resolve_form_is_a_message_and_moves_no_money(
    gateway_url, seller, buyer, new_principal, amount
):
    agent = new_principal("agent")
    order = authorized_order(seller, buyer)
    ticket = opened_ticket(buyer, order["id"], "Where is it?", "?")
    with portal(gateway_url, agent.token) as browser:
        page = eventually(
            lambda: (p := browser.get(f"/portal/tickets/{ticket['id']}")).status_code == 200 and p
        )
        form = {"csrf": csrf_of(page), "amount": amount, "note": ""}
        if amount:
            form["action"] = "credit"  # an empty form chooses nothing, not a refund
        answer = browser.post(f"/portal/tickets/{ticket['id']}/resolve", data=form)
        assert answer.status_code == 303, answer.text
        shown = browser.get(answer.headers["location"])
    assert shown.status_code == 200 and "flash error" in shown.text
    assert ok(agent.get(f"/v1/tickets/{ticket['id']}"))["status"] not in ("resolved", "closed")
    assert ok(buyer.get("/v1/me/credits")).get("balances", []) == []
