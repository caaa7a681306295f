"""Support's use cases: tickets opened by the platform's events, by buyers and sellers, the
agents' conversation and resolutions, and the clocks (SLA breaches, unanswered messages)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from contracts import Money
from contracts.orders import (
    OrderDeliveryFailed,
    OrderMessagePosted,
    OrderPlaced,
    OrderProblemReported,
    OrderReturned,
    OrderReturnedToSender,
    OrderSellerBackedOut,
    OrderShipmentOverdue,
    OrderShipped,
)
from contracts.payments import (
    PaymentAuthorizationExpiring,
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
from contracts.seller_standards import SellerStandingChanged
from contracts.support import (
    ResolutionAction,
    TicketEscalated,
    TicketOpened,
    TicketReason,
    TicketResolved,
)
from servicekit.calendar import BusinessCalendar
from servicekit.clock import Clock
from servicekit.events import EventRouter, Received
from servicekit.failures import ConcurrentUpdate
from servicekit.http import not_found
from servicekit.uow import Database, UnitOfWork
from support import domain
from support.db import AwaitingReplies, Messages, OrderMoneys, Orders, Tickets
from support.domain import SYSTEM, PaymentFact, SlaTargets, Ticket


@dataclass
class SupportContext:
    db: Database
    clock: Clock
    calendar: BusinessCalendar
    reply_within: timedelta = timedelta(hours=24)
    targets: dict[Any, SlaTargets] = field(default_factory=lambda: dict(domain.DEFAULT_SLA))
    batch_size: int = 100
    credit_limit_ratio: Decimal = Decimal(1)  # of the order's total, all credits counted


def new_ticket_id() -> str:
    return f"tkt_{uuid.uuid4().hex[:24]}"


def _opened(ticket: Ticket) -> TicketOpened:
    return TicketOpened(
        ticket_id=ticket.id,
        order_id=ticket.order_id,
        buyer_id=ticket.buyer_id,
        seller_id=ticket.seller_id,
        reason=ticket.reason,
        priority=ticket.priority,
        title=ticket.title,
        opened_by=ticket.opened_by,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        opened_at=ticket.opened_at,
    )


def _escalated(ticket: Ticket, why: Any, now: datetime) -> TicketEscalated:
    return TicketEscalated(
        ticket_id=ticket.id,
        order_id=ticket.order_id,
        buyer_id=ticket.buyer_id,
        seller_id=ticket.seller_id,
        reason=ticket.reason,
        priority=ticket.priority,
        why=why,
        escalated_at=now,
    )


async def open_automatic(
    ctx: SupportContext,
    uow: UnitOfWork,
    *,
    order_id: str | None,
    seller_id: str,
    reason: TicketReason,
    context: dict[str, Any],
    respond_before: datetime | None = None,
) -> Ticket:
    """Open a `system` ticket, or count the slip on the one already open for this order (or
    seller, when `order_id` is None) and reason: one ticket per order and reason."""
    tickets = Tickets(uow.session)
    now = ctx.clock.now()
    existing = await tickets.open_for(order_id or seller_id, reason)
    if existing is not None:
        repeated = await tickets.save(domain.repeat(existing, context))
        uow.emit(_escalated(repeated, "repeated", now))
        return repeated
    order = await Orders(uow.session).get(order_id) if order_id else None
    if order is None and order_id is not None:
        # A payment event can overtake its order's `order.placed` (another topic): the event
        # itself carries the parties and the amount's currency.
        amount = context.get("amount") or {}
        order = {
            "order_id": order_id,
            "buyer_id": context.get("buyer_id"),
            "currency": amount.get("currency"),
        }
    ticket = domain.open_ticket(
        new_ticket_id(),
        order=order,
        seller_id=seller_id,
        reason=reason,
        opened_by=SYSTEM,
        now=now,
        calendar=ctx.calendar,
        context=context,
        respond_before=respond_before,
        targets=ctx.targets,
    )
    if not await tickets.add(ticket):
        raise RuntimeError(f"a ticket for {order_id}/{reason} was opened concurrently")
    uow.emit(_opened(ticket))
    return ticket


def _context(event: Any) -> dict[str, Any]:
    return event.model_dump(mode="json")


# --- events from orders and payments ------------------------------------------------------


async def on_order_placed(
    ctx: SupportContext, received: Received[OrderPlaced], uow: UnitOfWork
) -> None:
    event = received.event
    await Orders(uow.session).remember(
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


async def _money_seen(uow: UnitOfWork, event: PaymentFact) -> None:
    moneys = OrderMoneys(uow.session)
    await moneys.save(domain.money_seen(await moneys.locked(event.order_id), event))


async def on_money_fact(
    ctx: SupportContext, received: Received[PaymentFact], uow: UnitOfWork
) -> None:
    await _money_seen(uow, received.event)


async def on_capture_failed(
    ctx: SupportContext, received: Received[PaymentCaptureFailed], uow: UnitOfWork
) -> None:
    """Nothing will be captured, so nothing can be refunded; an agent takes it up."""
    await _money_seen(uow, received.event)
    await _on("capture_failed")(ctx, received, uow)


async def on_dispute_opened(
    ctx: SupportContext, received: Received[PaymentDisputeOpened], uow: UnitOfWork
) -> None:
    """The chargeback takes money refunds can no longer return, and needs an agent."""
    await _money_seen(uow, received.event)
    await _on("chargeback")(ctx, received, uow)


def _on(reason: TicketReason, when: Callable[[Any], bool] = lambda _: True) -> Any:
    """A handler that opens a `reason` ticket for the event's order when `when` holds."""

    async def handle(ctx: SupportContext, received: Received[Any], uow: UnitOfWork) -> None:
        event = received.event
        if when(event):
            await open_automatic(
                ctx,
                uow,
                order_id=event.order_id,
                seller_id=event.seller_id,
                reason=reason,
                context=_context(event),
            )

    return handle


async def on_problem_reported(
    ctx: SupportContext, received: Received[OrderProblemReported], uow: UnitOfWork
) -> None:
    event = received.event
    reason: TicketReason = "problem_other" if event.reason == "other" else event.reason
    await open_automatic(
        ctx,
        uow,
        order_id=event.order_id,
        seller_id=event.seller_id,
        reason=reason,
        context=_context(event),
    )


async def on_seller_backed_out(
    ctx: SupportContext, received: Received[OrderSellerBackedOut], uow: UnitOfWork
) -> None:
    """Urgent; for a ticket to an event, the buyer needs an alternative before the event."""
    event = received.event
    respond_before = None
    if event.event_date:
        event_day = date.fromisoformat(event.event_date)
        respond_before = datetime.combine(
            event_day, time(0), tzinfo=ctx.clock.now().tzinfo
        ) - timedelta(hours=24)
    await open_automatic(
        ctx,
        uow,
        order_id=event.order_id,
        seller_id=event.seller_id,
        reason="seller_backed_out",
        context=_context(event),
        respond_before=respond_before,
    )


async def on_message_posted(
    ctx: SupportContext, received: Received[OrderMessagePosted], uow: UnitOfWork
) -> None:
    """A buyer's message starts the seller's 24-hour clock; the seller's reply stops it."""
    event = received.event
    waiting = AwaitingReplies(uow.session)
    if event.sender_role == "buyer":
        await waiting.wait(event.order_id, event.occurred_at, event.message_id)
    else:
        await waiting.answered(event.order_id)


async def on_standing_changed(
    ctx: SupportContext, received: Received[SellerStandingChanged], uow: UnitOfWork
) -> None:
    """A seller put under review gets a ticket: an agent looks at what drove it."""
    event = received.event
    if event.standing == "under_review":
        await open_automatic(
            ctx,
            uow,
            order_id=None,
            seller_id=event.seller_id,
            reason="seller_review",
            context=_context(event),
        )


def event_router(ctx: SupportContext) -> EventRouter:
    router = EventRouter()

    router.add(OrderPlaced, partial(on_order_placed, ctx))
    router.add(OrderShipmentOverdue, partial(_on("shipment_overdue"), ctx))
    router.add(OrderDeliveryFailed, partial(_on("delivery_failed", lambda e: e.attempts >= 2), ctx))
    router.add(OrderReturnedToSender, partial(_on("returned_to_sender"), ctx))
    router.add(OrderProblemReported, partial(on_problem_reported, ctx))
    router.add(OrderSellerBackedOut, partial(on_seller_backed_out, ctx))
    router.add(OrderMessagePosted, partial(on_message_posted, ctx))
    router.add(PaymentCaptureFailed, partial(on_capture_failed, ctx))
    router.add(PaymentAuthorizationExpiring, partial(_on("authorization_expiring"), ctx))
    router.add(PaymentDisputeOpened, partial(on_dispute_opened, ctx))
    for fact in (
        OrderReturned,
        OrderShipped,
        PaymentAuthorized,
        PaymentAuthorizationFailed,
        PaymentCaptured,
        PaymentVoided,
        PaymentReleased,
        PaymentRefunded,
        PaymentDisputeClosed,
    ):
        router.add(fact, partial(on_money_fact, ctx))
    router.add(SellerStandingChanged, partial(on_standing_changed, ctx))
    return router


# --- the clocks ---------------------------------------------------------------------------


async def escalate_breaches(ctx: SupportContext, now: datetime) -> int:
    """Every open ticket past an SLA target is escalated, once per target."""
    async with ctx.db.unit_of_work() as uow:
        due = await Tickets(uow.session).due_by(now, ctx.batch_size)
    for ticket in due:
        try:
            async with ctx.db.unit_of_work() as uow:
                missed = domain.breaches(ticket, now)
                escalated = await Tickets(uow.session).save(domain.escalate(ticket, missed))
                for why in missed:
                    uow.emit(_escalated(escalated, why, now))
                await uow.commit()
        except ConcurrentUpdate:
            pass  # an agent changed it meanwhile: it is looked at again on the next pass
    return len(due)


async def open_unanswered(ctx: SupportContext, now: datetime) -> int:
    """A buyer's message unanswered for 24 hours opens a ticket (one per order)."""
    async with ctx.db.unit_of_work() as uow:
        waiting = AwaitingReplies(uow.session)
        due = await waiting.waiting_since(now - ctx.reply_within, ctx.batch_size)
        for row in due:
            order = await Orders(uow.session).get(row.order_id)
            if order is None:  # a message on an order support never saw placed
                await waiting.answered(row.order_id)
                continue
            await open_automatic(
                ctx,
                uow,
                order_id=row.order_id,
                seller_id=order["seller_id"],
                reason="message_unanswered",
                context={"message_id": row.message_id, "since": row.since.isoformat()},
            )
            await waiting.answered(row.order_id)
        await uow.commit()
    return len(due)


def timer_jobs(ctx: SupportContext) -> dict[str, Any]:
    return {
        "sla-breaches": lambda now: escalate_breaches(ctx, now),
        "unanswered-messages": lambda now: open_unanswered(ctx, now),
    }


# --- commands (HTTP) ----------------------------------------------------------------------


async def open_by_customer(
    ctx: SupportContext, *, principal_id: str, role: str, order_id: str, title: str, body: str
) -> Ticket:
    if role not in ("buyer", "seller"):
        raise domain.NotAllowed("Buyers and sellers open tickets on their own orders")
    async with ctx.db.unit_of_work() as uow:
        order = await Orders(uow.session).get(order_id)
        if order is None or principal_id not in (order["buyer_id"], order["seller_id"]):
            raise not_found("order")
        now = ctx.clock.now()
        ticket = domain.open_ticket(
            new_ticket_id(),
            order=order,
            seller_id=order["seller_id"],
            reason="customer_request",
            opened_by=principal_id,
            now=now,
            calendar=ctx.calendar,
            title=title,
            targets=ctx.targets,
        )
        tickets = Tickets(uow.session)
        if await tickets.add(ticket):
            uow.emit(_opened(ticket))
        else:
            # One conversation per order: the question joins the open one, as a reply would.
            existing = await tickets.open_for(order_id, "customer_request")
            if existing is None:
                raise ConcurrentUpdate(f"the open question on {order_id} changed meanwhile")
            ticket = await tickets.save(
                domain.post_message(existing, principal_id, role, False, now)
            )
        await Messages(uow.session).add(ticket.id, principal_id, role, body, False, now)
        await uow.commit()
    return ticket


async def visible_ticket(uow: UnitOfWork, ticket_id: str, principal_id: str, role: str) -> Ticket:
    ticket = await Tickets(uow.session).get(ticket_id)
    if ticket is None or not ticket.visible_to(principal_id, role):
        raise not_found("ticket")
    return ticket


async def post_message(
    ctx: SupportContext, ticket_id: str, *, principal_id: str, role: str, body: str, internal: bool
) -> Ticket:
    async with ctx.db.unit_of_work() as uow:
        ticket = await visible_ticket(uow, ticket_id, principal_id, role)
        now = ctx.clock.now()
        saved = await Tickets(uow.session).save(
            domain.post_message(ticket, principal_id, role, internal, now)
        )
        await Messages(uow.session).add(ticket.id, principal_id, role, body, internal, now)
        await uow.commit()
    return saved


async def resolve(
    ctx: SupportContext,
    ticket_id: str,
    *,
    principal_id: str,
    role: str,
    action: ResolutionAction,
    amount: Money | None,
    note: str,
) -> Ticket:
    """Decide a ticket. A resolution that moves money is checked against what the order's
    money allows and counted there in the same transaction, so payments is never asked for
    what it cannot do; a refusal changes nothing."""
    async with ctx.db.unit_of_work() as uow:
        ticket = await visible_ticket(uow, ticket_id, principal_id, role)
        now = ctx.clock.now()
        decided = domain.resolve(
            ticket,
            action=action,
            amount=amount,
            note=note,
            agent_id=principal_id,
            role=role,
            now=now,
        )
        order = await Orders(uow.session).get(ticket.order_id) if ticket.order_id else None
        if action in domain.MONEY_ACTIONS:
            assert ticket.order_id is not None  # domain.resolve refuses money without an order
            moneys = OrderMoneys(uow.session)
            money = await moneys.locked(ticket.order_id) if order is not None else None
            counted = domain.decide_money(
                money, action=action, amount=amount, credit_ratio=ctx.credit_limit_ratio
            )
            assert counted is not None
            await moneys.save(counted)
        resolved = await Tickets(uow.session).save(decided)
        if resolved.order_id is not None:
            uow.emit(
                TicketResolved(
                    ticket_id=resolved.id,
                    order_id=resolved.order_id,
                    # a ticket opened from a payment event before its order was seen may lack
                    # the buyer; the credit must go to someone
                    buyer_id=resolved.buyer_id or (order["buyer_id"] if order else ""),
                    seller_id=resolved.seller_id,
                    action=action,
                    amount=amount,
                    note=note,
                    resolved_by=principal_id,
                    resolved_at=now,
                )
            )
        await uow.commit()
    return resolved
