"""Seller standards' tables and repositories: the only module that speaks SQL."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from seller_standards.domain.facts import OrderFacts, Review
from seller_standards.domain.policy import Exemption
from seller_standards.domain.standing import SellerStanding
from servicekit.messaging.db import NAMING_CONVENTION, UtcDateTime, insert_ignoring_duplicates
from servicekit.messaging.failures import ConcurrentUpdate
from servicekit.messaging.uow import UnitOfWork, repository

metadata = MetaData(naming_convention=NAMING_CONVENTION)

seller_orders = Table(
    "seller_orders",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("fulfilment", String(20), nullable=False),
    Column("placed_at", UtcDateTime(), nullable=False, index=True),
    Column("ship_by", UtcDateTime(), nullable=True),
    Column("shipped_at", UtcDateTime(), nullable=True),
    Column("has_tracking", Boolean, nullable=False),
    Column("carrier_seen", Boolean, nullable=False),
    Column("seller_cancelled", Boolean, nullable=False),
    Column("defects", JSON, nullable=False),
    Column("first_buyer_message_at", UtcDateTime(), nullable=True),
    Column("seller_replied_at", UtcDateTime(), nullable=True),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(40), primary_key=True),
    Column("order_id", String(40), nullable=False),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("rating", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("misuse", Boolean, nullable=False),
    Column("text", String(5000), nullable=False, server_default=""),
)

exemptions = Table(
    "exemptions",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("starts", UtcDateTime(), nullable=False),
    Column("ends", UtcDateTime(), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=False),
    # the id its `seller.exemption_granted` carries (None: granted before exemptions were
    # published), so folding the event again adds nothing
    Column("exemption_id", String(40), nullable=True, unique=True),
)

standings = Table(
    "standings",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("standing", String(20), nullable=False),
    Column("computed", String(20), nullable=False),
    Column("under_review_since", UtcDateTime(), nullable=True),
    Column("score", Integer, nullable=False),
    Column("evaluated_at", UtcDateTime(), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("surge_alerted_at", UtcDateTime(), nullable=True),
)

standing_history = Table(
    "standing_history",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("standing", String(20), nullable=False),
    Column("previous", String(20), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    # an operator's decision: the id its `seller.standing_decided` carries (None: the
    # system's own change, or a decision recorded before decisions were published)
    Column("decision_id", String(40), nullable=True, unique=True),
)

_FACT_FIELDS = [f.name for f in fields(OrderFacts)]


class Facts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: str) -> OrderFacts | None:
        query = select(seller_orders).where(seller_orders.c.order_id == order_id)
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        values = {name: getattr(row, name) for name in _FACT_FIELDS}
        return OrderFacts(**values | {"defects": tuple(row.defects)})

    async def put(self, facts: OrderFacts, *, existed: bool) -> None:
        values = asdict(facts) | {"defects": list(facts.defects)}
        if existed:
            await self.session.execute(
                update(seller_orders)
                .where(seller_orders.c.order_id == facts.order_id)
                .values(**values)
            )
        else:
            await self.session.execute(seller_orders.insert().values(**values))

    async def of_seller(self, seller_id: str, since: datetime) -> list[OrderFacts]:
        query = select(seller_orders).where(
            seller_orders.c.seller_id == seller_id, seller_orders.c.placed_at >= since
        )
        return [
            OrderFacts(
                **{name: getattr(row, name) for name in _FACT_FIELDS}
                | {"defects": tuple(row.defects)}
            )
            for row in (
                await self.session.execute(
                    query.order_by(seller_orders.c.placed_at, seller_orders.c.order_id)
                )
            ).all()
        ]

    async def sellers_since(self, since: datetime) -> list[str]:
        query = (
            select(seller_orders.c.seller_id).where(seller_orders.c.placed_at >= since).distinct()
        )
        return list((await self.session.execute(query)).scalars())


class Reviews:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, review: Review, seller_id: str) -> None:
        statement = insert_ignoring_duplicates(self.session, reviews).values(
            **asdict(review), seller_id=seller_id
        )
        await self.session.execute(statement)

    async def of_seller(self, seller_id: str) -> list[Review]:
        query = (
            select(reviews).where(reviews.c.seller_id == seller_id).order_by(reviews.c.review_id)
        )
        return [_review(row) for row in (await self.session.execute(query)).all()]

    async def page(
        self, seller_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[Review]:
        """The seller's reviews, newest first, after the cursor's (written at, id)."""
        query = select(reviews).where(reviews.c.seller_id == seller_id)
        if after is not None:
            at, review_id = after
            query = query.where(
                (reviews.c.at < at) | ((reviews.c.at == at) & (reviews.c.review_id < review_id))
            )
        query = query.order_by(reviews.c.at.desc(), reviews.c.review_id.desc()).limit(limit)
        return [_review(row) for row in (await self.session.execute(query)).all()]

    async def get(self, review_id: str) -> tuple[Review, str] | None:
        """The review and its seller, or None if there is no such review."""
        row = (
            await self.session.execute(select(reviews).where(reviews.c.review_id == review_id))
        ).first()
        return None if row is None else (_review(row), str(row.seller_id))

    async def flag_misuse(self, review_id: str) -> None:
        """Mark a review as misuse (again: nothing changes)."""
        await self.session.execute(
            update(reviews).where(reviews.c.review_id == review_id).values(misuse=True)
        )


def _review(row: Any) -> Review:
    return Review(row.review_id, row.order_id, row.rating, row.at, row.misuse, row.text)


class Exemptions:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        seller_id: str,
        exemption: Exemption,
        decided_by: str,
        at: datetime,
        exemption_id: str,
    ) -> None:
        """Record an exemption; one already recorded under `exemption_id` stays as it is."""
        await self.session.execute(
            insert_ignoring_duplicates(self.session, exemptions).values(
                seller_id=seller_id,
                starts=exemption.starts,
                ends=exemption.ends,
                reason=exemption.reason,
                decided_by=decided_by,
                decided_at=at,
                exemption_id=exemption_id,
            )
        )

    async def of_seller(self, seller_id: str) -> list[Exemption]:
        query = (
            select(exemptions).where(exemptions.c.seller_id == seller_id).order_by(exemptions.c.id)
        )
        return [
            Exemption(row.starts, row.ends, row.reason)
            for row in (await self.session.execute(query)).all()
        ]


class Standings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, seller_id: str) -> SellerStanding:
        query = select(standings).where(standings.c.seller_id == seller_id)
        row = (await self.session.execute(query)).first()
        if row is None:
            return SellerStanding(seller_id)
        return SellerStanding(
            row.seller_id,
            row.standing,
            row.computed,
            row.under_review_since,
            row.score,
            row.version,
            row.surge_alerted_at,
        )

    async def save(self, standing: SellerStanding, evaluated_at: datetime) -> SellerStanding:
        values = {
            "standing": standing.standing,
            "computed": standing.computed,
            "under_review_since": standing.under_review_since,
            "score": standing.score,
            "surge_alerted_at": standing.surge_alerted_at,
            "evaluated_at": evaluated_at,
            "version": standing.version + 1,
        }
        if standing.version == 0:
            inserted = await self.session.execute(
                insert_ignoring_duplicates(self.session, standings).values(
                    seller_id=standing.seller_id, **values
                )
            )
            changed = inserted.rowcount
        else:
            result = await self.session.execute(
                update(standings)
                .where(
                    standings.c.seller_id == standing.seller_id,
                    standings.c.version == standing.version,
                )
                .values(**values)
            )
            changed = result.rowcount
        if changed != 1:
            raise ConcurrentUpdate(f"standing of {standing.seller_id} was changed by someone else")
        return replace(standing, version=standing.version + 1)

    async def evaluated_before(self, moment: datetime, limit: int) -> list[str]:
        query = (
            select(standings.c.seller_id)
            .where(standings.c.evaluated_at < moment)
            .order_by(standings.c.evaluated_at)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def record(
        self,
        seller_id: str,
        standing: str,
        previous: str,
        reason: str,
        by: str,
        at: datetime,
        decision_id: str | None = None,
    ) -> None:
        """Add to the seller's history; an operator's decision already recorded under
        `decision_id` is not added again."""
        await self.session.execute(
            insert_ignoring_duplicates(self.session, standing_history).values(
                seller_id=seller_id,
                standing=standing,
                previous=previous,
                reason=reason,
                decided_by=by,
                at=at,
                decision_id=decision_id,
            )
        )

    async def history(self, seller_id: str) -> list[dict[str, Any]]:
        query = (
            select(standing_history)
            .where(standing_history.c.seller_id == seller_id)
            .order_by(standing_history.c.id)
        )
        return [
            {
                "standing": row.standing,
                "previous": row.previous,
                "reason": row.reason,
                "decided_by": row.decided_by,
                "at": row.at.isoformat(),
            }
            for row in (await self.session.execute(query)).all()
        ]


class StandardsUnit(UnitOfWork):
    """Seller standards' unit of work: its repositories, each built once per unit over the unit's
    session (`uow.facts`)."""

    facts = repository(Facts)
    reviews = repository(Reviews)
    exemptions = repository(Exemptions)
    standings = repository(Standings)
