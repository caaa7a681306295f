"""The staff's web portal in a real browser (Debian's Chromium driven by Playwright) on the
running stack: an agent settles a dispute in part and an operator pays out and moves an event.
Every page shot is checked by axe-core (WCAG 2.2 A and AA) at 390 and 1280 px, and saved in
`tests/screenshots/` (git-ignored)."""

import re
import uuid

from playwright.sync_api import expect

from e2e_helpers import Api, authorized_order, delivered, eventually, ok
from portal_browser_helpers import PHONE, disputes_of, shoot, signed_in


def disputed_order(seller: Api, buyer: Api, carrier: Api, operator: Api) -> dict:
    """An order delivered and reported not as described, through the API (the seller's and
    buyer's pages are walked in test_portal_browser_buyers_and_sellers.py)."""
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    eventually(lambda: ok(buyer.get(f"/v1/orders/{order['id']}/payment"))["state"] == "captured")
    delivered(carrier, operator, number)
    eventually(lambda: ok(buyer.get(f"/v1/orders/{order['id']}"))["status"] == "delivered")
    ok(
        buyer.post(
            f"/v1/orders/{order['id']}/report-problem",
            {"reason": "not_as_described", "details": "The lens is scratched, not mint."},
        )
    )
    return order


def test_an_agent_settles_a_dispute_in_part_and_an_operator_pays_out_and_moves_an_event(
    browser, gateway_url, operator, seller, buyer, new_principal
):
    """Issue #21: the agent's workspace (queue views, the complaint, both parties, the order,
    the SLA, a reply to each party and a note, a partial refund typed in euros, confirmed) on a
    phone, and the operator's payouts and events (each step confirmed) at 1280 px; every page
    checked by axe-core at both widths and saved."""
    agent = new_principal("agent")
    order = disputed_order(seller, buyer, new_principal("carrier"), operator)
    dispute = eventually(lambda: disputes_of(agent, order["id"]))

    agent_page = signed_in(browser, gateway_url, agent.token, viewport=PHONE)
    agent_page.goto(f"/portal/tickets/{dispute['id']}")  # as from a link: sign-in came first
    agent_page.goto("/portal/tickets?view=open")
    expect(agent_page.locator("nav.views a[aria-current=page]")).to_have_text("Open")
    expect(agent_page.locator(f"a[href='/portal/tickets/{dispute['id']}']")).to_be_visible()
    agent_page.locator(f"a[href='/portal/tickets/{dispute['id']}']").click()
    expect(agent_page.locator(".complaint")).to_contain_text("scratched, not mint")
    expect(agent_page.locator(".complaint")).to_contain_text(buyer.principal["name"])
    expect(agent_page.locator(".complaint")).to_contain_text(seller.principal["name"])
    expect(agent_page.locator(".sla")).to_contain_text(re.compile(r"in \d|overdue"))
    for party, words in (
        ("seller", "Please send photos of the packing."),
        ("buyer", "Asked the seller."),
    ):
        form = agent_page.locator(f".reply-{party}")
        form.locator("textarea").fill(words)
        form.get_by_role("button", name=f"Send to the {party}").click()
        expect(agent_page.locator(".flash.ok")).to_contain_text(f"Sent to the {party}")
    expect(agent_page.locator(".messages")).to_contain_text("to the seller only")
    agent_page.check("input[name=action][value=partial_refund]")
    agent_page.fill("input[name=amount]", "12.50")
    agent_page.fill("textarea[name=note]", "A part back for the scratch.")
    shoot(agent_page, "agent-ticket")
    agent_page.get_by_role("button", name="Review the resolution").click()
    expect(agent_page.locator(".consequence")).to_contain_text("The buyer gets back 12.50 EUR")
    shoot(agent_page, "agent-confirm")
    agent_page.get_by_role("button", name="Yes, refund part").click()
    expect(agent_page.locator(".flash.ok")).to_contain_text("Resolved")
    resolved = ok(agent.get(f"/v1/tickets/{dispute['id']}"))["resolution"]
    assert resolved["amount"] == {"amount_minor": 1250, "currency": "EUR"}
    seen_by_buyer = ok(buyer.get(f"/v1/tickets/{dispute['id']}"))["messages"]
    assert "Please send photos of the packing." not in [m["body"] for m in seen_by_buyer]
    agent_page.goto("/portal/tickets?view=mine")
    shoot(agent_page, "agent-queue-mine")

    operator_page = signed_in(browser, gateway_url, operator.token)
    operator_page.goto("/portal/ops/payouts")
    shoot(operator_page, "operator-payouts")
    operator_page.get_by_role("button", name="Run a payout now").click()
    expect(operator_page.locator(".consequence")).to_contain_text("cannot be called back")
    operator_page.get_by_role("button", name="Yes, pay the sellers now").click()
    expect(operator_page.locator(".flash.ok")).to_contain_text("The run paid")
    shoot(operator_page, "operator-payouts-run")

    operator_page.goto("/portal/ops/events")
    new = operator_page.locator("form[action='/portal/ops/events/new']")
    for name, value in (
        ("name", "Cup final"),
        ("venue", "Wembley"),
        ("starts_at", "2027-05-20T19:45"),
        ("ends_at", "2027-05-20T22:00"),
        ("offset", "+01:00"),
    ):
        new.locator(f"[name={name}]").fill(value)
    new.get_by_role("button", name="Create the event").click()
    expect(operator_page.locator(".flash.ok")).to_contain_text("Event created: Cup final")
    expect(operator_page.locator(".event")).to_contain_text("Thu 20 May 2027, 19:45 UTC+01:00")
    shoot(operator_page, "operator-event")
    postpone = operator_page.locator("form[action$='/postpone']")
    postpone.locator("[name=starts_at]").fill("2027-05-27T19:45")
    postpone.locator("[name=ends_at]").fill("2027-05-27T22:00")
    postpone.locator("[name=offset]").fill("+01:00")
    postpone.get_by_role("button", name="Postpone").click()
    expect(operator_page.locator(".consequence")).to_contain_text("may cancel for a full refund")
    operator_page.get_by_role("button", name="Yes, postpone it").click()
    expect(operator_page.locator(".flash.ok")).to_contain_text("Postponed")
    cancel = operator_page.locator("form[action$='/cancel']")
    cancel.locator("[name=reason]").fill("The stadium is closed")
    cancel.get_by_role("button", name="Cancel the event").click()
    shoot(operator_page, "operator-event-cancel")
    operator_page.get_by_role("button", name="Yes, cancel it").click()
    expect(operator_page.locator(".event .status")).to_have_text("cancelled")
    operator_page.goto("/portal/no-such-page")
    shoot(operator_page, "error-404")
