"""Who sees a listing: its seller always, anyone else only while it is active and the seller's
listings are not hidden. Changing a listing one can see but does not own is forbidden (403),
one cannot see is not found (404)."""

from datetime import date, timedelta

import pytest

from orders.domain import ListingStatus, Seller

from orders_test_helpers import listing

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("status", "seller", "visible"),
    [
        (ListingStatus.ACTIVE, Seller("usr_seller"), True),
        (ListingStatus.PAUSED, Seller("usr_seller"), False),
        (ListingStatus.SOLD_OUT, Seller("usr_seller"), False),
        (
            ListingStatus.ACTIVE,
            Seller("usr_seller", vacation_until=TODAY + timedelta(days=3)),
            False,
        ),
        (ListingStatus.ACTIVE, Seller("usr_seller", vacation_until=TODAY), True),
        (ListingStatus.ACTIVE, Seller("usr_seller", standing="suspended"), False),
        (ListingStatus.ACTIVE, Seller("usr_seller", standing="at_risk"), True),
        (ListingStatus.ACTIVE, None, False),
    ],
)
def test_anyone_else_sees_an_active_listing_of_a_seller_not_hidden(status, seller, visible):
    shown = listing(seller_id="usr_seller", status=status)
    assert shown.visible_to("usr_someone", seller, TODAY) is visible
    assert shown.visible_to("usr_seller", seller, TODAY)
