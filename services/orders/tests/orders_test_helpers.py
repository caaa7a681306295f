"""Shared values and builders for the orders tests (fixtures are in conftest.py)."""

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from contracts import Envelope, Event, Money, encode_envelope
from orders.domain import Address, Fulfilment, Listing, ListingStatus
from servicekit.db import outbox
from servicekit.events import Received

_RECEIVED_FIELDS = {field.name for field in dataclasses.fields(Received)}

# A Monday, noon UTC.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PRICE = Money(amount_minor=12500, currency="EUR")
ADDRESS = Address(
    name="Bea Buyer", line1="1 Main Street", city="Berlin", postal_code="10115", country="DE"
)


def listing(**overrides: Any) -> Listing:
    values: dict[str, Any] = {
        "id": "lst_1",
        "seller_id": "usr_seller",
        "title": "Vintage film camera",
        "price": PRICE,
        "quantity_available": 3,
        "fulfilment": Fulfilment.SELLER_SHIPS,
        "handling_days": 2,
        "status": ListingStatus.ACTIVE,
        "created_at": NOW,
        "event_date": None,
    }
    values.update(overrides)
    return Listing(**values)


def ticket_listing(event_date: date, **overrides: Any) -> Listing:
    return listing(fulfilment=Fulfilment.TRANSFER, event_date=event_date, **overrides)


def received(event: Event) -> Received[Any]:
    """`event` as a consumer hands it to a handler: typed payload, envelope and record."""
    event_id = uuid.uuid4()
    body = encode_envelope(
        event,
        event_id=event_id,
        source="payments",
        time=NOW,
        correlation_id="corr-test",
        causation_id=None,
    )
    value = json.dumps(body).encode()
    record = ConsumerRecord(
        topic=event.topic,
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=event.subject().encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(event.subject()),
        serialized_value_size=len(value),
        headers=[("ce_id", str(event_id).encode()), ("ce_type", event.type.encode())],
    )
    envelope = Envelope[type(event)].model_validate(body)  # type: ignore[misc]
    # `Received` gained an `event_id` field (servicekit is being reworked): pass it if asked.
    extra = {"event_id": str(event_id)} if "event_id" in _RECEIVED_FIELDS else {}
    return Received(event=event, envelope=envelope, record=record, **extra)


async def outbox_rows(engine: Any) -> list[Any]:
    async with engine.connect() as connection:
        return (await connection.execute(select(outbox).order_by(outbox.c.id))).all()


def body(row: Any) -> dict[str, Any]:
    return json.loads(row.payload)
