"""Builders for the tests of what an order's money allows a resolution to do
(test_support_money_facts, _refunds, _credit): the facts support learns of one order
(placed, authorized, captured, refunded, disputed, shipped) and a decision or refusal on
them. Apart from support_test_helpers, whose `placed` and `ORDER` are of the use cases'
tests."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from contracts import Money
from contracts.orders import OrderPlaced, OrderShipped
from contracts.payments import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDisputeClosed,
    PaymentDisputeOpened,
    PaymentRefunded,
)
from support.domain.errors import ResolutionImpossible
from support.domain.order_money import (
    OrderMoney,
    decide_money,
    money_seen,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


ORDER = "ord_1"


def eur(amount_minor: int) -> Money:
    return Money(amount_minor=amount_minor, currency="EUR")


def placed(total_minor: int = 12_500) -> OrderPlaced:
    return OrderPlaced(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        quantity=1,
        unit_price=eur(total_minor),
        total=eur(total_minor),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
    )


def authorized(card_minor: int = 12_500, credit_minor: int = 0) -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=ORDER,
        payment_intent_id="pi_1",
        amount=eur(card_minor),
        authorized_at=NOW,
        expires_at=NOW + timedelta(days=7),
        credit_applied=eur(credit_minor) if credit_minor else None,
    )


def captured(amount_minor: int = 12_500) -> PaymentCaptured:
    return PaymentCaptured(
        order_id=ORDER, payment_intent_id="pi_1", amount=eur(amount_minor), captured_at=NOW
    )


def refunded(amount_minor: int, total_minor: int) -> PaymentRefunded:
    return PaymentRefunded(
        order_id=ORDER,
        amount=eur(amount_minor),
        total_refunded=eur(total_minor),
        full=False,
        reason="returned",
        refunded_at=NOW,
    )


def dispute(amount_minor: int, outcome: str | None = None):
    common = {
        "order_id": ORDER,
        "buyer_id": "usr_buyer",
        "seller_id": "usr_seller",
        "dispute_id": "dp_1",
        "amount": eur(amount_minor),
    }
    if outcome is None:
        return PaymentDisputeOpened(**common, reason="fraudulent", opened_at=NOW)
    return PaymentDisputeClosed(**common, outcome=outcome, closed_at=NOW)


def knowing(*events) -> OrderMoney:
    money = OrderMoney(ORDER)
    for event in events:
        money = money_seen(money, event)
    return money


PAID = (placed(), authorized(), captured())


def decide(money, action, amount=None, ratio=Decimal(1)):
    return decide_money(money, action=action, amount=amount, credit_ratio=ratio)


def refusal(money, action, amount=None, ratio=Decimal(1)) -> ResolutionImpossible:
    with pytest.raises(ResolutionImpossible) as refused:
        decide(money, action, amount, ratio)
    return refused.value


def shipped_fact():
    return OrderShipped(
        order_id=ORDER,
        buyer_id="usr_buyer",
        seller_id="usr_seller",
        listing_id="lst_1",
        fulfilment="seller_ships",
        occurred_at=NOW,
        total=eur(12_500),
        carrier="DHL",
        tracking_number="TRK1",
    )
