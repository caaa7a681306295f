"""The rules beyond the table (a transfer has no address, no return and no exchange; a 3PL
ships only warehouse orders; goods are confirmed once delivered; returns close; one review)
and what `allowed_actions` offers each caller."""

from dataclasses import replace
from datetime import timedelta

import pytest

from orders.domain import Action, Actor, Fulfilment, Status, TransitionRefused

from orders_test_helpers import DELIVERED_AT, LATER, RULES, order_in, placed

BEFORE_SHIPMENT = [Status.PLACED, Status.AWAITING_SELLER, Status.ACCEPTED]
PHYSICAL = [Fulfilment.SELLER_SHIPS, Fulfilment.WAREHOUSE]


def in_status(status, fulfilment=Fulfilment.SELLER_SHIPS, **changes):
    return replace(placed(fulfilment), status=status, **changes)


CONDITIONS = [
    *[
        pytest.param(
            in_status(status, Fulfilment.TRANSFER),
            Action.CHANGE_ADDRESS,
            Actor.BUYER,
            "no shipping address",
            id=f"transfer-address-{status.value}",
        )
        for status in BEFORE_SHIPMENT
    ],
    *[
        pytest.param(
            in_status(status, fulfilment),
            Action.SHIP,
            Actor.CARRIER,
            "Only warehouse orders",
            id=f"3pl-ships-{fulfilment.value}-{status.value}",
        )
        for status in (Status.ACCEPTED, Status.EXCHANGE_REQUESTED)
        for fulfilment in (Fulfilment.SELLER_SHIPS, Fulfilment.TRANSFER)
    ],
    *[
        pytest.param(
            in_status(Status.SHIPPED, fulfilment),
            Action.CONFIRM_RECEIPT,
            Actor.BUYER,
            "once the carrier has delivered",
            id=f"confirm-before-delivery-{fulfilment.value}",
        )
        for fulfilment in PHYSICAL
    ],
    pytest.param(
        in_status(Status.DELIVERED, Fulfilment.TRANSFER),
        Action.RETURN,
        Actor.BUYER,
        "cannot be returned",
        id="return-a-transfer",
    ),
    pytest.param(
        in_status(Status.DELIVERED, Fulfilment.TRANSFER),
        Action.EXCHANGE,
        Actor.BUYER,
        "or exchanged",
        id="exchange-a-transfer",
    ),
    pytest.param(
        in_status(Status.DELIVERED, return_until=LATER - timedelta(seconds=1)),
        Action.RETURN,
        Actor.BUYER,
        "return window has closed",
        id="return-after-the-window",
    ),
    pytest.param(
        in_status(Status.COMPLETED, reviewed=True),
        Action.REVIEW,
        Actor.BUYER,
        "review already",
        id="second-review",
    ),
]


@pytest.mark.parametrize(("order", "action", "actor", "why"), CONDITIONS)
def test_a_condition_beyond_the_table_refuses_the_action_and_hides_it(order, action, actor, why):
    with pytest.raises(TransitionRefused) as refused:
        order.apply(action, actor, LATER)
    assert refused.value.code == "action-not-allowed"
    assert why in refused.value.detail
    # a 409 that says what the order is and what may be done instead
    assert refused.value.status is order.status
    assert refused.value.allowed == order.allowed_actions(actor, LATER)
    assert action.value not in refused.value.allowed


@pytest.mark.parametrize("status", BEFORE_SHIPMENT)
@pytest.mark.parametrize("fulfilment", PHYSICAL)
def test_physical_goods_can_be_sent_elsewhere_until_they_ship(status, fulfilment):
    order = in_status(status, fulfilment)
    assert "change_address" in order.allowed_actions(Actor.BUYER, LATER)
    assert order.apply(Action.CHANGE_ADDRESS, Actor.BUYER, LATER).status is status


def test_a_3pl_ships_a_warehouse_order_and_a_replacement():
    for status in (Status.ACCEPTED, Status.EXCHANGE_REQUESTED):
        order = in_status(status, Fulfilment.WAREHOUSE)
        assert order.allowed_actions(Actor.CARRIER, LATER) == ["ship"]
        assert order.apply(Action.SHIP, Actor.CARRIER, LATER).status is Status.SHIPPED


def test_a_transfer_is_confirmed_once_handed_over_without_a_carrier():
    order = in_status(Status.SHIPPED, Fulfilment.TRANSFER)
    assert "confirm_receipt" in order.allowed_actions(Actor.BUYER, LATER)
    assert order.apply(Action.CONFIRM_RECEIPT, Actor.BUYER, LATER).status is Status.COMPLETED


def test_a_return_is_possible_until_the_last_moment_of_the_window():
    order = order_in(Status.DELIVERED)
    assert order.return_until == DELIVERED_AT + timedelta(days=RULES.return_days)
    last_moment = order.return_until
    assert "return" in order.allowed_actions(Actor.BUYER, last_moment)
    assert order.apply(Action.RETURN, Actor.BUYER, last_moment).status is Status.RETURN_REQUESTED
    just_after = last_moment + timedelta(seconds=1)
    assert "return" not in order.allowed_actions(Actor.BUYER, just_after)
    assert "exchange" in order.allowed_actions(Actor.BUYER, just_after)  # not a return


def test_a_delivered_parcel_offers_the_buyer_every_way_forward():
    order = order_in(Status.DELIVERED)
    assert order.allowed_actions(Actor.BUYER, LATER) == [
        "confirm_receipt",
        "exchange",
        "message",
        "report_problem",
        "return",
    ]
    assert order.allowed_actions(Actor.SELLER, LATER) == ["message"]


def test_a_delivered_ticket_offers_no_return_and_no_exchange():
    order = in_status(Status.DELIVERED, Fulfilment.TRANSFER)
    assert order.allowed_actions(Actor.BUYER, LATER) == [
        "confirm_receipt",
        "message",
        "report_problem",
    ]


def test_a_completed_order_can_be_reviewed_once_and_returned_within_the_window():
    order = order_in(Status.COMPLETED)
    assert order.return_until is not None and order.return_until >= LATER
    assert order.allowed_actions(Actor.BUYER, LATER) == ["message", "return", "review"]
    reviewed = order.apply(Action.REVIEW, Actor.BUYER, LATER, reviewed=True)
    assert reviewed.allowed_actions(Actor.BUYER, LATER) == ["message", "return"]
    after_window = order.return_until + timedelta(seconds=1)
    assert reviewed.allowed_actions(Actor.BUYER, after_window) == ["message"]


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("fulfilment", list(Fulfilment))
def test_only_the_buyer_and_the_seller_may_always_message(status, fulfilment):
    order = in_status(status, fulfilment)
    for actor in Actor:
        allowed = order.allowed_actions(actor, LATER)
        assert ("message" in allowed) is (actor in (Actor.BUYER, Actor.SELLER)), actor
        assert allowed == sorted(allowed)


@pytest.mark.parametrize("actor", [Actor.AGENT, Actor.OPERATOR, Actor.SYSTEM])
def test_staff_and_the_system_are_offered_no_button(actor):
    for status in Status:
        for fulfilment in Fulfilment:
            assert in_status(status, fulfilment).allowed_actions(actor, LATER) == []
