"""Shared values for the servicekit tests (fixtures are in conftest.py)."""

from datetime import UTC, datetime

from sqlalchemy import Column, MetaData, String, Table

from contracts import Money
from contracts.orders import OrderPlaced

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

test_metadata = MetaData()
handled_orders = Table(
    "handled_orders",
    test_metadata,
    Column("event_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
)


def placed(order_id: str, quantity: int = 1) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        buyer_id="usr_b",
        seller_id="usr_s",
        listing_id="lst_1",
        quantity=quantity,
        unit_price=Money(amount_minor=500, currency="EUR"),
        total=Money(amount_minor=500 * quantity, currency="EUR"),
        fulfilment="seller_ships",
        payment_method="pm_card_visa",
        placed_at=NOW,
    )
