"""Events published by the orders service on `orders.events`, keyed by order id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from contracts.envelope import Event
from contracts.money import Money
from contracts.topics import ORDERS_EVENTS

Fulfilment = Literal["seller_ships", "warehouse", "transfer"]

# `OrderCancelled.reason`s of a system cancellation that the seller caused by missing a
# deadline (not accepting in time, not shipping by ship-by and its grace): they count as the
# seller's cancellations, as `cancelled_by: seller` does.
SELLER_MISSED_DEADLINES = frozenset(
    {"acceptance_window_missed", "shipment_window_missed", "transfer_not_made"}
)
# `OrderCancelled.reason` when an operator cancelled the order's event (#20): nobody's fault
# on the platform, never counted against the seller.
EVENT_CANCELLED = "event_cancelled"
# Problem reasons only a ticket or booking for an event has (#20): urgent, and not the seller's
# defect when the organiser cancelled the event.
ResaleProblem = Literal["entry_denied", "booking_not_found", "event_cancelled"]
RESALE_PROBLEMS: tuple[str, ...] = ("entry_denied", "booking_not_found", "event_cancelled")

# Who caused a failed delivery or a return to sender, when orders knows: a carrier's own
# report is the carrier's; the buyer's when no other attempt was asked for in time. None:
# not known (events from before the field; not held against the seller).
Fault = Literal["carrier", "buyer", "seller"]
FAULT_DESCRIPTION = "Who caused it, when known: `carrier`, `buyer` or `seller`"


class EventFacts(BaseModel):
    """The event a ticket or hotel booking is for (#20), as the order knows it: times in UTC
    with the venue's offset (the local start is `starts_at` at `utc_offset_minutes`)."""

    event_id: str
    name: str
    venue: str
    kind: Literal["ticket", "hotel_booking"]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    utc_offset_minutes: int


EVENT_DESCRIPTION = "For a ticket or booking of a resale event: the event (#20)"


class OrderPlaced(Event, type="marketplace.order.placed.v1", topic=ORDERS_EVENTS):
    """A buyer placed an order; payments pre-authorizes the card for `total`."""

    order_id: str
    buyer_id: str
    seller_id: str
    listing_id: str
    quantity: int = Field(ge=1)
    unit_price: Money
    total: Money
    fulfilment: Fulfilment
    payment_method: str = Field(description="Stripe PaymentMethod id chosen by the buyer")
    placed_at: AwareDatetime
    accept_by: AwareDatetime | None = Field(
        None, description="The seller must accept by then, or the order is cancelled"
    )
    title: str | None = Field(None, description="What was bought: the listing's title")
    handling_days: int | None = Field(
        None, ge=1, description="Business days the seller has to ship after accepting"
    )
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)
    recipient_name: str | None = Field(
        None, description="Whose name the ticket or booking is put in (a resale event's order)"
    )
    replaces: str | None = Field(
        None,
        description="Support rebooked the buyer (#20): this order replaces that one, whose "
        "seller backed out, and is paid from its money (the buyer pays nothing more)",
    )

    def subject(self) -> str:
        return self.order_id


class OrderCancelled(Event, type="marketplace.order.cancelled.v1", topic=ORDERS_EVENTS):
    """An order ended before fulfilment; any authorization on it must be voided."""

    order_id: str
    buyer_id: str
    seller_id: str
    reason: str
    cancelled_by: Literal["buyer", "seller", "system"]
    cancelled_at: AwareDatetime
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)

    def subject(self) -> str:
        return self.order_id

    def counts_against_seller(self) -> bool:
        """The seller cancelled, or the system did because the seller missed a deadline."""
        return self.cancelled_by == "seller" or (
            self.cancelled_by == "system" and self.reason in SELLER_MISSED_DEADLINES
        )


class _OrderFact(Event):
    """What every order event after placement carries: whose order it is and when."""

    order_id: str
    buyer_id: str
    seller_id: str
    listing_id: str
    fulfilment: Fulfilment
    occurred_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class OrderAccepted(_OrderFact, type="marketplace.order.accepted.v1", topic=ORDERS_EVENTS):
    """The seller confirmed the order and starts processing; it must ship by `ship_by`."""

    ship_by: AwareDatetime
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)


class OrderDeclined(_OrderFact, type="marketplace.order.declined.v1", topic=ORDERS_EVENTS):
    """The seller declined before accepting; the authorization must be voided."""

    reason: str


class OrderSellerBackedOut(
    _OrderFact, type="marketplace.order.seller_backed_out.v1", topic=ORDERS_EVENTS
):
    """The seller withdrew after accepting and before fulfilment. The buyer is protected:
    support opens an urgent ticket (an alternative, or the money back), payments voids."""

    reason: str
    event_date: str | None = Field(None, description="For a transfer: the event's date")
    event: EventFacts | None = Field(
        None,
        description=EVENT_DESCRIPTION + ": support offers the event's other listings and "
        "payments keeps the hold for a rebooking",
    )
    quantity: int | None = Field(
        None, ge=1, description="How many the buyer bought: an alternative must have as many"
    )


class OrderShippingAddressChanged(
    _OrderFact, type="marketplace.order.shipping_address_changed.v1", topic=ORDERS_EVENTS
):
    """The buyer changed where the order goes before it shipped: the seller ships there.

    Only `city` and `country` are required: events written before the rest was added lack it."""

    city: str
    country: str
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None


class OrderReshipRequested(
    _OrderFact, type="marketplace.order.reship_requested.v1", topic=ORDERS_EVENTS
):
    """Support decided (`ticket_id`) that the seller ships the order again: it is back in
    `accepted` and must ship by `ship_by`. Its payment was captured when it first shipped:
    the new shipment captures nothing."""

    ticket_id: str
    ship_by: AwareDatetime


class OrderShipped(_OrderFact, type="marketplace.order.shipped.v1", topic=ORDERS_EVENTS):
    """Handed over with a tracking number (or a transfer reference): payments captures
    `total` into escrow."""

    total: Money
    carrier: str | None = None
    tracking_number: str | None = None
    transfer_reference: str | None = None
    replacement: bool = Field(False, description="True when an exchange's replacement ships")
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)
    release_at: AwareDatetime | None = Field(
        None,
        description="A resale event's transfer: the money stays in escrow until then (the "
        "event's end plus a setting), whatever the buyer confirms before",
    )


class OrderShipmentOverdue(
    _OrderFact, type="marketplace.order.shipment_overdue.v1", topic=ORDERS_EVENTS
):
    """No tracking number by the ship-by deadline: support opens a ticket, the buyer is told."""

    ship_by: AwareDatetime
    accepted_at: AwareDatetime
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)


class OrderDeliveryUnconfirmed(
    _OrderFact, type="marketplace.order.delivery_unconfirmed.v1", topic=ORDERS_EVENTS
):
    """Long after shipment no carrier reported a delivery: the buyer is asked whether it
    arrived. Without a problem reported by `confirm_by` the order completes by itself."""

    shipped_at: AwareDatetime
    confirm_by: AwareDatetime
    carrier: str | None = None
    tracking_number: str | None = None


class OrderDeliveryFailed(
    _OrderFact, type="marketplace.order.delivery_failed.v1", topic=ORDERS_EVENTS
):
    """A delivery attempt failed; the buyer may ask for another on a chosen date."""

    attempts: int
    tracking_number: str | None = None
    fault: Fault | None = Field(None, description=FAULT_DESCRIPTION)


class OrderRedeliveryRequested(
    _OrderFact, type="marketplace.order.redelivery_requested.v1", topic=ORDERS_EVENTS
):
    preferred_date: str
    attempts: int


class OrderDelivered(_OrderFact, type="marketplace.order.delivered.v1", topic=ORDERS_EVENTS):
    """The carrier delivered; the buyer confirms or reports a problem before
    `auto_complete_at`, and may return until `return_until`."""

    auto_complete_at: AwareDatetime
    return_until: AwareDatetime


class OrderReturnedToSender(
    _OrderFact, type="marketplace.order.returned_to_sender.v1", topic=ORDERS_EVENTS
):
    attempts: int
    fault: Fault | None = Field(None, description=FAULT_DESCRIPTION)


class OrderProblemReported(
    _OrderFact, type="marketplace.order.problem_reported.v1", topic=ORDERS_EVENTS
):
    """The buyer reported a problem; the order is disputed and support takes it up."""

    reason: Literal[
        "not_received",
        "not_as_described",
        "damaged",
        "other",
        "entry_denied",
        "booking_not_found",
        "event_cancelled",
    ] = Field(
        description="The resale reasons (`entry_denied`, `booking_not_found`, "
        "`event_cancelled`) only on a transfer order (#20): deploy consumers first"
    )
    details: str
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)


class OrderCompleted(_OrderFact, type="marketplace.order.completed.v1", topic=ORDERS_EVENTS):
    """Properly fulfilled: payments releases the escrow to the seller."""

    total: Money
    confirmed_by: Literal["buyer", "system"]


class OrderReturnRequested(
    _OrderFact, type="marketplace.order.return_requested.v1", topic=ORDERS_EVENTS
):
    """A return is booked: the carrier collects the item on `pickup_date` and brings it back
    to the seller, who confirms it is back by `confirm_by`; after that the buyer is refunded
    anyway (`order.returned`, decided by the system)."""

    reason: str
    pickup_date: str
    confirm_by: AwareDatetime | None = Field(
        None,
        description="The seller's deadline to confirm the item is back (None in events from "
        "before the field)",
    )


class OrderReturned(_OrderFact, type="marketplace.order.returned.v1", topic=ORDERS_EVENTS):
    """The seller has the item back: payments refunds the buyer. `decided_by: system` when
    a deadline decided it instead (`reason`): the seller never confirmed the return, or never
    shipped an exchange's replacement; support records it on a ticket."""

    total: Money
    decided_by: Literal["seller", "system"] = "seller"
    reason: Literal["return_not_confirmed", "replacement_not_shipped"] | None = None


class OrderExchangeRequested(
    _OrderFact, type="marketplace.order.exchange_requested.v1", topic=ORDERS_EVENTS
):
    reason: str
    note: str


class OrderExchangeOverdue(
    _OrderFact, type="marketplace.order.exchange_overdue.v1", topic=ORDERS_EVENTS
):
    """The replacement was not shipped within the listing's handling days: support opens a
    ticket and the buyer is told; without a replacement by `refund_at` the buyer is refunded."""

    ship_by: AwareDatetime
    refund_at: AwareDatetime


class OrderMessagePosted(
    _OrderFact, type="marketplace.order.message_posted.v1", topic=ORDERS_EVENTS
):
    """A message between buyer and seller on an order (seller standards measures replies)."""

    message_id: str
    sender_id: str
    sender_role: Literal["buyer", "seller"]
    body: str


class OrderReviewed(_OrderFact, type="marketplace.order.reviewed.v1", topic=ORDERS_EVENTS):
    review_id: str
    rating: int = Field(ge=1, le=5)
    text: str


class OrderTransferConfirmed(
    _OrderFact, type="marketplace.order.transfer_confirmed.v1", topic=ORDERS_EVENTS
):
    """The buyer confirmed a resale event's ticket or booking is in their name before the
    event (#20): recorded, but the money stays in escrow until `release_at` (the event's end
    plus a setting), until when the buyer can still report a problem at the gate."""

    event: EventFacts
    release_at: AwareDatetime


class OrderEventPostponed(
    _OrderFact, type="marketplace.order.event_postponed.v1", topic=ORDERS_EVENTS
):
    """The order's event moved to new dates (`event`, #20): the buyer may cancel for a full
    refund until `cancellable_until` (the new start); the money is released after the new end."""

    event: EventFacts
    previous_starts_at: AwareDatetime
    cancellable_until: AwareDatetime
    release_at: AwareDatetime | None = None


class _ResaleEventFact(Event):
    """An operator's decision about a resale event (#20), keyed by the event's id."""

    event: EventFacts
    open_orders: int = Field(ge=0, description="Open orders of the event it applies to")
    occurred_at: AwareDatetime

    def subject(self) -> str:
        return self.event.event_id


class ResaleEventCancelled(
    _ResaleEventFact, type="marketplace.resale_event.cancelled.v1", topic=ORDERS_EVENTS
):
    """The event will not take place: every open order of it returns the buyer's money in
    full (each has its `order.cancelled` with reason `event_cancelled`, not the seller's)."""

    reason: str


class ResaleEventPostponed(
    _ResaleEventFact, type="marketplace.resale_event.postponed.v1", topic=ORDERS_EVENTS
):
    """The event moved to new dates (`event`); each open order has its `order.event_postponed`."""

    previous_starts_at: AwareDatetime


ListingState = Literal["active", "paused", "sold_out"]


class ListingUpdated(Event, type="marketplace.listing.updated.v1", topic=ORDERS_EVENTS):
    """A listing for a resale event (#20) as it now is, published whenever it is created or
    changes (price, quantity, status; stock taken by an order or given back). Keyed by the
    listing id; a consumer keeps the highest `version` (later ones may come first after a
    replay). Support keeps them to offer a buyer whose seller backed out the alternatives."""

    listing_id: str
    seller_id: str
    event_id: str
    price: Money
    quantity_available: int = Field(ge=0)
    status: ListingState
    version: int = Field(ge=1)
    occurred_at: AwareDatetime

    def subject(self) -> str:
        return self.listing_id


class OrderRebooked(_OrderFact, type="marketplace.order.rebooked.v1", topic=ORDERS_EVENTS):
    """Support rebooked the buyer of this order, whose seller backed out (#20): `replaced_by`
    is the new order on another seller's listing of the same event, paid from this order's
    money. This order stays ended as the backing out ended it (not counted again)."""

    ticket_id: str
    replaced_by: str
    new_listing_id: str
    new_seller_id: str
    new_total: Money
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)


class OrderRebookFailed(_OrderFact, type="marketplace.order.rebook_failed.v1", topic=ORDERS_EVENTS):
    """Support resolved a backed-out ticket with `rebook` on `new_listing_id` but orders could
    not place the replacement (#20): the listing sold out or changed, its seller is away or
    suspended, the event is no longer scheduled. Nothing was placed; the first order's kept
    hold stays for the agent's next decision. Support reopens the ticket; the buyer is told."""

    ticket_id: str
    new_listing_id: str
    reason: str = Field(
        min_length=1, max_length=500, description="Plain words: why orders refused it"
    )
    event: EventFacts | None = Field(None, description=EVENT_DESCRIPTION)
