"""The web portal in a real browser (Debian's Chromium driven by Playwright) on the running
stack, for buyers and sellers: a seller, a buyer and a support agent take an order through a
late shipment and a dispute, each in the portal; a seller lists, ships and is paid while the
buyer confirms; the pages read without JavaScript. Every page shot is checked by axe-core
(WCAG 2.2 A and AA) at 390 and 1280 px, and saved in `tests/screenshots/` (git-ignored). The
staff's pages are walked in test_portal_browser_staff.py, attacks on the portal in
test_portal_browser_security.py."""

import re
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect

from e2e_helpers import (
    Api,
    advance,
    authorized_order,
    delivered,
    eventually,
    listing_body,
    now_of,
    ok,
    order_body,
    order_status,
)
from portal_browser_helpers import PHONE, disputes_of, shoot, signed_in


def dhl_carrier(operator: Api, gateway_url: str) -> Api:
    """A carrier principal speaks for one carrier (API.md)."""
    answer = operator.post(
        "/v1/principals",
        {
            "role": "carrier",
            "name": "DHL integration",
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "carrier": "DHL",
        },
    )
    body = ok(answer)
    return Api(gateway_url, body["token"], body)


def act(page: Page, label: str, fields: dict[str, str] | None = None) -> None:
    """Open an action's form on the order page, fill it and send it."""
    form = page.locator("form.action").filter(has_text=label)
    if fields:
        form.locator("summary").click()
        for name, value in fields.items():
            field = form.locator(f"[name={name}]")
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
    form.get_by_role("button", name=label).click()
    expect(page.locator(".flash.ok")).to_contain_text("done")


def reload_until(page: Page, selector: str, text: str, timeout: float = 30) -> None:
    def shown() -> bool:
        page.reload()
        return text in (page.locator(selector).all_inner_texts() or [""])[0]

    eventually(shown, timeout=timeout, interval=0.5)


def test_seller_buyer_and_agent_take_an_order_through_a_late_shipment_and_a_dispute(
    browser, gateway_url, operator, seller, buyer, new_principal
):
    agent = new_principal("agent")
    carrier = dhl_carrier(operator, gateway_url)
    order = authorized_order(seller, buyer)
    order_path = f"/portal/orders/{order['id']}"

    # The seller finds the order among those to accept, and accepts it.
    seller_page = signed_in(browser, gateway_url, seller.token)
    expect(seller_page.locator("h1")).to_have_text("Your sales")
    to_accept = seller_page.locator("section.card").filter(has_text="To accept")
    expect(to_accept.get_by_role("link", name="Vintage film camera")).to_be_visible()
    shoot(seller_page, "seller-orders")
    to_accept.get_by_role("link", name="Vintage film camera").click()
    act(seller_page, "Accept the order")
    expect(seller_page.locator("h1 .status")).to_have_text("accepted")

    # The ship-by date passes: support opens a ticket, and the order page shows it.
    advance(operator, days=6)
    reload_until(seller_page, ".card:has(h2:text('Delivery'))", "shipment overdue")
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    act(seller_page, "Mark as shipped", {"carrier": "DHL", "tracking_number": number})
    expect(seller_page.locator("h1 .status")).to_have_text("shipped")
    reload_until(seller_page, ".payment-state", "held in escrow")
    shoot(seller_page, "seller-order")
    delivered(carrier, operator, number)

    # The buyer sees the tracker and what happens next, and reports the item is not as described.
    buyer_page = signed_in(browser, gateway_url, buyer.token, viewport=PHONE)
    buyer_page.goto(order_path)
    reload_until(buyer_page, "h1 .status", "delivered")
    steps = buyer_page.locator(".tracker .step")
    expect(steps).to_have_count(3)
    expect(steps.nth(1)).to_have_class(re.compile(r"\bdone\b"))
    expect(buyer_page.locator(".next")).to_contain_text("What happens next")
    act(buyer_page, "Send a message", {"body": "Is the lens really scratch-free?"})
    expect(buyer_page.locator(".messages li.mine")).to_contain_text("scratch-free")
    shoot(buyer_page, "buyer-order")
    seller_page.goto(order_path)
    expect(seller_page.locator(".messages")).to_contain_text("scratch-free")
    act(
        buyer_page,
        "Report a problem",
        {"reason": "not_as_described", "details": "The lens is scratched, not mint as listed."},
    )
    expect(buyer_page.locator("h1 .status")).to_have_text(re.compile("disputed|problem"))

    # The agent takes the dispute from the queue, sees the order, and refunds the buyer.
    agent_page = signed_in(browser, gateway_url, agent.token)
    expect(agent_page.locator("h1")).to_have_text("Ticket queue")
    dispute = eventually(lambda: disputes_of(agent, order["id"]))
    ticket_link = agent_page.locator(f"table.list a[href='/portal/tickets/{dispute['id']}']")
    eventually(lambda: agent_page.reload() or ticket_link.count(), interval=0.5)
    expect(ticket_link.locator("xpath=ancestor::tr")).to_contain_text("not as described")
    shoot(agent_page, "agent-queue")
    ticket_link.click()
    expect(agent_page.locator(f".order-summary a[href='{order_path}']")).to_be_visible()
    note = agent_page.locator(".reply-internal")
    note.locator("textarea[name=body]").fill("Checking the photos with the seller.")
    note.get_by_role("button", name="Add the note").click()
    expect(agent_page.locator(".messages li.internal")).to_contain_text("Checking the photos")
    agent_page.check("input[name=action][value=refund]")
    agent_page.fill("textarea[name=note]", "Refunded in full: not as described.")
    agent_page.get_by_role("button", name="Review the resolution").click()
    expect(agent_page.locator(".consequence")).to_contain_text("cannot be undone")
    agent_page.get_by_role("button", name="Yes, refund in full").click()
    expect(agent_page.locator(".flash.ok")).to_contain_text("Resolved")

    # The buyer's money comes back, and the buyer is told.
    buyer_page.goto(order_path)
    reload_until(buyer_page, ".payment-state", "Refunded")
    buyer_page.goto("/portal/notifications")
    expect(buyer_page.locator(".inbox")).to_contain_text(order["id"])
    shoot(buyer_page, "buyer-notifications")

    # The seller's standards count the late shipment.
    seller_page.goto("/portal/standards")
    expect(seller_page.locator(".metrics")).to_contain_text("on time shipping rate")
    shoot(seller_page, "seller-standards")

    # The operator watches the consumers and the dead letters.
    operator_page = signed_in(browser, gateway_url, operator.token)
    expect(operator_page.locator("h1")).to_have_text("Operations")
    expect(operator_page.locator("table.lag")).to_contain_text("orders.events")
    shoot(operator_page, "operator")
    exemption = operator_page.locator("form[action='/portal/ops/exemption']")
    exemption.locator("[name=seller_id]").fill(seller.id)
    exemption.locator("[name=from]").fill("2026-12-24T00:00")
    exemption.locator("[name=to]").fill("2026-12-27T00:00")
    exemption.locator("[name=reason]").fill("Postal strike")
    exemption.get_by_role("button", name="Exempt").click()
    expect(operator_page.locator(".flash.ok")).to_contain_text("Done")
    exemptions = ok(operator.get(f"/v1/sellers/{seller.id}/standards"))["exemptions"]
    assert [e["reason"] for e in exemptions] == ["Postal strike"]


def labels_shown(page: Page, table: str) -> list[str]:
    """What a phone shows before each cell of the table's first row (its column's name)."""
    return (
        page.locator(f"{table} tbody tr")
        .first.locator("td")
        .evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    )


def test_a_seller_lists_ships_and_is_paid_and_the_buyer_confirms_at_phone_and_desktop(
    browser, gateway_url, operator, seller, buyer, new_principal
):
    """Issue #21: a seller's workspace (listings, the queue by urgency with inline accept and
    ship, where to ship, the balance) on a phone; the buyer's order page (what, from whom, the
    headline, money in sentences, dates in their zone, the confirmation step) at 1280 px."""
    carrier = new_principal("carrier")
    seller_page = signed_in(browser, gateway_url, seller.token, viewport=PHONE)
    seller_page.goto("/portal/listings")
    new = seller_page.locator("form[action='/portal/listings']")
    new.locator("[name=title]").fill("Rolleiflex 2.8F")
    new.locator("[name=price]").fill("1,089.90")
    new.get_by_role("button", name="List it").click()
    expect(seller_page.locator(".flash.ok")).to_contain_text("on sale")
    expect(seller_page.locator("table.listings")).to_contain_text("1,089.90 EUR")
    assert labels_shown(seller_page, "table.listings")[:2] == ['"Item"', '"Price"']
    listing = ok(seller.get("/v1/listings", params={"seller_id": seller.id}))["items"][0]
    placed = ok(buyer.post("/v1/orders", order_body(listing["id"])))
    eventually(order_status(buyer, placed["id"], "awaiting_seller"))

    # The queue: accept and ship inline, on a phone, with every cell labelled.
    seller_page.goto("/portal/orders")
    to_accept = seller_page.locator("section.card").filter(has_text="To accept")
    expect(to_accept).to_contain_text(buyer.principal["name"])
    assert '"Buyer"' in labels_shown(seller_page, "table.orders")
    shoot(seller_page, "seller-queue")
    to_accept.get_by_role("button", name="Accept").click()
    to_ship = seller_page.locator("section.card").filter(has_text="To ship")
    to_ship.locator("summary").click()
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    to_ship.locator("[name=carrier]").fill("DHL")
    to_ship.locator("[name=tracking_number]").fill(number)
    to_ship.get_by_role("button", name="Mark as shipped").click()
    expect(seller_page.locator(".flash.ok")).to_contain_text("done")
    seller_page.goto(f"/portal/orders/{placed['id']}")
    expect(seller_page.locator(".headline h2")).to_have_text("Shipped: waiting for the buyer")
    expect(seller_page.locator("address")).to_contain_text("1 Main Street")
    border = seller_page.locator("textarea, input[type=text], input:not([type])").first
    assert border.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(118, 127, 143)"
    shoot(seller_page, "seller-order-shipped")
    delivered(carrier, operator, number)

    # The buyer, at 1280 px in Amsterdam time: what, from whom, the money, then confirms.
    buyer_page = signed_in(browser, gateway_url, buyer.token)
    buyer_page.goto("/portal/settings")
    buyer_page.select_option("select[name=tz]", "Europe/Amsterdam")
    buyer_page.get_by_role("button", name="Save").click()
    buyer_page.goto(f"/portal/orders/{placed['id']}")
    reload_until(buyer_page, ".headline h2", "Delivered")
    expect(buyer_page.locator("h1")).to_contain_text("Rolleiflex 2.8F")
    expect(buyer_page.locator(".party")).to_have_text(seller.principal["name"])
    expect(buyer_page.locator(".money")).to_contain_text("held until you confirm")
    expect(buyer_page.locator("a.tracking")).to_have_attribute("href", re.compile("dhl.com"))
    expect(buyer_page.locator(".timeline time").first).to_contain_text(re.compile("CES?T"))
    confirm = buyer_page.locator("form.action").filter(has_text="I received it as described")
    confirm.locator("summary").click()
    expect(confirm.locator(".consequence")).to_contain_text("This pays the seller")
    shoot(buyer_page, "buyer-order-delivered")
    confirm.get_by_role("button", name="Yes: i received it as described").click()
    expect(buyer_page.locator(".flash.ok")).to_contain_text("done")
    reload_until(buyer_page, ".headline h2", "Completed")
    expect(buyer_page.locator(".money")).not_to_contain_text("fee")

    # The seller's money: released less the fee, paid out by the next run, on the payouts page.
    seller_page.goto(f"/portal/orders/{placed['id']}")
    reload_until(seller_page, ".money", "released to you")
    ok(seller.put("/v1/sellers/me/payout-account", {"country": "DE", "currency": "EUR"}))
    ok(operator.post("/v1/ops/payouts/run", {}))
    seller_page.goto("/portal/payouts")
    expect(seller_page.locator(".balance-line")).to_contain_text("paid out so far")
    expect(seller_page.locator("table.payouts tbody")).not_to_contain_text("No payouts yet")
    shoot(seller_page, "seller-payouts")

    # A resale ticket: the buyer's page names the event, its venue and whose name it is in.
    starts = now_of(operator) + timedelta(days=30)
    event = ok(
        operator.post(
            "/v1/events",
            {
                "name": "Lowlands 2027",
                "venue": "Biddinghuizen",
                "kind": "ticket",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(days=3)).isoformat(),
            },
        )
    )
    ticket = ok(
        seller.post(
            "/v1/listings",
            listing_body(title="Weekend ticket", fulfilment="transfer", event_id=event["id"]),
        )
    )
    resale = order_body(ticket["id"], recipient={"name": "Ria Recipient", "email": "r@x.org"})
    resale.pop("shipping_address")
    resold = ok(buyer.post("/v1/orders", resale))
    buyer_page.goto(f"/portal/orders/{resold['id']}")
    expect(buyer_page.locator(".event")).to_contain_text("Lowlands 2027 at Biddinghuizen")
    expect(buyer_page.locator(".recipient")).to_contain_text("Ria Recipient")
    shoot(buyer_page, "buyer-resale-order")


def test_pages_are_readable_without_javascript(browser, gateway_url, seller, buyer):
    order = authorized_order(seller, buyer)
    page = signed_in(browser, gateway_url, buyer.token, java_script_enabled=False)
    page.goto(f"/portal/orders/{order['id']}")
    expect(page.locator(".tracker .step")).to_have_count(3)
    expect(page.locator(".next")).to_contain_text("What happens next")
    expect(page.locator("form.action summary", has_text="Cancel the order")).to_be_visible()
