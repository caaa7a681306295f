"""The buyer's three steps (confirmed, shipped, completed) for every status: which is done,
where the order is, what happens next and by when."""

from datetime import UTC, datetime, timedelta

import pytest

from orders import domain
from orders.domain import Action, Actor, Fulfilment, Status, StepState

from orders_test_helpers import (
    ACCEPTED_AT,
    CALENDAR,
    DELIVERED_AT,
    LATER,
    RULES,
    SHIPPED_AT,
    order_in,
)

DONE, CURRENT, UPCOMING, SKIPPED = (
    StepState.DONE,
    StepState.CURRENT,
    StepState.UPCOMING,
    StepState.SKIPPED,
)
ACCEPT_BY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # placed Mon noon + 2 business days
SHIP_BY = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # accepted Mon 13:00 + 2 business days
# Shipped Tue 10:00 + 5 business days in transit (Tue 1 Dec) + 3 days to confirm.
COMPLETE_AFTER_SHIPPING = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
AUTO_COMPLETE = DELIVERED_AT + timedelta(days=3)  # Sun 29 Nov


def steps_of(order):
    steps = domain.steps(order, CALENDAR, RULES)
    assert [step.name for step in steps] == ["confirmed", "shipped", "completed"]
    return steps


def states(order):
    return [step.state for step in steps_of(order)]


def test_every_status_has_three_steps_with_something_to_say():
    for fulfilment in Fulfilment:
        for status in Status:
            if fulfilment is Fulfilment.TRANSFER and status in (
                Status.RETURN_REQUESTED,
                Status.RETURNED,
                Status.REFUNDED,
                Status.EXCHANGE_REQUESTED,
            ):
                continue  # a transfer is never returned or exchanged
            steps = steps_of(order_in(status, fulfilment))
            assert all(step.message.strip() for step in steps), (fulfilment, status)
            current = [step for step in steps if step.state is CURRENT]
            assert len(current) <= 1, (fulfilment, status)
            for step in steps:
                assert (step.done_at is not None) is (step.state is DONE), (status, step)
                if step.state in (CURRENT, UPCOMING):
                    assert step.expected_by is not None, (status, step)


# --- before shipment --------------------------------------------------------------------------


def test_placed_the_card_is_being_authorized():
    confirmed, shipped, completed = steps_of(order_in(Status.PLACED))
    assert [confirmed.state, shipped.state, completed.state] == [CURRENT, UPCOMING, UPCOMING]
    assert confirmed.expected_by == ACCEPT_BY
    assert "authorizing your card" in confirmed.message
    assert "by Wednesday 25 November" in confirmed.message
    assert shipped.expected_by == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert completed.expected_by == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_awaiting_the_seller_the_card_is_held_and_what_happens_if_the_seller_is_silent():
    confirmed, shipped, completed = steps_of(order_in(Status.AWAITING_SELLER))
    assert [confirmed.state, shipped.state, completed.state] == [CURRENT, UPCOMING, UPCOMING]
    assert confirmed.expected_by == ACCEPT_BY
    assert "authorized, not charged" in confirmed.message
    assert "if not, the order is cancelled and the authorization released" in confirmed.message
    assert "tracking number within 2 business days" in shipped.message
    assert "report a problem" in completed.message


def test_accepted_the_seller_has_until_ship_by_to_give_a_tracking_number():
    confirmed, shipped, completed = steps_of(order_in(Status.ACCEPTED))
    assert [confirmed.state, shipped.state, completed.state] == [DONE, CURRENT, UPCOMING]
    assert confirmed.done_at == ACCEPTED_AT
    assert "confirmed your order on Monday 23 November" in confirmed.message
    assert shipped.expected_by == SHIP_BY
    assert "2-4 business days you get a tracking number" in shipped.message
    assert "The seller has until Wednesday 25 November" in shipped.message
    assert "we open a ticket" in shipped.message
    # ship by Wed 25 13:00, 5 business days in transit: Wed 2 Dec, 3 days to confirm.
    assert completed.expected_by == datetime(2026, 12, 5, 13, 0, tzinfo=UTC)


def test_accepted_and_overdue_says_a_ticket_is_open():
    order = domain.flag_shipment_overdue(order_in(Status.ACCEPTED), SHIP_BY).order
    _, shipped, _ = steps_of(order)
    assert shipped.state is CURRENT
    assert "has not given a tracking number by Wednesday 25 November" in shipped.message
    assert "We opened a ticket" in shipped.message


def test_a_ticket_speaks_of_a_transfer_reference_not_a_tracking_number():
    _, shipped, _ = steps_of(order_in(Status.ACCEPTED, Fulfilment.TRANSFER))
    assert "you get a transfer reference" in shipped.message
    assert "tracking number" not in shipped.message


# --- ended before fulfilment ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "why"),
    [
        pytest.param(
            domain.record_authorization_failure(order_in(Status.PLACED), "declined", LATER).order,
            "could not be authorized",
            id="payment-failed",
        ),
        pytest.param(order_in(Status.DECLINED), "seller declined", id="declined"),
        pytest.param(
            domain.expire_acceptance(order_in(Status.AWAITING_SELLER), ACCEPT_BY).order,
            "did not confirm in time",
            id="acceptance-window-missed",
        ),
        pytest.param(order_in(Status.CANCELLED), "This order was cancelled", id="buyer-cancelled"),
    ],
)
def test_an_order_ended_before_acceptance_skips_every_step_and_says_why(order, why):
    steps = steps_of(order)
    assert [step.state for step in steps] == [SKIPPED] * 3
    assert all(step.expected_by is None and step.done_at is None for step in steps)
    assert why in steps[0].message
    assert "nothing was charged" in steps[0].message
    assert steps[1].message == steps[2].message == "Cancelled before fulfilment."


def test_a_buyer_cancelling_after_acceptance_keeps_the_confirmation_done():
    order = domain.cancel(order_in(Status.ACCEPTED), Actor.BUYER, "found it cheaper", LATER).order
    confirmed, shipped, completed = steps_of(order)
    assert [confirmed.state, shipped.state, completed.state] == [DONE, SKIPPED, SKIPPED]
    assert shipped.message == "Cancelled before fulfilment."


def test_a_seller_backing_out_says_the_buyer_gets_an_alternative_or_the_money_back():
    order = domain.decline(order_in(Status.ACCEPTED), Actor.SELLER, "broke it", LATER).order
    confirmed, shipped, completed = steps_of(order)
    assert [confirmed.state, shipped.state, completed.state] == [DONE, SKIPPED, SKIPPED]
    assert "The seller withdrew" in shipped.message
    assert "an alternative or your money back" in shipped.message
    assert shipped.expected_by is None and completed.expected_by is None


# --- on the way -------------------------------------------------------------------------------


def test_shipped_the_tracking_number_is_shown_and_the_payment_is_in_escrow():
    confirmed, shipped, completed = steps_of(order_in(Status.SHIPPED))
    assert [confirmed.state, shipped.state, completed.state] == [DONE, DONE, CURRENT]
    assert (shipped.done_at, shipped.expected_by) == (SHIPPED_AT, SHIP_BY)
    assert "Shipped with DHL, tracking number TRK-1" in shipped.message
    assert "held in escrow" in shipped.message
    assert completed.expected_by == COMPLETE_AFTER_SHIPPING
    assert "On its way" in completed.message
    assert "When it arrives, confirm" in completed.message


def test_a_transferred_ticket_asks_the_buyer_to_confirm_once_the_booking_is_theirs():
    _, shipped, completed = steps_of(order_in(Status.SHIPPED, Fulfilment.TRANSFER))
    assert shipped.state is DONE
    assert "Transferred with reference TIX-42" in shipped.message
    assert completed.state is CURRENT
    assert "Once the booking is yours, confirm it" in completed.message


def test_a_failed_delivery_asks_for_a_date_for_another_attempt():
    _, shipped, completed = steps_of(order_in(Status.DELIVERY_FAILED))
    assert (shipped.state, completed.state) == (DONE, CURRENT)
    assert completed.expected_by == COMPLETE_AFTER_SHIPPING
    assert "Delivery attempt 1 failed" in completed.message
    assert "Choose a date for another attempt" in completed.message


def test_a_parcel_returned_to_sender_says_a_specialist_follows_up():
    _, shipped, completed = steps_of(order_in(Status.RETURNED_TO_SENDER))
    assert (shipped.state, completed.state) == (DONE, CURRENT)
    assert "returning it to the seller" in completed.message
    assert "specialist follows up" in completed.message


# --- after delivery ---------------------------------------------------------------------------


def test_delivered_the_buyer_confirms_by_the_auto_complete_day_and_may_return_until_later():
    confirmed, shipped, completed = steps_of(order_in(Status.DELIVERED))
    assert [confirmed.state, shipped.state, completed.state] == [DONE, DONE, CURRENT]
    assert completed.expected_by == AUTO_COMPLETE
    assert "Confirm it is as described by Sunday 29 November" in completed.message
    assert "completes by itself" in completed.message
    assert "Returns are possible until Thursday 10 December" in completed.message


def test_completed_the_seller_is_paid_and_the_buyer_may_review():
    confirmed, shipped, completed = steps_of(order_in(Status.COMPLETED))
    assert [confirmed.state, shipped.state, completed.state] == [DONE, DONE, DONE]
    assert completed.done_at == completed.expected_by == LATER
    assert "the seller has been paid out of escrow" in completed.message
    assert "You can leave a review" in completed.message


def test_auto_completed_the_step_is_done_when_it_completed():
    at = AUTO_COMPLETE
    _, _, completed = steps_of(domain.auto_complete(order_in(Status.DELIVERED), at).order)
    assert (completed.state, completed.done_at) == (DONE, at)


def test_disputed_the_payment_stays_in_escrow_until_resolved():
    _, _, completed = steps_of(order_in(Status.DISPUTED))
    assert completed.state is CURRENT
    assert "You reported a problem" in completed.message
    assert "stays in escrow until it is resolved" in completed.message


def test_return_requested_names_the_pickup_day_and_when_the_refund_comes():
    _, _, completed = steps_of(order_in(Status.RETURN_REQUESTED))
    assert completed.state is CURRENT
    assert "the pickup is on Tuesday 1 December" in completed.message
    assert "refunded once the seller has it back" in completed.message


def test_returned_the_refund_is_on_its_way():
    confirmed, shipped, completed = steps_of(order_in(Status.RETURNED))
    assert [confirmed.state, shipped.state, completed.state] == [DONE, DONE, SKIPPED]
    assert completed.expected_by is None
    assert "refund is on its way" in completed.message


def test_exchange_requested_a_replacement_comes_with_a_new_tracking_number():
    _, _, completed = steps_of(order_in(Status.EXCHANGE_REQUESTED))
    assert completed.state is CURRENT
    assert "replacement with a new tracking number" in completed.message


def test_a_replacement_on_its_way_shows_its_own_tracking_number():
    exchange = order_in(Status.EXCHANGE_REQUESTED)
    shipped_again = LATER + timedelta(days=3)
    order = domain.ship(
        exchange,
        Actor.SELLER,
        shipped_again,
        carrier="UPS",
        tracking_number="TRK-2",
        transfer_reference=None,
    ).order
    _, shipped, completed = steps_of(order)
    assert (shipped.state, shipped.done_at) == (DONE, shipped_again)
    assert "Shipped with UPS, tracking number TRK-2" in shipped.message
    assert completed.state is CURRENT


# --- bugs -------------------------------------------------------------------------------------


def test_a_replacement_on_its_way_is_not_expected_to_complete_before_it_shipped():
    exchange = order_in(Status.EXCHANGE_REQUESTED)
    shipped_again = LATER + timedelta(days=3)  # Mon 30 Nov, after the old auto-complete day
    order = domain.ship(
        exchange,
        Actor.SELLER,
        shipped_again,
        carrier="UPS",
        tracking_number="TRK-2",
        transfer_reference=None,
    ).order
    _, _, completed = steps_of(order)
    assert completed.expected_by > shipped_again


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.RETURNED])
def test_a_finished_order_does_not_say_the_payment_waits_for_the_buyer(status):
    _, shipped, _ = steps_of(order_in(status))
    assert "until you confirm" not in shipped.message


def test_a_reviewed_order_does_not_invite_another_review():
    order = domain.review(
        order_in(Status.COMPLETED), Actor.BUYER, 5, LATER, review_id="rev_1", text="Fine"
    ).order
    assert "review" not in order.allowed_actions(Actor.BUYER, LATER)
    _, _, completed = steps_of(order)
    assert "leave a review" not in completed.message


def test_the_carrier_progress_does_not_move_the_steps():
    order = domain.carrier_update(
        order_in(Status.SHIPPED),
        Action.IN_TRANSIT,
        SHIPPED_AT + timedelta(hours=5),
        RULES,
    ).order
    assert states(order) == [DONE, DONE, CURRENT]
