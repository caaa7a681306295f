"""Orders' tables and repositories: the only module that speaks SQL."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Money
from orders.domain import (
    HIDDEN_STANDINGS,
    Address,
    Fulfilment,
    Listing,
    ListingStatus,
    Message,
    Order,
    PaymentState,
    Review,
    Seller,
    Status,
    TimelineEntry,
    carrier_key,
)
from servicekit.db import NAMING_CONVENTION, BigId, UtcDateTime
from servicekit.failures import ConcurrentUpdate

metadata = MetaData(naming_convention=NAMING_CONVENTION)

listings = Table(
    "listings",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("quantity_available", Integer, nullable=False),
    Column("fulfilment", String(20), nullable=False),
    Column("event_date", Date, nullable=True),
    Column("handling_days", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("listing_id", String(40), ForeignKey("listings.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("fulfilment", String(20), nullable=False),
    Column("handling_days", Integer, nullable=False),
    Column("payment_method", String(100), nullable=False),
    Column("status", String(30), nullable=False),
    Column("payment_state", String(30), nullable=False),
    Column("placed_at", UtcDateTime(), nullable=False),
    Column("accept_by", UtcDateTime(), nullable=False),
    Column("shipping_address", JSON, nullable=True),
    Column("event_date", Date, nullable=True),
    Column("authorized_minor", BigInteger, nullable=True),
    Column("captured_minor", BigInteger, nullable=True),
    Column("released_minor", BigInteger, nullable=True),
    Column("refunded_minor", BigInteger, nullable=True),
    Column("cancel_reason", String(200), nullable=True),
    Column("accepted_at", UtcDateTime(), nullable=True),
    Column("ship_by", UtcDateTime(), nullable=True),
    Column("shipment_overdue", Boolean, nullable=False, default=False),
    Column("shipped_at", UtcDateTime(), nullable=True),
    Column("carrier", String(100), nullable=True),
    # The carrier as compared (orders.domain.carrier_key): a parcel is (carrier, number).
    Column("carrier_key", String(100), nullable=True),
    Column("tracking_number", String(100), nullable=True, index=True),
    Column("transfer_reference", String(200), nullable=True),
    Column("delivery_attempts", Integer, nullable=False, default=0),
    Column("redelivery_date", Date, nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("auto_complete_at", UtcDateTime(), nullable=True),
    Column("return_until", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("problem", String(50), nullable=True),
    Column("return_pickup_date", Date, nullable=True),
    Column("reviewed", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_orders_buyer", "buyer_id", "placed_at"),
    Index("ix_orders_seller", "seller_id", "placed_at"),
    Index("ix_orders_status_accept_by", "status", "accept_by"),
    Index("ix_orders_status_ship_by", "status", "ship_by"),
    Index("ix_orders_status_auto_complete_at", "status", "auto_complete_at"),
    Index("ix_orders_parcel", "carrier_key", "tracking_number"),
)

order_timeline = Table(
    "order_timeline",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("detail", String(500), nullable=False),
)


order_messages = Table(
    "order_messages",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),  # posting order
    Column("id", String(40), nullable=False, unique=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("sender_id", String(64), nullable=False),
    Column("sender_role", String(20), nullable=False),
    Column("body", String(4000), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("buyer_id", String(64), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("text", String(4000), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

sellers = Table(
    "sellers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("vacation_until", Date, nullable=True),
    Column("standing", String(20), nullable=False, default="good"),
    Column("updated_at", UtcDateTime(), nullable=False),
)


# Support's tickets on each order, as support publishes them (for the order view).
order_tickets = Table(
    "order_tickets",
    metadata,
    Column("ticket_id", String(40), primary_key=True),
    Column("order_id", String(40), nullable=False, index=True),
    Column("reason", String(40), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


def _listing(row: Any) -> Listing:
    return Listing(
        id=row.id,
        seller_id=row.seller_id,
        title=row.title,
        price=Money(amount_minor=row.price_minor, currency=row.currency),
        quantity_available=row.quantity_available,
        fulfilment=Fulfilment(row.fulfilment),
        handling_days=row.handling_days,
        status=ListingStatus(row.status),
        created_at=row.created_at,
        event_date=row.event_date,
        version=row.version,
    )


class Listings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, listing: Listing) -> None:
        await self.session.execute(
            insert(listings).values(
                id=listing.id,
                seller_id=listing.seller_id,
                title=listing.title,
                price_minor=listing.price.amount_minor,
                currency=listing.price.currency,
                quantity_available=listing.quantity_available,
                fulfilment=listing.fulfilment.value,
                event_date=listing.event_date,
                handling_days=listing.handling_days,
                status=listing.status.value,
                created_at=listing.created_at,
                version=listing.version,
            )
        )

    async def get(self, listing_id: str) -> Listing | None:
        row = (
            await self.session.execute(select(listings).where(listings.c.id == listing_id))
        ).first()
        return _listing(row) if row else None

    async def reserve(self, listing_id: str, quantity: int) -> bool:
        """Take `quantity` from an active listing's stock in one statement, so concurrent
        orders cannot oversell it; False if there is not enough left."""
        remaining = listings.c.quantity_available - quantity
        result = await self.session.execute(
            update(listings)
            .where(
                listings.c.id == listing_id,
                listings.c.status == ListingStatus.ACTIVE.value,
                listings.c.quantity_available >= quantity,
            )
            .values(
                quantity_available=remaining,
                status=case(
                    (remaining == 0, ListingStatus.SOLD_OUT.value), else_=listings.c.status
                ),
                version=listings.c.version + 1,
            )
        )
        return result.rowcount == 1

    async def give_back(self, listing_id: str, quantity: int) -> None:
        await self.session.execute(
            update(listings)
            .where(listings.c.id == listing_id)
            .values(
                quantity_available=listings.c.quantity_available + quantity,
                status=_status_after_restock(),
                version=listings.c.version + 1,
            )
        )

    async def update(self, listing: Listing) -> None:
        """Write `listing` if nobody changed it since it was read."""
        result = await self.session.execute(
            update(listings)
            .where(listings.c.id == listing.id, listings.c.version == listing.version)
            .values(
                title=listing.title,
                price_minor=listing.price.amount_minor,
                currency=listing.price.currency,
                quantity_available=listing.quantity_available,
                handling_days=listing.handling_days,
                status=listing.status.value,
                version=listing.version + 1,
            )
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"listing {listing.id} was changed by someone else")

    async def page(
        self,
        *,
        seller_id: str | None,
        include_hidden: bool,
        today: date,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Listing]:
        query = select(listings)
        if seller_id:
            query = query.where(listings.c.seller_id == seller_id)
        if not include_hidden:
            query = query.where(listings.c.status == ListingStatus.ACTIVE.value).where(
                ~exists().where(
                    sellers.c.id == listings.c.seller_id,
                    or_(
                        sellers.c.standing.in_(HIDDEN_STANDINGS),
                        sellers.c.vacation_until > today,
                    ),
                )
            )
        if after:
            created, listing_id = after
            query = query.where(
                or_(
                    listings.c.created_at < created,
                    and_(listings.c.created_at == created, listings.c.id < listing_id),
                )
            )
        query = query.order_by(listings.c.created_at.desc(), listings.c.id.desc()).limit(limit)
        return [_listing(row) for row in (await self.session.execute(query)).all()]


def _status_after_restock() -> Any:
    return case(
        (listings.c.status == ListingStatus.SOLD_OUT.value, ListingStatus.ACTIVE.value),
        else_=listings.c.status,
    )


def _address(value: dict[str, Any] | None) -> Address | None:
    return Address(**value) if value else None


class Orders:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, order: Order) -> None:
        await self.session.execute(insert(orders).values(**self._columns(order)))
        await self._append_timeline(order, already_stored=0)

    async def get(self, order_id: str) -> Order | None:
        row = (await self.session.execute(select(orders).where(orders.c.id == order_id))).first()
        if row is None:
            return None
        entries = (
            await self.session.execute(
                select(order_timeline)
                .where(order_timeline.c.order_id == order_id)
                .order_by(order_timeline.c.id)
            )
        ).all()
        return self._order(row, tuple(TimelineEntry(e.at, e.kind, e.detail) for e in entries))

    async def save(self, order: Order, *, before: Order) -> Order:
        """Write `order`, which was `before` when it was read, if nobody else changed it since
        (optimistic concurrency); the timeline entries added since are appended."""
        saved = _bump(order)
        result = await self.session.execute(
            update(orders)
            .where(orders.c.id == order.id, orders.c.version == order.version)
            .values(**self._columns(saved))
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"order {order.id} was changed by someone else")
        await self._append_timeline(saved, already_stored=len(before.timeline))
        return saved

    async def page(
        self,
        *,
        party_column: str,
        party_id: str,
        status: str | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Order]:
        column = orders.c[party_column]
        query = select(orders).where(column == party_id)
        if status:
            query = query.where(orders.c.status == status)
        if after:
            placed, order_id = after
            query = query.where(
                or_(
                    orders.c.placed_at < placed,
                    and_(orders.c.placed_at == placed, orders.c.id < order_id),
                )
            )
        query = query.order_by(orders.c.placed_at.desc(), orders.c.id.desc()).limit(limit)
        return [self._order(row, ()) for row in (await self.session.execute(query)).all()]

    async def parcel_orders(
        self,
        key: str,
        tracking_number: str,
        *,
        shipped_by: datetime | None = None,
        limit: int = 20,
    ) -> list[Order]:
        """The orders shipped with one carrier (its `carrier_key`) and tracking number (no later
        than `shipped_by`, if given), latest shipment first, without their timelines."""
        query = select(orders).where(
            orders.c.carrier_key == key, orders.c.tracking_number == tracking_number
        )
        if shipped_by is not None:
            query = query.where(orders.c.shipped_at <= shipped_by)
        rows = await self.session.execute(
            query.order_by(orders.c.shipped_at.desc(), orders.c.id.desc()).limit(limit)
        )
        return [self._order(row, ()) for row in rows.all()]

    async def due(self, status: str, deadline: str, now: datetime, limit: int) -> list[str]:
        """Ids of orders in `status` whose `deadline` column has passed."""
        column = orders.c[deadline]
        query = (
            select(orders.c.id)
            .where(orders.c.status == status, column.is_not(None), column <= now)
            .order_by(column)
            .limit(limit)
        )
        if deadline == "ship_by":
            query = query.where(orders.c.shipment_overdue.is_(False))
        return [row.id for row in (await self.session.execute(query)).all()]

    async def _append_timeline(self, order: Order, *, already_stored: int) -> None:
        new = order.timeline[already_stored:]
        if new:
            await self.session.execute(
                insert(order_timeline),
                [
                    {"order_id": order.id, "at": e.at, "kind": e.kind, "detail": e.detail}
                    for e in new
                ],
            )

    @staticmethod
    def _columns(order: Order) -> dict[str, Any]:
        values = {
            f.name: getattr(order, f.name)
            for f in fields(Order)
            if f.name not in _ORDER_SPECIAL_FIELDS
        }
        values.update(
            unit_price_minor=order.unit_price.amount_minor,
            currency=order.unit_price.currency,
            fulfilment=order.fulfilment.value,
            status=order.status.value,
            payment_state=order.payment_state.value,
            shipping_address=asdict(order.shipping_address) if order.shipping_address else None,
            authorized_minor=_minor(order.authorized),
            captured_minor=_minor(order.captured),
            released_minor=_minor(order.released),
            refunded_minor=_minor(order.refunded),
            carrier_key=carrier_key(order.carrier) if order.carrier else None,
        )
        return values

    @staticmethod
    def _order(row: Any, timeline: tuple[TimelineEntry, ...]) -> Order:
        currency = row.currency
        values = {
            f.name: getattr(row, f.name)
            for f in fields(Order)
            if f.name not in _ORDER_SPECIAL_FIELDS
        }
        return Order(
            **values,
            unit_price=Money(amount_minor=row.unit_price_minor, currency=currency),
            fulfilment=Fulfilment(row.fulfilment),
            status=Status(row.status),
            payment_state=PaymentState(row.payment_state),
            shipping_address=_address(row.shipping_address),
            authorized=_money(row.authorized_minor, currency),
            captured=_money(row.captured_minor, currency),
            released=_money(row.released_minor, currency),
            refunded=_money(row.refunded_minor, currency),
            timeline=timeline,
        )


# Order fields that are not stored as a column of the same name.
_ORDER_SPECIAL_FIELDS = frozenset(
    {
        "unit_price",
        "fulfilment",
        "status",
        "payment_state",
        "shipping_address",
        "authorized",
        "captured",
        "released",
        "refunded",
        "timeline",
    }
)


def _minor(amount: Money | None) -> int | None:
    return amount.amount_minor if amount else None


def _money(minor: int | None, currency: str) -> Money | None:
    return Money(amount_minor=minor, currency=currency) if minor is not None else None


def _bump(order: Order) -> Order:
    return replace(order, version=order.version + 1)


class Messages:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, message: Message) -> None:
        values = {k: v for k, v in asdict(message).items() if k != "seq"}
        await self.session.execute(insert(order_messages).values(**values))

    async def for_order(
        self, order_id: str, *, limit: int = 200, after_seq: int | None = None
    ) -> list[Message]:
        """Messages in posting order; `after_seq` continues after a message."""
        query = select(order_messages).where(order_messages.c.order_id == order_id)
        if after_seq is not None:
            query = query.where(order_messages.c.seq > after_seq)
        rows = await self.session.execute(query.order_by(order_messages.c.seq).limit(limit))
        return [
            Message(
                row.id,
                row.order_id,
                row.sender_id,
                row.sender_role,
                row.body,
                row.sent_at,
                row.seq,
            )
            for row in rows
        ]


class Reviews:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, review: Review) -> None:
        await self.session.execute(insert(reviews).values(**asdict(review)))


class Sellers:
    """Orders' local view of sellers: vacation and the standing seller standards publishes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, seller_id: str) -> Seller:
        row = (await self.session.execute(select(sellers).where(sellers.c.id == seller_id))).first()
        if row is None:
            return Seller(seller_id)
        return Seller(row.id, row.vacation_until, row.standing)

    async def set_vacation(self, seller_id: str, until: date | None, now: datetime) -> None:
        await self._upsert(seller_id, now, vacation_until=until)

    async def set_standing(self, seller_id: str, standing: str, now: datetime) -> None:
        await self._upsert(seller_id, now, standing=standing)

    async def _upsert(self, seller_id: str, now: datetime, **column: Any) -> None:
        """Set one column, creating the seller's row if needed; the other column is left as
        it is, so a vacation change cannot undo a standing that arrived meanwhile."""
        dialect = self.session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_(sellers).values(id=seller_id, updated_at=now, **column)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[sellers.c.id], set_={**column, "updated_at": now}
            )
        )


class OrderTickets:
    """Support's tickets on orders: opened, escalated, resolved."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def opened(self, **values: Any) -> None:
        dialect = self.session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(insert_(order_tickets).values(**values).on_conflict_do_nothing())

    async def changed(self, ticket_id: str, now: datetime, **values: Any) -> None:
        await self.session.execute(
            update(order_tickets)
            .where(order_tickets.c.ticket_id == ticket_id)
            .values(**values, updated_at=now)
        )

    async def of_order(self, order_id: str) -> list[dict[str, Any]]:
        query = (
            select(order_tickets)
            .where(order_tickets.c.order_id == order_id)
            .order_by(order_tickets.c.opened_at)
        )
        return [
            {
                "id": row.ticket_id,
                "reason": row.reason,
                "priority": row.priority,
                "status": row.status,
                "opened_at": row.opened_at.isoformat(),
            }
            for row in (await self.session.execute(query)).all()
        ]
