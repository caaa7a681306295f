"""Builders for the resale tests (#20): an event a week ahead (a Monday evening in Berlin),
its listing, and an order of it brought through the domain."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from orders import domain
from orders.domain import (
    EventKind,
    Fulfilment,
    Order,
    Recipient,
    ResaleEvent,
    Status,
)

from orders_test_helpers import CALENDAR, NOW, RULES, listing

BERLIN = timezone(timedelta(hours=1))
STARTS = datetime(2026, 11, 30, 20, 0, tzinfo=BERLIN)  # Monday 19:00 UTC, a week after NOW
ENDS = datetime(2026, 11, 30, 23, 0, tzinfo=BERLIN)
RELEASE = ENDS.astimezone(UTC) + timedelta(days=2)  # Wednesday 2 Dec 22:00 UTC
RECIPIENT = Recipient(name="Bea Buyer", email="bea@example.org")


def resale_event(kind: EventKind = EventKind.TICKET, **overrides: Any) -> ResaleEvent:
    event = domain.new_event(
        event_id="evt_1",
        name="Nils Frahm live",
        venue="Konzerthaus Berlin",
        kind=kind,
        starts_at=STARTS,
        ends_at=ENDS,
        now=NOW,
        horizon_days=RULES.event_horizon_days,
    )
    return replace(event, **overrides)


def event_listing(event: ResaleEvent | None = None, **overrides: Any):
    event = event or resale_event()
    values = {
        "fulfilment": Fulfilment.TRANSFER,
        "event_date": event.snapshot.local(event.starts_at).date(),
        "event_id": event.id,
    }
    return listing(**(values | overrides))


def event_order(
    status: Status = Status.AWAITING_SELLER,
    event: ResaleEvent | None = None,
    *,
    at: datetime = NOW,
    order_id: str = "ord_1",
) -> Order:
    """An order of the event's ticket placed at `at`, brought to `status` (awaiting_seller,
    accepted or shipped) an hour apart."""
    event = event or resale_event()
    order = domain.place_order(
        order_id=order_id,
        listing=event_listing(event),
        buyer_id="usr_buyer",
        quantity=1,
        shipping_address=None,
        payment_method="pm_card_visa",
        now=at,
        calendar=CALENDAR,
        rules=RULES,
        event=event,
        recipient=RECIPIENT,
    ).order
    if status is Status.PLACED:
        return order
    order = domain.record_authorization(order, order.total, at).order
    if status is Status.AWAITING_SELLER:
        return order
    order = kept(order, domain.accept(order, domain.Actor.SELLER, at, CALENDAR, RULES), at)
    if status is Status.ACCEPTED:
        return order
    shipped = domain.ship(
        order,
        domain.Actor.SELLER,
        at + timedelta(hours=1),
        carrier=None,
        tracking_number=None,
        transfer_reference="TIX-42",
        rules=RULES,
    )
    return kept(order, shipped, at + timedelta(hours=1))


def kept(before: Order, outcome: domain.Outcome, at: datetime) -> Order:
    """The order as the handlers keep an outcome (with the deadline of the status entered)."""
    return domain.scheduled(before, outcome, at, RULES, CALENDAR).order
