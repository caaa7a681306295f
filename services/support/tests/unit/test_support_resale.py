"""A resale event's ticket or booking (#20): a problem at the door opens an urgent ticket, and
near the event its SLA counts every hour (a Saturday night's problem is not left for Monday);
an overdue transfer near the event also runs on the 24/7 clock."""

from datetime import UTC, datetime, timedelta

from contracts.orders import EventFacts, OrderProblemReported, OrderShipmentOverdue
from servicekit.domain.calendar import BusinessCalendar
from support.domain.resale import sla_calendar
from support.domain.tickets import SYSTEM, open_ticket
from support.domain.triggers import ticket_asked_by

FRIDAY_NIGHT = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
EVENT = EventFacts(
    event_id="evt_1",
    name="Nils Frahm live",
    venue="Konzerthaus Berlin",
    kind="ticket",
    starts_at=datetime(2026, 11, 28, 19, 0, tzinfo=UTC),  # Saturday evening
    ends_at=datetime(2026, 11, 28, 22, 0, tzinfo=UTC),
    utc_offset_minutes=60,
)
FACT = {
    "order_id": "ord_1",
    "buyer_id": "usr_buyer",
    "seller_id": "usr_seller",
    "listing_id": "lst_1",
    "fulfilment": "transfer",
}
ORDER = {"order_id": "ord_1", "buyer_id": "usr_buyer", "seller_id": "usr_seller"}


def opened_for(event, now):
    asked = ticket_asked_by(event, now)
    assert asked is not None
    return open_ticket(
        "tkt_1",
        order=ORDER,
        seller_id=asked.seller_id,
        reason=asked.reason,
        opened_by=SYSTEM,
        now=now,
        calendar=sla_calendar(asked.context, now, BusinessCalendar()),
        context=asked.context,
        title=asked.title,
        priority=asked.priority,
    )


def refused_at_the_door(now, event=EVENT):
    return OrderProblemReported(
        **FACT, occurred_at=now, reason="entry_denied", details="Scanned already", event=event
    )


def test_a_buyer_refused_at_the_door_gets_an_urgent_ticket_counted_around_the_clock():
    ticket = opened_for(refused_at_the_door(FRIDAY_NIGHT), FRIDAY_NIGHT)

    assert ticket.priority == "urgent"
    assert ticket.title == "The buyer was refused entry with the ticket"
    assert ticket.first_response_due == FRIDAY_NIGHT + timedelta(hours=1)  # not Monday
    assert ticket.resolution_due == FRIDAY_NIGHT + timedelta(hours=8)


def test_far_from_the_event_the_ticket_counts_business_hours():
    a_month_later = EVENT.model_copy(
        update={
            "starts_at": EVENT.starts_at + timedelta(days=30),
            "ends_at": EVENT.ends_at + timedelta(days=30),
        }
    )
    ticket = opened_for(refused_at_the_door(FRIDAY_NIGHT, a_month_later), FRIDAY_NIGHT)
    assert ticket.priority == "urgent"
    assert ticket.first_response_due > FRIDAY_NIGHT + timedelta(days=2)  # Monday morning


def test_an_overdue_transfer_near_the_event_is_counted_around_the_clock():
    overdue = OrderShipmentOverdue(
        **FACT,
        occurred_at=FRIDAY_NIGHT,
        ship_by=FRIDAY_NIGHT,
        accepted_at=FRIDAY_NIGHT - timedelta(days=1),
        event=EVENT,
    )
    ticket = opened_for(overdue, FRIDAY_NIGHT)
    assert ticket.reason == "shipment_overdue"
    assert ticket.first_response_due == FRIDAY_NIGHT + timedelta(hours=4)
