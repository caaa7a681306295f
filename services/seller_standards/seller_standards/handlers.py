"""Seller standards' use cases: fold order and ticket events into each order's facts,
re-evaluate the seller, publish standing changes; operators' and agents' decisions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from contracts.orders import (
    OrderAccepted,
    OrderDeclined,
    OrderDelivered,
    OrderDeliveryFailed,
    OrderMessagePosted,
    OrderPlaced,
    OrderProblemReported,
    OrderReturnedToSender,
    OrderReviewed,
    OrderSellerBackedOut,
    OrderShipmentOverdue,
    OrderShipped,
)
from contracts.seller_standards import SellerStandingChanged
from contracts.support import TicketOpened
from seller_standards import domain
from seller_standards.db import Exemptions, Facts, Reviews, Standings
from seller_standards.domain import (
    Change,
    Exemption,
    Metric,
    OrderFacts,
    Policy,
    Review,
    SellerStanding,
    Standing,
)
from servicekit.clock import Clock
from servicekit.events import EventRouter, Received
from servicekit.failures import ConcurrentUpdate
from servicekit.http import not_found
from servicekit.uow import Database, UnitOfWork

SYSTEM = "system"
DEFECT_TICKETS = ("not_received", "not_as_described", "chargeback")


@dataclass
class StandardsContext:
    db: Database
    clock: Clock
    policy: Policy = field(default_factory=Policy)
    batch_size: int = 200


@dataclass(frozen=True)
class Standards:
    """A seller's standards as shown: metrics, standing, history."""

    standing: SellerStanding
    metrics: dict[str, Metric]
    history: list[dict[str, Any]]
    exemptions: list[Exemption]


async def evaluate(ctx: StandardsContext, uow: UnitOfWork, seller_id: str) -> Standards:
    """Recompute the seller's metrics and standing; publish a change if there is one."""
    now = ctx.clock.now()
    measured = await _measure(ctx, uow, seller_id)
    standings = Standings(uow.session)
    current = await standings.get(seller_id)
    updated, change = domain.evaluate(current, measured.metrics, now, ctx.policy)
    saved = await standings.save(updated, now)
    if change is not None:
        await _publish(uow, seller_id, change, SYSTEM, now)
    return replace(measured, standing=saved, history=await standings.history(seller_id))


async def _publish(uow: UnitOfWork, seller_id: str, change: Change, by: str, now: datetime) -> None:
    await Standings(uow.session).record(
        seller_id, change.standing, change.previous, change.reason, by, now
    )
    uow.emit(
        SellerStandingChanged(
            seller_id=seller_id,
            standing=change.standing,
            previous=change.previous,
            reason=change.reason,
            changed_at=now,
        )
    )


# --- events -------------------------------------------------------------------------------


async def _fold(
    ctx: StandardsContext,
    uow: UnitOfWork,
    event: Any,
    change: Callable[[OrderFacts], OrderFacts],
    *,
    at: datetime,
    evaluating: bool = True,
) -> None:
    """Apply `change` to the order's facts (created if this is the first word of the order:
    events from other topics may overtake `order.placed`), then re-evaluate the seller
    (unless the facts are being rebuilt: the rebuild evaluates once at the end)."""
    repository = Facts(uow.session)
    known = await repository.get(event.order_id)
    facts = known or OrderFacts(
        order_id=event.order_id,
        seller_id=event.seller_id,
        fulfilment=getattr(event, "fulfilment", "seller_ships"),
        placed_at=at,
    )
    await repository.put(change(facts), existed=known is not None)
    if evaluating:
        await evaluate(ctx, uow, event.seller_id)


def _folding(change: Callable[[Any, OrderFacts], OrderFacts]) -> Any:
    async def handle(
        ctx: StandardsContext, evaluating: bool, received: Received[Any], uow: UnitOfWork
    ) -> None:
        event = received.event
        at = getattr(event, "occurred_at", None) or received.envelope.time
        await _fold(
            ctx, uow, event, lambda facts: change(event, facts), at=at, evaluating=evaluating
        )

    return handle


def _placed(event: OrderPlaced, facts: OrderFacts) -> OrderFacts:
    return replace(facts, placed_at=event.placed_at, fulfilment=event.fulfilment)


def _accepted(event: OrderAccepted, facts: OrderFacts) -> OrderFacts:
    return replace(facts, ship_by=event.ship_by)


def _shipped(event: OrderShipped, facts: OrderFacts) -> OrderFacts:
    if event.replacement or facts.shipped_at is not None:
        return facts  # measured once: when the order first left the seller
    tracked = bool(event.tracking_number or event.transfer_reference)
    return replace(facts, shipped_at=event.occurred_at, has_tracking=tracked)


def _seller_cancelled(_: Any, facts: OrderFacts) -> OrderFacts:
    return replace(facts, seller_cancelled=True)


def _carrier_seen(_: Any, facts: OrderFacts) -> OrderFacts:
    return replace(facts, carrier_seen=True)


def _defect(kind: str) -> Callable[[OrderFacts], OrderFacts]:
    def add(facts: OrderFacts) -> OrderFacts:
        return facts if kind in facts.defects else replace(facts, defects=(*facts.defects, kind))

    return add


def _problem(event: OrderProblemReported, facts: OrderFacts) -> OrderFacts:
    return _defect(f"problem:{event.reason}")(facts)


def _message(event: OrderMessagePosted, facts: OrderFacts) -> OrderFacts:
    """The response clock runs from the buyer's first message to the seller's next reply."""
    if event.sender_role == "buyer":
        return (
            facts
            if facts.first_buyer_message_at
            else replace(facts, first_buyer_message_at=event.occurred_at)
        )
    if facts.first_buyer_message_at and not facts.seller_replied_at:
        return replace(facts, seller_replied_at=event.occurred_at)
    return facts


async def on_reviewed(
    ctx: StandardsContext, received: Received[OrderReviewed], uow: UnitOfWork
) -> None:
    event = received.event
    await Reviews(uow.session).add(
        Review(event.review_id, event.order_id, event.rating, event.occurred_at), event.seller_id
    )
    await evaluate(ctx, uow, event.seller_id)


async def on_ticket_opened(
    ctx: StandardsContext, evaluating: bool, received: Received[TicketOpened], uow: UnitOfWork
) -> None:
    event = received.event
    if event.order_id is None or event.reason not in DEFECT_TICKETS:
        return
    await _fold(
        ctx,
        uow,
        event,
        _defect(f"ticket:{event.reason}"),
        at=event.opened_at,
        evaluating=evaluating,
    )


def fact_router(ctx: StandardsContext, *, evaluating: bool = True) -> EventRouter:
    """The events folded into per-order facts: each one re-evaluates its seller as it comes,
    or, with `evaluating=False`, only folds (the order-facts projection's rebuild)."""
    router = EventRouter()
    fold = {
        OrderPlaced: _placed,
        OrderAccepted: _accepted,
        OrderShipped: _shipped,
        OrderShipmentOverdue: lambda _, facts: facts,  # late from now on: the facts say so
        OrderDeclined: _seller_cancelled,
        OrderSellerBackedOut: _seller_cancelled,
        OrderDelivered: _carrier_seen,
        OrderDeliveryFailed: _carrier_seen,
        OrderReturnedToSender: _carrier_seen,
        OrderProblemReported: _problem,
        OrderMessagePosted: _message,
    }
    for event_type, change in fold.items():
        router.add(event_type, partial(_folding(change), ctx, evaluating))
    router.add(TicketOpened, partial(on_ticket_opened, ctx, evaluating))
    return router


def event_router(ctx: StandardsContext) -> EventRouter:
    router = fact_router(ctx)
    router.add(OrderReviewed, partial(on_reviewed, ctx))
    return router


# --- the clock ----------------------------------------------------------------------------


async def reevaluate_sellers(ctx: StandardsContext, now: datetime) -> int:
    """Windows move and review periods run out with time: look at each seller again at
    least once an hour of the clock."""
    async with ctx.db.unit_of_work() as uow:
        due = await Standings(uow.session).evaluated_before(
            now - ctx.policy.reevaluate_every, ctx.batch_size
        )
    for seller_id in due:
        try:
            async with ctx.db.unit_of_work() as uow:
                await evaluate(ctx, uow, seller_id)
                await uow.commit()
        except ConcurrentUpdate:
            pass  # an event for this seller was just handled: it was evaluated anyway
    return len(due)


# --- commands (HTTP) ----------------------------------------------------------------------


async def standards_of(ctx: StandardsContext, seller_id: str) -> Standards:
    """The seller's standards as of now, read only: the metrics are computed afresh, the
    standing is the one decided (events and the hourly clock decide, not someone looking)."""
    async with ctx.db.unit_of_work() as uow:
        return await _measure(ctx, uow, seller_id)


async def _measure(ctx: StandardsContext, uow: UnitOfWork, seller_id: str) -> Standards:
    now = ctx.clock.now()
    since = now - ctx.policy.window - ctx.policy.surge_baseline
    facts = await Facts(uow.session).of_seller(seller_id, since)
    reviews = await Reviews(uow.session).of_seller(seller_id)
    exemptions = await Exemptions(uow.session).of_seller(seller_id)
    all_metrics = domain.metrics(facts, reviews, exemptions, now, ctx.policy)
    standing = await Standings(uow.session).get(seller_id)
    history = await Standings(uow.session).history(seller_id)
    return Standards(
        replace(standing, score=domain.score(all_metrics)), all_metrics, history, exemptions
    )


async def _known_seller(uow: UnitOfWork, seller_id: str) -> None:
    """Operators decide about sellers this service has heard of: anyone named as the seller
    of an order, a ticket or a review it consumed (each gives them a standing). A seller
    with no order yet has nothing measured and nothing to exempt; anyone else is a 404."""
    if not await Standings(uow.session).exists(seller_id):
        raise not_found("seller")


async def add_exemption(
    ctx: StandardsContext, seller_id: str, exemption: Exemption, operator_id: str
) -> Standards:
    domain.check_exemption(exemption, ctx.clock.now())
    async with ctx.db.unit_of_work() as uow:
        await _known_seller(uow, seller_id)
        await Exemptions(uow.session).add(seller_id, exemption, operator_id, ctx.clock.now())
        shown = await evaluate(ctx, uow, seller_id)
        await uow.commit()
    return shown


async def flag_misuse(ctx: StandardsContext, review_id: str) -> Standards:
    async with ctx.db.unit_of_work() as uow:
        seller_id = await Reviews(uow.session).flag_misuse(review_id)
        if seller_id is None:
            raise not_found("review")
        shown = await evaluate(ctx, uow, seller_id)
        await uow.commit()
    return shown


async def set_standing(
    ctx: StandardsContext, seller_id: str, standing: Standing, reason: str, operator_id: str
) -> Standards:
    async with ctx.db.unit_of_work() as uow:
        await _known_seller(uow, seller_id)
        repository = Standings(uow.session)
        changed, change = domain.decide(await repository.get(seller_id), standing, reason)
        now = ctx.clock.now()
        await repository.save(changed, now)
        if change.standing != change.previous:
            await _publish(uow, seller_id, change, operator_id, now)
        else:
            await repository.record(seller_id, standing, change.previous, reason, operator_id, now)
        shown = await evaluate(ctx, uow, seller_id)
        await uow.commit()
    return shown
