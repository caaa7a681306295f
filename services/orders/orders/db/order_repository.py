"""Orders with their timelines, written under optimistic concurrency."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Money
from orders.db.tables import order_timeline, orders
from orders.domain import (
    OPEN_WHILE,
    Address,
    Fulfilment,
    Order,
    PaymentState,
    Recipient,
    Status,
    TimelineEntry,
    carrier_key,
)
from orders.domain.resale_events import EventSnapshot
from servicekit.messaging.failures import ConcurrentUpdate


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
        return self._order(row, await self._timeline(order_id))

    async def with_timeline(self, order: Order) -> Order:
        """`order`, read without its timeline (as `parcel_orders` reads them), made whole."""
        return replace(order, timeline=await self._timeline(order.id))

    async def _timeline(self, order_id: str) -> tuple[TimelineEntry, ...]:
        entries = (
            await self.session.execute(
                select(order_timeline)
                .where(order_timeline.c.order_id == order_id)
                .order_by(order_timeline.c.id)
            )
        ).all()
        return tuple(TimelineEntry(e.at, e.kind, e.detail) for e in entries)

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

    async def same_transfer(self, event_id: str, transfer_reference: str) -> list[Order]:
        """The orders of one resale event handed over with one transfer reference (#20),
        without their timelines."""
        query = select(orders).where(
            orders.c.event_id == event_id, orders.c.transfer_reference == transfer_reference
        )
        return [self._order(row, ()) for row in (await self.session.execute(query.limit(20))).all()]

    async def carrier_requests(
        self,
        key: str,
        *,
        since: datetime | None,
        limit: int,
        after: tuple[datetime, int] | None,
    ) -> list[tuple[Order, str, datetime, int]]:
        """The requests recorded on parcels of one carrier (its `carrier_key`) while the order
        is in a status where the carrier acts on them (`domain.carrier_requests`): (order
        without its timeline, the entry's kind, when it was asked, the entry's id), the
        latest of each kind per order, asked after `since`, newest first."""
        later = order_timeline.alias("later")
        newer_of_same_kind = (
            select(later.c.id)
            .where(
                later.c.order_id == order_timeline.c.order_id,
                later.c.kind == order_timeline.c.kind,
                later.c.id > order_timeline.c.id,
            )
            .exists()
        )
        still_open = or_(
            *(
                and_(
                    order_timeline.c.kind == kind,
                    orders.c.status.in_([status.value for status in statuses]),
                )
                for kind, statuses in OPEN_WHILE.items()
            )
        )
        query = (
            select(
                orders,
                order_timeline.c.kind.label("request_kind"),
                order_timeline.c.at.label("asked_at"),
                order_timeline.c.id.label("entry_id"),
            )
            .join(order_timeline, order_timeline.c.order_id == orders.c.id)
            .where(
                orders.c.carrier_key == key,
                still_open,
                order_timeline.c.at >= orders.c.shipped_at,
                ~newer_of_same_kind,
            )
        )
        if since is not None:
            query = query.where(order_timeline.c.at > since)
        if after is not None:
            moment, entry_id = after
            query = query.where(
                or_(
                    order_timeline.c.at < moment,
                    and_(order_timeline.c.at == moment, order_timeline.c.id < entry_id),
                )
            )
        query = query.order_by(order_timeline.c.at.desc(), order_timeline.c.id.desc()).limit(limit)
        return [
            (self._order(row, ()), row.request_kind, row.asked_at, row.entry_id)
            for row in (await self.session.execute(query)).all()
        ]

    async def due(
        self,
        statuses: Collection[str] | None,
        deadline: str,
        now: datetime,
        limit: int,
    ) -> list[str]:
        """Ids of orders (in one of `statuses`, or any) whose `deadline` column has passed,
        the longest overdue first."""
        column = orders.c[deadline]
        query = (
            select(orders.c.id)
            .where(column.is_not(None), column <= now)
            .order_by(column, orders.c.id)
            .limit(limit)
        )
        if statuses is not None:
            query = query.where(orders.c.status.in_(list(statuses)))
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
            event_id=order.event.id if order.event else None,
            event=order.event.as_dict() if order.event else None,
            recipient=asdict(order.recipient) if order.recipient else None,
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
            authorized=_amount(row.authorized_minor, currency),
            captured=_amount(row.captured_minor, currency),
            released=_amount(row.released_minor, currency),
            refunded=_amount(row.refunded_minor, currency),
            event=EventSnapshot.from_dict(row.event) if row.event else None,
            recipient=Recipient(**row.recipient) if row.recipient else None,
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
        "event",
        "recipient",
        "timeline",
    }
)


def _minor(amount: Money | None) -> int | None:
    return amount.amount_minor if amount else None


def _amount(minor: int | None, currency: str) -> Money | None:
    return Money(amount_minor=minor, currency=currency) if minor is not None else None


def _bump(order: Order) -> Order:
    return replace(order, version=order.version + 1)
