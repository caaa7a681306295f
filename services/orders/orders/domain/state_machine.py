"""The order state machine as one table, `TRANSITIONS`: for each (status, action) the actors
allowed to take it and the status it leads to. Anything not in the table is refused, and the
refusal names the actions that are allowed now."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Fulfilment(StrEnum):
    SELLER_SHIPS = "seller_ships"
    WAREHOUSE = "warehouse"
    TRANSFER = "transfer"


class ListingStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    SOLD_OUT = "sold_out"


class Status(StrEnum):
    PLACED = "placed"  # waiting for the card authorization
    AWAITING_SELLER = "awaiting_seller"  # authorized; the seller must accept by accept_by
    ACCEPTED = "accepted"  # the seller is processing; must ship by ship_by
    SHIPPED = "shipped"  # tracking number or transfer reference given; captured into escrow
    DELIVERY_FAILED = "delivery_failed"  # an attempt failed; the buyer may ask for another
    DELIVERED = "delivered"  # the buyer confirms, reports a problem, returns or exchanges
    COMPLETED = "completed"  # properly fulfilled; the seller is paid out of escrow
    DISPUTED = "disputed"  # the buyer reported a problem; support decides
    RETURN_REQUESTED = "return_requested"  # a pickup is booked
    RETURNED = "returned"  # the seller has it back; payments refunds the buyer
    REFUNDED = "refunded"  # the buyer has their money back (after a return or a dispute)
    EXCHANGE_REQUESTED = "exchange_requested"  # the seller ships a replacement
    RETURNED_TO_SENDER = "returned_to_sender"  # the carrier gave up; support follows up
    DECLINED = "declined"  # the seller declined before accepting
    CANCELLED = "cancelled"


class PaymentState(StrEnum):
    """The payment as orders learns it from payments' events."""

    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    HOLD_LAPSED = "hold_lapsed"  # not renewed: cannot ship until the buyer gives another card
    FAILED = "failed"
    CAPTURED = "captured"
    VOIDED = "voided"
    RELEASED = "released"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class Actor(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    AGENT = "agent"
    OPERATOR = "operator"
    CARRIER = "carrier"
    SYSTEM = "system"  # events from other services and deadlines


class Action(StrEnum):
    # What people do, named after the endpoints (these appear in `allowed_actions`).
    ACCEPT = "accept"
    DECLINE = "decline"
    SHIP = "ship"
    CANCEL = "cancel"
    CHANGE_ADDRESS = "change_address"
    REDELIVER = "redeliver"
    CONFIRM_RECEIPT = "confirm_receipt"
    REPORT_PROBLEM = "report_problem"
    RETURN = "return"
    CONFIRM_RETURN = "confirm_return"
    EXCHANGE = "exchange"
    REVIEW = "review"
    # What the system and carriers do.
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_FAILED = "payment_failed"
    ACCEPTANCE_EXPIRED = "acceptance_expired"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    RETURNED_TO_SENDER = "returned_to_sender"
    AUTO_COMPLETE = "auto_complete"
    PAYMENT_REFUNDED = "payment_refunded"
    PAYMENT_VOIDED = "payment_voided"
    EVENT_CANCELLED = "event_cancelled"  # an operator cancelled the order's resale event
    # A chargeback decided at the buyer's bank (payments' `dispute_closed`).
    CHARGEBACK_LOST = "chargeback_lost"
    CHARGEBACK_SETTLED = "chargeback_settled"
    # Support's resolutions (`resolutions.py`), decided by an agent on a ticket.
    RESHIP = "reship"
    SUPPORT_RETURN = "support_return"
    SUPPORT_CANCEL = "support_cancel"
    SETTLE_DISPUTE = "settle_dispute"
    # Deadlines passing with nobody having acted (`deadlines.act_on_deadline`).
    PAYMENT_WINDOW_MISSED = "payment_window_missed"
    SHIPMENT_WINDOW_MISSED = "shipment_window_missed"
    HOLD_NOT_REPLACED = "hold_not_replaced"  # a lapsed hold's expiry passed, no new card
    REDELIVERY_WINDOW_MISSED = "redelivery_window_missed"
    RETURN_UNCONFIRMED = "return_unconfirmed"
    REPLACEMENT_NOT_SHIPPED = "replacement_not_shipped"


PUBLIC_ACTIONS = frozenset(
    {
        Action.ACCEPT,
        Action.DECLINE,
        Action.SHIP,
        Action.CANCEL,
        Action.CHANGE_ADDRESS,
        Action.REDELIVER,
        Action.CONFIRM_RECEIPT,
        Action.REPORT_PROBLEM,
        Action.RETURN,
        Action.CONFIRM_RETURN,
        Action.EXCHANGE,
        Action.REVIEW,
    }
)


@dataclass(frozen=True)
class Transition:
    actors: frozenset[Actor]
    to: Status | None  # None: the status stays (the action only records something)


def _t(to: Status | None, *actors: Actor) -> Transition:
    return Transition(frozenset(actors), to)


S, A = Status, Action
BUYER, SELLER, CARRIER, SYSTEM = Actor.BUYER, Actor.SELLER, Actor.CARRIER, Actor.SYSTEM
AGENT = Actor.AGENT
_BEFORE_SHIPMENT = (S.PLACED, S.AWAITING_SELLER, S.ACCEPTED)
_IN_TRANSIT = (S.SHIPPED, S.DELIVERY_FAILED)
_WAITING_FOR_A_CARD = (S.AWAITING_SELLER, S.ACCEPTED)  # a lapsed hold waits there
# Where support's resolutions apply (support keeps the same lists: `domain/possible.py`).
RESHIPPABLE = (S.DISPUTED, S.RETURNED_TO_SENDER, S.DELIVERY_FAILED)
RETURNABLE = (S.DISPUTED, S.DELIVERED, S.COMPLETED)
CANCELLABLE = (*_BEFORE_SHIPMENT, S.DISPUTED, S.RETURNED_TO_SENDER, S.DELIVERY_FAILED)
# Captured and not over: where a chargeback closing can end the order.
CHARGEABLE = (
    *_IN_TRANSIT,
    S.DELIVERED,
    S.COMPLETED,
    S.DISPUTED,
    S.RETURN_REQUESTED,
    S.RETURNED,
    S.EXCHANGE_REQUESTED,
    S.RETURNED_TO_SENDER,
)

# The whole order state machine: (status, action) -> who may, and the status it leads to.
TRANSITIONS: dict[tuple[Status, Action], Transition] = {
    (S.PLACED, A.PAYMENT_AUTHORIZED): _t(S.AWAITING_SELLER, SYSTEM),
    (S.PLACED, A.PAYMENT_FAILED): _t(S.CANCELLED, SYSTEM),
    (S.PLACED, A.PAYMENT_WINDOW_MISSED): _t(S.CANCELLED, SYSTEM),
    (S.AWAITING_SELLER, A.ACCEPT): _t(S.ACCEPTED, SELLER),
    (S.AWAITING_SELLER, A.DECLINE): _t(S.DECLINED, SELLER),
    (S.AWAITING_SELLER, A.ACCEPTANCE_EXPIRED): _t(S.CANCELLED, SYSTEM),
    # A decline after acceptance is the seller backing out: cancelled, the buyer protected.
    (S.ACCEPTED, A.DECLINE): _t(S.CANCELLED, SELLER),
    # Not shipped by ship-by and its grace: cancelled, counted against the seller.
    (S.ACCEPTED, A.SHIPMENT_WINDOW_MISSED): _t(S.CANCELLED, SYSTEM),
    # The buyer's card lapsed and no other came by its expiry: cancelled, not the seller's.
    **{(status, A.HOLD_NOT_REPLACED): _t(S.CANCELLED, SYSTEM) for status in _WAITING_FOR_A_CARD},
    **{(status, A.CANCEL): _t(S.CANCELLED, BUYER) for status in _BEFORE_SHIPMENT},
    # A resale event's ticket after a postponement, until the new start (`Order` checks).
    (S.SHIPPED, A.CANCEL): _t(S.CANCELLED, BUYER),
    # The event is cancelled: every order of it before the money's release returns it.
    **{
        (status, A.EVENT_CANCELLED): _t(S.CANCELLED, SYSTEM)
        for status in (*_BEFORE_SHIPMENT, S.SHIPPED, S.DISPUTED)
    },
    **{(status, A.CHANGE_ADDRESS): _t(None, BUYER) for status in _BEFORE_SHIPMENT},
    # The hold released under an open order (support refunded it): nothing left to capture.
    **{(status, A.PAYMENT_VOIDED): _t(S.CANCELLED, SYSTEM) for status in _BEFORE_SHIPMENT},
    (S.ACCEPTED, A.SHIP): _t(S.SHIPPED, SELLER, CARRIER),
    (S.EXCHANGE_REQUESTED, A.SHIP): _t(S.SHIPPED, SELLER, CARRIER),
    (S.SHIPPED, A.IN_TRANSIT): _t(None, CARRIER),
    (S.SHIPPED, A.OUT_FOR_DELIVERY): _t(None, CARRIER),
    **{(status, A.DELIVERY_FAILED): _t(S.DELIVERY_FAILED, CARRIER) for status in _IN_TRANSIT},
    **{(status, A.DELIVERED): _t(S.DELIVERED, CARRIER) for status in _IN_TRANSIT},
    **{(status, A.RETURNED_TO_SENDER): _t(S.RETURNED_TO_SENDER, CARRIER) for status in _IN_TRANSIT},
    (S.DELIVERY_FAILED, A.REDELIVER): _t(S.SHIPPED, BUYER),
    (S.DELIVERY_FAILED, A.REDELIVERY_WINDOW_MISSED): _t(S.RETURNED_TO_SENDER, SYSTEM),
    # A transfer has no carrier: the buyer confirms once the booking is theirs.
    (S.SHIPPED, A.CONFIRM_RECEIPT): _t(S.COMPLETED, BUYER),
    (S.DELIVERED, A.CONFIRM_RECEIPT): _t(S.COMPLETED, BUYER),
    (S.DELIVERED, A.AUTO_COMPLETE): _t(S.COMPLETED, SYSTEM),
    (S.SHIPPED, A.AUTO_COMPLETE): _t(S.COMPLETED, SYSTEM),  # a transfer nobody confirmed
    **{
        (status, A.REPORT_PROBLEM): _t(S.DISPUTED, BUYER)
        for status in (S.SHIPPED, S.DELIVERY_FAILED, S.DELIVERED, S.RETURNED_TO_SENDER)
    },
    # Returns stay open for the whole return window, also once the order completed (the
    # seller may have been paid: payments then claws the payout back).
    (S.DELIVERED, A.RETURN): _t(S.RETURN_REQUESTED, BUYER),
    (S.COMPLETED, A.RETURN): _t(S.RETURN_REQUESTED, BUYER),
    (S.RETURN_REQUESTED, A.CONFIRM_RETURN): _t(S.RETURNED, SELLER),
    # The seller never confirmed the item is back, or never shipped the replacement: the
    # system decides as the seller would have (the buyer is refunded).
    (S.RETURN_REQUESTED, A.RETURN_UNCONFIRMED): _t(S.RETURNED, SYSTEM),
    (S.DELIVERED, A.EXCHANGE): _t(S.EXCHANGE_REQUESTED, BUYER),
    (S.EXCHANGE_REQUESTED, A.REPLACEMENT_NOT_SHIPPED): _t(S.RETURNED, SYSTEM),
    (S.COMPLETED, A.REVIEW): _t(None, BUYER),
    # The buyer's money back in full ends a return or a dispute; also a return or an exchange
    # still waiting for the seller (support refunded it meanwhile): there is nothing left for
    # the return's deadline to refund, so `returned` would wait for ever.
    (S.RETURNED, A.PAYMENT_REFUNDED): _t(S.REFUNDED, SYSTEM),
    (S.RETURN_REQUESTED, A.PAYMENT_REFUNDED): _t(S.REFUNDED, SYSTEM),
    (S.EXCHANGE_REQUESTED, A.PAYMENT_REFUNDED): _t(S.REFUNDED, SYSTEM),
    (S.DISPUTED, A.PAYMENT_REFUNDED): _t(S.REFUNDED, SYSTEM),
    (S.RETURNED_TO_SENDER, A.PAYMENT_REFUNDED): _t(S.REFUNDED, SYSTEM),
    # A chargeback lost with nothing left on the order: the buyer's bank gave it all back.
    **{(status, A.CHARGEBACK_LOST): _t(S.REFUNDED, SYSTEM) for status in CHARGEABLE},
    # A chargeback won (or lost in part) while the buyer's problem was open: the bank decided,
    # the dispute ends and the seller is paid what is left.
    (S.DISPUTED, A.CHARGEBACK_SETTLED): _t(S.COMPLETED, SYSTEM),
    # Support's resolutions (an agent decided a ticket; support refuses beforehand what the
    # order's status does not allow, `support.domain.possible`).
    **{(status, A.RESHIP): _t(S.ACCEPTED, AGENT) for status in RESHIPPABLE},
    **{(status, A.SUPPORT_RETURN): _t(S.RETURN_REQUESTED, AGENT) for status in RETURNABLE},
    **{(status, A.SUPPORT_CANCEL): _t(S.CANCELLED, AGENT) for status in CANCELLABLE},
    # `no_action`, or a partial refund: the dispute ends and the seller is paid the rest.
    (S.DISPUTED, A.SETTLE_DISPUTE): _t(S.COMPLETED, AGENT),
}

# Who may take each action in some state: asking for an action that is never yours is
# forbidden; asking at the wrong moment is a conflict.
ACTORS_OF: dict[Action, frozenset[Actor]] = {
    action: frozenset().union(*(t.actors for (_, a), t in TRANSITIONS.items() if a is action))
    for action in Action
}
