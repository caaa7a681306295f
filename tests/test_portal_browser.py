"""The web portal in a real browser (Debian's Chromium driven by Playwright) on the running
stack: a seller, a buyer and a support agent take an order through a late shipment and a
dispute, each in the portal; a seller lists, ships and is paid while the buyer confirms; an
agent settles a dispute in part and an operator pays out and moves an event. Every page shot
is checked by axe-core (WCAG 2.2 A and AA) at 390 and 1280 px, and saved in
`tests/screenshots/` (git-ignored)."""

import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.deployment import REPO_ROOT

from e2e_helpers import (
    Api,
    advance,
    authorized_order,
    delivered,
    eventually,
    listing_body,
    now_of,
    ok,
    opened_ticket,
    order_body,
    order_status,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = REPO_ROOT / "tests" / "screenshots"  # git-ignored
# axe-core (npm, tests/package.json; `make browser` runs `npm ci` there), run in every page
# shot at both widths: any WCAG 2.2 A/AA violation fails the test.
AXE = REPO_ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# As root, on a machine with no network: no sandbox, and nothing that calls home.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def signed_in(browser: Browser, gateway_url: str, token: str, viewport=DESKTOP, **options) -> Page:
    page = browser.new_context(base_url=gateway_url, viewport=viewport, **options).new_page()
    page.goto("/portal/sign-in")
    if options.get("java_script_enabled", True):  # the sign-in page too, at this width
        assert axe_violations(page) == [], f"sign-in at {viewport['width']} px"
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    return page


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


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.2 A and AA violations on the page as it is now, one line each."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `make browser` (npm ci in tests/)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())  # by the driver: the portal's CSP allows no script
    found = page.evaluate(
        """async tags => (await axe.run(document, {runOnly: {type: "tag", values: tags}}))
            .violations.map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target)})`)""",
        WCAG_AA,
    )
    return list(found)


def shoot(page: Page, name: str) -> None:
    """The page at desktop and phone widths, each checked by axe-core and saved."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size or DESKTOP
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        assert axe_violations(page) == [], f"{name} at {viewport['width']} px ({page.url})"
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(width)


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


def disputes_of(agent, order_id):
    tickets = ok(agent.get(f"/v1/orders/{order_id}/tickets"))["items"]
    return next((t for t in tickets if t["reason"] == "not_as_described"), None)


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


def disputed_order(seller: Api, buyer: Api, carrier: Api, operator: Api) -> dict:
    """An order delivered and reported not as described, through the API (the seller's and
    buyer's pages are walked above)."""
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
