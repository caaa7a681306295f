"""Support's tables and repositories: the only module that speaks SQL."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
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
    Text,
    UniqueConstraint,
    delete,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Money
from servicekit.messaging.db import NAMING_CONVENTION, UtcDateTime, insert_ignoring_duplicates
from servicekit.messaging.failures import ConcurrentUpdate
from servicekit.messaging.uow import UnitOfWork, repository
from support.domain.order_money import OrderMoney
from support.domain.tickets import OPEN_STATUSES, Resolution, Status, Ticket

metadata = MetaData(naming_convention=NAMING_CONVENTION)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), nullable=True, index=True),
    Column("buyer_id", String(64), nullable=True, index=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("reason", String(40), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("first_response_due", UtcDateTime(), nullable=False),
    Column("resolution_due", UtcDateTime(), nullable=False),
    Column("sla_due", UtcDateTime(), nullable=False, index=True),
    Column("context", JSON, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("first_responded_at", UtcDateTime(), nullable=True),
    Column("first_response_breached", Boolean, nullable=False),
    Column("resolution_breached", Boolean, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("resolution", JSON, nullable=True),
    # The order (or seller) and reason while the ticket is open, NULL after: one open ticket
    # per order and reason, enforced by the database (NULLs never collide).
    Column("open_key", String(110), nullable=True),
    # When it was last resolved, for closing it after a quiet period (`Tickets.quiet_since`).
    Column("resolved_at", UtcDateTime(), nullable=True, index=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("open_key"),
)

ticket_messages = Table(
    "ticket_messages",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("ticket_id", String(40), nullable=False, index=True),
    Column("author_id", String(64), nullable=False),
    Column("author_role", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("internal", Boolean, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    # An agent's reply to one party ("buyer" or "seller"), seen by that party only; NULL: both.
    Column("to_role", String(10), nullable=True),
)

# What support knows of each order, from `order.placed`: whose it is and how it is paid.
orders = Table(
    "orders",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("listing_id", String(40), nullable=False),
    Column("fulfilment", String(20), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("placed_at", UtcDateTime(), nullable=False),
    # Where the order is, from orders' events (`domain.possible`); None until one arrives.
    Column("status", String(30), nullable=True),
)

# What support knows of each order's money (domain.OrderMoney): the total from orders' events,
# what payments holds from payments' events, and the refunds and credits support decided.
order_money = Table(
    "order_money",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("currency", String(3), nullable=True),
    Column("total_minor", BigInteger, nullable=True),
    Column("authorized_minor", BigInteger, nullable=False, default=0),
    Column("authorization_failed", Boolean, nullable=False, default=False),
    Column("shipped", Boolean, nullable=False, default=False),
    Column("captured_minor", BigInteger, nullable=False, default=0),
    Column("capture_failed", Boolean, nullable=False, default=False),
    Column("voided", Boolean, nullable=False, default=False),
    Column("released_minor", BigInteger, nullable=False, default=0),
    Column("refunded_minor", BigInteger, nullable=False, default=0),
    Column("charged_back_minor", BigInteger, nullable=False, default=0),
    Column("refunds_decided_minor", BigInteger, nullable=False, default=0),
    Column("credits_decided_minor", BigInteger, nullable=False, default=0),
    Column("payments_credit_limit_minor", BigInteger, nullable=True),
    Column("version", Integer, nullable=False, default=0),
)

# A buyer's message the seller has not answered yet, per order (the oldest one counts).
awaiting_replies = Table(
    "awaiting_replies",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("since", UtcDateTime(), nullable=False, index=True),
    Column("message_id", String(40), nullable=False),
)

_TICKET_FIELDS = [f.name for f in fields(Ticket) if f.name not in ("resolution", "events")]


def open_key(ticket: Ticket) -> str | None:
    return f"{ticket.order_id or ticket.seller_id}:{ticket.reason}" if ticket.is_open else None


def _columns(ticket: Ticket) -> dict[str, Any]:
    resolution = ticket.resolution
    return {name: getattr(ticket, name) for name in _TICKET_FIELDS} | {
        "status": ticket.status.value,
        "sla_due": ticket.sla_due,
        "open_key": open_key(ticket),
        "resolved_at": resolution.resolved_at if resolution else None,
        "resolution": None
        if resolution is None
        else {
            "action": resolution.action,
            "note": resolution.note,
            "resolved_by": resolution.resolved_by,
            "resolved_at": resolution.resolved_at.isoformat(),
            "amount": resolution.amount.model_dump() if resolution.amount else None,
        },
    }


def _ticket(row: Any) -> Ticket:
    values = {name: getattr(row, name) for name in _TICKET_FIELDS}
    resolution = None
    if row.resolution:
        stored = row.resolution
        resolution = Resolution(
            action=stored["action"],
            note=stored["note"],
            resolved_by=stored["resolved_by"],
            resolved_at=datetime.fromisoformat(stored["resolved_at"]),
            amount=Money(**stored["amount"]) if stored["amount"] else None,
        )
    return Ticket(**values | {"status": Status(row.status), "resolution": resolution})


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: str
    author_id: str
    author_role: str
    body: str
    internal: bool
    at: datetime
    to_role: str | None = None


class Tickets:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, ticket: Ticket) -> bool:
        """Store a new ticket; False if one is already open for its order and reason."""
        statement = insert_ignoring_duplicates(self.session, tickets).values(**_columns(ticket))
        return bool((await self.session.execute(statement)).rowcount)

    async def get(self, ticket_id: str) -> Ticket | None:
        row = (await self.session.execute(select(tickets).where(tickets.c.id == ticket_id))).first()
        return _ticket(row) if row else None

    async def open_for(self, subject_id: str, reason: str) -> Ticket | None:
        query = select(tickets).where(tickets.c.open_key == f"{subject_id}:{reason}")
        row = (await self.session.execute(query)).first()
        return _ticket(row) if row else None

    async def of_order(self, order_id: str) -> list[Ticket]:
        query = select(tickets).where(tickets.c.order_id == order_id).order_by(tickets.c.opened_at)
        return [_ticket(row) for row in (await self.session.execute(query)).all()]

    async def page(
        self,
        *,
        party: str | None,
        statuses: list[Status] | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Ticket]:
        """Tickets by SLA due time, soonest first; only `party`'s when given."""
        query = select(tickets)
        if party is not None:
            query = query.where(or_(tickets.c.buyer_id == party, tickets.c.seller_id == party))
        if statuses:
            query = query.where(tickets.c.status.in_([s.value for s in statuses]))
        if after is not None:
            query = query.where(tuple_(tickets.c.sla_due, tickets.c.id) > after)
        query = query.order_by(tickets.c.sla_due, tickets.c.id).limit(limit)
        return [_ticket(row) for row in (await self.session.execute(query)).all()]

    async def due_by(self, now: datetime, limit: int) -> list[Ticket]:
        """Open tickets with an SLA target at or before `now` not yet counted as breached."""
        query = (
            select(tickets)
            .where(
                tickets.c.status.in_([s.value for s in OPEN_STATUSES]),
                or_(
                    (tickets.c.first_response_due <= now)
                    & tickets.c.first_responded_at.is_(None)
                    & tickets.c.first_response_breached.is_(False),
                    (tickets.c.resolution_due <= now) & tickets.c.resolution_breached.is_(False),
                ),
            )
            .order_by(tickets.c.sla_due)
            .limit(limit)
        )
        return [_ticket(row) for row in (await self.session.execute(query)).all()]

    async def quiet_since(self, before: datetime, limit: int) -> list[Ticket]:
        """Resolved tickets resolved at or before `before` (a party's message reopens one),
        and those resolved before migration 0003, whose `resolved_at` column is empty (their
        resolution says when; closing one fills it in)."""
        query = (
            select(tickets)
            .where(
                tickets.c.status == Status.RESOLVED.value,
                or_(tickets.c.resolved_at <= before, tickets.c.resolved_at.is_(None)),
            )
            .order_by(tickets.c.resolved_at)
            .limit(limit)
        )
        return [_ticket(row) for row in (await self.session.execute(query)).all()]

    async def save(self, ticket: Ticket) -> Ticket:
        saved_version = ticket.version + 1
        result = await self.session.execute(
            update(tickets)
            .where(tickets.c.id == ticket.id, tickets.c.version == ticket.version)
            .values(**_columns(ticket) | {"version": saved_version})
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"ticket {ticket.id} was changed by someone else")
        return replace(ticket, version=saved_version)


class Messages:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        ticket_id: str,
        author_id: str,
        role: str,
        body: str,
        internal: bool,
        at: datetime,
        to: str | None = None,
    ) -> None:
        await self.session.execute(
            ticket_messages.insert().values(
                ticket_id=ticket_id,
                author_id=author_id,
                author_role=role,
                body=body,
                internal=internal,
                at=at,
                to_role=to,
            )
        )

    async def of_ticket(
        self, ticket_id: str, *, with_internal: bool, party: str | None = None
    ) -> list[TicketMessage]:
        """The ticket's messages; for a `party` ("buyer", "seller"), without internal notes
        and without replies addressed to the other party."""
        query = select(ticket_messages).where(ticket_messages.c.ticket_id == ticket_id)
        if not with_internal:
            query = query.where(ticket_messages.c.internal.is_(False))
        if party is not None:
            query = query.where(
                ticket_messages.c.to_role.is_(None) | (ticket_messages.c.to_role == party)
            )
        rows = (await self.session.execute(query.order_by(ticket_messages.c.id))).all()
        return [TicketMessage(**row._mapping) for row in rows]


class Orders:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, **values: Any) -> None:
        statement = insert_ignoring_duplicates(self.session, orders).values(**values)
        await self.session.execute(statement)

    async def get(self, order_id: str) -> dict[str, Any] | None:
        row = (
            await self.session.execute(select(orders).where(orders.c.order_id == order_id))
        ).first()
        return dict(row._mapping) if row else None

    async def set_status(self, order_id: str, status: str) -> None:
        """Where the order is now, as orders' latest event says (they arrive in order)."""
        await self.session.execute(
            update(orders).where(orders.c.order_id == order_id).values(status=status)
        )


_ORDER_MONEY_FIELDS = [f.name for f in fields(OrderMoney) if f.name not in ("order_id", "version")]


def _order_money(row: Any) -> OrderMoney:
    values = {name: getattr(row, name) for name in _ORDER_MONEY_FIELDS}
    return OrderMoney(order_id=row.order_id, version=row.version, **values)


class OrderMoneys:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locked(self, order_id: str) -> OrderMoney:
        """The order's money, its row locked until the unit of work ends, so that two
        resolutions (or a resolution and a payment event) on one order take turns."""
        statement = insert_ignoring_duplicates(self.session, order_money).values(
            order_id=order_id, version=0
        )
        await self.session.execute(statement)
        query = select(order_money).where(order_money.c.order_id == order_id).with_for_update()
        return _order_money((await self.session.execute(query)).one())

    async def get(self, order_id: str) -> OrderMoney | None:
        query = select(order_money).where(order_money.c.order_id == order_id)
        row = (await self.session.execute(query)).first()
        return _order_money(row) if row else None

    async def save(self, money: OrderMoney) -> OrderMoney:
        saved_version = money.version + 1
        result = await self.session.execute(
            update(order_money)
            .where(order_money.c.order_id == money.order_id, order_money.c.version == money.version)
            .values(
                version=saved_version,
                **{name: getattr(money, name) for name in _ORDER_MONEY_FIELDS},
            )
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"the money of order {money.order_id} changed meanwhile")
        return replace(money, version=saved_version)


class AwaitingReplies:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def wait(self, order_id: str, since: datetime, message_id: str) -> None:
        """A buyer wrote: start the 24-hour clock, unless an earlier message is waiting."""
        statement = insert_ignoring_duplicates(self.session, awaiting_replies).values(
            order_id=order_id, since=since, message_id=message_id
        )
        await self.session.execute(statement)

    async def answered(self, order_id: str) -> None:
        await self.session.execute(
            delete(awaiting_replies).where(awaiting_replies.c.order_id == order_id)
        )

    async def waiting_since(self, before: datetime, limit: int) -> list[Any]:
        query = (
            select(awaiting_replies)
            .where(awaiting_replies.c.since <= before)
            .order_by(awaiting_replies.c.since)
            .limit(limit)
        )
        return list((await self.session.execute(query)).all())


class SupportUnit(UnitOfWork):
    """Support's unit of work: its repositories, each built once per unit over the unit's
    session (`uow.tickets`)."""

    tickets = repository(Tickets)
    messages = repository(Messages)
    orders = repository(Orders)
    order_moneys = repository(OrderMoneys)
    awaiting_replies = repository(AwaitingReplies)
