"""Requests reach whoever acts on them: a return (with its pickup date), an exchange, a
re-delivery date and a changed address reach the seller; a completed order tells the buyer;
an agent's public reply on a ticket reaches its buyer and seller, even on a ticket about a
seller with no order (an internal note publishes nothing, so it tells nobody)."""

from datetime import timedelta

from sqlalchemy import select

from contracts import Money
from contracts.orders import OrderPlaced
from contracts.support import TicketReplied
from notifications import domain
from notifications.db import notifications
from notifications.domain import OrderParties
from notifications.templates import Catalogue

from notifications_test_helpers import NOW, deliver

ORDER = OrderParties(
    "ord_1",
    "usr_buyer",
    "usr_seller",
    {"total": {"amount_minor": 12500, "currency": "EUR"}, "title": "Vintage film camera"},
)
FACT = {
    "order_id": "ord_1",
    "buyer_id": "usr_buyer",
    "seller_id": "usr_seller",
    "listing_id": "lst_1",
    "fulfilment": "seller_ships",
    "occurred_at": NOW.isoformat(),
}
P = "marketplace.order."
# "Requests go to whoever acts on them" (API.md): each of these reaches the seller.
REQUESTS_TO_SELLER = [
    P + "return_requested.v1",
    P + "exchange_requested.v1",
    P + "redelivery_requested.v1",
    P + "shipping_address_changed.v1",
]


def told(event_type, data, order=ORDER):
    return [
        (i.recipient_id, i.message, i.must) for i in domain.intents_for(event_type, data, order)
    ]


def text_of(message, data):
    return Catalogue().render(
        message,
        "en",
        {
            "name": "Sam",
            "data": data,
            "order": ORDER.facts | {"order_id": "ord_1"},
            "link": "http://portal/orders/ord_1",
        },
    )


def test_a_return_request_tells_the_seller_the_reason_pickup_and_what_to_do():
    data = FACT | {
        "reason": "Too small",
        "pickup_date": "2026-12-01",
        "confirm_by": "2026-12-15T10:00:00Z",
    }

    assert told(P + "return_requested.v1", data) == [
        ("usr_seller", "return_requested.seller", False),
        ("usr_buyer", "return_requested.buyer", False),
    ]
    seller = text_of("return_requested.seller", data)
    assert "Tue 01 Dec 2026" in seller.title
    assert "Too small" in seller.text and "Tue 01 Dec 2026" in seller.text
    assert "confirm it on the order by Tue 15 Dec 2026, 10:00 UTC;" in seller.text
    older = text_of("return_requested.seller", data | {"confirm_by": None})  # before the field
    assert "confirm it on the order; the buyer is then refunded" in older.text
    buyer = text_of("return_requested.buyer", data)
    assert "pickup on Tue 01 Dec 2026" in buyer.title


def test_an_exchange_tells_the_seller_what_was_asked_and_to_ship_the_replacement():
    data = FACT | {"reason": "wrong size", "note": "An M, please"}

    assert told(P + "exchange_requested.v1", data) == [
        ("usr_seller", "exchange_requested.seller", False)
    ]
    text = text_of("exchange_requested.seller", data).text
    assert "wrong size" in text and "An M, please" in text and "ship the replacement" in text
    assert "Vintage film camera" in text  # the item, not the order's id


def test_a_redelivery_date_reaches_the_seller():
    data = FACT | {"preferred_date": "2026-12-03", "attempts": 1}

    assert told(P + "redelivery_requested.v1", data) == [
        ("usr_seller", "redelivery_requested.seller", False)
    ]
    assert "Thu 03 Dec 2026" in text_of("redelivery_requested.seller", data).text


def test_a_changed_address_gives_the_seller_the_whole_new_address():
    data = FACT | {
        "name": "Bea Buyer",
        "line1": "1 Main St",
        "line2": None,
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
    }

    assert told(P + "shipping_address_changed.v1", data) == [
        ("usr_seller", "address_changed.seller", False)
    ]
    assert "Bea Buyer, 1 Main St, 10115 Berlin, DE" in text_of("address_changed.seller", data).text
    # an event written before the contract carried the whole address still reads
    older = FACT | {"city": "Berlin", "country": "DE"}
    older |= dict.fromkeys(("name", "line1", "line2", "postal_code"))
    assert "Ship it to:\n\nBerlin, DE\n" in text_of("address_changed.seller", older).text


def test_every_request_on_an_order_reaches_its_seller():
    for event_type in REQUESTS_TO_SELLER:
        assert "usr_seller" in {r for r, _, _ in told(event_type, FACT)}, event_type


def test_a_completed_order_tells_the_buyer_once_and_leaves_paid_to_the_payout():
    data = FACT | {"total": {"amount_minor": 12500, "currency": "EUR"}, "confirmed_by": "system"}

    assert told(P + "completed.v1", data) == [("usr_buyer", "order_completed.buyer", False)]
    text = text_of("order_completed.buyer", data).text
    assert "completed" in text and "125.00 EUR" in text and "review the seller" in text
    assert told("marketplace.payment.released.v1", {}) == [
        ("usr_seller", "payout_released.seller", False)
    ]


def replied(**changes) -> TicketReplied:
    return TicketReplied(
        ticket_id="tkt_1",
        order_id="ord_1",
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        title="No tracking number by the ship-by date",
        author_id="usr_agent",
        author_role="agent",
        waiting_for="seller",
        excerpt="Please ship today or tell us why.",
        replied_at=NOW,
    ).model_copy(update=changes)


def test_an_agents_reply_tells_both_parties_with_whose_move_it_is():
    data = replied().model_dump(mode="json")

    assert told(TicketReplied.type, data) == [
        ("usr_buyer", "ticket_replied.buyer", False),
        ("usr_seller", "ticket_replied.seller", False),
    ]
    seller = text_of("ticket_replied.seller", data).text
    assert "Please ship today" in seller and "waiting for your answer" in seller
    buyer = text_of("ticket_replied.buyer", data).text
    assert "Please ship today" in buyer and "nothing is needed from you" in buyer


def test_a_reply_on_a_ticket_about_a_seller_tells_the_seller_alone_without_an_order():
    data = replied(order_id=None, buyer_id=None).model_dump(mode="json")

    assert told(TicketReplied.type, data, order=None) == [
        ("usr_seller", "ticket_replied.seller", False)
    ]
    # other events about an unknown order still tell nobody
    assert told(P + "return_requested.v1", FACT, order=None) == []


def test_support_events_other_than_a_decision_or_a_reply_tell_nobody():
    assert "marketplace.support.ticket_opened.v1" not in domain.CATALOGUE
    assert "marketplace.support.ticket_escalated.v1" not in domain.CATALOGUE


async def inbox_rows(ctx) -> list[tuple[str, str, str | None]]:
    async with ctx.db.unit_of_work() as uow:
        rows = (await uow.session.execute(select(notifications))).all()
    return sorted((row.recipient_id, row.message, row.order_id) for row in rows)


async def test_a_reply_on_a_ticket_about_a_seller_reaches_their_inbox(ctx):
    await deliver(ctx, replied(order_id=None, buyer_id=None), source="support")

    assert await inbox_rows(ctx) == [("usr_seller", "ticket_replied.seller", None)]


async def test_a_reply_that_overtakes_its_order_is_told_when_the_order_arrives(ctx):
    await deliver(ctx, replied(), source="support")
    assert await inbox_rows(ctx) == []

    euros = Money(amount_minor=12500, currency="EUR")
    await deliver(
        ctx,
        OrderPlaced(
            order_id="ord_1",
            buyer_id="usr_buyer",
            seller_id="usr_seller",
            listing_id="lst_1",
            quantity=1,
            unit_price=euros,
            total=euros,
            fulfilment="seller_ships",
            payment_method="pm_card_visa",
            placed_at=NOW,
            accept_by=NOW + timedelta(days=2),
        ),
    )

    assert await inbox_rows(ctx) == [
        ("usr_buyer", "ticket_replied.buyer", "ord_1"),
        ("usr_seller", "ticket_replied.seller", "ord_1"),
    ]
