"""A seller backs out of a ticket and support rebooks the buyer (#20), through the gateway:
the ticket lists the other sellers' listings of the event cheapest first, the agent rebooks on
a dearer one, the buyer pays no more than the first price when the new seller transfers, the
platform covers the difference and charges the backing-out seller, and both orders' ledgers
balance."""

from datetime import timedelta

from e2e_helpers import eventually, now_of, ok, order_status, resolve_when_known

RECIPIENT = {"name": "Bea Buyer", "email": "bea@example.org"}


def listed(seller, event_id, price, quantity=1) -> str:
    body = {
        "title": "A seat",
        "price": {"amount_minor": price, "currency": "EUR"},
        "quantity_available": quantity,
        "fulfilment": "transfer",
        "handling_days": 2,
        "event_id": event_id,
    }
    return ok(seller.post("/v1/listings", body))["id"]


def account(ledger, name) -> int:
    return sum(
        line["amount"]["amount_minor"] for line in ledger["lines"] if line["account"] == name
    )


def test_a_seller_backs_out_and_the_buyer_is_rebooked_at_no_extra_cost(
    operator, buyer, new_principal
):
    first_seller, cheap, dear, agent = (new_principal(r) for r in ("seller",) * 3 + ("agent",))
    starts = now_of(operator) + timedelta(days=5)
    event = ok(
        operator.post(
            "/v1/events",
            {
                "name": "Rebook Philharmonic",
                "venue": "Philharmonie",
                "kind": "ticket",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=3)).isoformat(),
            },
        )
    )
    first_listing = listed(first_seller, event["id"], 5000)
    listed(first_seller, event["id"], 4000)  # the backing-out seller's own: never offered
    cheaper = listed(cheap, event["id"], 5500)
    dearer = listed(dear, event["id"], 6000)
    placed = ok(
        buyer.post(
            "/v1/orders",
            {"listing_id": first_listing, "payment_method": "pm_card_visa", "recipient": RECIPIENT},
        )
    )
    first = eventually(order_status(buyer, placed["id"], "awaiting_seller"))
    ok(first_seller.post(f"/v1/orders/{first['id']}/accept"))
    ok(first_seller.post(f"/v1/orders/{first['id']}/decline", {"reason": "Lost the ticket"}))

    def ticket_with_alternatives():
        tickets = agent.get(f"/v1/orders/{first['id']}/tickets").json().get("items", [])
        if not tickets:
            return None
        ticket = ok(agent.get(f"/v1/tickets/{tickets[0]['id']}"))
        return ticket if len(ticket.get("alternatives", [])) == 2 else None

    ticket = eventually(ticket_with_alternatives)
    assert ticket["reason"] == "seller_backed_out"
    assert [
        (a["listing_id"], a["seller_id"], a["price"]["amount_minor"])
        for a in ticket["alternatives"]
    ] == [(cheaper, cheap.id, 5500), (dearer, dear.id, 6000)]
    assert "rebook" in ticket["possible_resolutions"]

    rebooked = resolve_when_known(
        agent,
        ticket["id"],
        {"action": "rebook", "listing_id": dearer, "note": "Another seat, same concert"},
    )
    assert rebooked.status_code == 200, rebooked.text
    replaced_by = eventually(lambda: ok(buyer.get(f"/v1/orders/{first['id']}"))["replaced_by"])
    new = eventually(order_status(buyer, replaced_by, "awaiting_seller"))
    assert (new["replaces"], new["listing_id"], new["recipient"]) == (
        first["id"],
        dearer,
        RECIPIENT,
    )
    assert "another ticket for Rebook Philharmonic" in new["timeline"][0]["detail"]

    ok(dear.post(f"/v1/orders/{new['id']}/accept"))
    ok(dear.post(f"/v1/orders/{new['id']}/ship", {"transfer_reference": f"R-{new['id'][-8:]}"}))

    def captured():
        payment = ok(buyer.get(f"/v1/orders/{new['id']}/payment"))
        return payment if payment["state"] == "captured" else None

    payment = eventually(captured)
    (capture,) = payment["captures"]
    assert capture["amount"]["amount_minor"] == 5000  # what the buyer first authorized
    assert payment["covered_by_platform"]["amount_minor"] == 1000
    new_ledger = ok(operator.get(f"/v1/ledger/orders/{new['id']}"))
    first_ledger = ok(operator.get(f"/v1/ledger/orders/{first['id']}"))
    assert new_ledger["balanced"] and first_ledger["balanced"]
    assert account(new_ledger, "escrow") == 6000  # the new seller's whole price
    assert account(new_ledger, "platform_rebooking_cover") == -1000
    assert account(first_ledger, f"seller_payable:{first_seller.id}") == -1000
    assert account(first_ledger, "platform_rebooking_cover") == 1000
