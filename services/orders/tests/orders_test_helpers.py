"""Values and builders for the orders tests on the domain alone: no database, no handler
(the service's helpers are in orders_service_test_helpers.py, fixtures in conftest.py)."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import Money
from orders import domain
from orders.domain import (
    TRANSITIONS,
    Action,
    ActionForbidden,
    Actor,
    Address,
    DomainError,
    Fulfilment,
    Listing,
    ListingStatus,
    Order,
    OrderRules,
    Outcome,
    Status,
    TransitionRefused,
)
from servicekit.domain.calendar import BusinessCalendar

# A Monday, noon UTC.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PRICE = Money(amount_minor=12500, currency="EUR")
ADDRESS = Address(
    name="Bea Buyer", line1="1 Main Street", city="Berlin", postal_code="10115", country="DE"
)
NEW_ADDRESS = Address(
    name="Bea Buyer", line1="9 Rue Haute", city="Lyon", postal_code="69001", country="FR"
)
EVENT_DAY = date(2026, 12, 31)  # a Thursday, for tickets

CALENDAR = BusinessCalendar()
RULES = OrderRules()

# The moments of an order's life in the domain tests (placed at NOW, Monday noon).
AUTHORIZED_AT = NOW + timedelta(minutes=1)
ACCEPTED_AT = NOW + timedelta(hours=1)  # Mon 23 Nov 13:00: ship by Wed 25 Nov 13:00
SHIPPED_AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday
FAILED_AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday
DELIVERED_AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday: auto-complete Sun 29
LATER = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # Friday, after delivery


def listing(**overrides: Any) -> Listing:
    values: dict[str, Any] = {
        "id": "lst_1",
        "seller_id": "usr_seller",
        "title": "Vintage film camera",
        "price": PRICE,
        "quantity_available": 3,
        "fulfilment": Fulfilment.SELLER_SHIPS,
        "handling_days": 2,
        "status": ListingStatus.ACTIVE,
        "created_at": NOW,
        "event_date": None,
    }
    values.update(overrides)
    return Listing(**values)


def ticket_listing(event_date: date, **overrides: Any) -> Listing:
    return listing(fulfilment=Fulfilment.TRANSFER, event_date=event_date, **overrides)


# --- orders in the domain -------------------------------------------------------------------


def place(the_listing: Listing | None = None, **overrides: Any) -> Order:
    arguments: dict[str, Any] = {
        "order_id": "ord_1",
        "listing": the_listing or listing(),
        "buyer_id": "usr_buyer",
        "quantity": 1,
        "shipping_address": ADDRESS,
        "payment_method": "pm_card_visa",
        "now": NOW,
        "calendar": CALENDAR,
        "rules": RULES,
    }
    if arguments["listing"].fulfilment is Fulfilment.TRANSFER:
        arguments["shipping_address"] = None
    arguments.update(overrides)
    return domain.place_order(**arguments).order


def placed(fulfilment: Fulfilment = Fulfilment.SELLER_SHIPS, **listing_overrides: Any) -> Order:
    if fulfilment is Fulfilment.TRANSFER:
        return place(ticket_listing(EVENT_DAY, **listing_overrides))
    return place(listing(fulfilment=fulfilment, **listing_overrides))


def ship_it(order: Order, at: datetime = SHIPPED_AT, actor: Actor = Actor.SELLER) -> Order:
    if order.fulfilment is Fulfilment.TRANSFER:
        return domain.ship(
            order, actor, at, carrier=None, tracking_number=None, transfer_reference="TIX-42"
        ).order
    return domain.ship(
        order, actor, at, carrier="DHL", tracking_number="TRK-1", transfer_reference=None
    ).order


def order_in(status: Status, fulfilment: Fulfilment = Fulfilment.SELLER_SHIPS) -> Order:
    """An order brought to `status` through the domain's own functions, as it would be in
    life: placed at NOW, accepted at ACCEPTED_AT, shipped at SHIPPED_AT, delivered at
    DELIVERED_AT, and what follows delivery at LATER."""
    order = placed(fulfilment)
    if status is Status.PLACED:
        return order
    if status is Status.CANCELLED:
        return domain.cancel(order, Actor.BUYER, "changed my mind", AUTHORIZED_AT).order
    order = domain.record_authorization(order, order.total, AUTHORIZED_AT).order
    if status is Status.AWAITING_SELLER:
        return order
    if status is Status.DECLINED:
        return domain.decline(order, Actor.SELLER, "out of stock", ACCEPTED_AT).order
    order = domain.accept(order, Actor.SELLER, ACCEPTED_AT, CALENDAR).order
    if status is Status.ACCEPTED:
        return order
    order = ship_it(order)
    if status is Status.SHIPPED:
        return order
    if status is Status.DELIVERY_FAILED:
        return carrier(order, Action.DELIVERY_FAILED, FAILED_AT)
    if status is Status.RETURNED_TO_SENDER:
        return carrier(order, Action.RETURNED_TO_SENDER, FAILED_AT)
    if status is Status.COMPLETED and fulfilment is Fulfilment.TRANSFER:
        return domain.confirm_receipt(order, Actor.BUYER, LATER).order
    order = carrier(order, Action.DELIVERED, DELIVERED_AT)
    if status is Status.DELIVERED:
        return order
    if status is Status.COMPLETED:
        return domain.confirm_receipt(order, Actor.BUYER, LATER).order
    if status is Status.DISPUTED:
        return domain.report_problem(
            order, Actor.BUYER, "damaged", "The lens is cracked", LATER
        ).order
    if status is Status.EXCHANGE_REQUESTED:
        return domain.request_exchange(
            order, Actor.BUYER, "wrong size", LATER, note="size 42"
        ).order
    order = domain.request_return(order, Actor.BUYER, "not for me", LATER, CALENDAR, RULES).order
    if status is Status.RETURN_REQUESTED:
        return order
    order = domain.confirm_return(order, Actor.SELLER, LATER + timedelta(days=3)).order
    if status is Status.RETURNED:
        return order
    assert status is Status.REFUNDED
    return domain.record_refund(order, order.total, True, LATER + timedelta(days=4)).order


def carrier(order: Order, action: Action, at: datetime, rules: OrderRules = RULES) -> Order:
    return domain.carrier_update(order, action, at, rules).order


def may_take_somewhere(actor: Actor, action: Action) -> bool:
    """Whether the table lets `actor` take `action` in at least one status."""
    return any(actor in t.actors for (_, a), t in TRANSITIONS.items() if a is action)


def assert_refused(
    error: DomainError, order: Order, action: Action, actor: Actor, at: datetime
) -> None:
    """An actor the table lists for `action` somewhere, asking at the wrong moment, is told the
    order's status and what they may do now; an actor who may never take it is forbidden."""
    if may_take_somewhere(actor, action):
        assert isinstance(error, TransitionRefused), (actor, action, error)
        assert error.code == "invalid-transition"
        assert error.status is order.status
        assert order.status.value in error.detail
        assert error.allowed == order.allowed_actions(actor, at)
    else:
        assert isinstance(error, ActionForbidden), (actor, action, error)
        assert error.code == "forbidden"


# --- deadlines: an order entering a waiting status, and its deadline firing --------------------

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
