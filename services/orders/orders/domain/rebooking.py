"""Support's `rebook` (#20): the seller of a ticket or booking backed out, an agent chose
another seller's listing of the same event, and the buyer gets it as the continuation of
their order, paid from that order's money (payments moves the card's hold; the platform
covers a higher price). The first order stays ended as the backing out ended it: it is not
cancelled a second time (the seller's cancellation is counted once), it only names the order
that replaced it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from contracts.orders import OrderRebooked, OrderRebookFailed
from orders.domain.errors import DomainError
from orders.domain.lifecycle import place_order
from orders.domain.listings import Listing, Seller
from orders.domain.order import Order, OrderRules, TimelineEntry
from orders.domain.outcome import Outcome, event_facts, order_fact
from orders.domain.resale_events import ResaleEvent
from servicekit.domain.calendar import BusinessCalendar

BACKED_OUT = "seller_backed_out"
# Refusals that mean the decision is stale or replayed, not that the buyer is stranded: the
# ticket is not reopened for them (the order was rebooked already, or never backed out).
NOT_A_FAILURE = frozenset({"already-rebooked", "not-rebookable"})
REASON_MAX = 500


@dataclass(frozen=True)
class Rebooking:
    """What a rebooking decided: the first order (now naming its replacement) and the new
    order with the events of each."""

    first: Outcome
    placed: Outcome


def rebook(
    first: Order,
    listing: Listing,
    event: ResaleEvent | None,
    *,
    new_order_id: str,
    ticket_id: str,
    now: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules,
) -> Rebooking:
    """A new order for the first order's buyer and recipient, of the same quantity, on
    `listing` (another seller's, same event). Refused (`DomainError`) when the first order is
    not a ticket or booking whose seller backed out, was rebooked already, or the listing is
    not one of its event's (support checked all of this; a stale or replayed decision ends
    here)."""
    if first.cancel_reason != BACKED_OUT or first.event is None:
        raise DomainError("not-rebookable", "Only an order whose seller backed out is rebooked")
    if first.replaced_by is not None:
        raise DomainError("already-rebooked", f"Already rebooked as {first.replaced_by}")
    if listing.event_id != first.event.id or listing.seller_id == first.seller_id:
        raise DomainError("not-comparable", "The listing is not another seller's of the event")
    placed = place_order(
        order_id=new_order_id,
        listing=listing,
        buyer_id=first.buyer_id,
        quantity=first.quantity,
        shipping_address=None,
        payment_method=first.payment_method,
        now=now,
        calendar=calendar,
        rules=rules,
        event=event,
        recipient=first.recipient,
    )
    name = first.event.name
    new = replace(
        placed.order,
        replaces=first.id,
        timeline=(
            TimelineEntry(
                now,
                "placed",
                f"We found you another ticket for {name}: this order continues order "
                f"{first.id}, whose seller backed out. It is paid from that order's money: "
                "you pay nothing more",
            ),
        ),
    )
    announced = tuple(e.model_copy(update={"replaces": first.id}) for e in placed.events)
    ended = replace(first, replaced_by=new.id).noting(
        now,
        "rebooked",
        f"We found you another ticket for {name}: order {new.id} continues this one, paid "
        "from its money (you pay nothing more)",
    )
    rebooked = OrderRebooked(
        **order_fact(ended, now),
        ticket_id=ticket_id,
        replaced_by=new.id,
        new_listing_id=listing.id,
        new_seller_id=listing.seller_id,
        new_total=new.total,
        event=event_facts(first.event),
    )
    return Rebooking(first=Outcome(ended, (rebooked,)), placed=Outcome(new, announced))


def rebook_or_fail(
    first: Order,
    listing: Listing | None,
    event: ResaleEvent | None,
    *,
    listing_id: str,
    new_order_id: str,
    ticket_id: str,
    now: datetime,
    calendar: BusinessCalendar,
    rules: OrderRules,
    seller: Seller | None = None,
) -> Rebooking | Outcome:
    """`rebook`, or when orders' own checks refuse the listing (gone, sold out, paused, its
    seller away or suspended, the event no longer scheduled) the failure support reopens the
    ticket on (`rebook_failed`). A stale or replayed decision is still refused."""
    if listing is None:
        return rebook_failed(
            first, ticket_id=ticket_id, listing_id=listing_id, reason="The listing is gone", now=now
        )
    try:
        if seller is not None:
            seller.check_can_sell(now.date())
        return rebook(
            first,
            listing,
            event,
            new_order_id=new_order_id,
            ticket_id=ticket_id,
            now=now,
            calendar=calendar,
            rules=rules,
        )
    except DomainError as refused:
        if refused.slug in NOT_A_FAILURE:
            raise
        return rebook_failed(
            first, ticket_id=ticket_id, listing_id=listing.id, reason=refused.detail, now=now
        )


def rebook_failed(
    first: Order, *, ticket_id: str, listing_id: str, reason: str, now: datetime
) -> Outcome:
    """Nothing placed: the first order notes it and `order.rebook_failed` tells support (which
    reopens the ticket) and the buyer. The first order's kept hold is not touched: it waits for
    the agent's next decision (another rebook or a refund)."""
    reason = reason.strip()[:REASON_MAX] or "The listing cannot be bought"
    noted = first.noting(
        now,
        "rebook_failed",
        "The other ticket we found was gone: a specialist is finding you another or refunding you",
    )
    failed = OrderRebookFailed(
        **order_fact(noted, now),
        ticket_id=ticket_id,
        new_listing_id=listing_id,
        reason=reason,
        event=event_facts(first.event),
    )
    return Outcome(noted, (failed,))
