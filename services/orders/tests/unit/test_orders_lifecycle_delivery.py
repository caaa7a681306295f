"""The domain's lifecycle functions from the carrier on: the carrier's reports, delivery and
what follows it: what each one changes on the order besides its status, and the windows it
opens."""

from datetime import UTC, date, datetime, timedelta

import pytest

from orders import domain
from orders.domain import Action, Actor, DomainError, OrderRules, Status, TransitionRefused
from servicekit.domain.calendar import BusinessCalendar

from orders_test_helpers import CALENDAR, DELIVERED_AT, FAILED_AT, LATER, RULES, carrier, order_in

# --- accepting, declining, cancelling -------------------------------------------------------


# --- the carrier ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "detail"),
    [(Action.IN_TRANSIT, "In transit"), (Action.OUT_FOR_DELIVERY, "Out for delivery")],
)
def test_progress_on_the_way_is_noted_and_keeps_the_order_shipped(action, detail):
    order = carrier(order_in(Status.SHIPPED), action, FAILED_AT)
    assert order.status is Status.SHIPPED
    assert (order.timeline[-1].kind, order.timeline[-1].detail) == (action.value, detail)
    assert order.timeline[-1].at == FAILED_AT


def test_failed_attempts_are_counted_across_redeliveries():
    order = carrier(order_in(Status.SHIPPED), Action.DELIVERY_FAILED, FAILED_AT)
    assert (order.status, order.delivery_attempts) == (Status.DELIVERY_FAILED, 1)
    order = domain.redeliver(order, Actor.BUYER, date(2026, 11, 27), FAILED_AT).order
    assert (order.status, order.redelivery_date) == (Status.SHIPPED, date(2026, 11, 27))
    order = carrier(order, Action.DELIVERY_FAILED, LATER)
    assert (order.status, order.delivery_attempts) == (Status.DELIVERY_FAILED, 2)
    assert "Delivery attempt 2 failed" in order.timeline[-1].detail


def test_the_carrier_may_fail_again_without_a_redelivery_request():
    order = carrier(order_in(Status.DELIVERY_FAILED), Action.DELIVERY_FAILED, LATER)
    assert order.delivery_attempts == 2


@pytest.mark.parametrize("preferred", [FAILED_AT.date(), FAILED_AT.date() - timedelta(days=1)])
def test_a_redelivery_is_asked_for_a_later_day(preferred):
    with pytest.raises(DomainError) as refused:
        domain.redeliver(order_in(Status.DELIVERY_FAILED), Actor.BUYER, preferred, FAILED_AT)
    assert refused.value.code == "date-in-past"


def test_delivery_opens_the_confirmation_and_return_windows():
    order = order_in(Status.DELIVERED)
    assert order.status is Status.DELIVERED
    assert order.delivered_at == DELIVERED_AT
    assert order.auto_complete_at == DELIVERED_AT + timedelta(days=3)
    assert order.return_until == DELIVERED_AT + timedelta(days=14)


def test_the_windows_follow_the_configured_rules():
    rules = OrderRules(confirmation_days=7, return_days=30)
    failed = carrier(order_in(Status.SHIPPED), Action.DELIVERY_FAILED, FAILED_AT, rules)
    order = carrier(failed, Action.DELIVERED, DELIVERED_AT, rules)
    assert order.status is Status.DELIVERED
    assert order.auto_complete_at == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert order.return_until == datetime(2026, 12, 26, 10, 0, tzinfo=UTC)


def test_a_parcel_returned_to_sender_says_so():
    order = carrier(order_in(Status.DELIVERY_FAILED), Action.RETURNED_TO_SENDER, LATER)
    assert order.status is Status.RETURNED_TO_SENDER
    assert "returning it to the seller" in order.timeline[-1].detail


def test_a_delivered_parcel_cannot_be_reported_delivered_again():
    with pytest.raises(TransitionRefused):
        carrier(order_in(Status.DELIVERED), Action.DELIVERED, LATER)


# --- after delivery -------------------------------------------------------------------------


def test_confirming_receipt_completes_the_order():
    order = domain.confirm_receipt(order_in(Status.DELIVERED), Actor.BUYER, LATER).order
    assert (order.status, order.completed_at) == (Status.COMPLETED, LATER)
    assert "seller is paid" in order.timeline[-1].detail


def test_an_unconfirmed_delivery_completes_by_itself():
    at = DELIVERED_AT + timedelta(days=3)
    order = domain.auto_complete(order_in(Status.DELIVERED), at).order
    assert (order.status, order.completed_at) == (Status.COMPLETED, at)
    assert "No problem was reported in time" in order.timeline[-1].detail


@pytest.mark.parametrize("status", [Status.DISPUTED, Status.RETURN_REQUESTED, Status.COMPLETED])
def test_only_a_delivered_order_completes_by_itself(status):
    with pytest.raises(TransitionRefused):
        domain.auto_complete(order_in(status), LATER + timedelta(days=5))


def test_a_reported_problem_disputes_the_order():
    order = domain.report_problem(
        order_in(Status.DELIVERED), Actor.BUYER, "damaged", "x", LATER
    ).order
    assert (order.status, order.problem) == (Status.DISPUTED, "damaged")
    assert "specialist" in order.timeline[-1].detail


def test_a_return_books_a_pickup_two_business_days_later():
    friday = LATER
    order = domain.request_return(
        order_in(Status.DELIVERED), Actor.BUYER, "too small", friday, CALENDAR, RULES
    ).order
    assert order.status is Status.RETURN_REQUESTED
    assert order.return_pickup_date == date(2026, 12, 1)  # Fri + 2 business days: Tue
    assert "pickup on Tuesday 1 December" in order.timeline[-1].detail


def test_the_pickup_follows_the_configured_days_and_holidays():
    calendar = BusinessCalendar([date(2026, 11, 30)])
    rules = OrderRules(pickup_business_days=1)
    order = domain.request_return(
        order_in(Status.DELIVERED), Actor.BUYER, "too small", LATER, calendar, rules
    ).order
    assert order.return_pickup_date == date(2026, 12, 1)  # Mon 30 is off


def test_the_seller_confirms_the_return():
    order = domain.confirm_return(order_in(Status.RETURN_REQUESTED), Actor.SELLER, LATER).order
    assert order.status is Status.RETURNED
    assert "refunded" in order.timeline[-1].detail


def test_an_exchange_waits_for_the_replacement():
    order = domain.request_exchange(
        order_in(Status.DELIVERED), Actor.BUYER, "wrong size", LATER, note="size 42"
    ).order
    assert order.status is Status.EXCHANGE_REQUESTED
    assert "wrong size" in order.timeline[-1].detail
    assert order.allowed_actions(Actor.SELLER, LATER) == ["message", "ship"]


def test_a_review_is_noted_once():
    order = domain.review(
        order_in(Status.COMPLETED), Actor.BUYER, 4, LATER, review_id="rev_1", text="Fine"
    ).order
    assert order.reviewed
    assert order.status is Status.COMPLETED
    assert order.timeline[-1].detail == "Reviewed: 4 of 5"
    with pytest.raises(DomainError) as again:
        domain.review(order, Actor.BUYER, 5, LATER, review_id="rev_1", text="Fine")
    assert again.value.code == "action-not-allowed"


def test_an_order_not_completed_cannot_be_reviewed():
    with pytest.raises(TransitionRefused):
        domain.review(
            order_in(Status.DELIVERED), Actor.BUYER, 5, LATER, review_id="rev_1", text="Fine"
        )
