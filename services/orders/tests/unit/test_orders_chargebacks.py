"""A chargeback decided at the buyer's bank ends the order (#18, payments'
`payment.dispute_closed`): lost with nothing left, the order is refunded (the money went back
through the bank); won, or lost in part, a disputed order completes and the seller is paid the
rest (`order.completed`); any other order carries on as it was."""

from datetime import timedelta

import pytest

from contracts import Money
from contracts.orders import OrderCompleted
from orders.domain import Status, TransitionRefused
from orders.domain.payment_facts import record_dispute_closed

from orders_test_helpers import LATER, order_in

CLOSED_AT = LATER + timedelta(days=20)
NOTHING = Money(amount_minor=0, currency="EUR")
SOME = Money(amount_minor=5000, currency="EUR")


@pytest.mark.parametrize(
    "status",
    [Status.SHIPPED, Status.DELIVERED, Status.COMPLETED, Status.DISPUTED, Status.RETURNED],
)
def test_a_chargeback_lost_in_full_ends_the_order_refunded(status):
    outcome = record_dispute_closed(order_in(status), False, NOTHING, CLOSED_AT)

    assert outcome.order.status is Status.REFUNDED
    assert outcome.order.timeline[-1].kind == "refunded"
    assert outcome.events == ()  # payments' own event told everyone; nothing to pay


@pytest.mark.parametrize(("won", "left"), [(True, SOME), (False, SOME)])
def test_a_chargeback_won_or_lost_in_part_completes_a_disputed_order(won, left):
    outcome = record_dispute_closed(order_in(Status.DISPUTED), won, left, CLOSED_AT)

    assert outcome.order.status is Status.COMPLETED
    assert outcome.order.completed_at == CLOSED_AT
    [completed] = outcome.events
    assert isinstance(completed, OrderCompleted)  # payments releases the rest to the seller
    assert completed.confirmed_by == "system"


@pytest.mark.parametrize("status", [Status.SHIPPED, Status.DELIVERED, Status.COMPLETED])
def test_a_chargeback_won_leaves_any_other_order_on_its_way(status):
    order = order_in(status)
    outcome = record_dispute_closed(order, True, SOME, CLOSED_AT)

    assert outcome.order.status is status
    assert outcome.events == ()
    assert outcome.order.timeline[-1].kind == "chargeback_closed"


def test_a_chargeback_closing_on_an_order_that_ended_changes_nothing():
    with pytest.raises(TransitionRefused):
        record_dispute_closed(order_in(Status.REFUNDED), False, NOTHING, CLOSED_AT)
