"""Every status in which someone must act has a deadline (API.md, "No order, request or ticket
waits for ever"), pure, up to the parcel's delivery: the card, the seller, the carrier and a
failed delivery. Entering the status sets `act_by` from the rules; when it passes,
`act_on_deadline` decides by the status; a party who acted in time leaves nothing due."""

from datetime import UTC, datetime, timedelta

from contracts.orders import (
    OrderCancelled,
    OrderCompleted,
    OrderDeliveryUnconfirmed,
    OrderReturnedToSender,
    OrderShipmentOverdue,
)
from orders import domain
from orders.domain import Actor, Order, Status

from orders_test_helpers import (
    ACCEPTED_AT,
    AUTHORIZED_AT,
    CALENDAR,
    DELIVERED_AT,
    FAILED_AT,
    NOW,
    RULES,
    SECOND,
    SHIPPED_AT,
    entered,
    fire,
    kept,
    not_due,
    order_in,
    place,
)

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
