"""Orders' rules: listings, the order state machine, and the order view's steps. Pure: no I/O,
no framework; time comes in as arguments.

The state machine is one table, `TRANSITIONS`: for each (status, action) the actors allowed
to take it and the status it leads to. Anything not in the table is refused, and the refusal
names the actions that are allowed now.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from contracts import Money
from contracts.money import minor_unit_digits
from servicekit.calendar import BusinessCalendar


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
_BEFORE_SHIPMENT = (S.PLACED, S.AWAITING_SELLER, S.ACCEPTED)
_IN_TRANSIT = (S.SHIPPED, S.DELIVERY_FAILED)

# The whole order state machine: (status, action) -> who may, and the status it leads to.
TRANSITIONS: dict[tuple[Status, Action], Transition] = {
    (S.PLACED, A.PAYMENT_AUTHORIZED): _t(S.AWAITING_SELLER, SYSTEM),
    (S.PLACED, A.PAYMENT_FAILED): _t(S.CANCELLED, SYSTEM),
    (S.AWAITING_SELLER, A.ACCEPT): _t(S.ACCEPTED, SELLER),
    (S.AWAITING_SELLER, A.DECLINE): _t(S.DECLINED, SELLER),
    (S.AWAITING_SELLER, A.ACCEPTANCE_EXPIRED): _t(S.CANCELLED, SYSTEM),
    # A decline after acceptance is the seller backing out: cancelled, the buyer protected.
    (S.ACCEPTED, A.DECLINE): _t(S.CANCELLED, SELLER),
    **{(status, A.CANCEL): _t(S.CANCELLED, BUYER) for status in _BEFORE_SHIPMENT},
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
    (S.DELIVERED, A.EXCHANGE): _t(S.EXCHANGE_REQUESTED, BUYER),
    (S.COMPLETED, A.REVIEW): _t(None, BUYER),
    # The buyer's money back in full ends a return or a dispute.
    (S.RETURNED, A.PAYMENT_REFUNDED): _t(S.REFUNDED, SYSTEM),
    (S.DISPUTED, A.PAYMENT_REFUNDED): _t(S.REFUNDED, SYSTEM),
}


class DomainError(Exception):
    """A rule refused the request; `code` tells the API layer which problem it is."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class TransitionRefused(DomainError):
    """Not now: the order's state (or a condition such as the return window) does not allow
    the action. The API answers 409 with the order's status and what is allowed instead."""

    def __init__(
        self,
        status: Status,
        action: Action,
        allowed: list[str],
        *,
        code: str = "invalid-transition",
        detail: str | None = None,
    ) -> None:
        super().__init__(code, detail or f"An order that is {status.value} cannot {action.value}")
        self.status = status
        self.allowed = allowed


class ActionForbidden(DomainError):
    """The actor may never take this action, whatever the order's state (403, not 409)."""

    def __init__(self, action: Action, actor: Actor) -> None:
        super().__init__("forbidden", f"A {actor.value} cannot {action.value.replace('_', ' ')}")


# Who may take each action in some state: asking for an action that is never yours is
# forbidden; asking at the wrong moment is a conflict.
ACTORS_OF: dict[Action, frozenset[Actor]] = {
    action: frozenset().union(*(t.actors for (_, a), t in TRANSITIONS.items() if a is action))
    for action in Action
}


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None


@dataclass(frozen=True)
class Listing:
    id: str
    seller_id: str
    title: str
    price: Money
    quantity_available: int
    fulfilment: Fulfilment
    handling_days: int
    status: ListingStatus
    created_at: datetime
    event_date: date | None = None
    version: int = 1

    def check_orderable(self, quantity: int, today: date) -> None:
        if self.status is not ListingStatus.ACTIVE:
            raise DomainError("listing-unavailable", "This listing is not available to order")
        if quantity > self.quantity_available:
            raise DomainError(
                "insufficient-stock",
                f"Only {self.quantity_available} left; {quantity} were asked for",
            )
        if self.fulfilment is Fulfilment.TRANSFER and self.event_date and self.event_date <= today:
            raise DomainError("listing-unavailable", "The event of this listing has passed")

    def visible_to(self, viewer_id: str, seller: Seller | None, today: date) -> bool:
        """Its seller always sees it; anyone else while it is active and the seller's listings
        are not hidden (on vacation, suspended or revoked)."""
        if viewer_id == self.seller_id:
            return True
        return (
            self.status is ListingStatus.ACTIVE
            and seller is not None
            and not seller.listings_hidden(today)
        )


def check_event_date(
    fulfilment: Fulfilment, event_date: date | None, today: date, horizon_days: int
) -> None:
    """A ticket or booking is listed for an event that is ahead, and not so far ahead that
    its deadlines (counted from the event) fall outside any calendar."""
    if fulfilment is Fulfilment.TRANSFER and event_date is None:
        raise DomainError("event-date-required", "A transfer listing needs its event_date")
    if event_date is None:
        return
    if event_date <= today:
        raise DomainError("event-date-passed", "The event_date must be in the future")
    if event_date > today + timedelta(days=horizon_days):
        raise DomainError(
            "event-date-out-of-range",
            f"The event_date must be within {horizon_days} days from today",
        )


HIDDEN_STANDINGS = ("suspended", "revoked")


@dataclass(frozen=True)
class Seller:
    """What orders knows of a seller: vacation, and the standing seller standards decided."""

    id: str
    vacation_until: date | None = None
    standing: str = "good"

    def listings_hidden(self, today: date) -> bool:
        on_vacation = self.vacation_until is not None and self.vacation_until > today
        return on_vacation or self.standing in HIDDEN_STANDINGS

    def check_can_sell(self, today: date) -> None:
        if self.standing in HIDDEN_STANDINGS:
            raise DomainError("listing-unavailable", "This seller cannot take orders at the moment")
        if self.vacation_until is not None and self.vacation_until > today:
            raise DomainError(
                "listing-unavailable", f"The seller is away until {self.vacation_until}"
            )


@dataclass(frozen=True)
class Message:
    id: str
    order_id: str
    sender_id: str
    sender_role: str
    body: str
    sent_at: datetime
    seq: int | None = None  # posting order, set once stored


@dataclass(frozen=True)
class Review:
    id: str
    order_id: str
    seller_id: str
    buyer_id: str
    rating: int
    text: str
    created_at: datetime


TIMELINE_DETAIL_MAX = 500


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True)
class OrderRules:
    """The configurable deadlines (business days where it says so)."""

    acceptance_business_days: int = 2
    transit_business_days: int = 5
    confirmation_days: int = 3
    return_days: int = 14
    pickup_business_days: int = 2
    redelivery_window_days: int = 30  # how far ahead a buyer may ask for another attempt
    event_horizon_days: int = 730  # how far ahead a ticket or booking may be listed


@dataclass(frozen=True)
class Order:
    id: str
    buyer_id: str
    seller_id: str
    listing_id: str
    title: str
    quantity: int
    unit_price: Money
    fulfilment: Fulfilment
    handling_days: int
    payment_method: str
    status: Status
    payment_state: PaymentState
    placed_at: datetime
    accept_by: datetime
    shipping_address: Address | None = None
    event_date: date | None = None
    authorized: Money | None = None
    captured: Money | None = None
    released: Money | None = None
    refunded: Money | None = None
    cancel_reason: str | None = None
    accepted_at: datetime | None = None
    ship_by: datetime | None = None
    shipment_overdue: bool = False
    shipped_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    transfer_reference: str | None = None
    delivery_attempts: int = 0
    redelivery_date: date | None = None
    delivered_at: datetime | None = None
    auto_complete_at: datetime | None = None
    return_until: datetime | None = None
    completed_at: datetime | None = None
    problem: str | None = None
    return_pickup_date: date | None = None
    reviewed: bool = False
    updated_at: datetime | None = None
    version: int = 1
    timeline: tuple[TimelineEntry, ...] = field(default=())

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity

    def actor_for(self, principal_id: str, role: str) -> Actor | None:
        """How this principal relates to this order, or None if it may not see it."""
        if role in ("agent", "operator"):
            return Actor(role)
        if role == "buyer" and principal_id == self.buyer_id:
            return Actor.BUYER
        if role == "seller" and principal_id == self.seller_id:
            return Actor.SELLER
        if (
            role == "carrier"
            and self.fulfilment is Fulfilment.WAREHOUSE
            and self.status in (Status.ACCEPTED, Status.EXCHANGE_REQUESTED)
        ):
            return Actor.CARRIER  # a 3PL ships warehouse orders
        return None

    def allowed_actions(self, actor: Actor, now: datetime) -> list[str]:
        """What `actor` may do now, by the table and the order's own conditions."""
        allowed = {
            action.value
            for (status, action), transition in TRANSITIONS.items()
            if status is self.status
            and actor in transition.actors
            and action in PUBLIC_ACTIONS
            and self._condition_holds(action, actor, now) is None
        }
        if actor in (Actor.BUYER, Actor.SELLER):
            allowed.add("message")
        return sorted(allowed)

    def _condition_holds(self, action: Action, actor: Actor, now: datetime) -> str | None:
        """Why `action` is refused beyond the table (None: it is not)."""
        transfer = self.fulfilment is Fulfilment.TRANSFER
        if action is Action.CHANGE_ADDRESS and transfer:
            return "A transfer has no shipping address"
        if (
            action is Action.SHIP
            and actor is Actor.CARRIER
            and self.fulfilment is not (Fulfilment.WAREHOUSE)
        ):
            return "Only warehouse orders are shipped by a 3PL"
        if action is Action.CONFIRM_RECEIPT and self.status is Status.SHIPPED and not transfer:
            return "Confirm once the carrier has delivered it"
        if action in (Action.RETURN, Action.EXCHANGE) and transfer:
            return "A transferred booking or ticket cannot be returned or exchanged"
        if action is Action.RETURN and (self.return_until is None or now > self.return_until):
            return "The return window has closed"
        if action is Action.AUTO_COMPLETE and self.status is Status.SHIPPED and not transfer:
            return "Goods complete by themselves only after delivery"
        if (
            action is Action.ACCEPT
            and self.event_date is not None
            and self.event_date <= now.date()
        ):
            return "The event of this order has passed"
        if action is Action.REVIEW and self.reviewed:
            return "This order has a review already"
        return None

    def apply(self, action: Action, actor: Actor, at: datetime, **changes: object) -> Order:
        """The order after `actor` takes `action`; refused unless the table and the order's
        conditions allow it."""
        transition = TRANSITIONS.get((self.status, action))
        if transition is None or actor not in transition.actors:
            if actor not in ACTORS_OF[action]:
                raise ActionForbidden(action, actor)
            raise TransitionRefused(self.status, action, self.allowed_actions(actor, at))
        reason = self._condition_holds(action, actor, at)
        if reason:
            raise TransitionRefused(
                self.status,
                action,
                self.allowed_actions(actor, at),
                code="action-not-allowed",
                detail=reason,
            )
        status = transition.to or self.status
        return replace(self, status=status, updated_at=at, **changes)  # type: ignore[arg-type]

    def noting(self, at: datetime, kind: str, detail: str) -> Order:
        detail = detail[:TIMELINE_DETAIL_MAX]  # what others tell us (a decline reason) is long
        return replace(self, timeline=(*self.timeline, TimelineEntry(at, kind, detail)))


def place_order(
    *,
    order_id: str,
    listing: Listing,
    buyer_id: str,
    quantity: int,
    shipping_address: Address | None,
    payment_method: str,
    now: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules,
) -> Order:
    if buyer_id == listing.seller_id:
        raise DomainError("own-listing", "Sellers cannot buy their own listings")
    listing.check_orderable(quantity, now.date())
    if listing.fulfilment is Fulfilment.TRANSFER:
        if shipping_address is not None:
            raise DomainError(
                "address-not-needed",
                "A transfer listing is handed over by reference; omit shipping_address",
            )
    elif shipping_address is None:
        raise DomainError("address-required", "A shipping_address is required for this listing")
    return Order(
        id=order_id,
        buyer_id=buyer_id,
        seller_id=listing.seller_id,
        listing_id=listing.id,
        title=listing.title,
        quantity=quantity,
        unit_price=listing.price,
        fulfilment=listing.fulfilment,
        handling_days=listing.handling_days,
        payment_method=payment_method,
        status=Status.PLACED,
        payment_state=PaymentState.AUTHORIZING,
        placed_at=now,
        accept_by=calendar.add_business_days(now, rules.acceptance_business_days),
        shipping_address=shipping_address,
        event_date=listing.event_date,
        updated_at=now,
        timeline=(TimelineEntry(now, "placed", "Order placed; authorizing the card"),),
    )


def record_authorization(order: Order, amount: Money, at: datetime) -> Order:
    order = order.apply(
        Action.PAYMENT_AUTHORIZED,
        Actor.SYSTEM,
        at,
        payment_state=PaymentState.AUTHORIZED,
        authorized=amount,
    )
    return order.noting(
        at, "payment_authorized", f"Card authorized for {_money(amount)}; waiting for the seller"
    )


def record_authorization_failure(order: Order, reason: str, at: datetime) -> Order:
    order = order.apply(
        Action.PAYMENT_FAILED,
        Actor.SYSTEM,
        at,
        payment_state=PaymentState.FAILED,
        cancel_reason="payment_failed",
    )
    return order.noting(at, "cancelled", f"{CARD_NOT_AUTHORIZED}: {reason}")


CARD_NOT_AUTHORIZED = "The card was not authorized"
# Who may read why the buyer's card was refused: the buyer, and staff helping them.
_SEE_CARD_DECLINES = frozenset({Actor.BUYER, Actor.AGENT, Actor.OPERATOR})


def timeline_for(order: Order, actor: Actor) -> tuple[TimelineEntry, ...]:
    """The timeline as `actor` may read it: the reason the buyer's card was refused (the
    bank's words, e.g. insufficient funds) is the buyer's business, not the seller's."""
    if actor in _SEE_CARD_DECLINES:
        return order.timeline
    return tuple(
        replace(entry, detail=CARD_NOT_AUTHORIZED)
        if entry.kind == "cancelled" and entry.detail.startswith(CARD_NOT_AUTHORIZED)
        else entry
        for entry in order.timeline
    )


def record_payment(order: Order, state: PaymentState, at: datetime, **amounts: Money) -> Order:
    """A payment fact from payments (captured, voided, released): no change of status."""
    labels = {
        PaymentState.CAPTURED: "Payment captured into escrow",
        PaymentState.VOIDED: "Card authorization released; nothing was charged",
        PaymentState.RELEASED: "The seller was paid out of escrow",
    }
    changed = replace(order, payment_state=state, updated_at=at, **amounts)  # type: ignore[arg-type]
    return changed.noting(at, f"payment_{state.value}", labels[state])


# How payments names a void that a support ticket asked for (`PaymentVoided.reason`).
SUPPORT_VOID_PREFIX = "Support ticket"
# Why an order ended when its hold was released under it (`cancel_reason`, OrderCancelled).
RELEASED_BY_SUPPORT = "released_by_support"
HOLD_RELEASED = "hold_released"


class VoidOutcome(StrEnum):
    RECORDED = "recorded"  # the payment fact only: orders' own ending, or after shipment
    CANCELLED = "cancelled"  # the order was still open: it ends here


def record_void(order: Order, reason: str | None, at: datetime) -> tuple[Order, VoidOutcome]:
    """Payments released the card's hold. After orders' own cancel, decline or expiry that is
    only the payment fact. Under an order still open before shipment the hold was released by
    someone else (support refunding it): nothing could be captured any more, so the order is
    cancelled rather than left for the seller to ship it for nothing."""
    recorded = record_payment(order, PaymentState.VOIDED, at)
    if (order.status, Action.PAYMENT_VOIDED) not in TRANSITIONS:
        return recorded, VoidOutcome.RECORDED
    by_support = reason is not None and reason.startswith(SUPPORT_VOID_PREFIX)
    cancel_reason = RELEASED_BY_SUPPORT if by_support else HOLD_RELEASED
    cancelled = recorded.apply(Action.PAYMENT_VOIDED, Actor.SYSTEM, at, cancel_reason=cancel_reason)
    detail = (
        "Support refunded the order before it shipped: the hold on the buyer's card is released, "
        "nothing was charged, and the order is cancelled"
        if by_support
        else "The hold on the buyer's card was released before shipment: nothing was charged, "
        "and the order is cancelled"
    )
    return cancelled.noting(at, "cancelled", detail), VoidOutcome.CANCELLED


def record_refund(order: Order, total_refunded: Money, full: bool, at: datetime) -> Order:
    """Money went back to the buyer; a full refund ends a return or a dispute."""
    state = PaymentState.REFUNDED if full else PaymentState.PARTIALLY_REFUNDED
    if full and (order.status, Action.PAYMENT_REFUNDED) in TRANSITIONS:
        order = order.apply(Action.PAYMENT_REFUNDED, Actor.SYSTEM, at)
    changed = replace(order, payment_state=state, refunded=total_refunded, updated_at=at)
    what = "Refunded in full" if full else "Partly refunded"
    return changed.noting(at, "refunded", f"{what}: {_money(total_refunded)} back to the buyer")


ONE_DAY = timedelta(days=1)


def ship_deadline(order: Order, accepted_at: datetime, calendar: BusinessCalendar) -> datetime:
    """`handling_days` business days after acceptance; a transfer also before its event."""
    deadline = calendar.add_business_days(accepted_at, order.handling_days)
    if order.event_date is not None:
        day_before = later(datetime.combine(order.event_date, deadline.timetz()), -ONE_DAY)
        deadline = min(deadline, max(day_before, accepted_at))
    return deadline


def accept(order: Order, actor: Actor, at: datetime, calendar: BusinessCalendar) -> Order:
    order = order.apply(
        Action.ACCEPT, actor, at, accepted_at=at, ship_by=ship_deadline(order, at, calendar)
    )
    proof = "transfer" if order.fulfilment is Fulfilment.TRANSFER else "ship"
    return order.noting(
        at,
        "accepted",
        f"The seller confirmed the order and will {proof} it by {order.ship_by:%Y-%m-%d}",
    )


def decline(order: Order, actor: Actor, reason: str, at: datetime) -> Order:
    """Before acceptance the seller declines; after it, the seller backs out."""
    backing_out = order.status is Status.ACCEPTED
    order = order.apply(
        Action.DECLINE,
        actor,
        at,
        cancel_reason="seller_backed_out" if backing_out else "declined",
    )
    if backing_out:
        return order.noting(
            at,
            "seller_backed_out",
            f"The seller withdrew ({reason}). A specialist is on it: you get an alternative or "
            "your money back.",
        )
    return order.noting(at, "declined", f"The seller declined: {reason}")


def cancel(order: Order, actor: Actor, reason: str, at: datetime) -> Order:
    order = order.apply(Action.CANCEL, actor, at, cancel_reason="buyer_cancelled")
    return order.noting(at, "cancelled", f"Cancelled by the buyer: {reason}")


def expire_acceptance(order: Order, at: datetime) -> Order:
    order = order.apply(
        Action.ACCEPTANCE_EXPIRED, Actor.SYSTEM, at, cancel_reason="acceptance_window_missed"
    )
    return order.noting(
        at, "cancelled", "The seller did not confirm in time; the authorization is released"
    )


def change_address(order: Order, actor: Actor, address: Address, at: datetime) -> Order:
    order = order.apply(Action.CHANGE_ADDRESS, actor, at, shipping_address=address)
    return order.noting(at, "address_changed", f"Shipping address changed to {address.city}")


def _transfer_auto_complete(order: Order, at: datetime, confirmation_days: int) -> datetime | None:
    """A transfer has no delivery: it completes by itself `confirmation_days` after its
    event (or after the hand-over, if that is later) unless the buyer reports a problem."""
    if order.fulfilment is not Fulfilment.TRANSFER:
        return None
    start = at
    if order.event_date is not None:
        start = max(at, datetime.combine(order.event_date, at.timetz()))
    return later(start, timedelta(days=confirmation_days))


LATEST = datetime.max.replace(tzinfo=UTC)


def later(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, or the end of time rather than an OverflowError: a date stored before
    dates were bounded (an event on 9999-12-31) must not leave its order stuck."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST


def ship(
    order: Order,
    actor: Actor,
    at: datetime,
    *,
    carrier: str | None,
    tracking_number: str | None,
    transfer_reference: str | None,
    confirmation_days: int = 3,
) -> Order:
    if order.fulfilment is Fulfilment.TRANSFER:
        if not transfer_reference or tracking_number:
            raise DomainError(
                "transfer-reference-required", "A transfer is shipped with its transfer_reference"
            )
    elif not (carrier and tracking_number) or transfer_reference:
        raise DomainError(
            "tracking-required", "Physical goods are shipped with a carrier and tracking_number"
        )
    elif not carrier_key(carrier):
        raise DomainError("carrier-invalid", "Name the carrier (letters or digits)")
    replacement = order.status is Status.EXCHANGE_REQUESTED
    order = order.apply(
        Action.SHIP,
        actor,
        at,
        shipped_at=at,
        carrier=carrier,
        tracking_number=tracking_number,
        transfer_reference=transfer_reference,
        delivery_attempts=0,
        delivered_at=None,  # a replacement starts its delivery afresh
        auto_complete_at=_transfer_auto_complete(order, at, confirmation_days),
        return_until=None,
    )
    if transfer_reference:
        return order.noting(at, "shipped", f"Transferred; reference {transfer_reference}")
    what = "Replacement shipped" if replacement else "Shipped"
    return order.noting(at, "shipped", f"{what} with {carrier}, tracking {tracking_number}")


def carrier_update(
    order: Order,
    action: Action,
    occurred_at: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules,
) -> Order:
    """What the carrier reports about the parcel. The timeline keeps the carrier's time; the
    buyer's windows never start before the shipment (a carrier's clock may be behind ours,
    and a backdated delivery must not close the buyer's windows early)."""
    if action is Action.DELIVERY_FAILED:
        attempts = order.delivery_attempts + 1
        order = order.apply(action, Actor.CARRIER, occurred_at, delivery_attempts=attempts)
        return order.noting(
            occurred_at,
            "delivery_failed",
            f"Delivery attempt {attempts} failed; choose a date for another attempt",
        )
    if action is Action.DELIVERED:
        windows_from = max(occurred_at, order.shipped_at or occurred_at)
        order = order.apply(
            action,
            Actor.CARRIER,
            occurred_at,
            delivered_at=occurred_at,
            auto_complete_at=windows_from + timedelta(days=rules.confirmation_days),
            return_until=windows_from + timedelta(days=rules.return_days),
        )
        return order.noting(occurred_at, "delivered", "Delivered")
    if action is Action.RETURNED_TO_SENDER:
        order = order.apply(action, Actor.CARRIER, occurred_at)
        return order.noting(
            occurred_at, "returned_to_sender", "The carrier is returning it to the seller"
        )
    order = order.apply(action, Actor.CARRIER, occurred_at)
    detail = "In transit" if action is Action.IN_TRANSIT else "Out for delivery"
    return order.noting(occurred_at, action.value, detail)


# --- carriers and their parcels --------------------------------------------------------

# Orders that are over: their tracking numbers may be used again.
CLOSED_STATUSES = frozenset({Status.COMPLETED, Status.CANCELLED, Status.REFUNDED, Status.DECLINED})
# A carrier reports what it scanned, not history: older reports are refused.
REPORT_MAX_AGE = timedelta(days=90)
_ON_THE_WAY = (Status.SHIPPED, Status.DELIVERY_FAILED)


def carrier_key(name: str) -> str:
    """A carrier's name as it is compared: "DHL", "dhl " and "D.H.L." are one carrier."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(character for character in folded if character.isalnum())


def shipment_carrier(actor: Actor, named: str | None, own: str | None) -> str | None:
    """The carrier a shipment goes with: the seller names it; a 3PL ships under its own."""
    if actor is not Actor.CARRIER:
        return named
    if not own or not carrier_key(own):
        raise DomainError(
            "carrier-not-named",
            "This carrier account names no carrier; an operator must issue a new one",
        )
    if named is not None and carrier_key(named) != carrier_key(own):
        raise DomainError("forbidden", f"This account ships only with {own}")
    return named or own


def check_tracking_number_free(
    order: Order, carrier: str | None, tracking_number: str | None, others: Iterable[Order]
) -> None:
    """A tracking number identifies one parcel of one carrier: another open order shipped
    with it would receive that parcel's deliveries (and be paid out for them)."""
    if carrier is None or tracking_number is None:
        return
    key = carrier_key(carrier)
    for other in others:
        if (
            other.id != order.id
            and other.status not in CLOSED_STATUSES
            and other.carrier is not None
            and carrier_key(other.carrier) == key
            and other.tracking_number == tracking_number
        ):
            raise DomainError(
                "tracking-number-in-use",
                "Another open order already ships with this carrier and tracking number; "
                "check the number on the label",
            )


def parcel_order(candidates: Iterable[Order], occurred_at: datetime) -> Order | None:
    """Of the orders shipped with one carrier and tracking number (latest shipment first),
    the one a report is about: the parcel on its way, else the latest, of those shipped no
    later than the scan. A scan dated before an order's shipment is not about that order's
    parcel: it is an earlier parcel's scan sent again (a number may be used again once its
    order is over), and applying it would deliver an order nobody delivered."""
    shipped = [
        order
        for order in candidates
        if order.shipped_at is not None and order.shipped_at <= occurred_at
    ]
    on_the_way = [order for order in shipped if order.status in _ON_THE_WAY]
    return (on_the_way or shipped or [None])[0]


def check_report_time(occurred_at: datetime, now: datetime) -> None:
    if occurred_at > now:
        raise DomainError("occurred-in-future", "occurred_at is later than now")
    if occurred_at < now - REPORT_MAX_AGE:
        raise DomainError(
            "occurred-too-long-ago",
            f"occurred_at is more than {REPORT_MAX_AGE.days} days ago; report scans as they happen",
        )


def already_reported(order: Order, action: Action, occurred_at: datetime) -> bool:
    """Whether the carrier sent this very report (status and time) for the parcel before:
    a repeat counts once, so a retried request cannot add delivery attempts."""
    shipments = [i for i, entry in enumerate(order.timeline) if entry.kind == "shipped"]
    this_parcel = order.timeline[shipments[-1] if shipments else 0 :]
    return any(entry.kind == action.value and entry.at == occurred_at for entry in this_parcel)


def redeliver(
    order: Order, actor: Actor, preferred_date: date, at: datetime, window_days: int = 30
) -> Order:
    # Who may ask, and when, comes first: the date is only the buyer's to get right.
    asked = order.apply(Action.REDELIVER, actor, at, redelivery_date=preferred_date)
    if preferred_date <= at.date():
        raise DomainError("date-in-past", "The preferred_date must be after today")
    if preferred_date > at.date() + timedelta(days=window_days):
        raise DomainError(
            "date-out-of-range",
            f"The preferred_date must be within {window_days} days; the carrier keeps a parcel "
            "no longer",
        )
    return asked.noting(
        at, "redelivery_requested", f"Another delivery attempt asked for on {preferred_date}"
    )


def confirm_receipt(order: Order, actor: Actor, at: datetime) -> Order:
    order = order.apply(Action.CONFIRM_RECEIPT, actor, at, completed_at=at)
    return order.noting(at, "completed", "The buyer confirmed; the seller is paid from escrow")


def auto_complete(order: Order, at: datetime) -> Order:
    order = order.apply(Action.AUTO_COMPLETE, Actor.SYSTEM, at, completed_at=at)
    return order.noting(
        at, "completed", "No problem was reported in time; the seller is paid from escrow"
    )


def report_problem(order: Order, actor: Actor, reason: str, details: str, at: datetime) -> Order:
    order = order.apply(Action.REPORT_PROBLEM, actor, at, problem=reason)
    return order.noting(
        at, "problem_reported", f"Problem reported ({reason}); a specialist follows up"
    )


def request_return(
    order: Order,
    actor: Actor,
    reason: str,
    at: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules,
) -> Order:
    pickup = calendar.add_business_days(at, rules.pickup_business_days).date()
    order = order.apply(Action.RETURN, actor, at, return_pickup_date=pickup)
    return order.noting(
        at, "return_requested", f"Return booked; pickup on {_day(pickup)} ({reason})"
    )


def confirm_return(order: Order, actor: Actor, at: datetime) -> Order:
    order = order.apply(Action.CONFIRM_RETURN, actor, at)
    return order.noting(at, "returned", "The seller has it back; the buyer is refunded")


def request_exchange(order: Order, actor: Actor, reason: str, at: datetime) -> Order:
    order = order.apply(Action.EXCHANGE, actor, at)
    return order.noting(at, "exchange_requested", f"Exchange asked for ({reason})")


def review(order: Order, actor: Actor, rating: int, at: datetime) -> Order:
    order = order.apply(Action.REVIEW, actor, at, reviewed=True)
    return order.noting(at, "reviewed", f"Reviewed: {rating} of 5")


def flag_shipment_overdue(order: Order, at: datetime) -> Order:
    """Ship-by passed without a tracking number: noted once; support and the buyer are told."""
    if order.status is not Status.ACCEPTED or order.shipment_overdue:
        raise DomainError("not-overdue", "Only an accepted order not yet flagged can be overdue")
    order = replace(order, shipment_overdue=True, updated_at=at)
    return order.noting(
        at,
        "shipment_overdue",
        "No tracking number yet: we opened a ticket and a specialist follows up",
    )


def _money(amount: Money) -> str:
    digits = minor_unit_digits(amount.currency)
    if digits == 0:
        return f"{amount.amount_minor} {amount.currency}"
    units, minor = divmod(abs(amount.amount_minor), 10**digits)
    sign = "-" if amount.amount_minor < 0 else ""
    return f"{sign}{units}.{minor:0{digits}d} {amount.currency}"


# --- the order view's three steps -------------------------------------------------------


class StepState(StrEnum):
    DONE = "done"
    CURRENT = "current"
    UPCOMING = "upcoming"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Step:
    name: str
    state: StepState
    done_at: datetime | None
    expected_by: datetime | None
    message: str


def _business_days(count: int) -> str:
    return f"{count} business day{'' if count == 1 else 's'}"


def _day(moment: date | datetime | None) -> str:
    return f"{moment:%A} {moment.day} {moment:%B}" if moment else "soon"


def steps(order: Order, calendar: BusinessCalendar, rules: OrderRules) -> list[Step]:
    """The three steps the buyer sees (confirmed, shipped, completed): what is done, where the
    order is now, what happens next and by when."""
    return [_confirmed(order), _shipped(order, calendar), _completed(order, calendar, rules)]


_HOLD_RELEASED_MESSAGES = {
    RELEASED_BY_SUPPORT: "Support released the hold on your card before the order shipped, so "
    "the order was cancelled and nothing was charged.",
    HOLD_RELEASED: "The hold on your card was released before the order shipped, so the order "
    "was cancelled and nothing was charged.",
}


def _confirmed(order: Order) -> Step:
    if order.accepted_at:
        return Step(
            "confirmed",
            StepState.DONE,
            order.accepted_at,
            order.accept_by,
            f"The seller confirmed your order on {_day(order.accepted_at)}.",
        )
    if order.status is Status.PLACED:
        return Step(
            "confirmed",
            StepState.CURRENT,
            None,
            order.accept_by,
            "We are authorizing your card. Once it is, the seller confirms your order "
            f"and starts processing, by {_day(order.accept_by)}.",
        )
    if order.status is Status.AWAITING_SELLER:
        return Step(
            "confirmed",
            StepState.CURRENT,
            None,
            order.accept_by,
            "Your card is authorized, not charged. The seller confirms your order and "
            f"starts processing by {_day(order.accept_by)}; if not, the order is "
            "cancelled and the authorization released.",
        )
    reasons = {
        "payment_failed": "Your card could not be authorized, so the order was cancelled and "
        "nothing was charged.",
        "declined": "The seller declined the order; the authorization is released and nothing "
        "was charged.",
        "acceptance_window_missed": "The seller did not confirm in time, so the order was "
        "cancelled; the authorization is released and nothing was charged.",
        **_HOLD_RELEASED_MESSAGES,
    }
    message = reasons.get(
        order.cancel_reason or "", "This order was cancelled; nothing was charged."
    )
    return Step("confirmed", StepState.SKIPPED, None, None, message)


def _shipped(order: Order, calendar: BusinessCalendar) -> Step:
    transfer = order.fulfilment is Fulfilment.TRANSFER
    proof = "a transfer reference" if transfer else "a tracking number"
    if order.shipped_at:
        detail = (
            f"Transferred with reference {order.transfer_reference}"
            if transfer
            else f"Shipped with {order.carrier}, tracking number {order.tracking_number}"
        )
        settled = {
            Status.COMPLETED: " The seller has been paid out of escrow.",
            Status.RETURNED: " Your payment is being refunded.",
            Status.REFUNDED: " Your payment was refunded.",
        }
        after = settled.get(order.status, " Your payment is held in escrow until you confirm.")
        return Step("shipped", StepState.DONE, order.shipped_at, order.ship_by, f"{detail}.{after}")
    if order.status is Status.ACCEPTED:
        if order.shipment_overdue:
            message = (
                f"The seller has not given {proof} by {_day(order.ship_by)}. We opened a ticket "
                "and a specialist follows up with you."
            )
        else:
            low, high = order.handling_days, order.handling_days + 2
            message = (
                f"Usually within {low}-{high} business days you get {proof}; your card is "
                f"charged into escrow then. The seller has until {_day(order.ship_by)}. If you "
                "don't get it, we open a ticket and a specialist follows up."
            )
        return Step("shipped", StepState.CURRENT, None, order.ship_by, message)
    if order.status in (Status.PLACED, Status.AWAITING_SELLER):
        expected = calendar.add_business_days(order.accept_by, order.handling_days)
        return Step(
            "shipped",
            StepState.UPCOMING,
            None,
            expected,
            f"Once the seller confirms, you get {proof} within "
            f"{_business_days(order.handling_days)}; your card is charged into escrow then.",
        )
    if order.cancel_reason == "seller_backed_out":
        return Step(
            "shipped",
            StepState.SKIPPED,
            None,
            None,
            "The seller withdrew before handing it over. A specialist is on it: you get "
            "an alternative or your money back.",
        )
    released = _HOLD_RELEASED_MESSAGES.get(order.cancel_reason or "")
    if released:
        return Step("shipped", StepState.SKIPPED, None, None, released)
    return Step("shipped", StepState.SKIPPED, None, None, "Cancelled before fulfilment.")


def _completed(order: Order, calendar: BusinessCalendar, rules: OrderRules) -> Step:
    status = order.status
    if status is Status.COMPLETED:
        return Step(
            "completed",
            StepState.DONE,
            order.completed_at,
            order.completed_at,
            "Completed: the seller has been paid out of escrow."
            + ("" if order.reviewed else " You can leave a review."),
        )
    if status in (Status.CANCELLED, Status.DECLINED):
        return Step("completed", StepState.SKIPPED, None, None, "Cancelled before fulfilment.")
    if status is Status.REFUNDED:
        return Step(
            "completed",
            StepState.SKIPPED,
            None,
            None,
            "Refunded: your money is on its way back to your card.",
        )
    if status is Status.RETURNED:
        return Step(
            "completed",
            StepState.SKIPPED,
            None,
            None,
            "Returned: the seller has it back and your refund is on its way.",
        )
    if order.shipped_at is None:
        base = order.ship_by or calendar.add_business_days(order.accept_by, order.handling_days)
        expected = calendar.add_business_days(base, rules.transit_business_days) + timedelta(
            days=rules.confirmation_days
        )
        return Step(
            "completed",
            StepState.UPCOMING,
            None,
            expected,
            "Once it reaches you, confirm it is as described and the seller is paid out "
            "of escrow. If something is wrong, report a problem instead.",
        )
    expected = order.auto_complete_at or (
        calendar.add_business_days(order.shipped_at, rules.transit_business_days)
        + timedelta(days=rules.confirmation_days)
    )
    messages = {
        Status.SHIPPED: (
            "Once the booking is yours, confirm it and the seller is paid out of escrow."
            if order.fulfilment is Fulfilment.TRANSFER
            else "On its way. When it arrives, confirm it is as described and the seller is "
            "paid out of escrow; if something is wrong, report a problem."
        ),
        Status.DELIVERY_FAILED: (
            f"Delivery attempt {order.delivery_attempts} failed. Choose a date for another "
            "attempt, or report a problem."
        ),
        Status.DELIVERED: (
            f"Delivered. Confirm it is as described by {_day(order.auto_complete_at)}; if you "
            "report no problem by then, the order completes by itself. Returns are possible "
            f"until {_day(order.return_until)}."
        ),
        Status.DISPUTED: (
            "You reported a problem. A specialist follows up; your payment stays in escrow "
            "until it is resolved."
        ),
        Status.RETURN_REQUESTED: (
            f"Return booked: the pickup is on {_day(order.return_pickup_date)}. You are "
            "refunded once the seller has it back."
        ),
        Status.EXCHANGE_REQUESTED: "The seller sends you a replacement with a new tracking number.",
        Status.RETURNED_TO_SENDER: (
            "The carrier is returning it to the seller. A specialist follows up with you."
        ),
    }
    return Step("completed", StepState.CURRENT, None, expected, messages.get(status, ""))
