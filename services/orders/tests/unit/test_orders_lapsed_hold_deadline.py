"""A lapsed hold has a deadline of its own (#18): the order waits for the buyer's new card
until the lapsed hold's `expires_at`; then it is cancelled, nothing charged, and not counted
against the seller (before, the shipment grace cancelled it as the seller's fault). While the
card is lapsed the seller's clock is paused: a new card moves their ship-by (and accept-by)
later by exactly the time the hold was lapsed."""

from datetime import timedelta

from contracts.orders import OrderCancelled
from orders import domain
from orders.domain import Actor, PaymentState, Status

from orders_test_helpers import ACCEPTED_AT, CALENDAR, PRICE, fire, kept, not_due, order_in

LAPSED_AT = ACCEPTED_AT + timedelta(hours=2)
EXPIRES_AT = ACCEPTED_AT + timedelta(days=4)  # after ship-by (Wed 25 Nov 13:00) and its grace


def lapsed(status=Status.ACCEPTED):
    return domain.record_hold_lapsed(order_in(status), LAPSED_AT, EXPIRES_AT).order


def test_a_lapsed_hold_waits_for_the_buyer_until_its_expiry_not_the_sellers_ship_by():
    order = lapsed()

    assert order.act_by == EXPIRES_AT
    assert order.ship_by is not None and order.ship_by < EXPIRES_AT
    not_due(order, order.ship_by + timedelta(days=1))  # ship-by passing flags nothing


def test_no_new_card_by_the_expiry_cancels_the_order_not_against_the_seller():
    outcome = fire(lapsed(), EXPIRES_AT)

    assert outcome.order.status is Status.CANCELLED
    assert outcome.order.cancel_reason == "payment_hold_lapsed"
    [cancelled] = outcome.events
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason == "payment_hold_lapsed" and cancelled.cancelled_by == "system"
    assert not cancelled.counts_against_seller()
    assert outcome.stock_back


def test_a_new_card_moves_the_sellers_ship_by_by_the_time_the_card_was_lapsed():
    before = order_in(Status.ACCEPTED)
    renewed_at = LAPSED_AT + timedelta(days=2)

    order = domain.record_authorization_renewed(lapsed(), PRICE, renewed_at).order

    assert order.payment_state is PaymentState.AUTHORIZED
    assert order.ship_by == before.ship_by + timedelta(days=2)
    assert order.act_by == order.ship_by  # the seller's deadline again, not the buyer's
    assert "moved 2.0 days later" in order.timeline[-1].detail


def test_accepting_while_the_card_is_lapsed_keeps_the_buyers_deadline():
    waiting = lapsed(Status.AWAITING_SELLER)
    accepted_at = LAPSED_AT + timedelta(hours=1)

    outcome = domain.accept(waiting, Actor.SELLER, accepted_at, CALENDAR)

    assert kept(waiting, outcome, accepted_at).act_by == EXPIRES_AT


def test_a_hold_lapsing_after_shipment_changes_nothing():
    shipped = order_in(Status.SHIPPED)
    assert domain.record_hold_lapsed(shipped, LAPSED_AT, EXPIRES_AT).order is shipped
