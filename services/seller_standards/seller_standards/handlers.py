"""Seller standards' use cases: fold order and ticket events into each order's facts,
re-evaluate the seller, publish standing changes; operators' and agents' decisions. Each
persists what the domain decided and emits the events it says the change causes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from contracts.orders import OrderReviewed
from seller_standards.db import StandardsUnit
from seller_standards.domain import facts as order_facts
from seller_standards.domain import standing as standings_rules
from seller_standards.domain.facts import Review
from seller_standards.domain.metrics import Metric, metrics, score
from seller_standards.domain.policy import Exemption, Policy, check_exemption
from seller_standards.domain.standing import Change, SellerStanding, Standing
from servicekit.domain.clock import Clock
from servicekit.hosting.http import not_found
from servicekit.messaging.events import EventRouter, Received
from servicekit.messaging.failures import ConcurrentUpdate
from servicekit.messaging.uow import Database

SYSTEM = "system"


@dataclass
class StandardsContext:
    db: Database[StandardsUnit]
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


async def evaluate(
    ctx: StandardsContext,
    uow: StandardsUnit,
    seller_id: str,
    *,
    current: SellerStanding | None = None,
) -> Standards:
    """Recompute the seller's metrics and standing; publish a change if there is one.
    `current` is the seller's standing when the caller has read (or saved) it already."""
    now = ctx.clock.now()
    standings = uow.standings
    if current is None:
        current = await standings.get(seller_id)
    measured, exemptions = await _metrics(ctx, uow, seller_id, now)
    updated, change = standings_rules.evaluate(current, measured, now, ctx.policy)
    saved = await standings.save(updated, now)
    if change is not None:
        await _decided(uow, seller_id, change, SYSTEM, now)
    return Standards(saved, measured, await standings.history(seller_id), exemptions)


async def _decided(
    uow: StandardsUnit, seller_id: str, change: Change, by: str, now: datetime
) -> None:
    """Keep the decision in the seller's history and emit what it causes."""
    await uow.standings.record(seller_id, change.standing, change.previous, change.reason, by, now)
    for event in change.events(seller_id, now):
        uow.emit(event)


# --- events -------------------------------------------------------------------------------


async def on_fact(
    ctx: StandardsContext, evaluating: bool, received: Received[Any], uow: StandardsUnit
) -> None:
    """Fold the event into its order's facts (created if this is the first word of the
    order), then re-evaluate the seller (unless the facts are being rebuilt: the rebuild
    evaluates once at the end)."""
    event = received.event
    if not order_facts.tells_about_facts(event):
        return
    repository = uow.facts
    known = await repository.get(event.order_id)
    facts = known or order_facts.first_word(event, received.envelope.time)
    await repository.put(order_facts.folded(facts, event), existed=known is not None)
    if evaluating:
        await evaluate(ctx, uow, event.seller_id)


async def on_reviewed(
    ctx: StandardsContext, received: Received[OrderReviewed], uow: StandardsUnit
) -> None:
    event = received.event
    await uow.reviews.add(
        Review(event.review_id, event.order_id, event.rating, event.occurred_at), event.seller_id
    )
    await evaluate(ctx, uow, event.seller_id)


def fact_router(ctx: StandardsContext, *, evaluating: bool = True) -> EventRouter[StandardsUnit]:
    """The events folded into per-order facts: each one re-evaluates its seller as it comes,
    or, with `evaluating=False`, only folds (the order-facts projection's rebuild)."""
    router = EventRouter[StandardsUnit]()
    for event_type in order_facts.FOLDED:
        router.add(event_type, partial(on_fact, ctx, evaluating))
    return router


def event_router(ctx: StandardsContext) -> EventRouter[StandardsUnit]:
    router = fact_router(ctx)
    router.add(OrderReviewed, partial(on_reviewed, ctx))
    return router


# --- the clock ----------------------------------------------------------------------------


async def reevaluate_sellers(ctx: StandardsContext, now: datetime) -> int:
    """Windows move and review periods run out with time: look at each seller again at
    least once an hour of the clock."""
    async with ctx.db.unit_of_work() as uow:
        due = await uow.standings.evaluated_before(
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
        standings = uow.standings
        measured, exemptions = await _metrics(ctx, uow, seller_id, ctx.clock.now())
        shown = replace(await standings.get(seller_id), score=score(measured))
        return Standards(shown, measured, await standings.history(seller_id), exemptions)


async def _metrics(
    ctx: StandardsContext, uow: StandardsUnit, seller_id: str, now: datetime
) -> tuple[dict[str, Metric], list[Exemption]]:
    since = now - ctx.policy.window - ctx.policy.surge_baseline
    facts = await uow.facts.of_seller(seller_id, since)
    reviews = await uow.reviews.of_seller(seller_id)
    exemptions = await uow.exemptions.of_seller(seller_id)
    return metrics(facts, reviews, exemptions, now, ctx.policy), exemptions


async def _known_standing(uow: StandardsUnit, seller_id: str) -> SellerStanding:
    """Operators decide about sellers this service has heard of: anyone named as the seller
    of an order, a ticket or a review it consumed (each gives them a standing). A seller
    with no order yet has nothing measured and nothing to exempt; anyone else is a 404."""
    current = await uow.standings.get(seller_id)
    if not current.stored:
        raise not_found("seller")
    return current


async def add_exemption(
    ctx: StandardsContext, seller_id: str, exemption: Exemption, operator_id: str
) -> Standards:
    check_exemption(exemption, ctx.clock.now())
    async with ctx.db.unit_of_work() as uow:
        current = await _known_standing(uow, seller_id)
        await uow.exemptions.add(seller_id, exemption, operator_id, ctx.clock.now())
        shown = await evaluate(ctx, uow, seller_id, current=current)
        await uow.commit()
    return shown


async def flag_misuse(ctx: StandardsContext, review_id: str) -> Standards:
    async with ctx.db.unit_of_work() as uow:
        seller_id = await uow.reviews.flag_misuse(review_id)
        if seller_id is None:
            raise not_found("review")
        shown = await evaluate(ctx, uow, seller_id)
        await uow.commit()
    return shown


async def set_standing(
    ctx: StandardsContext, seller_id: str, standing: Standing, reason: str, operator_id: str
) -> Standards:
    async with ctx.db.unit_of_work() as uow:
        current = await _known_standing(uow, seller_id)
        changed, change = standings_rules.decide(current, standing, reason)
        now = ctx.clock.now()
        saved = await uow.standings.save(changed, now)
        await _decided(uow, seller_id, change, operator_id, now)
        shown = await evaluate(ctx, uow, seller_id, current=saved)
        await uow.commit()
    return shown
