"""A service killed with SIGKILL between its database commit and publishing the events of
that commit neither loses nor duplicates anything once it is back."""

import asyncio

import stripe
from sqlalchemy import select

from payments.cards import metadata_of
from servicekit.messaging.db import make_engine, outbox
from servicekit.testing import body_of, read_topic

from e2e_helpers import eventually, listing_body, order_body, order_status


async def _unpublished(database_url: str, order_id: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(outbox.c.event_type).where(outbox.c.message_key == order_id)
            )
            return [row.event_type for row in rows]
    finally:
        await engine.dispose()


async def test_payments_killed_after_commit_before_publish_publishes_once_on_restart(
    platform, seller, buyer
):
    running = platform.child("payments")
    running.stop()
    # Hold publishing so that the kill lands exactly between the commit and the publish.
    held = platform.service("payments", RELAY_ENABLED="false")
    platform.replace_child(running, held)
    held.start()

    listing = seller.post("/v1/listings", listing_body()).json()
    order_id = buyer.post("/v1/orders", order_body(listing["id"])).json()["id"]
    database_url = platform.config.database_url("payments")
    committed = ["marketplace.payment.authorized.v1"]
    for _ in range(150):
        if await _unpublished(database_url, order_id) == committed:
            break
        await asyncio.sleep(0.2)
    assert await _unpublished(database_url, order_id) == committed

    held.kill()
    assert buyer.get(f"/v1/orders/{order_id}").json()["status"] == "placed"

    restarted = platform.service("payments")
    platform.replace_child(held, restarted)
    restarted.start()

    eventually(order_status(buyer, order_id, "awaiting_seller"), timeout=60)
    assert await _unpublished(database_url, order_id) == []
    records = await read_topic(platform.bootstrap, "payments.events", expect=1, timeout=10)
    authorized = [
        body_of(r)
        for r in records
        if r.key == order_id.encode() and body_of(r)["type"] == "marketplace.payment.authorized.v1"
    ]
    assert len(authorized) == 1
    client = stripe.StripeClient(
        "sk_test_development", base_addresses={"api": platform.stripe_base}
    )
    # Every intent the Stripe server holds (the suite makes hundreds), page by page.
    intents = list(client.v1.payment_intents.list({"limit": 100}).auto_paging_iter())
    assert [i.id for i in intents if metadata_of(i).get("order_id") == order_id] == [
        authorized[0]["data"]["payment_intent_id"]
    ]
