"""Events published by the orders service on `orders.events`, keyed by order id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event
from contracts.money import Money
from contracts.topics import ORDERS_EVENTS

Fulfilment = Literal["seller_ships", "warehouse", "transfer"]


class OrderPlaced(Event, type="marketplace.order.placed.v1", topic=ORDERS_EVENTS):
    """A buyer placed an order; payments pre-authorizes the card for `total`."""

    order_id: str
    buyer_id: str
    seller_id: str
    listing_id: str
    quantity: int = Field(ge=1)
    unit_price: Money
    total: Money
    fulfilment: Fulfilment
    payment_method: str = Field(description="Stripe PaymentMethod id chosen by the buyer")
    placed_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class OrderCancelled(Event, type="marketplace.order.cancelled.v1", topic=ORDERS_EVENTS):
    """An order ended before fulfilment; any authorization on it must be voided."""

    order_id: str
    buyer_id: str
    seller_id: str
    reason: str
    cancelled_by: Literal["buyer", "seller", "system"]
    cancelled_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id
