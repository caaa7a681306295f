"""Events from other services: payments' facts about the card and the money, sellers'
standing, and support's tickets. An event that no longer fits the order's state is ignored,
not an error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from contracts import Event
from contracts.payments import (
    PaymentAuthorizationFailed,
    PaymentAuthorizationRenewed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDisputeClosed,
    PaymentHoldLapsed,
    PaymentRefunded,
    PaymentReleased,
    PaymentVoided,
)
from contracts.seller_standards import SellerStandingChanged
from contracts.support import TicketClosed, TicketEscalated, TicketOpened, TicketResolved
from orders import domain
from orders.db import OrdersUnit
from orders.domain import Order, Outcome, PaymentState, Status, TransitionRefused
from orders.domain.payment_facts import record_dispute_closed
from orders.handlers.context import OrdersContext, keep
from orders.handlers.rebooking import on_rebook
from servicekit.messaging.events import EventRouter, Received


async def _on_order(
    ctx: OrdersContext, uow: OrdersUnit, order_id: str, decide: Callable[[Order], Outcome]
) -> None:
    order = await uow.orders.get(order_id)
    if order is None:
        return  # not an order of ours
    try:
        outcome = decide(order)
    except TransitionRefused:
        return  # already moved on: a state-machine guard, not an error
    if outcome.order is order and not outcome.events:
        return  # nothing to record (a fact that no longer fits, or changes nothing shown)
    await keep(ctx, uow, order, outcome)


# Payments' facts about an order's card and money: each event type -> what the domain makes
# of it (the order, the event, now). One handler folds them all in.
PaymentFact = Callable[[Order, Any, datetime], Outcome]
PAYMENT_FACTS: dict[type[Event], PaymentFact] = {
    PaymentAuthorized: lambda order, event, now: domain.record_authorization(
        order, event.amount, now
    ),
    PaymentAuthorizationFailed: lambda order, event, now: domain.record_authorization_failure(
        order, event.reason, now
    ),
    # The hold could not be renewed: the order cannot ship until the buyer's new card, which
    # must come by the lapsed hold's expiry.
    PaymentHoldLapsed: lambda order, event, now: domain.record_hold_lapsed(
        order, now, event.expires_at
    ),
    PaymentCaptured: lambda order, event, now: domain.record_payment(
        order, PaymentState.CAPTURED, now, captured=event.amount
    ),
    # The hold was released. Following orders' own cancel, decline or expiry that is only
    # recorded (no second OrderCancelled); under an order still open, it ends the order.
    PaymentVoided: lambda order, event, now: domain.record_void(order, event.reason, now)[0],
    PaymentReleased: lambda order, event, now: domain.record_payment(
        order, PaymentState.RELEASED, now, released=event.amount
    ),
    PaymentRefunded: lambda order, event, now: domain.record_refund(
        order, event.total_refunded, event.full, now
    ),
    # The buyer's bank decided a chargeback: lost in full ends the order refunded; won (or
    # lost in part) ends a disputed order, the seller paid the rest.
    PaymentDisputeClosed: lambda order, event, now: record_dispute_closed(
        order, event.outcome == "won", event.refundable, now
    ),
}


async def on_payment_fact(ctx: OrdersContext, received: Received[Any], uow: OrdersUnit) -> None:
    event, now = received.event, ctx.clock.now()
    fact = PAYMENT_FACTS[type(event)]
    await _on_order(ctx, uow, event.order_id, lambda order: fact(order, event, now))


async def on_authorization_renewed(
    ctx: OrdersContext, received: Received[PaymentAuthorizationRenewed], uow: OrdersUnit
) -> None:
    """A new hold (after a lapse, the buyer's new card): the seller may ship again, their
    dates moved by the time the card was lapsed (the rules and calendar say the deadline)."""
    event, now = received.event, ctx.clock.now()
    await _on_order(
        ctx,
        uow,
        event.order_id,
        lambda order: domain.record_authorization_renewed(
            order, event.amount, now, ctx.rules, ctx.calendar
        ),
    )


async def on_standing_changed(
    ctx: OrdersContext, received: Received[SellerStandingChanged], uow: OrdersUnit
) -> None:
    event = received.event
    await uow.sellers.set_standing(event.seller_id, event.standing, ctx.clock.now())


async def on_ticket_opened(
    ctx: OrdersContext, received: Received[TicketOpened], uow: OrdersUnit
) -> None:
    event = received.event
    if event.order_id is None:
        return  # a ticket about a seller, not an order
    await uow.order_tickets.opened(
        ticket_id=event.ticket_id,
        order_id=event.order_id,
        reason=event.reason,
        priority=event.priority,
        status="open",
        opened_at=event.opened_at,
        updated_at=ctx.clock.now(),
    )


async def on_ticket_escalated(
    ctx: OrdersContext, received: Received[TicketEscalated], uow: OrdersUnit
) -> None:
    event = received.event
    await uow.order_tickets.changed(
        event.ticket_id, ctx.clock.now(), status="escalated", priority=event.priority
    )


async def on_ticket_resolved(
    ctx: OrdersContext, received: Received[TicketResolved], uow: OrdersUnit
) -> None:
    """The ticket shows as resolved; the resolutions that move the order move it. Support
    refused beforehand what the order's status did not allow, so one that no longer fits
    (the order moved on meanwhile) is ignored, like any event that no longer fits."""
    event, now = received.event, ctx.clock.now()
    await uow.order_tickets.changed(event.ticket_id, now, status="resolved")
    if event.action == "rebook":
        await on_rebook(ctx, event, uow)  # a new order continues the first (#20)
        return
    decide = _resolution_outcome(ctx, event, now)
    if decide is not None:
        await _on_order(ctx, uow, event.order_id, decide)


async def on_ticket_closed(
    ctx: OrdersContext, received: Received[TicketClosed], uow: OrdersUnit
) -> None:
    """A resolved ticket left quiet closed: the order's view shows it closed."""
    await uow.order_tickets.changed(received.event.ticket_id, ctx.clock.now(), status="closed")


def _resolution_outcome(
    ctx: OrdersContext, event: TicketResolved, now: datetime
) -> Callable[[Order], Outcome] | None:
    match event.action:
        case "reship":
            return lambda order: domain.reship(order, event.ticket_id, now, ctx.calendar, ctx.rules)
        case "return":
            return lambda order: domain.start_return(
                order, event.note, now, ctx.calendar, ctx.rules
            )
        case "cancel":
            return lambda order: domain.cancel_by_support(order, now)
        case "no_action" | "partial_refund":
            # Only a dispute ends here; on any other order these change nothing.
            partly = event.action == "partial_refund"
            return lambda order: (
                domain.settle_dispute(order, now, partly_refunded=partly)
                if order.status is Status.DISPUTED
                else Outcome(order)
            )
    return None  # refund, credit, rebook: payments' (a full refund ends the order there)


def event_router(ctx: OrdersContext) -> EventRouter[OrdersUnit]:
    router = EventRouter[OrdersUnit]()
    for event_type in PAYMENT_FACTS:
        router.add(event_type, partial(on_payment_fact, ctx))
    router.add(PaymentAuthorizationRenewed, partial(on_authorization_renewed, ctx))
    router.add(SellerStandingChanged, partial(on_standing_changed, ctx))
    router.add(TicketOpened, partial(on_ticket_opened, ctx))
    router.add(TicketEscalated, partial(on_ticket_escalated, ctx))
    router.add(TicketResolved, partial(on_ticket_resolved, ctx))
    router.add(TicketClosed, partial(on_ticket_closed, ctx))
    return router
