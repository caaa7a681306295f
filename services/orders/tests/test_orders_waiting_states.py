"""Every status in which someone must act has a deadline (API.md, "No order, request or ticket
waits for ever"), pure: entering the status sets `act_by` from the rules; when it passes,
`act_on_deadline` decides by the status; a party who acted in time leaves nothing due."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.orders import (
    OrderCancelled,
    OrderCompleted,
    OrderDeliveryUnconfirmed,
    OrderExchangeOverdue,
    OrderReturned,
    OrderReturnedToSender,
    OrderShipmentOverdue,
)
from orders import domain
from orders.domain import Actor, DomainError, Order, Outcome, Status

from orders_test_helpers import (
    ACCEPTED_AT,
    AUTHORIZED_AT,
    CALENDAR,
    DELIVERED_AT,
    FAILED_AT,
    LATER,
    NOW,
    RULES,
    SHIPPED_AT,
    carrier,
    order_in,
    place,
)

SECOND = timedelta(seconds=1)


def kept(before: Order, outcome: Outcome, at: datetime) -> Order:
    """The outcome's order as the handlers keep it: with the deadline of the status entered."""
    return domain.scheduled(before, outcome, at, RULES, CALENDAR).order


def entered(status: Status, at: datetime, build) -> Order:
    """The order of `order_in(previous)` after `build` moved it into `status` at `at`."""
    before, outcome = build()
    order = kept(before, outcome, at)
    assert order.status is status
    return order


def fire(order: Order, at: datetime) -> Outcome:
    return domain.act_on_deadline(order, at, RULES, CALENDAR)


def not_due(order: Order, at: datetime) -> None:
    with pytest.raises(DomainError) as refused:
        fire(order, at)
    assert refused.value.code == "not-due"


# --- placed: the card -------------------------------------------------------------------------


def test_a_card_not_authorized_within_the_hour_cancels_the_order_and_says_why():
    order = place()
    assert order.act_by == NOW + timedelta(hours=1)
    not_due(order, order.act_by - SECOND)

    outcome = fire(order, order.act_by)
    assert (outcome.order.status, outcome.order.cancel_reason) == (
        Status.CANCELLED,
        "payment_not_completed",
    )
    (event,) = outcome.events
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.cancelled_by) == ("payment_not_completed", "system")
    assert not event.counts_against_seller()
    assert outcome.stock_back
    assert kept(order, outcome, order.act_by).act_by is None
    confirmed = domain.steps(outcome.order, CALENDAR, RULES)[0]
    assert "not authorized within the time allowed" in confirmed.message


def test_a_card_authorized_in_time_starts_the_sellers_clock_instead():
    order = place()
    authorized = entered(
        Status.AWAITING_SELLER,
        AUTHORIZED_AT,
        lambda: (order, domain.record_authorization(order, order.total, AUTHORIZED_AT)),
    )
    assert authorized.act_by == authorized.accept_by
    not_due(authorized, order.act_by)


# --- awaiting_seller and accepted: the seller ------------------------------------------------


def test_awaiting_the_seller_expires_at_accept_by():
    order = order_in(Status.PLACED)
    waiting = entered(
        Status.AWAITING_SELLER,
        AUTHORIZED_AT,
        lambda: (order, domain.record_authorization(order, order.total, AUTHORIZED_AT)),
    )
    outcome = fire(waiting, waiting.accept_by)
    assert outcome.order.cancel_reason == "acceptance_window_missed"
    assert outcome.events[0].counts_against_seller()


def accepted() -> Order:
    order = order_in(Status.AWAITING_SELLER)
    return entered(
        Status.ACCEPTED,
        ACCEPTED_AT,
        lambda: (order, domain.accept(order, Actor.SELLER, ACCEPTED_AT, CALENDAR)),
    )


def test_not_shipped_by_ship_by_opens_a_ticket_then_after_the_grace_cancels():
    order = accepted()
    assert order.act_by == order.ship_by == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    not_due(order, order.ship_by - SECOND)

    flagged = fire(order, order.ship_by)
    assert [type(e) for e in flagged.events] == [OrderShipmentOverdue]
    late = kept(order, flagged, order.ship_by)
    assert (late.status, late.shipment_overdue) == (Status.ACCEPTED, True)
    # Wed 25 Nov + 3 business days' grace: Mon 30 Nov
    assert late.act_by == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    shipped = domain.steps(late, CALENDAR, RULES)[1]
    assert "If nothing is sent by Monday 30 November, the order is cancelled" in shipped.message
    not_due(late, late.act_by - SECOND)

    ended = fire(late, late.act_by)
    assert (ended.order.status, ended.order.cancel_reason) == (
        Status.CANCELLED,
        "shipment_window_missed",
    )
    (event,) = ended.events
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.cancelled_by) == ("shipment_window_missed", "system")
    assert event.counts_against_seller()  # seller standards count it
    assert ended.stock_back
    assert kept(late, ended, late.act_by).act_by is None
    assert "even after the grace" in domain.steps(ended.order, CALENDAR, RULES)[1].message


def test_shipped_in_time_or_within_the_grace_nothing_is_cancelled():
    order = accepted()
    late = kept(order, fire(order, order.ship_by), order.ship_by)
    at = late.act_by - SECOND
    shipped = entered(
        Status.SHIPPED,
        at,
        lambda: (
            late,
            domain.ship(
                late, Actor.SELLER, at, carrier="DHL", tracking_number="T", transfer_reference=None
            ),
        ),
    )
    assert shipped.act_by == at + timedelta(days=14)
    not_due(shipped, late.act_by)


# --- shipped: the carrier ---------------------------------------------------------------------


def shipped() -> Order:
    order = accepted()
    return entered(
        Status.SHIPPED,
        SHIPPED_AT,
        lambda: (
            order,
            domain.ship(
                order,
                Actor.SELLER,
                SHIPPED_AT,
                carrier="DHL",
                tracking_number="TRK-1",
                transfer_reference=None,
            ),
        ),
    )


def test_no_delivery_scan_for_two_weeks_asks_the_buyer_then_completes():
    order = shipped()
    assert order.act_by == SHIPPED_AT + timedelta(days=14)
    not_due(order, order.act_by - SECOND)
    assert "confirm_receipt" not in order.allowed_actions(Actor.BUYER, order.act_by)

    asked_at = order.act_by
    asked = fire(order, asked_at)
    (event,) = asked.events
    assert isinstance(event, OrderDeliveryUnconfirmed)
    assert event.confirm_by == asked_at + timedelta(days=3)
    assert (event.shipped_at, event.tracking_number) == (SHIPPED_AT, "TRK-1")
    waiting = kept(order, asked, asked_at)
    assert (waiting.status, waiting.act_by) == (Status.SHIPPED, event.confirm_by)
    assert {"confirm_receipt", "report_problem"} <= set(
        waiting.allowed_actions(Actor.BUYER, asked_at)
    )
    assert "Did it arrive?" in domain.steps(waiting, CALENDAR, RULES)[2].message
    not_due(waiting, waiting.act_by - SECOND)

    done = fire(waiting, waiting.act_by)
    (completed,) = done.events
    assert isinstance(completed, OrderCompleted)
    assert completed.confirmed_by == "system"
    assert done.order.status is Status.COMPLETED


def test_a_problem_reported_after_the_question_stops_the_auto_complete():
    order = shipped()
    waiting = kept(order, fire(order, order.act_by), order.act_by)
    at = waiting.act_by - SECOND
    disputed = entered(
        Status.DISPUTED,
        at,
        lambda: (waiting, domain.report_problem(waiting, Actor.BUYER, "not_received", "", at)),
    )
    assert disputed.act_by is None  # support's SLA


def test_a_delivery_scan_in_time_starts_the_confirmation_window_instead():
    order = shipped()
    delivered = entered(
        Status.DELIVERED,
        DELIVERED_AT,
        lambda: (order, domain.carrier_update(order, domain.Action.DELIVERED, DELIVERED_AT, RULES)),
    )
    assert delivered.act_by == delivered.auto_complete_at == DELIVERED_AT + timedelta(days=3)


# --- delivery_failed: the buyer's new date ----------------------------------------------------


def failed() -> Order:
    order = shipped()
    return entered(
        Status.DELIVERY_FAILED,
        FAILED_AT,
        lambda: (
            order,
            domain.carrier_update(order, domain.Action.DELIVERY_FAILED, FAILED_AT, RULES),
        ),
    )


def test_no_new_delivery_date_within_a_week_returns_it_to_the_sender():
    order = failed()
    assert order.act_by == FAILED_AT + timedelta(days=7)
    not_due(order, order.act_by - SECOND)
    outcome = fire(order, order.act_by)
    assert outcome.order.status is Status.RETURNED_TO_SENDER
    assert [type(e) for e in outcome.events] == [OrderReturnedToSender]  # support follows up
    assert kept(order, outcome, order.act_by).act_by is None  # support's SLA from here


def test_a_new_delivery_date_in_time_sends_it_out_again():
    order = failed()
    at = order.act_by - SECOND
    again = entered(
        Status.SHIPPED,
        at,
        lambda: (order, domain.redeliver(order, Actor.BUYER, at.date() + timedelta(days=2), at)),
    )
    assert again.act_by == at + timedelta(days=14)


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
