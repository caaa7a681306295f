"""What buyers and sellers do with an order, from placing it to reviewing it (shipping and
the carrier's reports are in `parcels`, payments' facts in `payment_facts`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from contracts.orders import (
    OrderAccepted,
    OrderCompleted,
    OrderDeclined,
    OrderExchangeRequested,
    OrderMessagePosted,
    OrderPlaced,
    OrderProblemReported,
    OrderReturned,
    OrderReturnRequested,
    OrderReviewed,
    OrderSellerBackedOut,
    OrderShippingAddressChanged,
)
from orders.domain.deadlines import deadline_on_entering, ship_deadline
from orders.domain.errors import DomainError
from orders.domain.listings import Listing
from orders.domain.order import Address, Message, Order, OrderRules, Recipient, TimelineEntry
from orders.domain.outcome import Outcome, cancelled, event_facts, order_fact
from orders.domain.resale import capped_accept_by, check_resale_problem, confirm_early
from orders.domain.resale_events import ResaleEvent
from orders.domain.state_machine import Action, Actor, Fulfilment, PaymentState, Status
from orders.domain.tracker import dated
from servicekit.domain.calendar import BusinessCalendar


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
    event: ResaleEvent | None = None,
    recipient: Recipient | None = None,
) -> Outcome:
    """The order at the listing's price (never the client's: it is not even asked for);
    payments is told to authorize the card. A resale event's ticket or booking names its
    `recipient`; the seller must accept before the event's start (#20)."""
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
    elif recipient is not None:
        raise DomainError("recipient-not-needed", "Only a ticket or booking names a recipient")
    accept_by = calendar.add_business_days(now, rules.acceptance_business_days)
    snapshot = None
    if listing.event_id is not None:
        if event is None or event.id != listing.event_id:
            raise DomainError("listing-unavailable", "The event of this listing is unknown")
        event.check_listable(now)
        if recipient is None:
            raise DomainError(
                "recipient-required",
                "Name the recipient (name as on their ID, and e-mail) the ticket or booking "
                "is put in",
            )
        snapshot = event.snapshot
        accept_by = capped_accept_by(accept_by, snapshot, rules)
        if accept_by <= now:
            raise DomainError(
                "listing-unavailable", "The event starts too soon for the seller to transfer it"
            )
    order = Order(
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
        accept_by=accept_by,
        shipping_address=shipping_address,
        event_date=listing.event_date,
        event=snapshot,
        recipient=recipient,
        updated_at=now,
        timeline=(TimelineEntry(now, "placed", "Order placed; authorizing the card"),),
    )
    order = replace(order, act_by=deadline_on_entering(order, now, rules, calendar))
    placed = OrderPlaced(
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        listing_id=order.listing_id,
        quantity=order.quantity,
        unit_price=order.unit_price,
        total=order.total,
        fulfilment=order.fulfilment.value,
        payment_method=order.payment_method,
        placed_at=order.placed_at,
        accept_by=order.accept_by,
        title=order.title,
        handling_days=order.handling_days,
        event=event_facts(snapshot),
        recipient_name=recipient.name if recipient else None,
    )
    return Outcome(order, (placed,))


def accept(
    order: Order,
    actor: Actor,
    at: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules | None = None,
) -> Outcome:
    ship_by = ship_deadline(order, at, calendar, rules)
    order = order.apply(Action.ACCEPT, actor, at, accepted_at=at, ship_by=ship_by)
    proof = "transfer" if order.fulfilment is Fulfilment.TRANSFER else "ship"
    if order.event is not None and order.recipient is not None:
        detail = (
            f"The seller confirmed and is putting your ticket or booking in the name of "
            f"{order.recipient.name} with the organiser or hotel, by {ship_by:%Y-%m-%d %H:%M} "
            "UTC. We let you know the moment it is done; if it is late, a specialist steps in"
        )
    else:
        detail = f"The seller confirmed the order and will {proof} it by {ship_by:%Y-%m-%d}"
    order = order.noting(at, "accepted", detail)
    accepted = OrderAccepted(
        **order_fact(order, at), ship_by=ship_by, event=event_facts(order.event)
    )
    return Outcome(order, (accepted,))


def decline(order: Order, actor: Actor, reason: str, at: datetime) -> Outcome:
    """Before acceptance the seller declines; after it, the seller backs out (the order is
    cancelled and the buyer protected)."""
    backing_out = order.status is Status.ACCEPTED
    order = order.apply(
        Action.DECLINE,
        actor,
        at,
        cancel_reason="seller_backed_out" if backing_out else "declined",
    )
    if not backing_out:
        order = order.noting(at, "declined", f"The seller declined: {reason}")
        declined = OrderDeclined(**order_fact(order, at), reason=reason)
        return Outcome(order, (declined,), stock_back=True)
    order = order.noting(
        at,
        "seller_backed_out",
        f"The seller withdrew ({reason}). A specialist is on it: you get an alternative or "
        "your money back.",
    )
    backed_out = OrderSellerBackedOut(
        **order_fact(order, at),
        reason=reason,
        event_date=order.event_date.isoformat() if order.event_date else None,
        event=event_facts(order.event),
        quantity=order.quantity,
    )
    events = (backed_out, cancelled(order, "seller_backed_out", "seller", at))
    return Outcome(order, events, stock_back=True)


def cancel(order: Order, actor: Actor, reason: str, at: datetime) -> Outcome:
    """The buyer cancels; after a resale event's postponement also once transferred, for a
    full refund (payments refunds what it captured), the ticket not put back on sale."""
    transferred = order.shipped_at is not None
    order = order.apply(Action.CANCEL, actor, at, cancel_reason="buyer_cancelled")
    money = "refunded in full" if transferred else "the hold on the card released"
    order = order.noting(at, "cancelled", f"Cancelled by the buyer ({money}): {reason}")
    return Outcome(order, (cancelled(order, reason, "buyer", at),), stock_back=not transferred)


def change_address(order: Order, actor: Actor, address: Address, at: datetime) -> Outcome:
    order = order.apply(Action.CHANGE_ADDRESS, actor, at, shipping_address=address)
    order = order.noting(at, "address_changed", f"Shipping address changed to {address.city}")
    changed = OrderShippingAddressChanged(
        **order_fact(order, at),
        name=address.name,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        postal_code=address.postal_code,
        country=address.country,
    )
    return Outcome(order, (changed,))


def confirm_receipt(
    order: Order, actor: Actor, at: datetime, rules: OrderRules | None = None
) -> Outcome:
    early = confirm_early(order, actor, at, rules or OrderRules())
    if early is not None:
        return early  # a resale event's: the money waits for the event (#20)
    order = order.apply(Action.CONFIRM_RECEIPT, actor, at, completed_at=at)
    order = order.noting(at, "completed", "The buyer confirmed; the seller is paid from escrow")
    completed = OrderCompleted(**order_fact(order, at), total=order.total, confirmed_by="buyer")
    return Outcome(order, (completed,))


def report_problem(order: Order, actor: Actor, reason: str, details: str, at: datetime) -> Outcome:
    order = order.apply(Action.REPORT_PROBLEM, actor, at, problem=reason)
    check_resale_problem(order, reason)
    order = order.noting(
        at, "problem_reported", f"Problem reported ({reason}); a specialist follows up"
    )
    reported = OrderProblemReported(
        **order_fact(order, at),
        reason=reason,  # type: ignore[arg-type]
        details=details,
        event=event_facts(order.event),
    )
    return Outcome(order, (reported,))


def request_return(
    order: Order,
    actor: Actor,
    reason: str,
    at: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules,
) -> Outcome:
    pickup = calendar.add_business_days(at, rules.pickup_business_days).date()
    order = order.apply(Action.RETURN, actor, at, return_pickup_date=pickup)
    order = order.noting(
        at, "return_requested", f"Return booked; pickup on {dated(pickup)} ({reason})"
    )
    requested = OrderReturnRequested(
        **order_fact(order, at),
        reason=reason,
        pickup_date=pickup.isoformat(),
        confirm_by=deadline_on_entering(order, at, rules, calendar),
    )
    return Outcome(order, (requested,))


def confirm_return(order: Order, actor: Actor, at: datetime) -> Outcome:
    order = order.apply(Action.CONFIRM_RETURN, actor, at)
    order = order.noting(at, "returned", "The seller has it back; the buyer is refunded")
    return Outcome(order, (OrderReturned(**order_fact(order, at), total=order.total),))


def request_exchange(
    order: Order, actor: Actor, reason: str, at: datetime, *, note: str
) -> Outcome:
    # The replacement's shipment is late only once its own handling days have passed.
    order = order.apply(Action.EXCHANGE, actor, at, shipment_overdue=False)
    order = order.noting(at, "exchange_requested", f"Exchange asked for ({reason})")
    requested = OrderExchangeRequested(**order_fact(order, at), reason=reason, note=note)
    return Outcome(order, (requested,))


def review(
    order: Order, actor: Actor, rating: int, at: datetime, *, review_id: str, text: str
) -> Outcome:
    order = order.apply(Action.REVIEW, actor, at, reviewed=True)
    order = order.noting(at, "reviewed", f"Reviewed: {rating} of 5")
    reviewed = OrderReviewed(**order_fact(order, at), review_id=review_id, rating=rating, text=text)
    return Outcome(order, (reviewed,))


def post_message(
    order: Order, actor: Actor, *, message_id: str, sender_id: str, body: str, at: datetime
) -> tuple[Message, OrderMessagePosted]:
    """Only the buyer and the seller write to each other; staff read along."""
    if actor not in (Actor.BUYER, Actor.SELLER):
        raise DomainError("not-a-party", "Only the buyer and the seller message each other")
    message = Message(message_id, order.id, sender_id, actor.value, body, at)
    posted = OrderMessagePosted(
        **order_fact(order, at),
        message_id=message.id,
        sender_id=sender_id,
        sender_role=actor.value,  # type: ignore[arg-type]
        body=body,
    )
    return message, posted
