"""The order: what was bought, where it is in its life, and what each actor may do with it
now (the state machine's table plus the order's own conditions)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from contracts import Money
from orders.domain.errors import ActionForbidden, TransitionRefused
from orders.domain.resale_events import EventSnapshot, EventStatus
from orders.domain.state_machine import (
    ACTORS_OF,
    PUBLIC_ACTIONS,
    TRANSITIONS,
    Action,
    Actor,
    Fulfilment,
    PaymentState,
    Status,
)


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None


@dataclass(frozen=True)
class Recipient:
    """Whose name a ticket or booking is put in (the name on their ID) and where the
    supplier's confirmation goes."""

    name: str
    email: str


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
# Shipping would capture a hold that is gone: the buyer must give another card first (#18).
PAYMENT_HOLD_LAPSED = "payment-hold-lapsed"
HOLD_LAPSED_DETAIL = (
    "The hold on the buyer's card lapsed and could not be renewed, so this order cannot ship "
    "yet: wait until the buyer gives another card and it is authorized"
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True)
class OrderRules:
    """The configurable deadlines (business days where it says so). Every status in which
    someone must act has one (`deadlines.deadline_on_entering`)."""

    acceptance_business_days: int = 2
    transit_business_days: int = 5
    confirmation_days: int = 3
    return_days: int = 14
    pickup_business_days: int = 2
    redelivery_window_days: int = 30  # how far ahead a buyer may ask for another attempt
    event_horizon_days: int = 730  # how far ahead a ticket or booking may be listed
    payment_window_minutes: int = 60  # placed: the card authorized (3-D Secure included)
    shipment_grace_business_days: int = 3  # accepted: after ship-by, before it is cancelled
    unscanned_days: int = 14  # shipped, no delivery scan: then the buyer is asked
    delivery_failed_days: int = 7  # delivery_failed: the buyer chooses another attempt
    return_confirm_days: int = 14  # return_requested: after the pickup date
    exchange_grace_business_days: int = 3  # exchange_requested: after the handling days
    # A resale event's order (#20): the money is released this long after the event's end,
    # and the seller's deadlines fall this long before its start.
    resale_release_after: timedelta = timedelta(days=2)
    event_cutoff: timedelta = timedelta(hours=2)


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
    # A transfer for a ResaleEvent (#20): the event as the order knows it (postponements
    # update it), the recipient, and the buyer's confirmation before the money may move.
    event: EventSnapshot | None = None
    recipient: Recipient | None = None
    receipt_confirmed_at: datetime | None = None
    authorized: Money | None = None
    captured: Money | None = None
    released: Money | None = None
    refunded: Money | None = None
    cancel_reason: str | None = None
    accepted_at: datetime | None = None
    ship_by: datetime | None = None
    shipment_overdue: bool = False  # the shipment waited for (or an exchange's) is late
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
    # When someone must have acted on the order in its status (None: nobody must); the
    # deadline job acts on it then (`deadlines.act_on_deadline`).
    act_by: datetime | None = None
    reviewed: bool = False
    # Support rebooked the buyer after the seller backed out (#20): the order this one
    # continues (paid from its money), and on the first, the order that continues it.
    replaces: str | None = None
    replaced_by: str | None = None
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
        if action is Action.CANCEL:
            return self._cancel_refused(now)
        if action is Action.CONFIRM_RECEIPT and self.receipt_confirmed_at is not None:
            return "You confirmed already; the seller is paid once the event is over"
        if action is Action.SHIP and self.payment_state is PaymentState.HOLD_LAPSED:
            return HOLD_LAPSED_DETAIL
        if action is Action.CHANGE_ADDRESS and transfer:
            return "A transfer has no shipping address"
        if (
            action is Action.SHIP
            and actor is Actor.CARRIER
            and self.fulfilment is not (Fulfilment.WAREHOUSE)
        ):
            return "Only warehouse orders are shipped by a 3PL"
        if (
            action is Action.CONFIRM_RECEIPT
            and self.status is Status.SHIPPED
            and not transfer
            and self.auto_complete_at is None
        ):
            # ... or once we asked the buyer whether it arrived (no delivery scan in time)
            return "Confirm once the carrier has delivered it"
        if action in (Action.RETURN, Action.EXCHANGE) and transfer:
            return "A transferred booking or ticket cannot be returned or exchanged"
        if action is Action.RETURN and (self.return_until is None or now > self.return_until):
            return "The return window has closed"
        if (
            action is Action.AUTO_COMPLETE
            and self.status is Status.SHIPPED
            and not transfer
            and self.auto_complete_at is None
        ):
            return "Goods complete by themselves only after delivery, or once the buyer was asked"
        if action is Action.ACCEPT and self._event_passed(now):
            return "The event of this order has passed"
        if action is Action.REVIEW and self.reviewed:
            return "This order has a review already"
        return None

    def _event_passed(self, now: datetime) -> bool:
        if self.event is not None:
            return self.event.starts_at <= now
        return self.event_date is not None and self.event_date <= now.date()

    def _cancel_refused(self, now: datetime) -> str | None:
        """Why the buyer may not cancel now (None: they may). A ticket or booking may already
        be moving to the buyer's name once the seller accepted, so its window closes then;
        after its event was postponed the buyer may cancel until the new start (#20)."""
        if self.fulfilment is not Fulfilment.TRANSFER:
            if self.status is Status.SHIPPED:
                return "A shipped order cannot be cancelled; report a problem or return it"
            return None
        if self.status in (Status.PLACED, Status.AWAITING_SELLER):
            return None
        event = self.event
        if event is not None and event.status is EventStatus.POSTPONED and now < event.starts_at:
            return None
        return (
            "The seller accepted, so the ticket or booking may already be moving to your name: "
            "it can no longer be cancelled. If something goes wrong, report a problem"
        )

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
                code=PAYMENT_HOLD_LAPSED if reason == HOLD_LAPSED_DETAIL else "action-not-allowed",
                detail=reason,
            )
        status = transition.to or self.status
        if status is not self.status:
            # The deadline was the old status's; the new one's is set as it is kept
            # (`deadlines.scheduled`).
            changes.setdefault("act_by", None)
        return replace(self, status=status, updated_at=at, **changes)  # type: ignore[arg-type]

    def noting(self, at: datetime, kind: str, detail: str) -> Order:
        detail = detail[:TIMELINE_DETAIL_MAX]  # what others tell us (a decline reason) is long
        return replace(self, timeline=(*self.timeline, TimelineEntry(at, kind, detail)))
