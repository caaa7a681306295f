"""Support's reactions to the platform's events: the tickets they open (`domain.triggers`),
what support learns of each order's money, and the buyers' messages that start the seller's
24-hour clock."""

from __future__ import annotations

from functools import partial
from typing import Any

from contracts.orders import (
    ListingUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderDeclined,
    OrderDelivered,
    OrderDeliveryFailed,
    OrderExchangeRequested,
    OrderMessagePosted,
    OrderPlaced,
    OrderProblemReported,
    OrderRebookFailed,
    OrderRedeliveryRequested,
    OrderReshipRequested,
    OrderReturned,
    OrderReturnedToSender,
    OrderReturnRequested,
    OrderSellerBackedOut,
    OrderShipped,
)
from contracts.payments import (
    PaymentAuthorizationFailed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCaptureFailed,
    PaymentDisputeClosed,
    PaymentDisputeOpened,
    PaymentRefunded,
    PaymentReleased,
    PaymentVoided,
)
from servicekit.messaging.events import EventRouter, Received
from support.db import SupportUnit
from support.domain.order_money import PaymentFact, money_seen
from support.domain.triggers import TRIGGERS, ticket_asked_by
from support.handlers.context import SupportContext, open_automatic
from support.handlers.rebooking import on_listing_updated, on_rebook_failed

# Facts about an order's money that support only learns from (no ticket).
_MONEY_FACTS = (
    OrderShipped,
    PaymentAuthorized,
    PaymentAuthorizationFailed,
    PaymentCaptured,
    PaymentVoided,
    PaymentReleased,
    PaymentRefunded,
    PaymentDisputeClosed,
)
# Where each of orders' events leaves the order (support's `orders.status`, which
# `domain.possible` reads). Orders' events for one order arrive in order (one partition).
ORDER_STATUS_AFTER: dict[type, str] = {
    OrderPlaced: "placed",
    OrderAccepted: "accepted",
    OrderReshipRequested: "accepted",
    OrderDeclined: "declined",
    OrderCancelled: "cancelled",
    OrderSellerBackedOut: "cancelled",
    OrderShipped: "shipped",
    OrderRedeliveryRequested: "shipped",
    OrderDeliveryFailed: "delivery_failed",
    OrderDelivered: "delivered",
    OrderReturnedToSender: "returned_to_sender",
    OrderProblemReported: "disputed",
    OrderCompleted: "completed",
    OrderReturnRequested: "return_requested",
    OrderReturned: "returned",
    OrderExchangeRequested: "exchange_requested",
}
# A full refund ends these (orders: `refunded`).
_ENDED_BY_FULL_REFUND = ("returned", "disputed", "returned_to_sender")

# Facts that also ask for a ticket: a failed capture leaves nothing to refund, a chargeback
# takes money refunds can no longer return, a return a deadline decided is recorded.
_MONEY_FACTS_OPENING_TICKETS = (PaymentCaptureFailed, PaymentDisputeOpened, OrderReturned)


async def on_order_placed(
    ctx: SupportContext, received: Received[OrderPlaced], uow: SupportUnit
) -> None:
    event = received.event
    await uow.orders.remember(
        order_id=event.order_id,
        buyer_id=event.buyer_id,
        seller_id=event.seller_id,
        listing_id=event.listing_id,
        fulfilment=event.fulfilment,
        total_minor=event.total.amount_minor,
        currency=event.total.currency,
        placed_at=event.placed_at,
    )
    await _money_seen(uow, event)


async def _money_seen(uow: SupportUnit, event: PaymentFact) -> None:
    moneys = uow.order_moneys
    await moneys.save(money_seen(await moneys.locked(event.order_id), event))
    await _status_seen(uow, event)


async def _status_seen(uow: SupportUnit, event: Any) -> None:
    """Where the order is now, after one of orders' events (or a full refund)."""
    orders = uow.orders
    status = ORDER_STATUS_AFTER.get(type(event))
    if isinstance(event, PaymentRefunded) and event.full:
        order = await orders.get(event.order_id)
        if order is not None and order["status"] in _ENDED_BY_FULL_REFUND:
            status = "refunded"
    if status is not None:
        await orders.set_status(event.order_id, status)


async def on_order_status(ctx: SupportContext, received: Received[Any], uow: SupportUnit) -> None:
    await _status_seen(uow, received.event)


async def on_money_fact(
    ctx: SupportContext, received: Received[PaymentFact], uow: SupportUnit
) -> None:
    await _money_seen(uow, received.event)


async def on_trigger(ctx: SupportContext, received: Received[Any], uow: SupportUnit) -> None:
    """Open (or count on the open one) the ticket the event asks for, if it asks for one."""
    await _status_seen(uow, received.event)
    asked = ticket_asked_by(received.event, ctx.clock.now())
    if asked is not None:
        await open_automatic(ctx, uow, asked)


async def on_money_trigger(ctx: SupportContext, received: Received[Any], uow: SupportUnit) -> None:
    await _money_seen(uow, received.event)
    await on_trigger(ctx, received, uow)


async def on_message_posted(
    ctx: SupportContext, received: Received[OrderMessagePosted], uow: SupportUnit
) -> None:
    """A buyer's message starts the seller's 24-hour clock; the seller's reply stops it."""
    event = received.event
    waiting = uow.awaiting_replies
    if event.sender_role == "buyer":
        await waiting.wait(event.order_id, event.occurred_at, event.message_id)
    else:
        await waiting.answered(event.order_id)


def event_router(ctx: SupportContext) -> EventRouter[SupportUnit]:
    router = EventRouter[SupportUnit]()
    router.add(OrderPlaced, partial(on_order_placed, ctx))
    router.add(OrderMessagePosted, partial(on_message_posted, ctx))
    router.add(ListingUpdated, partial(on_listing_updated, ctx))
    router.add(OrderRebookFailed, partial(on_rebook_failed, ctx))
    for fact in _MONEY_FACTS:
        router.add(fact, partial(on_money_fact, ctx))
    for trigger in TRIGGERS:
        handler = on_money_trigger if trigger in _MONEY_FACTS_OPENING_TICKETS else on_trigger
        router.add(trigger, partial(handler, ctx))
    handled = {OrderPlaced, *_MONEY_FACTS, *TRIGGERS}
    for fact in ORDER_STATUS_AFTER:
        if fact not in handled:  # only where the order is now
            router.add(fact, partial(on_order_status, ctx))
    return router
