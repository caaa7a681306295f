"""Alternatives for a buyer whose seller backed out of a ticket or booking (#20): the other
active listings of the same event, from support's projection of orders' `listing.updated`,
and the check of an agent's `rebook` against them. Pure.

Rebooking is the last resort before a refund (the source documents' word): the ticket shows
what there is, cheapest first; when nothing suits, the agent refunds (the hold is released)
and may add goodwill credit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts import Money
from support.domain.errors import ResolutionImpossible
from support.domain.order_money import OrderMoney
from support.domain.tickets import Ticket

REBOOK_REASON = "seller_backed_out"
WITH_ALTERNATIVES = (
    "Rebook the buyer on one of these (cheapest first) at no extra cost to them: the first "
    "order's money pays, the platform covers a higher price. If none suits, refund (the hold "
    "on the card is released) and offer goodwill credit."
)
WITHOUT_ALTERNATIVES = (
    "No other seller offers enough for this event now: refund (the hold on the card is "
    "released) and offer goodwill credit."
)


@dataclass(frozen=True)
class ListingFact:
    """A resale event's listing as orders last published it (`listing.updated`)."""

    listing_id: str
    seller_id: str
    event_id: str
    price: Money
    quantity_available: int
    status: str
    version: int


@dataclass(frozen=True)
class RebookCase:
    """What a backed-out ticket says about the order to replace."""

    event_id: str
    seller_id: str  # the seller who backed out
    quantity: int


def rebook_case(ticket: Ticket) -> RebookCase | None:
    """The event, seller and quantity of a ticket about a seller backing out of a ticket or
    booking of a resale event; None for any other ticket."""
    if ticket.reason != REBOOK_REASON or ticket.order_id is None:
        return None
    event: Any = ticket.context.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("event_id"), str):
        return None
    quantity = ticket.context.get("quantity")
    return RebookCase(
        event["event_id"], ticket.seller_id, quantity if isinstance(quantity, int) else 1
    )


def alternatives(
    case: RebookCase, listings: list[ListingFact], currency: str | None
) -> list[ListingFact]:
    """Active listings of the event, not the backing-out seller's, with enough left, in the
    order's currency, cheapest first."""
    fitting = [
        listing
        for listing in listings
        if listing.event_id == case.event_id
        and listing.status == "active"
        and listing.seller_id != case.seller_id
        and listing.quantity_available >= case.quantity
        and (currency is None or listing.price.currency == currency)
    ]
    return sorted(fitting, key=lambda listing: (listing.price.amount_minor, listing.listing_id))


def alternatives_view(found: list[ListingFact]) -> list[dict[str, Any]]:
    return [
        {"listing_id": a.listing_id, "seller_id": a.seller_id, "price": a.price.model_dump()}
        for a in found
    ]


def check_rebook(
    listing_id: str | None,
    case: RebookCase | None,
    found: list[ListingFact],
    money: OrderMoney | None,
) -> str:
    """The listing an agent's `rebook` buys, or 409 problem details (nothing changes) listing
    the alternatives: the ticket is not about a seller backing out of an event's ticket, the
    buyer's money is no longer held, or the listing is not one of the alternatives (another
    event, inactive, sold out, the same seller)."""
    extra = {"alternatives": alternatives_view(found)}
    if case is None:
        raise ResolutionImpossible(
            "Only a ticket about a seller backing out of a ticket or booking for an event can "
            "be rebooked",
            **extra,
        )
    if money is not None and (money.voided or money.refunds_decided_minor > 0):
        raise ResolutionImpossible(
            "The buyer's money was returned already: nothing pays for a rebooking", **extra
        )
    if listing_id is None:
        raise ResolutionImpossible("Name the listing_id of one of the alternatives", **extra)
    if listing_id not in {a.listing_id for a in found}:
        raise ResolutionImpossible(
            "That listing is not an alternative for this order (another event, no longer "
            "active, not enough left, or the same seller): choose one of the alternatives",
            **extra,
        )
    return listing_id
