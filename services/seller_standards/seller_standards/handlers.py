"""Seller standards' use cases: fold order and ticket events into each order's facts,
re-evaluate the seller, publish standing changes; operators' and agents' decisions. Each
persists what the domain decided and emits the events it says the change causes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from contracts.orders import OrderReviewed
from contracts.seller_standards import (
    SellerExemptionGranted,
    SellerReviewFlagged,
    SellerStandingDecided,
)
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
    updated, surge = standings_rules.surge_alert(
        updated, measured["order_volume_surge"], now, ctx.policy
    )
    saved = await standings.save(updated, now)
    if change is not None:
        await _decided(uow, seller_id, change, SYSTEM, now)
    if surge is not None:
        uow.emit(surge)
    return Standards(saved, measured, await standings.history(seller_id), exemptions)


async def _decided(
    uow: StandardsUnit,
    seller_id: str,
    change: Change,
    by: str,
    now: datetime,
    decision_id: str | None = None,
) -> None:
    """Keep the decision in the seller's history and emit what it causes (an operator's,
    with its `decision_id`, also publishes who decided)."""
    await uow.standings.record(
        seller_id, change.standing, change.previous, change.reason, by, now, decision_id
    )
    if decision_id is not None:
        uow.emit(standings_rules.decision_event(seller_id, change, decision_id, by, now))
    for event in change.events(seller_id, now):
        uow.emit(event)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


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
    await fold_review(received, uow)
    await evaluate(ctx, uow, received.event.seller_id)


async def fold_review(received: Received[OrderReviewed], uow: StandardsUnit) -> None:
    event = received.event
    review = Review(
        event.review_id, event.order_id, event.rating, event.occurred_at, text=event.text
    )
    await uow.reviews.add(review, event.seller_id)


# What this service published of operators' and agents' decisions comes back on its own topic:
# live it is already recorded (each fold below changes nothing then); a replay folds it back.


async def fold_exemption(received: Received[SellerExemptionGranted], uow: StandardsUnit) -> None:
    event = received.event
    exemption = Exemption(event.starts, event.ends, event.reason)
    await uow.exemptions.add(
        event.seller_id, exemption, event.decided_by, event.decided_at, event.exemption_id
    )


async def fold_flag(received: Received[SellerReviewFlagged], uow: StandardsUnit) -> None:
    await uow.reviews.flag_misuse(received.event.review_id)


async def fold_decision(received: Received[SellerStandingDecided], uow: StandardsUnit) -> None:
    event = received.event
    await uow.standings.record(
        event.seller_id,
        event.standing,
        event.previous,
        event.reason,
        event.decided_by,
        event.decided_at,
        event.decision_id,
    )


def fact_router(ctx: StandardsContext, *, evaluating: bool = True) -> EventRouter[StandardsUnit]:
    """The events folded into per-order facts: each one re-evaluates its seller as it comes,
    or, with `evaluating=False`, only folds (the order-facts projection's rebuild)."""
    router = EventRouter[StandardsUnit]()
    for event_type in order_facts.FOLDED:
        router.add(event_type, partial(on_fact, ctx, evaluating))
    return router


def decisions_router(router: EventRouter[StandardsUnit]) -> EventRouter[StandardsUnit]:
    """`router` with the folds of operators' exemptions and decisions and agents' flags."""
    router.add(SellerExemptionGranted, fold_exemption)
    router.add(SellerReviewFlagged, fold_flag)
    router.add(SellerStandingDecided, fold_decision)
    return router


def event_router(ctx: StandardsContext) -> EventRouter[StandardsUnit]:
    router = decisions_router(fact_router(ctx))
    router.add(OrderReviewed, partial(on_reviewed, ctx))
    return router


def replay_router(ctx: StandardsContext) -> EventRouter[StandardsUnit]:
    """What a rebuild folds: the facts (emptied first), and reviews, exemptions, flags and
    decisions (kept, and put back where a row is missing or a flag was lost)."""
    router = decisions_router(fact_router(ctx, evaluating=False))
    router.add(OrderReviewed, fold_review)
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
    now = ctx.clock.now()
    check_exemption(exemption, now)
    async with ctx.db.unit_of_work() as uow:
        current = await _known_standing(uow, seller_id)
        granted = SellerExemptionGranted(
            exemption_id=_new_id("exm"),
            seller_id=seller_id,
            starts=exemption.starts,
            ends=exemption.ends,
            reason=exemption.reason,
            decided_by=operator_id,
            decided_at=now,
        )
        await uow.exemptions.add(seller_id, exemption, operator_id, now, granted.exemption_id)
        uow.emit(granted)
        shown = await evaluate(ctx, uow, seller_id, current=current)
        await uow.commit()
    return shown


async def flag_misuse(ctx: StandardsContext, review_id: str, agent_id: str) -> Standards:
    """An agent flags a review as misuse: it no longer counts (published once, when it was
    not flagged yet)."""
    async with ctx.db.unit_of_work() as uow:
        found = await uow.reviews.get(review_id)
        if found is None:
            raise not_found("review")
        review, seller_id = found
        if not review.misuse:
            await uow.reviews.flag_misuse(review_id)
            uow.emit(
                SellerReviewFlagged(
                    review_id=review_id,
                    order_id=review.order_id,
                    seller_id=seller_id,
                    flagged_by=agent_id,
                    flagged_at=ctx.clock.now(),
                )
            )
        shown = await evaluate(ctx, uow, seller_id)
        await uow.commit()
    return shown


async def reviews_of(
    ctx: StandardsContext, seller_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[Review]:
    async with ctx.db.unit_of_work() as uow:
        return await uow.reviews.page(seller_id, after, limit)


async def set_standing(
    ctx: StandardsContext, seller_id: str, standing: Standing, reason: str, operator_id: str
) -> Standards:
    async with ctx.db.unit_of_work() as uow:
        current = await _known_standing(uow, seller_id)
        changed, change = standings_rules.decide(current, standing, reason)
        now = ctx.clock.now()
        saved = await uow.standings.save(changed, now)
        await _decided(uow, seller_id, change, operator_id, now, _new_id("dec"))
        shown = await evaluate(ctx, uow, seller_id, current=saved)
        await uow.commit()
    return shown
