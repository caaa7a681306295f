"""A hold on the buyer's card that payments could not renew (#18): the buyer must hear it,
whatever their preferences, with the amount, why, and by when to give another card, and a
link to the order page."""

from datetime import UTC, datetime

from contracts import Money
from contracts.payments import PaymentHoldLapsed
from notifications import domain
from notifications.domain import OrderParties
from notifications.templates import Catalogue

HOLD_LAPSED = PaymentHoldLapsed.type
ORDER = OrderParties("ord_1", "usr_buyer", "usr_seller", {"title": "Vintage film camera"})


def lapse_data() -> dict:
    return PaymentHoldLapsed(
        order_id="ord_1",
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        amount=Money(amount_minor=12500, currency="EUR"),
        expires_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        reason="Your card was declined",
    ).model_dump(mode="json")


def test_the_buyer_must_hear_that_their_hold_lapsed():
    told = domain.intents_for(HOLD_LAPSED, lapse_data(), ORDER)

    assert [(i.recipient_id, i.message, i.order_id, i.must) for i in told] == [
        ("usr_buyer", "hold_lapsed.buyer", "ord_1", True)
    ]


def test_the_message_asks_for_another_card_by_when_the_hold_lapses():
    [intent] = domain.intents_for(HOLD_LAPSED, lapse_data(), ORDER)

    rendered = Catalogue().render(
        intent.message,
        "en",
        {
            "name": "Bea",
            "data": lapse_data(),
            "order": ORDER.facts | {"order_id": "ord_1"},
            "link": "http://portal/orders/ord_1",
        },
    )

    assert rendered.title == "Give another card for your order"
    assert rendered.text.startswith("Hello Bea,")
    for said in (
        "125.00 EUR",
        "Vintage film camera",
        "could not be renewed (Your card was declined)",
        "give another card on the order page by Sat 28 Nov 2026, 12:00 UTC",
        "or the order is cancelled",
    ):
        assert said in rendered.text, said
    assert "ord_1" not in rendered.text  # the item, never the order's id
    assert '<a href="http://portal/orders/ord_1">Give another card</a>' in rendered.html
