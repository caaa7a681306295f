"""Attacks on the web portal, on the running stack: another buyer's order is shown to
nobody, a form without the session's CSRF token changes nothing, and the stored-XSS chain of
issue #16 is replayed in a real browser (Debian's Chromium driven by Playwright)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import expect

from e2e_helpers import authorized_order, eventually, ok, opened_ticket
from portal_browser_helpers import signed_in


@contextmanager
def portal_client(gateway_url: str, token: str) -> Iterator[httpx.Client]:
    """A client signed in through the sign-in form (its CSRF value, then the token)."""
    with httpx.Client(base_url=gateway_url) as client:
        form = client.get("/portal/sign-in").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        signed = client.post(
            "/portal/sign-in", data={"token": token, "csrf": csrf.group(1) if csrf else ""}
        )
        assert signed.status_code == 303, signed.text
        yield client


def test_the_portal_shows_another_buyers_order_to_nobody(gateway_url, seller, buyer, new_principal):
    order = authorized_order(seller, buyer)
    stranger = new_principal("buyer")
    with portal_client(gateway_url, stranger.token) as client:
        assert client.get(f"/portal/orders/{order['id']}").status_code == 404
    with httpx.Client(base_url=gateway_url) as anonymous:
        answer = anonymous.get(f"/portal/orders/{order['id']}")
        assert answer.status_code == 303  # to sign in, then back to the page asked for
        assert (
            answer.headers["location"] == f"/portal/sign-in?next=%2Fportal%2Forders%2F{order['id']}"
        )


def test_a_form_without_the_sessions_csrf_token_changes_nothing(gateway_url, seller, buyer):
    order = authorized_order(seller, buyer)
    with portal_client(gateway_url, buyer.token) as client:
        forged = client.post(f"/portal/orders/{order['id']}/cancel", data={"reason": "forged"})
    assert forged.status_code == 403
    assert ok(buyer.get(f"/v1/orders/{order['id']}"))["status"] == "awaiting_seller"


# What the attacker of issue #16 wrote: run in the agent's page, it would grant the buyer
# 999,999.99 EUR of credit with the agent's own resolve form.
GRANT_CREDIT = (
    "window.__xss = 1; alert('xss');"
    "var f = document.querySelector('form[action$=\\'/resolve\\']');"
    "if (f) { f.querySelector('[name=action]').value = 'credit';"
    " f.querySelector('[name=amount_minor]').value = '99999999'; f.submit(); }"
)
XSS_PAYLOADS = (
    f"<script>{GRANT_CREDIT}</script>",
    f'"><img src=x onerror="{GRANT_CREDIT}">',
    f'</textarea><svg onload="{GRANT_CREDIT}"></svg>',
)


def test_a_script_in_a_ticket_never_runs_in_the_agents_browser(
    browser, gateway_url, seller, buyer, new_principal
):
    """The stored-XSS chain of issue #16, replayed: the buyer writes scripts into a ticket,
    the agent opens it in Chromium; nothing runs and the buyer is granted nothing."""
    agent = new_principal("agent")
    order = authorized_order(seller, buyer)
    subject, body, reply = XSS_PAYLOADS
    ticket = opened_ticket(buyer, order["id"], subject, body)
    eventually(lambda: agent.get(f"/v1/tickets/{ticket['id']}").status_code == 200)
    ok(buyer.post(f"/v1/tickets/{ticket['id']}/messages", {"body": reply, "internal": False}))

    page = signed_in(browser, gateway_url, agent.token)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ("/portal/tickets", f"/portal/tickets/{ticket['id']}"):
        page.goto(path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)  # time for an onerror or onload handler to fire
        assert page.evaluate("window.__xss") is None, f"a script ran on {path}"
    assert dialogs == []
    expect(page.locator("h1")).to_contain_text("<script>")  # shown, as text
    expect(page.locator(".messages")).to_contain_text("<img src=x onerror=")
    assert page.url.endswith(f"/portal/tickets/{ticket['id']}")  # no form was sent
    credits = ok(buyer.get("/v1/me/credits"))
    assert credits.get("balances", []) == [], credits
    assert ok(agent.get(f"/v1/tickets/{ticket['id']}"))["status"] not in ("resolved", "closed")
