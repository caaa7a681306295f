"""Seller standards' projection: per-order facts, rebuilt from the order and ticket events
(`marketplace replay-projection seller_standards.order_facts`).

Use it after a fix to how events are folded into facts: the facts are rebuilt from the events
the service has handled, then every seller with facts in the window is evaluated once, which
publishes any standing that changes. Reviews, exemptions, agents' misuse flags and operators'
decisions are kept and folded again from their events (`order.reviewed` and this service's
own `seller.exemption_granted`, `seller.review_flagged`, `seller.standing_decided`): a row
lost is put back, a flag lost is set again, nothing is added twice. The history's changes
the system made are kept as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from seller_standards import handlers
from seller_standards.app import policy_of
from seller_standards.db import StandardsUnit, seller_orders, standings
from seller_standards.handlers import StandardsContext
from seller_standards.settings import StandardsSettings
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database
from servicekit.operations.projections import Projection


def order_facts_projection(ctx: StandardsContext, bootstrap: str) -> Projection[StandardsUnit]:
    async def evaluate_every_seller(uow: StandardsUnit) -> Any:
        since = ctx.clock.now() - ctx.policy.window
        with_facts = await uow.facts.sellers_since(since)
        with_standing = (await uow.session.execute(select(standings.c.seller_id))).scalars()
        for seller_id in sorted({*with_facts, *with_standing}):
            await handlers.evaluate(ctx, uow, seller_id)

    return Projection(
        name="seller_standards.order_facts",
        group="seller_standards",
        tables=[seller_orders],
        router=handlers.replay_router(ctx),
        db=ctx.db,
        bootstrap=bootstrap,
        after=evaluate_every_seller,
    )


def order_facts() -> Projection[StandardsUnit]:
    """Per-order facts behind every seller's metrics, then each seller evaluated again."""
    settings = StandardsSettings()
    clock = settings.make_clock()
    db = Database(
        make_engine(settings.resolved_database_url()),
        source="seller_standards",
        clock=clock,
        unit=StandardsUnit,
    )
    ctx = StandardsContext(db=db, clock=clock, policy=policy_of(settings))
    return order_facts_projection(ctx, settings.kafka_bootstrap_servers)
