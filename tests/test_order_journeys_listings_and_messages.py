"""Orders' listings and messages through the gateway, on the real broker and database: buyer and
seller messaging each other, a seller on vacation or suspended, and listing changes."""

from e2e_helpers import (
    authorized_order,
    eventually,
    listing_body,
    now_of,
    ok,
    order_body,
    order_events,
)


async def test_buyer_and_seller_message_each_other_and_nobody_else_reads_it(
    platform, new_principal, seller, buyer
):
    order = authorized_order(seller, buyer)
    ok(buyer.post(f"/v1/orders/{order['id']}/messages", {"body": "Is it boxed?"}))
    ok(seller.post(f"/v1/orders/{order['id']}/messages", {"body": "Yes, original box."}))
    thread = ok(buyer.get(f"/v1/orders/{order['id']}/messages"))["items"]
    assert [(m["sender_role"], m["body"]) for m in thread] == [
        ("buyer", "Is it boxed?"),
        ("seller", "Yes, original box."),
    ]
    ok(buyer.post(f"/v1/orders/{order['id']}/messages", {"body": "Great, buying."}))
    first = ok(buyer.get(f"/v1/orders/{order['id']}/messages", params={"limit": 2}))
    rest = ok(
        buyer.get(
            f"/v1/orders/{order['id']}/messages",
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    )
    assert [m["body"] for m in first["items"] + rest["items"]] == [
        "Is it boxed?",
        "Yes, original box.",
        "Great, buying.",
    ]
    assert rest["next_cursor"] is None
    assert new_principal("buyer").get(f"/v1/orders/{order['id']}/messages").status_code == 404
    agent = new_principal("agent")
    assert agent.get(f"/v1/orders/{order['id']}/messages").status_code == 200
    assert agent.post(f"/v1/orders/{order['id']}/messages", {"body": "hi"}).status_code == 403
    types = await order_events(platform, order["id"], 10)
    assert types.count("marketplace.order.message_posted.v1") == 3


def test_a_seller_on_vacation_has_no_visible_listings(operator, seller, buyer):
    listing = ok(seller.post("/v1/listings", listing_body()))
    until = now_of(operator).date().toordinal() + 10
    from datetime import date

    ok(seller.put("/v1/sellers/me/vacation", {"until": date.fromordinal(until).isoformat()}))
    visible = buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"]
    assert visible == []
    own = seller.get("/v1/listings", params={"seller_id": seller.id}).json()["items"]
    assert [item["id"] for item in own] == [listing["id"]]
    assert buyer.get(f"/v1/listings/{listing['id']}").status_code == 404
    assert seller.get(f"/v1/listings/{listing['id']}").status_code == 200
    refused = buyer.post("/v1/orders", order_body(listing["id"]))
    assert refused.status_code == 409
    ok(seller.put("/v1/sellers/me/vacation", {"until": None}))
    assert buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"]


async def test_a_suspended_sellers_listings_are_hidden_and_cannot_be_ordered(
    platform, seller, buyer
):
    from datetime import UTC, datetime

    from contracts.seller_standards import SellerStandingChanged
    from servicekit.testing import publish

    listing = ok(seller.post("/v1/listings", listing_body()))

    async def standing(value: str, previous: str) -> None:
        event = SellerStandingChanged(
            seller_id=seller.id,
            standing=value,
            previous=previous,
            reason="On-time shipping below 80% over 30 days",
            changed_at=datetime.now(UTC),
        )
        await publish(platform.bootstrap, event, source="seller_standards", time=event.changed_at)

    await standing("suspended", "under_review")
    eventually(
        lambda: buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"] == []
    )
    refused = buyer.post("/v1/orders", order_body(listing["id"]))
    assert refused.status_code == 409
    assert "cannot take orders" in refused.json()["detail"]

    await standing("good", "suspended")
    eventually(lambda: buyer.get("/v1/listings", params={"seller_id": seller.id}).json()["items"])
    assert buyer.post("/v1/orders", order_body(listing["id"])).status_code == 201


def test_a_seller_changes_a_listing_and_nobody_else_can(new_principal, seller, buyer):
    listing = ok(seller.post("/v1/listings", listing_body()))
    paused = ok(
        seller.patch(f"/v1/listings/{listing['id']}", {"status": "paused", "handling_days": 3})
    )
    assert (paused["status"], paused["handling_days"]) == ("paused", 3)
    assert buyer.post("/v1/orders", order_body(listing["id"])).status_code == 409
    other = new_principal("seller")
    assert other.patch(f"/v1/listings/{listing['id']}", {"status": "active"}).status_code == 404
    assert seller.patch(f"/v1/listings/{listing['id']}", {"price": 5}).status_code == 422
    free = {"price": {"amount_minor": 0, "currency": "EUR"}}
    assert seller.patch(f"/v1/listings/{listing['id']}", free).status_code == 422
    negative = listing_body(price={"amount_minor": -100, "currency": "EUR"})
    assert seller.post("/v1/listings", negative).status_code == 422
