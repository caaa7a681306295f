"""A surge in a seller's orders (seller standards, #19) opens a seller ticket for an agent."""

from datetime import UTC, datetime

from contracts.seller_standards import SellerOrderSurge
from support.domain.triggers import TRIGGERS, ticket_asked_by

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_surge_in_a_sellers_orders_opens_a_ticket_on_the_seller():
    surge = SellerOrderSurge(
        seller_id="usr_seller", recent_orders=14, recent_days=7, ratio=7.0, detected_at=NOW
    )
    asked = ticket_asked_by(surge, NOW)
    assert SellerOrderSurge in TRIGGERS and asked is not None
    assert (asked.order_id, asked.seller_id, asked.reason) == (None, "usr_seller", "seller_review")
    assert asked.title == "Order surge: 14 orders in 7 days"
