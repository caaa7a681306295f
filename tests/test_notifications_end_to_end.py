"""Notifications end to end: the e-mails a real SMTP server received and the in-app inbox
through the gateway, for the happy path, a decline, a late shipment, a dispute, a refund and a
standing change; preferences that cannot silence what a person must get; and every event of
an order delivered twice more, which sends nothing twice."""

import mailbox
import uuid
from datetime import UTC, datetime

from contracts.seller_standards import SellerStandingChanged
from servicekit.testing import produce, publish, read_topic

from e2e_helpers import advance, authorized_order, delivered, eventually, ok, resolve_when_known


def mails_to(platform, api) -> list[dict]:
    """Every e-mail the SMTP server received for this principal, oldest first."""
    found = []
    for message in mailbox.Maildir(platform.maildir, create=False):
        if api.principal["email"] not in message["To"]:
            continue
        parts = {
            p.get_content_type(): p.get_payload(decode=True).decode()
            for p in message.walk()
            if not p.is_multipart()
        }
        found.append(
            {
                "subject": message["Subject"],
                "text": parts.get("text/plain", ""),
                "html": parts.get("text/html", ""),
                "id": message["X-Notification-Id"],
            }
        )
    return found


def inbox(api) -> list[dict]:
    return ok(api.get("/v1/me/notifications", params={"limit": 100}))["items"]


def has_mail(platform, api, words):
    def check():
        found = [m for m in mails_to(platform, api) if words in m["subject"]]
        return found[0] if found else None

    return check


def tracked_shipment(seller, order):
    number = f"TRK{uuid.uuid4().hex[:10].upper()}"
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    ok(seller.post(f"/v1/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": number}))
    return number


def test_the_happy_path_tells_buyer_and_seller_each_step(
    platform, operator, seller, buyer, carrier
):
    order = authorized_order(seller, buyer)
    eventually(has_mail(platform, seller, "New order to accept"))
    confirmed = eventually(has_mail(platform, buyer, "Your order is in"))
    assert "nothing is charged until the seller ships" in confirmed["text"]

    number = tracked_shipment(seller, order)
    accepted = eventually(has_mail(platform, buyer, "The seller confirmed your order"))
    assert "the seller has 2 business days to ship Vintage film camera" in accepted["text"]
    assert f"/orders/{order['id']}" in accepted["html"]
    shipped = eventually(has_mail(platform, buyer, "Your order is on its way"))
    assert number in shipped["text"]

    delivered(carrier, operator, number)
    eventually(has_mail(platform, buyer, "Delivered: is everything as expected?"))
    ok(buyer.post(f"/v1/orders/{order['id']}/confirm-receipt"))
    paid = eventually(has_mail(platform, seller, "You were paid"))
    assert "platform fee" in paid["text"]

    items = eventually(lambda: len(inbox(buyer)) >= 4 and inbox(buyer))
    assert items[0]["created_at"] >= items[-1]["created_at"]  # newest first
    kinds = {i["kind"] for i in items}
    assert {"order_confirmed.buyer", "order_accepted.buyer", "order_shipped.buyer"} <= kinds
    first = items[-1]
    assert {c["channel"]: c["state"] for c in first["channels"]}["in_app"] == "sent"
    eventually(
        lambda: (
            {c["channel"]: c["state"] for c in inbox(buyer)[-1]["channels"]}.get("email") == "sent"
        )
    )
    ok(buyer.post(f"/v1/me/notifications/{first['id']}/read"))
    assert inbox(buyer)[-1]["read_at"] is not None
    # nobody else can read or mark someone's notification
    assert seller.post(f"/v1/me/notifications/{first['id']}/read").status_code == 404


def test_a_decline_tells_the_buyer_the_hold_is_released(platform, seller, buyer):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/decline", {"reason": "out of stock"}))
    declined = eventually(has_mail(platform, buyer, "The seller declined your order"))
    assert "out of stock" in declined["text"]
    assert "nothing was charged" in declined["text"]
    assert any(n["kind"] == "order_declined.buyer" for n in inbox(buyer))


def test_a_buyers_return_request_reaches_the_sellers_inbox(
    platform, operator, seller, buyer, carrier
):
    order = authorized_order(seller, buyer)
    delivered(carrier, operator, tracked_shipment(seller, order))
    ok(buyer.post(f"/v1/orders/{order['id']}/return", {"reason": "Too small"}))

    def told_seller():
        return [
            n
            for n in inbox(seller)
            if n["kind"] == "return_requested.seller" and n["order_id"] == order["id"]
        ]

    [notice] = eventually(told_seller)
    assert "Too small" in notice["body"] and "pickup on" in notice["title"]


def test_a_late_shipment_is_told_to_the_buyer_before_they_ask_and_to_the_seller(
    platform, operator, seller, buyer
):
    order = authorized_order(seller, buyer)
    ok(seller.post(f"/v1/orders/{order['id']}/accept"))
    advance(operator, hours=30)  # a day before ship-by: the seller is reminded
    reminder = eventually(has_mail(platform, seller, "Reminder: ship by"))
    assert "on-time shipping rate" in reminder["text"]
    advance(operator, days=6)
    late = eventually(has_mail(platform, buyer, "Your order is late"))
    assert "a specialist follows up" in late["text"]
    eventually(has_mail(platform, seller, "Your order is overdue"))
    assert any(n["kind"] == "shipment_late.buyer" for n in inbox(buyer))
    assert any(n["kind"] == "ship_reminder.seller" for n in inbox(seller))


def test_a_dispute_and_its_refund_reach_both_sides_even_with_email_switched_off(
    platform, seller, buyer, new_principal
):
    agent = new_principal("agent")
    ok(buyer.put("/v1/me/notification-preferences", {"email": False, "in_app": True}))
    order = authorized_order(seller, buyer)
    tracked_shipment(seller, order)
    eventually(lambda: ok(buyer.get(f"/v1/orders/{order['id']}/payment"))["state"] == "captured")
    ok(
        buyer.post(
            f"/v1/orders/{order['id']}/report-problem",
            {"reason": "not_as_described", "details": "the wrong model"},
        )
    )
    problem = eventually(has_mail(platform, seller, "The buyer reported a problem"))
    assert "the wrong model" in problem["text"]

    ticket = eventually(
        lambda: [
            t
            for t in ok(agent.get(f"/v1/orders/{order['id']}/tickets"))["items"]
            if t["reason"] == "not_as_described"
        ]
    )[0]
    ok(resolve_when_known(agent, ticket["id"], {"action": "refund", "note": "sorry"}))
    refund = eventually(has_mail(platform, buyer, "You were refunded"))
    assert "Card refunds usually show" in refund["text"]
    eventually(has_mail(platform, seller, "A support case on your order is resolved"))
    # e-mail is off for this buyer: only what they must get was mailed
    subjects = [m["subject"] for m in mails_to(platform, buyer)]
    assert not any("on its way" in s for s in subjects)
    assert any(i["kind"] == "order_shipped.buyer" for i in inbox(buyer))


async def test_a_standing_change_tells_the_seller_why_and_what_to_do(platform, seller):
    event = SellerStandingChanged(
        seller_id=seller.id,
        standing="at_risk",
        previous="good",
        reason="on time shipping rate 90% is below 95% (10 orders)",
        changed_at=datetime.now(UTC),
    )
    await publish(platform.bootstrap, event, source="seller_standards", time=event.changed_at)
    told = eventually(has_mail(platform, seller, "Your seller standing is at risk"))
    assert "on time shipping rate 90% is below 95%" in told["text"]
    assert "What to do next" in told["text"]
    assert [n["kind"] for n in inbox(seller)] == ["standing_at_risk.seller"]


async def test_every_event_of_an_order_delivered_twice_more_sends_nothing_twice(
    platform, operator, seller, buyer, carrier
):
    order = authorized_order(seller, buyer)
    tracked_shipment(seller, order)
    eventually(has_mail(platform, buyer, "Your order is on its way"))
    eventually(lambda: len(inbox(seller)) >= 1)
    before = {
        "buyer_mail": len(mails_to(platform, buyer)),
        "seller_mail": len(mails_to(platform, seller)),
        "buyer_inbox": len(inbox(buyer)),
        "seller_inbox": len(inbox(seller)),
    }

    key = order["id"].encode()
    for topic in ("orders.events", "payments.events"):
        records = [r for r in await read_topic(platform.bootstrap, topic, expect=1) if r.key == key]
        assert records
        again = [(order["id"], r.value, {k: v.decode() for k, v in r.headers}) for r in records]
        await produce(platform.bootstrap, topic, again * 2)

    # a fresh event after the replays shows they have all been consumed
    ok(buyer.post(f"/v1/orders/{order['id']}/messages", {"body": "When will it arrive?"}))
    eventually(has_mail(platform, seller, "New message from a buyer"))
    assert len(mails_to(platform, buyer)) == before["buyer_mail"]
    assert len(mails_to(platform, seller)) == before["seller_mail"] + 1
    assert len(inbox(buyer)) == before["buyer_inbox"]
    assert len(inbox(seller)) == before["seller_inbox"] + 1
