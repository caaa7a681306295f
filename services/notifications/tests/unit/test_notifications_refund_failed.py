"""A refund Stripe refused for good (#18): the buyer must hear the truth, that they have not
been refunded yet and support has it as an urgent case, never "refunded"."""

from datetime import UTC, datetime

from contracts import Money
from contracts.payments import PaymentRefundFailed
from notifications import domain
from notifications.domain import OrderParties
from notifications.templates import Catalogue

REFUND_FAILED = PaymentRefundFailed.type
ORDER = OrderParties("ord_1", "usr_buyer", "usr_seller", {"title": "Vintage film camera"})


def refusal() -> dict:
    return PaymentRefundFailed(
        order_id="ord_1",
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        amount=Money(amount_minor=12500, currency="EUR"),
        reason="Support ticket tkt_1: damaged",
        failure="Charge ch_1 has already been refunded.",
        ticket_id="tkt_1",
        failed_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    ).model_dump(mode="json")


def test_the_buyer_must_hear_that_their_refund_did_not_go_through():
    [intent] = domain.intents_for(REFUND_FAILED, refusal(), ORDER)
    assert (intent.recipient_id, intent.message, intent.must) == (
        "usr_buyer",
        "refund_failed.buyer",
        True,
    )

    rendered = Catalogue().render(
        intent.message,
        "en",
        {
            "name": "Bea",
            "data": refusal(),
            "order": ORDER.facts | {"order_id": "ord_1"},
            "link": "http://portal/orders/ord_1",
        },
    )

    assert rendered.title == "Your refund of 125.00 EUR has not gone through yet"
    for said in ("Vintage film camera", "You have not been refunded yet", "urgent case"):
        assert said in rendered.text, said
    assert "ch_1" not in rendered.text  # the processor's words are for the agent
