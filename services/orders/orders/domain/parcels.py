"""Parcels: shipping an order with a carrier and tracking number (or a transfer reference),
and what carriers report about it afterwards."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from contracts.orders import (
    OrderDelivered,
    OrderDeliveryFailed,
    OrderRedeliveryRequested,
    OrderReturnedToSender,
    OrderShipped,
)
from orders.domain.deadlines import transfer_auto_complete
from orders.domain.errors import DomainError
from orders.domain.order import Order, OrderRules
from orders.domain.outcome import Outcome, event_facts, order_fact
from orders.domain.state_machine import Action, Actor, Fulfilment, Status

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


def check_transfer_reference_free(
    order: Order, transfer_reference: str | None, others: Iterable[Order]
) -> None:
    """A ticket or booking is sold once: another open order of the same event handed over
    with the same reference is the same ticket sold twice (#20)."""
    if transfer_reference is None or order.event is None:
        return
    for other in others:
        if (
            other.id != order.id
            and other.status not in CLOSED_STATUSES
            and other.event is not None
            and other.event.id == order.event.id
            and other.transfer_reference == transfer_reference
        ):
            raise DomainError(
                "transfer-reference-in-use",
                "Another open order for this event was transferred with this reference; a "
                "ticket or booking can be sold only once",
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


CARRIER_ACTIONS = {
    "in_transit": Action.IN_TRANSIT,
    "out_for_delivery": Action.OUT_FOR_DELIVERY,
    "delivery_failed": Action.DELIVERY_FAILED,
    "delivered": Action.DELIVERED,
    "returned_to_sender": Action.RETURNED_TO_SENDER,
}


def reporting_carrier_key(carrier: str | None) -> str:
    """The key of the carrier a report comes from; an account naming none has no parcels."""
    if not carrier or not carrier_key(carrier):
        raise DomainError(
            "carrier-not-named",
            "This carrier account names no carrier, so it has no parcels; an operator must "
            "issue a new one",
        )
    return carrier_key(carrier)


def ship(
    order: Order,
    actor: Actor,
    at: datetime,
    *,
    carrier: str | None,
    tracking_number: str | None,
    transfer_reference: str | None,
    confirmation_days: int = 3,
    rules: OrderRules | None = None,
) -> Outcome:
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
        auto_complete_at=transfer_auto_complete(order, at, confirmation_days, rules),
        return_until=None,
    )
    if transfer_reference and order.event is not None and order.recipient is not None:
        order = order.noting(
            at,
            "shipped",
            f"Transferred to {order.recipient.name}; reference {transfer_reference}. Bring "
            "this reference and an ID in that name. We hold the payment until "
            f"{order.auto_complete_at:%Y-%m-%d} (after the event), then the seller is paid",
        )
    elif transfer_reference:
        order = order.noting(at, "shipped", f"Transferred; reference {transfer_reference}")
    else:
        what = "Replacement shipped" if replacement else "Shipped"
        order = order.noting(at, "shipped", f"{what} with {carrier}, tracking {tracking_number}")
    shipped = OrderShipped(
        **order_fact(order, at),
        total=order.total,
        carrier=carrier,
        tracking_number=tracking_number,
        transfer_reference=transfer_reference,
        replacement=replacement,
        event=event_facts(order.event),
        release_at=order.auto_complete_at if order.event is not None else None,
    )
    return Outcome(order, (shipped,))


def carrier_update(
    order: Order,
    action: Action,
    occurred_at: datetime,
    rules: OrderRules,
) -> Outcome:
    """What the carrier reports about the parcel. The timeline keeps the carrier's time; the
    buyer's windows never start before the shipment (a carrier's clock may be behind ours,
    and a backdated delivery must not close the buyer's windows early)."""
    if action is Action.DELIVERY_FAILED:
        attempts = order.delivery_attempts + 1
        # Goods complete only once delivered: a question to the buyer (no scan for long) is void.
        asked = None if order.fulfilment is not Fulfilment.TRANSFER else order.auto_complete_at
        order = order.apply(
            action,
            Actor.CARRIER,
            occurred_at,
            delivery_attempts=attempts,
            auto_complete_at=asked,
        )
        order = order.noting(
            occurred_at,
            "delivery_failed",
            f"Delivery attempt {attempts} failed; choose a date for another attempt",
        )
        failed = OrderDeliveryFailed(
            **order_fact(order, occurred_at),
            attempts=attempts,
            tracking_number=order.tracking_number,
            fault="carrier",  # the carrier's own report
        )
        return Outcome(order, (failed,))
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
        order = order.noting(occurred_at, "delivered", "Delivered")
        delivered = OrderDelivered(
            **order_fact(order, occurred_at),
            auto_complete_at=order.auto_complete_at,
            return_until=order.return_until,
        )
        return Outcome(order, (delivered,))
    if action is Action.RETURNED_TO_SENDER:
        order = order.apply(action, Actor.CARRIER, occurred_at)
        order = order.noting(
            occurred_at, "returned_to_sender", "The carrier is returning it to the seller"
        )
        returning = OrderReturnedToSender(
            **order_fact(order, occurred_at), attempts=order.delivery_attempts, fault="carrier"
        )
        return Outcome(order, (returning,))
    order = order.apply(action, Actor.CARRIER, occurred_at)
    detail = "In transit" if action is Action.IN_TRANSIT else "Out for delivery"
    return Outcome(order.noting(occurred_at, action.value, detail))


def redeliver(
    order: Order, actor: Actor, preferred_date: date, at: datetime, window_days: int = 30
) -> Outcome:
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
    asked = asked.noting(
        at, "redelivery_requested", f"Another delivery attempt asked for on {preferred_date}"
    )
    requested = OrderRedeliveryRequested(
        **order_fact(asked, at),
        preferred_date=preferred_date.isoformat(),
        attempts=asked.delivery_attempts,
    )
    return Outcome(asked, (requested,))
