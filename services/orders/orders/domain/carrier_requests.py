"""What a carrier must act on for its parcels (`GET /v1/carrier/shipments`): a date for
another delivery attempt the buyer chose, an address changed while the parcel is on its way,
a return to pick up. Each is a request recorded on the order's timeline, open while the order
is still in the status where the carrier acts on it; only the latest request of each kind on
the current parcel counts (one asked before the parcel shipped is on its label)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from orders.domain.order import Address, Order
from orders.domain.state_machine import Status

# The timeline entry that records each request -> what the carrier is asked to do.
REQUEST_KINDS: dict[str, str] = {
    "redelivery_requested": "redelivery",
    "address_changed": "address_change",
    "return_requested": "return_pickup",
}

# The statuses in which each request is still the carrier's to act on: a redelivery until
# the next scan that ends the attempt (delivered, failed again), an address while the parcel
# is on its way, a pickup until the seller has the item back.
OPEN_WHILE: dict[str, frozenset[Status]] = {
    "redelivery_requested": frozenset({Status.SHIPPED}),
    "address_changed": frozenset({Status.SHIPPED, Status.DELIVERY_FAILED}),
    "return_requested": frozenset({Status.RETURN_REQUESTED}),
}


@dataclass(frozen=True)
class ParcelRequest:
    """One thing a carrier is asked to do about one of its parcels."""

    order_id: str
    carrier: str
    tracking_number: str
    kind: str  # redelivery | address_change | return_pickup
    asked_at: datetime
    date: date | None  # the delivery attempt's or the pickup's date
    address: Address | None  # where to deliver, or to collect from


def parcel_request(order: Order, entry_kind: str, asked_at: datetime) -> ParcelRequest | None:
    """The request `entry_kind` (a timeline kind of `REQUEST_KINDS`) recorded at `asked_at`
    on `order`, if the carrier still has to act on it."""
    kind = REQUEST_KINDS.get(entry_kind)
    if (
        kind is None
        or order.status not in OPEN_WHILE[entry_kind]
        or order.carrier is None
        or order.tracking_number is None
        or order.shipped_at is None
        or asked_at < order.shipped_at
    ):
        return None
    when = {
        "redelivery": order.redelivery_date,
        "return_pickup": order.return_pickup_date,
    }.get(kind)
    return ParcelRequest(
        order_id=order.id,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        kind=kind,
        asked_at=asked_at,
        date=when,
        address=order.shipping_address,
    )
