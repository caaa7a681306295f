"""Support's rebook, as orders decides it (#20), pure: the new order continues the first for
the same buyer and recipient on another seller's listing of the event; the first names it and
is not cancelled again; what does not fit is refused."""

from datetime import timedelta

import pytest

from orders import domain
from orders.domain import DomainError, Status
from orders.domain.listings import Seller
from orders.domain.rebooking import Rebooking, rebook, rebook_or_fail

from orders_resale_test_helpers import RECIPIENT, event_listing, event_order, kept, resale_event
from orders_test_helpers import CALENDAR, NOW, RULES

LATER = NOW + timedelta(hours=3)


def backed_out():
    order = event_order(Status.ACCEPTED)
    return kept(order, domain.decline(order, domain.Actor.SELLER, "Lost it", LATER), LATER)


def rebooked(first, listing, **kwargs):
    return rebook(
        first,
        listing,
        resale_event(),
        new_order_id="ord_2",
        ticket_id="tkt_1",
        now=LATER,
        calendar=CALENDAR,
        rules=RULES,
        **kwargs,
    )


def test_the_new_order_continues_the_first_for_the_same_buyer_and_recipient():
    first = backed_out()
    other = event_listing(id="lst_2", seller_id="usr_other", price=first.unit_price * 2)

    done = rebooked(first, other)

    new = done.placed.order
    assert (new.buyer_id, new.recipient, new.replaces, new.listing_id) == (
        first.buyer_id,
        RECIPIENT,
        first.id,
        "lst_2",
    )
    assert new.status is Status.PLACED and new.total == first.unit_price * 2
    (placed,) = done.placed.events
    assert placed.replaces == first.id
    assert "another ticket for Nils Frahm live" in new.timeline[0].detail
    ended = done.first.order
    assert (ended.status, ended.cancel_reason, ended.replaced_by) == (
        Status.CANCELLED,
        "seller_backed_out",
        "ord_2",
    )
    (told,) = done.first.events  # order.rebooked only: no second cancellation to count
    assert (told.replaced_by, told.new_total) == ("ord_2", new.total)


@pytest.mark.parametrize(
    ("first", "listing"),
    [
        (event_order(Status.ACCEPTED), event_listing(id="lst_2", seller_id="usr_other")),
        (backed_out(), event_listing(id="lst_2")),  # the seller who backed out
        (backed_out(), event_listing(id="lst_2", seller_id="usr_other", event_id="evt_9")),
    ],
)
def test_what_is_not_a_rebooking_is_refused(first, listing):
    with pytest.raises(DomainError):
        rebooked(first, listing)


def test_an_order_is_rebooked_once():
    first = backed_out()
    done = rebooked(first, event_listing(id="lst_2", seller_id="usr_other"))
    with pytest.raises(DomainError):
        rebooked(done.first.order, event_listing(id="lst_3", seller_id="usr_third"))


def rebooked_or_failed(first, listing, listing_id="lst_2", seller=None):
    return rebook_or_fail(
        first,
        listing,
        resale_event(),
        listing_id=listing_id,
        new_order_id="ord_2",
        ticket_id="tkt_1",
        now=LATER,
        calendar=CALENDAR,
        rules=RULES,
        seller=seller,
    )


@pytest.mark.parametrize(
    "seller",
    [
        Seller("usr_other", vacation_until=LATER.date() + timedelta(days=3)),
        Seller("usr_other", standing="suspended"),
    ],
)
def test_a_rebook_on_a_seller_away_or_suspended_fails_with_the_reason(seller):
    other = event_listing(id="lst_2", seller_id="usr_other")

    done = rebooked_or_failed(backed_out(), other, seller=seller)

    assert not isinstance(done, Rebooking)
    (failed,) = done.events
    assert failed.reason.startswith(("The seller is away until", "This seller cannot take"))


@pytest.mark.parametrize(
    "listing",
    [
        event_listing(id="lst_2", seller_id="usr_other", quantity_available=0),  # sold out
        event_listing(id="lst_2", seller_id="usr_other", event_id="evt_9"),  # not the event's
        None,  # gone
    ],
)
def test_a_rebook_orders_cannot_place_tells_support_and_the_buyer(listing):
    first = backed_out()

    done = rebooked_or_failed(first, listing)

    assert not isinstance(done, Rebooking)
    (failed,) = done.events
    assert failed.type == "marketplace.order.rebook_failed.v1"
    assert (failed.order_id, failed.ticket_id, failed.new_listing_id) == (
        first.id,
        "tkt_1",
        "lst_2",
    )
    assert failed.reason and failed.event.name == "Nils Frahm live"
    assert done.order.replaced_by is None and done.order.status is first.status
    assert "a specialist is finding you another or refunding you" in done.order.timeline[-1].detail


def test_a_replayed_rebook_is_not_a_failure():
    first = backed_out()
    done = rebooked_or_failed(first, event_listing(id="lst_2", seller_id="usr_other"))
    assert isinstance(done, Rebooking)
    with pytest.raises(DomainError):
        rebooked_or_failed(done.first.order, event_listing(id="lst_3", seller_id="usr_third"))
