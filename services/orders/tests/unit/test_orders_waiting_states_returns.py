"""Every status in which someone must act has a deadline (API.md, "No order, request or ticket
waits for ever"), pure, after delivery: returns, exchanges, and the statuses where nobody in
orders must act. Entering the status sets `act_by` from the rules; when it passes,
`act_on_deadline` decides by the status; a party who acted in time leaves nothing due."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.orders import OrderExchangeOverdue, OrderReturned
from orders import domain
from orders.domain import Actor, Order, Status

from orders_test_helpers import (
    CALENDAR,
    FAILED_AT,
    LATER,
    RULES,
    SECOND,
    carrier,
    entered,
    fire,
    kept,
    not_due,
    order_in,
)

# --- return_requested: the seller confirms it is back -----------------------------------------


def returning() -> Order:
    order = order_in(Status.DELIVERED)
    return entered(
        Status.RETURN_REQUESTED,
        LATER,
        lambda: (
            order,
            domain.request_return(order, Actor.BUYER, "not for me", LATER, CALENDAR, RULES),
        ),
    )


def test_a_return_the_seller_never_confirms_is_refunded_two_weeks_after_the_pickup():
    order = returning()
    # pickup Tue 1 Dec (2 business days after Fri 27 Nov) + 14 days
    assert order.act_by == datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
    not_due(order, order.act_by - SECOND)
    outcome = fire(order, order.act_by)
    assert outcome.order.status is Status.RETURNED
    (event,) = outcome.events
    assert isinstance(event, OrderReturned)  # the path payments refunds on
    assert (event.decided_by, event.reason) == ("system", "return_not_confirmed")
    assert event.total == order.total
    assert "you are refunded" in domain.steps(outcome.order, CALENDAR, RULES)[2].message


def test_the_return_request_tells_the_seller_the_deadline_to_confirm_it_is_back():
    delivered, disputed = order_in(Status.DELIVERED), order_in(Status.DISPUTED)
    asked = domain.request_return(delivered, Actor.BUYER, "not for me", LATER, CALENDAR, RULES)
    by_support = domain.start_return(disputed, "damaged", LATER, CALENDAR, RULES)

    deadline = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)  # the pickup + 14 days
    assert returning().act_by == deadline
    for outcome, before in ((asked, delivered), (by_support, disputed)):
        (event,) = outcome.events
        assert event.confirm_by == deadline
        assert kept(before, outcome, LATER).act_by == deadline


@pytest.mark.parametrize("status", [Status.RETURN_REQUESTED, Status.EXCHANGE_REQUESTED])
def test_a_full_refund_while_the_seller_is_awaited_ends_the_order_refunded(status):
    # Support refunded in full meanwhile: the deadline would have nothing left to refund, and
    # the order would wait in `returned` for a refund that never comes (found by the property).
    waiting = returning() if status is Status.RETURN_REQUESTED else exchanging()
    at = waiting.act_by - SECOND
    refunded = kept(waiting, domain.record_refund(waiting, waiting.total, True, at), at)

    assert (refunded.status, refunded.payment_state.value) == (Status.REFUNDED, "refunded")
    assert refunded.act_by is None  # nothing more is due


def test_a_return_the_seller_confirms_in_time_is_the_sellers_decision():
    order = returning()
    at = order.act_by - SECOND
    back = entered(
        Status.RETURNED, at, lambda: (order, domain.confirm_return(order, Actor.SELLER, at))
    )
    assert back.act_by is None
    assert domain.confirm_return(order, Actor.SELLER, at).events[0].decided_by == "seller"


# --- exchange_requested: the seller ships the replacement -------------------------------------


def exchanging() -> Order:
    order = order_in(Status.DELIVERED)
    return entered(
        Status.EXCHANGE_REQUESTED,
        LATER,
        lambda: (order, domain.request_exchange(order, Actor.BUYER, "size", LATER, note="42")),
    )


def test_a_replacement_not_shipped_opens_a_ticket_then_refunds():
    order = exchanging()
    # Fri 27 Nov + the listing's 2 handling days: Tue 1 Dec
    assert order.act_by == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    not_due(order, order.act_by - SECOND)

    flagged = fire(order, order.act_by)
    (overdue,) = flagged.events
    assert isinstance(overdue, OrderExchangeOverdue)
    late = kept(order, flagged, order.act_by)
    assert (late.status, late.shipment_overdue) == (Status.EXCHANGE_REQUESTED, True)
    assert late.act_by == overdue.refund_at == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert overdue.ship_by == order.act_by

    refunded = fire(late, late.act_by)
    assert refunded.order.status is Status.RETURNED
    (event,) = refunded.events
    assert isinstance(event, OrderReturned)
    assert (event.decided_by, event.reason) == ("system", "replacement_not_shipped")


def test_a_replacement_shipped_in_time_is_on_its_way():
    order = exchanging()
    at = order.act_by - SECOND
    again = entered(
        Status.SHIPPED,
        at,
        lambda: (
            order,
            domain.ship(
                order,
                Actor.SELLER,
                at,
                carrier="DHL",
                tracking_number="T2",
                transfer_reference=None,
            ),
        ),
    )
    assert again.act_by == at + timedelta(days=14)


def test_an_exchange_after_a_late_first_shipment_gets_its_own_handling_days():
    late_once = replace(order_in(Status.DELIVERED), shipment_overdue=True)
    exchange = domain.request_exchange(late_once, Actor.BUYER, "size", LATER, note="42")
    order = kept(late_once, exchange, LATER)
    assert isinstance(fire(order, order.act_by).events[0], OrderExchangeOverdue)


# --- the states support's SLA handles, and the rest -------------------------------------------


@pytest.mark.parametrize(
    "status",
    [Status.RETURNED_TO_SENDER, Status.DISPUTED, Status.COMPLETED, Status.REFUNDED],
)
def test_statuses_where_nobody_in_orders_must_act_have_no_deadline(status):
    order = order_in(status)
    assert domain.deadline_on_entering(order, LATER, RULES, CALENDAR) is None
    # A deadline left over (a migrated row) is cleared, never acted on.
    stale = replace(order, act_by=LATER)
    outcome = fire(stale, LATER)
    assert (outcome.order.status, outcome.order.act_by, outcome.events) == (status, None, ())


def test_every_waiting_status_has_a_deadline():
    waiting = {
        Status.PLACED: order_in(Status.PLACED),
        Status.AWAITING_SELLER: order_in(Status.AWAITING_SELLER),
        Status.ACCEPTED: order_in(Status.ACCEPTED),
        Status.SHIPPED: order_in(Status.SHIPPED),
        Status.DELIVERY_FAILED: carrier(
            order_in(Status.SHIPPED), domain.Action.DELIVERY_FAILED, FAILED_AT
        ),
        Status.DELIVERED: order_in(Status.DELIVERED),
        Status.RETURN_REQUESTED: order_in(Status.RETURN_REQUESTED),
        Status.EXCHANGE_REQUESTED: order_in(Status.EXCHANGE_REQUESTED),
    }
    for status, order in waiting.items():
        assert domain.deadline_on_entering(order, LATER, RULES, CALENDAR) is not None, status
