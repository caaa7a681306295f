"""What clients read: listings, orders (as each actor may see them), messages, and the
opaque cursors of paginated lists."""

import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from contracts import Money
from orders import domain
from orders.domain import Actor, EventSnapshot, Listing, Message, Order, ResaleEvent, Review
from orders.handlers import OrdersContext
from servicekit.hosting.http import Problem
from servicekit.hosting.pagination import decode_cursor


def _invalid_cursor() -> Problem:
    return Problem(
        422,
        "Invalid request",
        "The cursor is not one this list gave out",
        slug="validation-error",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


def moment_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a list sorted by (time, id) goes on: a cursor is opaque, but a client can still
    send anything, and a bad one is the client's 422, never our 500."""
    if cursor is None:
        return None
    moment, last_id = decode_cursor(cursor, 2)
    try:
        after = datetime.fromisoformat(moment)
        if after.tzinfo is None:
            raise ValueError(moment)
        return after.astimezone(UTC), last_id
    except (ValueError, OverflowError) as error:
        raise _invalid_cursor() from error


_SEQUENCE = re.compile(r"[0-9]{1,18}")  # a message's posting order; fits a bigint


def sequence_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    (sequence,) = decode_cursor(cursor, 1)
    if not _SEQUENCE.fullmatch(sequence):
        raise _invalid_cursor()
    return int(sequence)


def request_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """Where the carrier's list of requests (sorted by when asked, then their order) goes on."""
    after = moment_cursor(cursor)
    if after is None:
        return None
    moment, position = after
    if not _SEQUENCE.fullmatch(position):
        raise _invalid_cursor()
    return moment, int(position)


def parcel_request_view(request: domain.ParcelRequest) -> dict[str, Any]:
    return {
        "tracking_number": request.tracking_number,
        "carrier": request.carrier,
        "order_id": request.order_id,
        "kind": request.kind,
        "date": request.date.isoformat() if request.date else None,
        "address": asdict(request.address) if request.address else None,
        "asked_at": request.asked_at.isoformat(),
    }


def listing_view(listing: Listing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "seller_id": listing.seller_id,
        "title": listing.title,
        "price": listing.price.model_dump(),
        "quantity_available": listing.quantity_available,
        "fulfilment": listing.fulfilment.value,
        "handling_days": listing.handling_days,
        "event_date": listing.event_date.isoformat() if listing.event_date else None,
        "event_id": listing.event_id,
        "status": listing.status.value,
        "created_at": listing.created_at.isoformat(),
    }


def event_snapshot_view(event: EventSnapshot) -> dict[str, Any]:
    """An event as people read it: UTC instants, and the start and end on the venue's
    clock (`local_starts_at`: what a ticket says)."""
    return {
        "id": event.id,
        "name": event.name,
        "venue": event.venue,
        "kind": event.kind.value,
        "status": event.status.value,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "utc_offset_minutes": event.utc_offset_minutes,
        "local_starts_at": event.local(event.starts_at).isoformat(),
        "local_ends_at": event.local(event.ends_at).isoformat(),
    }


def event_view(event: ResaleEvent) -> dict[str, Any]:
    return event_snapshot_view(event.snapshot) | {
        "cancel_reason": event.cancel_reason,
        "created_at": event.created_at.isoformat(),
    }


def _amount(value: Money | None, currency: str) -> dict[str, Any]:
    return (value or Money.zero(currency)).model_dump()


def iso_or_none(value: Any) -> str | None:
    return value.isoformat() if value else None


def order_view(
    order: Order, actor: Actor, ctx: OrdersContext, tickets: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The order as `actor` sees it; `tickets` (support's, on this order) on the single view."""
    currency = order.unit_price.currency
    return {
        "id": order.id,
        "status": order.status.value,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "listing_id": order.listing_id,
        "title": order.title,
        "quantity": order.quantity,
        "unit_price": order.unit_price.model_dump(),
        "total": order.total.model_dump(),
        "fulfilment": order.fulfilment.value,
        "event_date": iso_or_none(order.event_date),
        "event": event_snapshot_view(order.event) if order.event else None,
        "recipient": asdict(order.recipient) if order.recipient else None,
        # A rebooking (#20): the order this one continues, or the one that continues it.
        "replaces": order.replaces,
        "replaced_by": order.replaced_by,
        "placed_at": order.placed_at.isoformat(),
        "accept_by": order.accept_by.isoformat(),
        "ship_by": iso_or_none(order.ship_by),
        "auto_complete_at": iso_or_none(order.auto_complete_at),
        "return_until": iso_or_none(order.return_until),
        "shipping_address": asdict(order.shipping_address) if order.shipping_address else None,
        "cancel_reason": order.cancel_reason,
        "problem": order.problem,
        "steps": [
            {
                "name": step.name,
                "state": step.state.value,
                "done_at": iso_or_none(step.done_at),
                "expected_by": iso_or_none(step.expected_by),
                "message": step.message,
            }
            for step in domain.steps(order, ctx.calendar, ctx.rules)
        ],
        "timeline": [
            {"at": entry.at.isoformat(), "kind": entry.kind, "detail": entry.detail}
            for entry in domain.timeline_for(order, actor)
        ],
        "payment": {
            "state": order.payment_state.value,
            "authorized": _amount(order.authorized, currency),
            "captured": _amount(order.captured, currency),
            "refunded": _amount(order.refunded, currency),
            "released": _amount(order.released, currency),
            # A resale event's money stays in escrow until after the event (#20).
            "held_until": iso_or_none(domain.release_at(order, ctx.rules)),
        },
        "shipment": {
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "transfer_reference": order.transfer_reference,
            "shipped_at": iso_or_none(order.shipped_at),
            "delivery_attempts": order.delivery_attempts,
            "redelivery_date": iso_or_none(order.redelivery_date),
            "delivered_at": iso_or_none(order.delivered_at),
            "return_pickup_date": iso_or_none(order.return_pickup_date),
        },
        "tickets": tickets or [],
        "allowed_actions": order.allowed_actions(actor, ctx.clock.now()),
        "version": order.version,
    }


def message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "order_id": message.order_id,
        "sender_id": message.sender_id,
        "sender_role": message.sender_role,
        "body": message.body,
        "sent_at": message.sent_at.isoformat(),
    }


def review_view(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "order_id": review.order_id,
        "seller_id": review.seller_id,
        "rating": review.rating,
        "text": review.text,
        "created_at": review.created_at.isoformat(),
    }
