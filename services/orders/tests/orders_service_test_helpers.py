"""Builders for the orders tests through the handlers, the database and the HTTP API
(fixtures are in conftest.py; the domain's values and builders in orders_test_helpers.py)."""

import json
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from contracts import Event, Money
from contracts.payments import (
    PaymentAuthorizationFailed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDisputeClosed,
    PaymentRefunded,
    PaymentReleased,
    PaymentVoided,
)
from contracts.seller_standards import SellerStandingChanged
from orders import handlers
from orders.domain import Fulfilment, Listing, Order, Status
from orders.handlers import Who
from servicekit.messaging.db import outbox
from servicekit.messaging.events import Received
from servicekit.testing import received as kit_received

from orders_test_helpers import ADDRESS, EVENT_DAY, NOW, PRICE

# Who calls the handlers.
BUYER = Who("usr_buyer", "buyer")
SELLER = Who("usr_seller", "seller")
OTHER_BUYER = Who("usr_other_buyer", "buyer")
OTHER_SELLER = Who("usr_other_seller", "seller")
AGENT = Who("usr_agent", "agent")
OPERATOR = Who("usr_operator", "operator")
THREE_PL = Who("usr_3pl", "carrier", "DHL")


# --- events handed to handlers ----------------------------------------------------------------


def received(event: Event) -> Received[Any]:
    """`event` as the consumer hands it to a handler, published by payments."""
    return kit_received(event, source="payments", time=NOW)


def authorized(order_id: str, amount: Money = PRICE) -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=order_id,
        payment_intent_id="pi_test",
        amount=amount,
        authorized_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )


def failed(order_id: str, amount: Money = PRICE) -> PaymentAuthorizationFailed:
    return PaymentAuthorizationFailed(
        order_id=order_id,
        amount=amount,
        reason="Your card was declined.",
        decline_code="card_declined",
        failed_at=NOW,
    )


def standing_changed(seller_id: str, standing: str, previous: str) -> SellerStandingChanged:
    return SellerStandingChanged(
        seller_id=seller_id,
        standing=standing,  # type: ignore[arg-type]
        previous=previous,  # type: ignore[arg-type]
        reason="late shipments",
        changed_at=NOW,
    )


HANDLERS = {
    **dict.fromkeys(
        (
            PaymentAuthorized,
            PaymentAuthorizationFailed,
            PaymentCaptured,
            PaymentVoided,
            PaymentReleased,
            PaymentRefunded,
            PaymentDisputeClosed,
        ),
        handlers.on_payment_fact,
    ),
    SellerStandingChanged: handlers.on_standing_changed,
}


async def handle(ctx: Any, event: Event) -> None:
    """Deliver `event` as the consumer does: to its handler, in one unit of work."""
    async with ctx.db.unit_of_work() as uow:
        await HANDLERS[type(event)](ctx, received(event), uow)
        await uow.commit()


# --- the database -----------------------------------------------------------------------------


async def outbox_rows(engine: Any) -> list[Any]:
    async with engine.connect() as connection:
        return (await connection.execute(select(outbox).order_by(outbox.c.id))).all()


async def event_types(engine: Any) -> list[str]:
    return [row.event_type for row in await outbox_rows(engine)]


async def emitting(engine: Any, awaitable: Any) -> tuple[Any, list[Any]]:
    """Await `awaitable`; its result and the outbox rows it added."""
    before = len(await outbox_rows(engine))
    result = await awaitable
    return result, (await outbox_rows(engine))[before:]


def body(row: Any) -> dict[str, Any]:
    return json.loads(row.payload)


def data(row: Any) -> dict[str, Any]:
    return body(row)["data"]


async def stored_listing(ctx: Any, listing_id: str) -> Listing | None:
    async with ctx.db.unit_of_work() as uow:
        return await uow.listings.get(listing_id)


async def stored_order(ctx: Any, order_id: str) -> Order | None:
    async with ctx.db.unit_of_work() as uow:
        return await uow.orders.get(order_id)


async def visible_listings(ctx: Any, today: date, seller_id: str | None = None) -> set[str]:
    """The ids of the listings buyers browse (hidden ones left out)."""
    async with ctx.db.unit_of_work() as uow:
        page = await uow.listings.page(
            seller_id=seller_id, include_hidden=False, today=today, limit=100, after=None
        )
    return {item.id for item in page}


async def all_listings(ctx: Any, today: date, seller_id: str | None = None) -> set[str]:
    async with ctx.db.unit_of_work() as uow:
        page = await uow.listings.page(
            seller_id=seller_id, include_hidden=True, today=today, limit=100, after=None
        )
    return {item.id for item in page}


# --- orders through the handlers --------------------------------------------------------------


async def new_listing(ctx: Any, **overrides: Any) -> Listing:
    arguments: dict[str, Any] = {
        "seller_id": "usr_seller",
        "title": "Vintage film camera",
        "price": PRICE,
        "quantity_available": 3,
        "fulfilment": Fulfilment.SELLER_SHIPS,
        "handling_days": 2,
        "event_date": None,
    }
    arguments.update(overrides)
    return await handlers.create_listing(ctx, **arguments)


async def new_order(
    ctx: Any, listing_id: str, quantity: int = 1, buyer_id: str = "usr_buyer", **overrides: Any
) -> Order:
    arguments: dict[str, Any] = {
        "buyer_id": buyer_id,
        "listing_id": listing_id,
        "quantity": quantity,
        "shipping_address": ADDRESS,
        "payment_method": "pm_card_visa",
    }
    arguments.update(overrides)
    return await handlers.place_order(ctx, **arguments)


def tracking_of(order_id: str) -> str:
    return f"TRK-{order_id[-8:]}"


async def ship_order(ctx: Any, order_id: str, who: Who = SELLER) -> Order:
    order = await stored_order(ctx, order_id)
    assert order is not None
    if order.fulfilment is Fulfilment.TRANSFER:
        return await handlers.ship(
            ctx, order_id, who, carrier=None, tracking_number=None, transfer_reference="TIX-42"
        )
    return await handlers.ship(
        ctx,
        order_id,
        who,
        carrier="DHL",
        tracking_number=tracking_of(order_id),
        transfer_reference=None,
    )


async def report(ctx: Any, order_id: str, status: str) -> Order:
    """The carrier reports `status` for the order's parcel, as of now."""
    order = await stored_order(ctx, order_id)
    assert order is not None and order.tracking_number is not None
    return await handlers.carrier_event(
        ctx, order.tracking_number, status, ctx.clock.now(), carrier=order.carrier
    )


async def order_through(
    ctx: Any,
    status: Status,
    fulfilment: Fulfilment = Fulfilment.SELLER_SHIPS,
    *,
    quantity: int = 1,
    stock: int = 3,
) -> tuple[Listing, Order]:
    """A new listing and an order on it, brought to `status` through the handlers at the
    clock's current time."""
    transfer = fulfilment is Fulfilment.TRANSFER
    the_listing = await new_listing(
        ctx,
        fulfilment=fulfilment,
        quantity_available=stock,
        event_date=EVENT_DAY if transfer else None,
    )
    address = None if transfer else ADDRESS
    order = await new_order(ctx, the_listing.id, quantity, shipping_address=address)
    if status is not Status.PLACED:
        await handle(ctx, authorized(order.id, order.total))
    if status in (Status.PLACED, Status.AWAITING_SELLER):
        return the_listing, await stored_order(ctx, order.id)  # type: ignore[return-value]
    await handlers.accept(ctx, order.id, SELLER)
    if status is Status.ACCEPTED:
        return the_listing, await stored_order(ctx, order.id)  # type: ignore[return-value]
    await ship_order(ctx, order.id)
    if status is Status.COMPLETED and fulfilment is Fulfilment.TRANSFER:
        await handlers.confirm_receipt(ctx, order.id, BUYER)
    elif status is Status.DELIVERY_FAILED:
        await report(ctx, order.id, "delivery_failed")
    elif status is not Status.SHIPPED:
        await report(ctx, order.id, "delivered")
        if status is Status.COMPLETED:
            await handlers.confirm_receipt(ctx, order.id, BUYER)
        elif status is Status.RETURN_REQUESTED:
            await handlers.request_return(ctx, order.id, BUYER, "not for me")
        elif status is Status.EXCHANGE_REQUESTED:
            await handlers.request_exchange(ctx, order.id, BUYER, "wrong size", "size 42")
        else:
            assert status is Status.DELIVERED, status
    saved = await stored_order(ctx, order.id)
    assert saved is not None and saved.status is status
    return the_listing, saved


ORDER_EVENT = "marketplace.order."  # the prefix of every order event type


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def assert_unchanged(ctx: Any, engine: Any, order: Order, outbox_before: list[str]) -> None:
    """A refused command left the order and the outbox as they were."""
    after = await stored_order(ctx, order.id)
    assert (after.status, after.version) == (order.status, order.version)
    assert after.timeline == order.timeline
    assert await event_types(engine) == outbox_before


# --- the HTTP API, with the headers the gateway forwards -------------------------------------


def client(app: FastAPI, who: Who) -> httpx.AsyncClient:
    headers = {"X-Principal-Id": who.id, "X-Principal-Role": who.role}
    if who.carrier:
        headers["X-Principal-Carrier"] = who.carrier
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://orders", headers=headers)


async def call(app: FastAPI, who: Who, method: str, path: str, body: Any = None) -> httpx.Response:
    async with client(app, who) as http:
        return await http.request(method, path, json=body)
