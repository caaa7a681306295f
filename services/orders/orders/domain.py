"""Orders' rules: listings, the order state machine, and the order view's steps. Pure: no I/O,
no framework; time comes in as arguments.

The state machine is one table, `TRANSITIONS`: for each (status, action) the actors allowed
to take it and the status it leads to. Anything not in the table is refused, and the refusal
names the actions that are allowed now.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from contracts import Money
from orders.calendar import BusinessCalendar


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
    AWAITING_SELLER = "awaiting_seller"  # authorized; the seller must accept
    CANCELLED = "cancelled"


class PaymentState(StrEnum):
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    FAILED = "failed"


class Actor(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    AGENT = "agent"
    OPERATOR = "operator"
    CARRIER = "carrier"
    SYSTEM = "system"  # events and deadlines


class Action(StrEnum):
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_FAILED = "payment_failed"


@dataclass(frozen=True)
class Transition:
    actors: frozenset[Actor]
    to: Status


def _t(to: Status, *actors: Actor) -> Transition:
    return Transition(frozenset(actors), to)


TRANSITIONS: dict[tuple[Status, Action], Transition] = {
    (Status.PLACED, Action.PAYMENT_AUTHORIZED): _t(Status.AWAITING_SELLER, Actor.SYSTEM),
    (Status.PLACED, Action.PAYMENT_FAILED): _t(Status.CANCELLED, Actor.SYSTEM),
}

# Actions a person can ask for through the API, as named in `allowed_actions`.
PUBLIC_ACTIONS: frozenset[Action] = frozenset()


class DomainError(Exception):
    """A rule refused the request; `code` tells the API layer which problem it is."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class TransitionRefused(DomainError):
    def __init__(self, status: Status, action: Action, allowed: list[str]) -> None:
        super().__init__(
            "invalid-transition", f"An order that is {status.value} cannot {action.value}"
        )
        self.status = status
        self.allowed = allowed


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


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    detail: str


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
    authorized: Money | None = None
    cancel_reason: str | None = None
    updated_at: datetime | None = None
    version: int = 1
    timeline: tuple[TimelineEntry, ...] = field(default=())

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity

    def is_party(self, principal_id: str) -> bool:
        return principal_id in (self.buyer_id, self.seller_id)

    def actor_for(self, principal_id: str, role: str) -> Actor | None:
        """How this principal relates to this order, or None if it may not see it."""
        if role in ("agent", "operator"):
            return Actor(role)
        if role == "buyer" and principal_id == self.buyer_id:
            return Actor.BUYER
        if role == "seller" and principal_id == self.seller_id:
            return Actor.SELLER
        return None

    def allowed_actions(self, actor: Actor) -> list[str]:
        return sorted(
            action.value
            for (status, action), transition in TRANSITIONS.items()
            if status is self.status and actor in transition.actors and action in PUBLIC_ACTIONS
        )

    def apply(self, action: Action, actor: Actor, at: datetime, **changes: object) -> Order:
        """The order after `actor` takes `action`; refused unless the table allows it."""
        transition = TRANSITIONS.get((self.status, action))
        if transition is None or actor not in transition.actors:
            raise TransitionRefused(self.status, action, self.allowed_actions(actor))
        return replace(self, status=transition.to, updated_at=at, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class OrderRules:
    """The configurable deadlines the order view and timers use."""

    acceptance_business_days: int = 2
    transit_business_days: int = 5
    confirmation_days: int = 3


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
    return _with_entry(
        order,
        at,
        "payment_authorized",
        f"Card authorized for {_money(amount)}; waiting for the seller",
    )


def record_authorization_failure(order: Order, reason: str, at: datetime) -> Order:
    order = order.apply(
        Action.PAYMENT_FAILED,
        Actor.SYSTEM,
        at,
        payment_state=PaymentState.FAILED,
        cancel_reason="payment_failed",
    )
    return _with_entry(order, at, "cancelled", f"The card was not authorized: {reason}")


def _with_entry(order: Order, at: datetime, kind: str, detail: str) -> Order:
    return replace(order, timeline=(*order.timeline, TimelineEntry(at, kind, detail)))


def _money(amount: Money) -> str:
    return f"{amount.amount_minor / 100:.2f} {amount.currency}"


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


def steps(order: Order, calendar: BusinessCalendar, rules: OrderRules) -> list[Step]:
    """The three steps the buyer sees: confirmed, shipped, completed."""
    ship_by = calendar.add_business_days(order.accept_by, order.handling_days)
    complete_by = calendar.add_business_days(ship_by, rules.transit_business_days) + timedelta(
        days=rules.confirmation_days
    )
    handed_over = "transferred" if order.fulfilment is Fulfilment.TRANSFER else "shipped"
    proof = (
        "a transfer reference" if order.fulfilment is Fulfilment.TRANSFER else "a tracking number"
    )
    days = f"{order.handling_days} business day{'s' if order.handling_days != 1 else ''}"
    shipped_message = (
        f"The seller has {days} after confirming to hand it over. Usually within "
        f"{order.handling_days}-{order.handling_days + 2} business days you get {proof}; "
        "your card is charged into escrow then. If you don't, we open a ticket and a "
        "specialist follows up."
    )
    completed_message = (
        f"Once it has been {handed_over} and reaches you, confirm it is as described and the "
        "seller is paid out of escrow. If something is wrong, report a problem instead."
    )
    if order.status is Status.CANCELLED:
        reason = (
            "Your card could not be authorized, so the order was cancelled and nothing was charged."
            if order.payment_state is PaymentState.FAILED
            else "This order was cancelled; nothing was charged."
        )
        return [
            Step("confirmed", StepState.SKIPPED, None, None, reason),
            Step("shipped", StepState.SKIPPED, None, None, "Cancelled before fulfilment."),
            Step("completed", StepState.SKIPPED, None, None, "Cancelled before fulfilment."),
        ]
    if order.status is Status.PLACED:
        confirmed_message = (
            "We are authorizing your card. Once it is, the seller confirms your order and "
            f"starts processing, by {order.accept_by:%A %d %B}."
        )
    else:
        confirmed_message = (
            "Your card is authorized, not charged. The seller confirms your order and starts "
            f"processing by {order.accept_by:%A %d %B}; if not, the order is cancelled and "
            "the authorization released."
        )
    return [
        Step("confirmed", StepState.CURRENT, None, order.accept_by, confirmed_message),
        Step("shipped", StepState.UPCOMING, None, ship_by, shipped_message),
        Step("completed", StepState.UPCOMING, None, complete_by, completed_message),
    ]
