"""The first slice through the gateway: a buyer orders, the card is authorized (or not), and
the order view says where the order is."""

import asyncio
import json
import re
import uuid

import stripe

from servicekit.testing import headers_of, produce, read_topic

from e2e_helpers import eventually, listing_body, order_body, order_status


def test_an_authorized_card_moves_the_order_to_the_seller(platform, seller, buyer):
    listing = seller.post("/v1/listings", listing_body()).json()

    answer = buyer.post("/v1/orders", order_body(listing["id"], "pm_card_visa"))

    assert answer.status_code == 201, answer.text
    placed = answer.json()
    assert placed["status"] == "placed"
    assert placed["payment"]["state"] == "authorizing"
    assert placed["total"] == {"amount_minor": 12500, "currency": "EUR"}
    assert [step["name"] for step in placed["steps"]] == ["confirmed", "shipped", "completed"]

    order = eventually(order_status(buyer, placed["id"], "awaiting_seller"))
    assert order["payment"]["state"] == "authorized"
    assert order["payment"]["authorized"] == {"amount_minor": 12500, "currency": "EUR"}
    confirmed, shipped, completed = order["steps"]
    assert confirmed["state"] == "current" and confirmed["expected_by"] == order["accept_by"]
    assert "tracking number" in shipped["message"] and shipped["state"] == "upcoming"
    assert completed["state"] == "upcoming"
    assert [entry["kind"] for entry in order["timeline"]] == ["placed", "payment_authorized"]

    payment = buyer.get(f"/v1/orders/{placed['id']}/payment").json()
    intent_id = payment["authorizations"][0]["payment_intent_id"]
    client = stripe.StripeClient(
        "sk_test_development", base_addresses={"api": platform.stripe_base}
    )
    intent = client.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount, intent.capture_method) == (
        "requires_capture",
        12500,
        "manual",
    )
    assert intent.metadata["order_id"] == placed["id"]


def test_a_declined_card_cancels_the_order_and_gives_the_stock_back(seller, buyer):
    listing = seller.post("/v1/listings", listing_body(quantity_available=1)).json()

    placed = buyer.post(
        "/v1/orders", order_body(listing["id"], "pm_card_chargeCustomerFail")
    ).json()
    assert seller.get(f"/v1/listings/{listing['id']}").json()["quantity_available"] == 0

    order = eventually(order_status(buyer, placed["id"], "cancelled"))
    assert order["payment"]["state"] == "failed"
    assert order["cancel_reason"] == "payment_failed"
    assert all(step["state"] == "skipped" for step in order["steps"])
    assert "could not be authorized" in order["steps"][0]["message"]
    assert seller.get(f"/v1/listings/{listing['id']}").json()["quantity_available"] == 1
    payment = buyer.get(f"/v1/orders/{placed['id']}/payment").json()
    assert payment["authorizations"][0]["decline_code"] == "card_declined"


def test_only_the_parties_agents_and_operators_see_an_order(new_principal, seller, buyer, operator):
    listing = seller.post("/v1/listings", listing_body()).json()
    order_id = buyer.post("/v1/orders", order_body(listing["id"])).json()["id"]

    for outsider in (new_principal("buyer"), new_principal("seller")):
        answer = outsider.get(f"/v1/orders/{order_id}")
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert order_id not in answer.text
        assert outsider.get(f"/v1/orders/{order_id}/payment").status_code == 404
    for insider in (buyer, seller, new_principal("agent"), operator):
        assert insider.get(f"/v1/orders/{order_id}").status_code == 200


def test_roles_are_checked_and_unauthenticated_calls_refused(gateway_url, seller, buyer):
    from e2e_helpers import Api

    assert Api(gateway_url, None).get("/v1/me").status_code == 401
    assert Api(gateway_url, "mkt_not-a-token").get("/v1/listings").status_code == 401
    refused = buyer.post("/v1/listings", listing_body())
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/forbidden"
    listing = seller.post("/v1/listings", listing_body()).json()
    assert seller.post("/v1/orders", order_body(listing["id"])).status_code == 403
    assert (
        buyer.post(
            "/v1/principals", {"role": "operator", "name": "x", "email": "x@example.com"}
        ).status_code
        == 403
    )


def test_bad_bodies_are_problem_details_and_change_nothing(seller, buyer):
    before = seller.get("/v1/listings", params={"seller_id": seller.id}).json()["items"]
    bad = seller.post(
        "/v1/listings",
        listing_body(price={"amount_minor": 19.99, "currency": "euro"}, handling_days=0),
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    problem = bad.json()
    assert problem["status"] == 422 and problem["title"] and problem["detail"]
    locations = {tuple(error["loc"]) for error in problem["errors"]}
    assert ("body", "handling_days") in locations
    assert ("body", "price", "currency") in locations
    assert seller.get("/v1/listings", params={"seller_id": seller.id}).json()["items"] == before

    listing = seller.post("/v1/listings", listing_body(quantity_available=1)).json()
    with_price = order_body(listing["id"]) | {"total": {"amount_minor": 1, "currency": "EUR"}}
    assert buyer.post("/v1/orders", with_price).status_code == 422
    missing_address = order_body(listing["id"]) | {"shipping_address": None}
    assert buyer.post("/v1/orders", missing_address).status_code == 422
    too_many = buyer.post("/v1/orders", order_body(listing["id"], quantity=2))
    assert too_many.status_code == 409
    assert seller.get(f"/v1/listings/{listing['id']}").json()["quantity_available"] == 1
    assert buyer.get("/v1/orders", params={"role": "buyer"}).json()["items"] == []


def test_an_idempotency_key_places_one_order_however_often_it_is_sent(seller, buyer):
    listing = seller.post("/v1/listings", listing_body(quantity_available=5)).json()
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = buyer.post("/v1/orders", order_body(listing["id"]), headers=key)
    again = buyer.post("/v1/orders", order_body(listing["id"]), headers=key)
    other_body = buyer.post("/v1/orders", order_body(listing["id"], quantity=2), headers=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert other_body.status_code == 422
    assert other_body.json()["type"] == "/problems/idempotency-key-reused"
    orders = buyer.get("/v1/orders", params={"role": "buyer"}).json()["items"]
    assert [o["id"] for o in orders] == [first.json()["id"]]
    assert seller.get(f"/v1/listings/{listing['id']}").json()["quantity_available"] == 4


def test_lists_are_paginated_newest_first_with_an_opaque_cursor(operator, seller, buyer):
    for n in range(5):
        seller.post("/v1/listings", listing_body(title=f"Item {n}"))
        operator.post("/v1/ops/clock/advance", {"seconds": 1})
    seen, cursor = [], None
    while True:
        params = {"seller_id": seller.id, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = buyer.get("/v1/listings", params=params).json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Item {n}" for n in reversed(range(5))]
    assert buyer.get("/v1/listings", params={"cursor": "garbage"}).status_code == 422


def test_the_operator_moves_the_manual_clock_for_every_service(operator, buyer):
    before = operator.post("/v1/ops/clock/advance", {"seconds": 60}).json()
    after = operator.post("/v1/ops/clock/advance", {"seconds": 3600}).json()
    assert set(after["fired"]) == {
        "orders",
        "payments",
        "support",
        "seller_standards",
        "notifications",
    }
    from datetime import datetime

    moved = datetime.fromisoformat(after["now"]) - datetime.fromisoformat(before["now"])
    assert moved.total_seconds() == 3600
    assert buyer.post("/v1/ops/clock/advance", {"seconds": 60}).status_code == 403
    assert operator.post("/v1/ops/clock/advance", {"seconds": -5}).status_code == 422


async def test_an_invalid_event_is_dead_lettered_and_orders_keep_flowing(platform, seller, buyer):
    poison = [("ord_poison", b"{this is not an event", {"ce_type": "marketplace.order.placed.v1"})]
    await produce(platform.bootstrap, "orders.events", poison)

    listing = seller.post("/v1/listings", listing_body()).json()
    placed = buyer.post("/v1/orders", order_body(listing["id"])).json()
    eventually(order_status(buyer, placed["id"], "awaiting_seller"))

    dead = await read_topic(platform.bootstrap, "orders.events.payments.dlq", expect=1)
    letters = [d for d in dead if d.key == b"ord_poison"]
    assert len(letters) == 1
    assert letters[0].value == b"{this is not an event"
    headers = headers_of(letters[0])
    assert headers["x-dlq-reason"] == "invalid_message"
    assert headers["x-dlq-origin-topic"] == "orders.events"
    assert json.loads(json.dumps(headers))["x-dlq-group"] == "payments"


def test_every_service_reports_health_readiness_and_metrics(platform, gateway_url):
    import httpx

    for base in [*platform.service_urls.values(), gateway_url]:
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        ready = httpx.get(f"{base}/ready")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        metrics = httpx.get(f"{base}/metrics")
        assert "marketplace_http_request_seconds" in metrics.text
    payments_metrics = httpx.get(f"{platform.service_urls['payments']}/metrics").text
    assert (
        'marketplace_events_consumed_total{group="payments",outcome="handled"}' in payments_metrics
    )
    assert "marketplace_outbox_backlog" in payments_metrics
    assert (
        'marketplace_handler_seconds_count{event_type="marketplace.order.placed.v1",'
        'group="payments"}' in payments_metrics
    )
    assert 'marketplace_batch_seconds_count{group="payments"}' in payments_metrics
    # a poison message of its own (payments may have been restarted since the one above, by a
    # crash test, which resets its counters), dead-lettered by payments and counted
    poison = [("ord_poison_metrics", b"{not an event", {"ce_type": "marketplace.order.placed.v1"})]
    asyncio.run(produce(platform.bootstrap, "orders.events", poison))
    eventually(
        lambda: re.search(
            r'marketplace_events_consumed_total\{group="payments",outcome="dead_lettered"\} [1-9]',
            httpx.get(f"{platform.service_urls['payments']}/metrics").text,
        )
    )
    orders_metrics = httpx.get(f"{platform.service_urls['orders']}/metrics").text
    assert re.search(
        r'marketplace_outbox_published_total\{topic="orders.events"\} [1-9]', orders_metrics
    )
    lags = re.findall(
        r'marketplace_consumer_lag\{group="payments",partition="\d+",topic="orders.events"\} '
        r"(\S+)",
        payments_metrics,
    )
    assert len(lags) == 6  # one per partition of orders.events


def test_a_service_reached_directly_does_not_trust_a_claimed_identity(platform, buyer):
    import httpx

    forged = {"X-Principal-Id": buyer.id, "X-Principal-Role": "operator"}
    answer = httpx.get(f"{platform.service_urls['orders']}/v1/orders", headers=forged)
    assert answer.status_code == 401
    assert answer.json()["detail"] == "Requests must come through the gateway"
