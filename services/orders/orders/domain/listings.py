"""What can be bought: listings, who sees them, and the sellers behind them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from contracts import Money
from orders.domain.errors import DomainError, NotFound
from orders.domain.resale_events import ResaleEvent
from orders.domain.state_machine import Fulfilment, ListingStatus


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
    event_id: str | None = None  # the ResaleEvent a transfer listing is for (#20)
    version: int = 1

    def check_orderable(self, quantity: int, today: date) -> None:
        if self.status is not ListingStatus.ACTIVE:
            raise DomainError("listing-unavailable", "This listing is not available to order")
        if quantity > self.quantity_available:
            raise DomainError(
                "insufficient-stock",
                f"Only {self.quantity_available} left; {quantity} were asked for",
            )
        if (
            self.fulfilment is Fulfilment.TRANSFER
            and self.event_id is None  # an event's start decides (ResaleEvent.check_listable)
            and self.event_date
            and self.event_date <= today
        ):
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


def new_listing(
    *,
    listing_id: str,
    seller_id: str,
    title: str,
    price: Money,
    quantity_available: int,
    fulfilment: Fulfilment,
    handling_days: int,
    event_date: date | None,
    now: datetime,
    horizon_days: int,
    event: ResaleEvent | None = None,
) -> Listing:
    if event is not None:
        # The event decides the date (the venue's local day of its start).
        if fulfilment is not Fulfilment.TRANSFER:
            raise DomainError("event-needs-transfer", "Only a transfer listing names an event")
        event.check_listable(now)
        event_date = event.snapshot.local(event.starts_at).date()
    else:
        check_event_date(fulfilment, event_date, now.date(), horizon_days)
    return Listing(
        id=listing_id,
        seller_id=seller_id,
        title=title,
        price=price,
        quantity_available=quantity_available,
        fulfilment=fulfilment,
        handling_days=handling_days,
        status=ListingStatus.ACTIVE if quantity_available > 0 else ListingStatus.SOLD_OUT,
        created_at=now,
        event_date=event_date,
        event_id=event.id if event is not None else None,
    )


def change_listing(
    listing: Listing, editor_id: str, seller: Seller, changes: dict[str, Any], today: date
) -> Listing:
    """The listing after its seller's `changes`; stock decides between active and sold out."""
    if listing.seller_id != editor_id:
        # Someone else's listing they can see is forbidden; one they cannot, not found.
        if listing.visible_to(editor_id, seller, today):
            raise DomainError("forbidden", "Only the listing's seller changes it")
        raise NotFound("listing")
    if "status" in changes and changes["status"] not in (
        ListingStatus.ACTIVE,
        ListingStatus.PAUSED,
    ):
        raise DomainError("invalid-status", "A listing can be set active or paused")
    updated = replace(listing, **changes)
    if updated.status is ListingStatus.ACTIVE and updated.quantity_available == 0:
        updated = replace(updated, status=ListingStatus.SOLD_OUT)
    elif updated.status is ListingStatus.SOLD_OUT and updated.quantity_available > 0:
        updated = replace(updated, status=ListingStatus.ACTIVE)
    return updated


def check_vacation_end(until: date | None, today: date) -> None:
    if until is not None and until <= today:
        raise DomainError("date-in-past", "A vacation ends after today (or send null)")
