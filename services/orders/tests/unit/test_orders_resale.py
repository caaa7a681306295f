"""Orders of a resale event's ticket or hotel booking (#20), on the domain alone: the money
waits for the event, the seller's deadlines fall before it, the buyer's cancel window closes
at acceptance (except after a postponement), and the operator's cancellation or postponement
reaches every open order."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.orders import OrderCancelled, OrderEventPostponed, OrderTransferConfirmed
from orders import domain
from orders.domain import (
    Action,
    Actor,
    DomainError,
    EventKind,
    EventStatus,
    Fulfilment,
    Status,
    TransitionRefused,
)

from orders_resale_test_helpers import (
    ENDS,
    RECIPIENT,
    RELEASE,
    STARTS,
    event_listing,
    event_order,
    kept,
    resale_event,
)
from orders_test_helpers import CALENDAR, NOW, RULES, order_in

START_UTC = STARTS.astimezone(UTC)


def place(**overrides):
    event = overrides.pop("event", resale_event())
    arguments = {
        "order_id": "ord_1",
        "listing": event_listing(event),
        "buyer_id": "usr_buyer",
        "quantity": 1,
        "shipping_address": None,
        "payment_method": "pm_card_visa",
        "now": NOW,
        "calendar": CALENDAR,
        "rules": RULES,
        "event": event,
        "recipient": RECIPIENT,
    }
    return domain.place_order(**(arguments | overrides))


# --- placing and the seller's deadlines ------------------------------------------------------


def test_an_event_order_names_its_recipient_and_keeps_the_event():
    placed = place()
    assert placed.order.recipient == RECIPIENT
    assert placed.order.event == resale_event().snapshot
    assert placed.events[0].event.name == "Nils Frahm live"
    assert placed.events[0].recipient_name == "Bea Buyer"
    with pytest.raises(DomainError) as refused:
        place(recipient=None)
    assert refused.value.code == "recipient-required"


def test_the_seller_must_accept_and_transfer_two_hours_before_the_start():
    late = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the event's day: 2 business days is later
    order = event_order(Status.AWAITING_SELLER, at=late)
    assert order.accept_by == START_UTC - timedelta(hours=2)
    accepted = event_order(Status.ACCEPTED, at=late)
    assert accepted.ship_by == START_UTC - timedelta(hours=2)
    assert accepted.act_by == accepted.ship_by


def test_an_event_that_starts_too_soon_cannot_be_bought():
    with pytest.raises(DomainError) as refused:
        place(now=START_UTC - timedelta(hours=1))
    assert refused.value.code == "listing-unavailable"
    cancelled = resale_event(status=EventStatus.CANCELLED)
    with pytest.raises(DomainError):
        place(event=cancelled)


def test_a_listing_for_an_event_takes_the_venues_day_and_must_be_a_transfer():
    event = resale_event()
    made = domain.new_listing(
        listing_id="lst_1",
        seller_id="usr_seller",
        title="Row 4",
        price=event_listing().price,
        quantity_available=1,
        fulfilment=Fulfilment.TRANSFER,
        handling_days=2,
        event_date=None,
        now=NOW,
        horizon_days=730,
        event=event,
    )
    assert (made.event_id, made.event_date) == ("evt_1", STARTS.date())


# --- the money waits for the event -----------------------------------------------------------


def test_the_buyer_confirming_early_is_recorded_but_the_money_waits_until_after_the_event():
    shipped = event_order(Status.SHIPPED)
    assert (shipped.auto_complete_at, shipped.act_by) == (RELEASE, RELEASE)

    confirmed = domain.confirm_receipt(shipped, Actor.BUYER, NOW + timedelta(days=1), RULES)

    assert confirmed.order.status is Status.SHIPPED
    assert confirmed.order.receipt_confirmed_at == NOW + timedelta(days=1)
    assert [type(event) for event in confirmed.events] == [OrderTransferConfirmed]
    assert confirmed.events[0].release_at == RELEASE
    assert "confirm_receipt" not in confirmed.order.allowed_actions(Actor.BUYER, NOW)
    assert "report_problem" in confirmed.order.allowed_actions(Actor.BUYER, NOW)
    steps = domain.steps(confirmed.order, CALENDAR, RULES)
    assert "held until 22:00 UTC on Wednesday 2 December" in steps[2].message
    assert "20:00 (local time)" in steps[2].message

    released = domain.act_on_deadline(confirmed.order, RELEASE, RULES, CALENDAR)
    assert released.order.status is Status.COMPLETED
    assert released.events[0].confirmed_by == "system"


def test_a_confirmation_after_the_release_time_completes_at_once():
    shipped = event_order(Status.SHIPPED)
    done = domain.confirm_receipt(shipped, Actor.BUYER, RELEASE + timedelta(minutes=1), RULES)
    assert done.order.status is Status.COMPLETED


def test_the_buyer_refused_at_the_door_reports_it_after_confirming():
    shipped = event_order(Status.SHIPPED)
    confirmed = domain.confirm_receipt(shipped, Actor.BUYER, NOW, RULES).order
    at_the_door = START_UTC + timedelta(minutes=10)
    reported = domain.report_problem(
        confirmed, Actor.BUYER, "entry_denied", "The barcode was scanned already", at_the_door
    )
    assert reported.order.status is Status.DISPUTED
    assert reported.events[0].reason == "entry_denied"
    assert reported.events[0].event.starts_at == START_UTC


def test_the_gates_reasons_are_only_for_tickets_and_bookings():
    delivered = order_in(Status.DELIVERED)
    with pytest.raises(DomainError) as refused:
        domain.report_problem(delivered, Actor.BUYER, "entry_denied", "?", NOW)
    assert refused.value.code == "reason-not-applicable"


def test_a_hotel_stay_completes_only_after_check_out_and_the_setting():
    check_in = datetime(2026, 12, 20, 15, 0, tzinfo=UTC)
    stay = resale_event(
        EventKind.HOTEL_BOOKING, starts_at=check_in, ends_at=check_in + timedelta(days=10)
    )
    shipped = event_order(Status.SHIPPED, stay)
    release = check_in + timedelta(days=12)
    assert shipped.act_by == release
    # the confirmation window after the start would have completed it during the stay
    assert shipped.act_by > check_in + timedelta(days=RULES.confirmation_days)
    assert "check in with an ID" in domain.steps(shipped, CALENDAR, RULES)[2].message


# --- the buyer's cancel window ---------------------------------------------------------------


def test_the_buyer_cancels_until_the_seller_accepts_and_not_after():
    awaiting = event_order(Status.AWAITING_SELLER)
    assert domain.cancel(awaiting, Actor.BUYER, "plans changed", NOW).order.status is (
        Status.CANCELLED
    )
    accepted = event_order(Status.ACCEPTED)
    assert "cancel" not in accepted.allowed_actions(Actor.BUYER, NOW)
    with pytest.raises(TransitionRefused) as refused:
        domain.cancel(accepted, Actor.BUYER, "plans changed", NOW)
    assert "no longer be cancelled" in refused.value.detail


# --- the operator postpones or cancels the event --------------------------------------------


def postponed_event():
    later_start = STARTS + timedelta(days=14)
    return domain.postpone_event(
        resale_event(), later_start, ENDS + timedelta(days=14), NOW, 730
    ), later_start.astimezone(UTC)


def test_a_postponement_moves_the_order_and_lets_the_buyer_cancel_for_a_refund_until_the_start():
    event, new_start = postponed_event()
    shipped = event_order(Status.SHIPPED)
    moved = domain.follow_postponement(shipped, event.snapshot, START_UTC, NOW, RULES)
    assert moved.order.event.starts_at == new_start
    assert moved.order.act_by == RELEASE + timedelta(days=14)
    assert isinstance(moved.events[0], OrderEventPostponed)
    assert moved.events[0].cancellable_until == new_start
    assert "cancel" in moved.order.allowed_actions(Actor.BUYER, NOW)

    cancelled = domain.cancel(moved.order, Actor.BUYER, "cannot make the new date", NOW)
    assert cancelled.order.status is Status.CANCELLED
    assert not cancelled.stock_back  # the ticket was transferred: not back on sale
    assert "refunded in full" in cancelled.order.timeline[-1].detail
    assert "cancel" not in moved.order.allowed_actions(Actor.BUYER, new_start)


@pytest.mark.parametrize(
    "status", [Status.PLACED, Status.AWAITING_SELLER, Status.ACCEPTED, Status.SHIPPED]
)
def test_an_event_cancelled_returns_every_open_orders_money_not_counted_against_the_seller(
    status,
):
    event = domain.cancel_event(resale_event(), "The artist is ill", NOW)
    order = event_order(status)
    ended = domain.cancel_for_event(order, event.snapshot, "The artist is ill", NOW)
    assert ended.order.status is Status.CANCELLED
    (cancelled,) = ended.events
    assert isinstance(cancelled, OrderCancelled)
    assert (cancelled.reason, cancelled.cancelled_by) == ("event_cancelled", "system")
    assert not cancelled.counts_against_seller()
    assert cancelled.event.name == "Nils Frahm live"


def test_an_event_is_cancelled_or_postponed_once_and_never_after_it_is_over():
    cancelled = domain.cancel_event(resale_event(), "Storm", NOW)
    with pytest.raises(DomainError):
        domain.cancel_event(cancelled, "Storm", NOW)
    with pytest.raises(DomainError):
        domain.postpone_event(cancelled, STARTS, ENDS, NOW, 730)
    with pytest.raises(DomainError) as backwards:
        domain.postpone_event(resale_event(), ENDS, STARTS, NOW, 730)
    assert backwards.value.code == "event-dates-invalid"


# --- the seller who never transfers ----------------------------------------------------------


def test_an_order_not_transferred_when_the_event_starts_is_cancelled_against_the_seller():
    late = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday: the grace would run to Wednesday
    accepted = event_order(Status.ACCEPTED, at=late)
    flagged = kept(
        accepted, domain.act_on_deadline(accepted, accepted.act_by, RULES, CALENDAR), late
    )
    assert flagged.shipment_overdue
    assert flagged.act_by == START_UTC  # no waiting for business days over the weekend

    ended = domain.act_on_deadline(flagged, START_UTC, RULES, CALENDAR)

    assert ended.order.status is Status.CANCELLED
    (cancelled,) = ended.events
    assert cancelled.reason == "transfer_not_made"
    assert cancelled.counts_against_seller()


def test_a_transfer_reference_is_used_by_one_open_order_of_an_event():
    first = event_order(Status.SHIPPED)
    second = event_order(Status.ACCEPTED, order_id="ord_2")
    with pytest.raises(DomainError) as refused:
        domain.check_transfer_reference_free(second, "TIX-42", [first])
    assert refused.value.code == "transfer-reference-in-use"
    over = replace(first, status=Status.CANCELLED)
    domain.check_transfer_reference_free(second, "TIX-42", [over])
    other_event = replace(first, event=replace(first.event, id="evt_2"))
    domain.check_transfer_reference_free(second, "TIX-42", [other_event])


def test_an_event_cancelled_is_a_system_action_on_the_table():
    assert Actor.SYSTEM in domain.TRANSITIONS[(Status.SHIPPED, Action.EVENT_CANCELLED)].actors
