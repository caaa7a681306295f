"""Orders' pure rules: who may order what, the order's total, the state machine and the three
steps the buyer sees."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts import Money
from orders import domain
from orders.domain import (
    PUBLIC_ACTIONS,
    TRANSITIONS,
    Action,
    Actor,
    DomainError,
    EventStatus,
    Fulfilment,
    ListingStatus,
    OrderRules,
    PaymentState,
    Status,
    StepState,
    TransitionRefused,
)
from servicekit.domain.calendar import BusinessCalendar

from orders_resale_test_helpers import event_order, resale_event
from orders_test_helpers import (
    ADDRESS,
    CALENDAR,
    LATER,
    NOW,
    PRICE,
    RULES,
    assert_refused,
    listing,
    order_in,
    place,
    placed,
    ticket_listing,
)

# --- placing an order ---------------------------------------------------------------------


def test_a_seller_cannot_buy_their_own_listing():
    with pytest.raises(DomainError) as refused:
        place(buyer_id="usr_seller")
    assert refused.value.code == "own-listing"


def test_more_than_the_stock_is_refused_and_says_how_many_are_left():
    with pytest.raises(DomainError) as refused:
        place(listing(quantity_available=2), quantity=3)
    assert refused.value.code == "insufficient-stock"
    assert "Only 2 left" in refused.value.detail


def test_the_whole_remaining_stock_can_be_ordered():
    assert place(listing(quantity_available=2), quantity=2).quantity == 2


@pytest.mark.parametrize("status", [ListingStatus.PAUSED, ListingStatus.SOLD_OUT])
def test_a_listing_that_is_not_active_cannot_be_ordered(status):
    with pytest.raises(DomainError) as refused:
        place(listing(status=status))
    assert refused.value.code == "listing-unavailable"


def test_a_transfer_is_refused_with_a_shipping_address():
    with pytest.raises(DomainError) as refused:
        place(ticket_listing(date(2026, 12, 31)), shipping_address=ADDRESS)
    assert refused.value.code == "address-not-needed"


def test_a_transfer_without_an_address_is_placed():
    order = place(ticket_listing(date(2026, 12, 31)), shipping_address=None)
    assert order.status is Status.PLACED
    assert order.fulfilment is Fulfilment.TRANSFER
    assert order.shipping_address is None


@pytest.mark.parametrize("fulfilment", [Fulfilment.SELLER_SHIPS, Fulfilment.WAREHOUSE])
def test_physical_goods_need_a_shipping_address(fulfilment):
    with pytest.raises(DomainError) as refused:
        place(listing(fulfilment=fulfilment), shipping_address=None)
    assert refused.value.code == "address-required"


@pytest.mark.parametrize("event_day", [NOW.date(), NOW.date() - timedelta(days=1)])
def test_a_transfer_whose_event_is_today_or_past_cannot_be_ordered(event_day):
    with pytest.raises(DomainError) as refused:
        place(ticket_listing(event_day), shipping_address=None)
    assert refused.value.code == "listing-unavailable"
    assert "passed" in refused.value.detail


def test_the_total_is_the_listing_price_times_the_quantity():
    order = place(listing(quantity_available=5), quantity=3)
    assert order.unit_price == PRICE
    assert order.total == Money(amount_minor=3 * 12500, currency="EUR")


def test_a_placed_order_waits_for_the_card_and_must_be_accepted_within_two_business_days():
    order = place()
    assert (order.status, order.payment_state) == (Status.PLACED, PaymentState.AUTHORIZING)
    # Monday noon + 2 business days
    assert order.accept_by == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert [entry.kind for entry in order.timeline] == ["placed"]


# --- the state machine --------------------------------------------------------------------

ALL_PAIRS = [(status, action) for status in Status for action in Action]


def able(status, action, actor):
    """An order in `status` that meets the conditions beyond the table for `actor` taking
    `action`: a transfer is confirmed (or completes by itself) without a carrier, a 3PL ships
    warehouse orders, and a return needs an open return window."""
    fulfilment = Fulfilment.SELLER_SHIPS
    if (status, action) in (
        (Status.SHIPPED, Action.CONFIRM_RECEIPT),
        (Status.SHIPPED, Action.AUTO_COMPLETE),
    ):
        fulfilment = Fulfilment.TRANSFER
    elif action is Action.SHIP and actor is Actor.CARRIER:
        fulfilment = Fulfilment.WAREHOUSE
    order = replace(placed(fulfilment), status=status)
    if (status, action) == (Status.SHIPPED, Action.CANCEL):
        # A resale event's ticket, after its event was postponed (#20).
        order = replace(
            event_order(Status.SHIPPED),
            event=replace(resale_event().snapshot, status=EventStatus.POSTPONED),
        )
    if action is Action.RETURN:
        order = replace(order, return_until=NOW + timedelta(days=14))
    return order


@pytest.mark.parametrize(("status", "action"), list(TRANSITIONS))
def test_every_actor_the_table_lists_takes_the_action(status, action):
    transition = TRANSITIONS[(status, action)]
    assert transition.actors
    for actor in sorted(transition.actors):
        order = able(status, action, actor)
        moved = order.apply(action, actor, LATER)
        assert moved.status is (transition.to or status), actor
        assert moved.updated_at == LATER
        if action in PUBLIC_ACTIONS:
            assert action.value in order.allowed_actions(actor, LATER), actor
        else:
            assert action.value not in order.allowed_actions(actor, LATER), actor


@pytest.mark.parametrize(("status", "action"), list(TRANSITIONS))
def test_an_actor_the_table_does_not_list_is_refused(status, action):
    transition = TRANSITIONS[(status, action)]
    outsiders = [actor for actor in Actor if actor not in transition.actors]
    assert outsiders  # a buyer or seller can never fake a payment result
    for actor in outsiders:
        order = able(status, action, actor)
        with pytest.raises(DomainError) as refused:
            order.apply(action, actor, LATER)
        assert_refused(refused.value, order, action, actor, LATER)
        assert action.value not in order.allowed_actions(actor, LATER)


@pytest.mark.parametrize(
    ("status", "action"), [pair for pair in ALL_PAIRS if pair not in TRANSITIONS]
)
def test_every_action_not_in_the_table_is_refused_for_every_actor(status, action):
    for fulfilment in Fulfilment:
        order = replace(placed(fulfilment), status=status)
        for actor in Actor:
            with pytest.raises(DomainError) as refused:
                order.apply(action, actor, LATER)
            assert_refused(refused.value, order, action, actor, LATER)


def test_a_refusal_names_what_the_caller_may_do_instead():
    order = replace(placed(), status=Status.ACCEPTED)
    with pytest.raises(TransitionRefused) as refused:
        order.apply(Action.CONFIRM_RECEIPT, Actor.BUYER, LATER)
    assert refused.value.allowed == ["cancel", "change_address", "message"]
    assert refused.value.detail == "An order that is accepted cannot confirm_receipt"
    with pytest.raises(TransitionRefused) as seller_refused:
        order.apply(Action.CONFIRM_RETURN, Actor.SELLER, LATER)
    assert seller_refused.value.allowed == ["decline", "message", "ship"]


def test_an_action_the_caller_may_never_take_is_forbidden_not_a_conflict():
    order = replace(placed(), status=Status.ACCEPTED)
    with pytest.raises(DomainError) as seller_cancels:
        order.apply(Action.CANCEL, Actor.SELLER, LATER)
    assert not isinstance(seller_cancels.value, TransitionRefused)
    assert seller_cancels.value.code == "forbidden"
    assert seller_cancels.value.detail == "A seller cannot cancel"
    with pytest.raises(DomainError) as buyer_ships:
        order.apply(Action.SHIP, Actor.BUYER, LATER)
    assert buyer_ships.value.code == "forbidden"


def test_the_card_being_authorized_moves_the_order_to_the_seller():
    later = NOW + timedelta(minutes=1)
    order = domain.record_authorization(place(), PRICE, later).order
    assert (order.status, order.payment_state) == (Status.AWAITING_SELLER, PaymentState.AUTHORIZED)
    assert order.authorized == PRICE
    assert order.updated_at == later
    assert order.timeline[-1].kind == "payment_authorized"
    assert "125.00 EUR" in order.timeline[-1].detail


def test_a_failed_card_cancels_the_order_and_says_why():
    order = domain.record_authorization_failure(place(), "Your card was declined.", NOW).order
    assert (order.status, order.payment_state) == (Status.CANCELLED, PaymentState.FAILED)
    assert order.cancel_reason == "payment_failed"
    assert order.timeline[-1].kind == "cancelled"
    assert "Your card was declined." in order.timeline[-1].detail


def test_a_payment_result_cannot_arrive_twice():
    authorized = domain.record_authorization(place(), PRICE, NOW).order
    with pytest.raises(TransitionRefused):
        domain.record_authorization(authorized, PRICE, NOW)
    with pytest.raises(TransitionRefused):
        domain.record_authorization_failure(authorized, "declined", NOW)


# --- the three steps ----------------------------------------------------------------------


def test_steps_of_a_placed_order_say_the_card_is_being_authorized_and_when_things_happen():
    order = place()
    confirmed, shipped, completed = domain.steps(order, CALENDAR, RULES)
    assert [s.name for s in (confirmed, shipped, completed)] == [
        "confirmed",
        "shipped",
        "completed",
    ]
    assert [s.state for s in (confirmed, shipped, completed)] == [
        StepState.CURRENT,
        StepState.UPCOMING,
        StepState.UPCOMING,
    ]
    # accept by Wed 25; ship within 2 business days: Fri 27; 5 business days in transit:
    # Fri 4 Dec; then 3 days to confirm: Mon 7 Dec.
    assert confirmed.expected_by == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert shipped.expected_by == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert completed.expected_by == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert "authorizing your card" in confirmed.message
    assert "Wednesday 25 November" in confirmed.message
    assert "Once the seller confirms" in shipped.message
    assert "tracking number within 2 business days" in shipped.message
    assert "charged into escrow" in shipped.message
    assert "confirm it is as described" in completed.message
    assert "report a problem" in completed.message
    assert all(step.done_at is None for step in (confirmed, shipped, completed))


def test_steps_of_an_order_awaiting_the_seller_say_the_card_is_held_not_charged():
    order = domain.record_authorization(place(), PRICE, NOW).order
    confirmed, shipped, _ = domain.steps(order, CALENDAR, RULES)
    assert confirmed.state is StepState.CURRENT
    assert confirmed.expected_by == order.accept_by
    assert "authorized, not charged" in confirmed.message
    assert "cancelled" in confirmed.message  # what happens if the seller does not confirm
    assert shipped.state is StepState.UPCOMING


def test_steps_of_a_transfer_speak_of_a_transfer_reference():
    order = place(ticket_listing(date(2026, 12, 31), handling_days=1), shipping_address=None)
    _, shipped, completed = domain.steps(order, CALENDAR, RULES)
    assert "a transfer reference within 1 business day;" in shipped.message
    assert "tracking number" not in shipped.message
    assert completed.state is StepState.UPCOMING
    assert "tracking number" not in completed.message


def test_steps_of_an_order_cancelled_for_its_card_are_skipped_and_say_nothing_was_charged():
    order = domain.record_authorization_failure(place(), "declined", NOW).order
    steps = domain.steps(order, CALENDAR, RULES)
    assert [s.state for s in steps] == [StepState.SKIPPED] * 3
    assert all(s.expected_by is None for s in steps)
    assert "could not be authorized" in steps[0].message
    assert "nothing was charged" in steps[0].message


def test_steps_follow_the_configured_rules_and_holidays():
    calendar = BusinessCalendar([date(2026, 11, 26)])  # a Thursday off
    rules = OrderRules(acceptance_business_days=1, transit_business_days=1, confirmation_days=1)
    order = place(calendar=calendar, rules=rules)
    confirmed, shipped, completed = domain.steps(order, calendar, rules)
    assert confirmed.expected_by == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # Tue
    assert shipped.expected_by == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Wed, Fri
    assert completed.expected_by == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # Mon + 1 day


@pytest.mark.parametrize("status", [Status.PLACED, Status.AWAITING_SELLER, Status.ACCEPTED])
def test_a_hold_released_under_an_open_order_ends_it_whoever_released_it(status):
    recorded, outcome = domain.record_void(order_in(status), None, LATER)
    voided = recorded.order

    assert outcome is domain.VoidOutcome.CANCELLED
    assert (voided.status, voided.payment_state, voided.cancel_reason) == (
        Status.CANCELLED,
        PaymentState.VOIDED,
        "hold_released",
    )
    assert [entry.kind for entry in voided.timeline][-2:] == ["payment_voided", "cancelled"]
    assert "Support" not in " ".join(s.message for s in domain.steps(voided, CALENDAR, RULES))


@pytest.mark.parametrize(
    "status", [Status.CANCELLED, Status.DECLINED, Status.SHIPPED, Status.COMPLETED]
)
def test_a_void_after_the_order_ended_or_shipped_is_only_recorded(status):
    order = order_in(status)

    recorded, outcome = domain.record_void(order, "Support ticket tkt_1: sorry", LATER)
    voided = recorded.order

    assert outcome is domain.VoidOutcome.RECORDED
    assert (voided.status, voided.cancel_reason) == (order.status, order.cancel_reason)
    assert voided.payment_state is PaymentState.VOIDED
