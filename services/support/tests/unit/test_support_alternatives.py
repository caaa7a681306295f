"""Alternatives for a buyer whose seller backed out of an event's ticket (#20), pure: which
listings are offered (same event, active, another seller, enough left, the order's currency,
cheapest first) and when an agent's rebook is refused (409 listing the alternatives)."""

import pytest

from support.domain.alternatives import (
    ListingFact,
    alternatives,
    check_rebook,
    rebook_case,
)
from support.domain.errors import ResolutionImpossible
from support.domain.order_money import OrderMoney

from support_test_helpers import SELLER, eur, ticket

EVENT = {"event_id": "evt_1", "name": "Gig"}


def backed_out(quantity=2):
    return ticket("seller_backed_out", context={"event": EVENT, "quantity": quantity})


def listing(listing_id, price, *, seller="usr_other", event="evt_1", left=2, status="active"):
    return ListingFact(listing_id, seller, event, eur(price), left, status, 1)


LISTINGS = [
    listing("lst_dear", 9000),
    listing("lst_cheap", 6000, seller="usr_third"),
    listing("lst_own", 1000, seller=SELLER),  # the seller who backed out
    listing("lst_other_event", 1000, event="evt_2"),
    listing("lst_paused", 1000, status="paused"),
    listing("lst_sold_out", 1000, left=0, status="sold_out"),
    listing("lst_too_few", 1000, left=1),
    ListingFact(
        "lst_dollars",
        "usr_other",
        "evt_1",
        eur(1000).model_copy(update={"currency": "USD"}),
        2,
        "active",
        1,
    ),
]


def test_the_other_sellers_active_listings_of_the_event_are_offered_cheapest_first():
    case = rebook_case(backed_out())

    found = alternatives(case, LISTINGS, "EUR")

    assert [a.listing_id for a in found] == ["lst_cheap", "lst_dear"]


def test_only_a_backed_out_ticket_for_an_event_is_rebooked():
    assert rebook_case(ticket("shipment_overdue", context={"event": EVENT})) is None
    assert rebook_case(ticket("seller_backed_out", context={"event_date": "2026-12-01"})) is None


@pytest.mark.parametrize(
    "listing_id",
    ["lst_own", "lst_other_event", "lst_paused", "lst_sold_out", "lst_too_few", "lst_x", None],
)
def test_a_rebook_on_anything_but_an_alternative_is_refused_listing_them(listing_id):
    case = rebook_case(backed_out())
    found = alternatives(case, LISTINGS, "EUR")

    with pytest.raises(ResolutionImpossible) as refused:
        check_rebook(listing_id, case, found, OrderMoney("ord_1", "EUR", 5000, 5000))

    assert refused.value.status == 409
    assert [a["listing_id"] for a in refused.value.extra["alternatives"]] == [
        "lst_cheap",
        "lst_dear",
    ]


def test_a_rebook_is_refused_on_another_ticket_or_when_the_money_went_back():
    case = rebook_case(backed_out())
    found = alternatives(case, LISTINGS, "EUR")
    with pytest.raises(ResolutionImpossible):
        check_rebook("lst_cheap", None, [], None)
    voided = OrderMoney("ord_1", "EUR", 5000, 5000, voided=True)
    with pytest.raises(ResolutionImpossible):
        check_rebook("lst_cheap", case, found, voided)
    assert check_rebook("lst_cheap", case, found, OrderMoney("ord_1", "EUR", 5000, 5000)) == (
        "lst_cheap"
    )
