"""A `rebook` orders could not carry out (#20): the listing the agent chose was gone by the time
orders placed the replacement (sold out, its seller away or suspended, the event no longer
scheduled). The buyer is not left with a resolved ticket and no order: the ticket opens again,
urgent, on a fresh SLA clock, its resolution cleared so the agent can rebook on a current
alternative or refund (the first order's hold is still kept for that decision). Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from contracts.support import Priority
from support.domain.order_money import OrderMoney
from support.domain.resale import sla_calendar
from support.domain.tickets import Calendar, SlaTargets, Status, Ticket, sla_clock

NOTE_MAX = 1000


def failed_rebook_note(listing_id: str, reason: str) -> str:
    """The system note the agent reads on the reopened ticket: why it is open again."""
    note = (
        f"Orders could not place the rebooking on listing {listing_id}: {reason.strip()}. "
        "Nothing was placed and the first order's money is still held: rebook on one of the "
        "current alternatives, or refund."
    )
    return note[:NOTE_MAX]


def reopen_after_failed_rebook(
    ticket: Ticket,
    *,
    listing_id: str,
    now: datetime,
    calendar: Calendar,
    targets: dict[Priority, SlaTargets],
) -> Ticket | None:
    """The ticket open again and urgent, its `rebook` resolution cleared; None when there is
    nothing to reopen (the ticket is open already, or its resolution is not that rebook: a
    replayed or late event)."""
    earlier = ticket.resolution
    if ticket.is_open or earlier is None or earlier.action != "rebook":
        return None
    first_response_due, resolution_due = sla_clock(
        "urgent", now, sla_calendar(ticket.context, now, calendar), targets
    )
    return replace(
        ticket,
        status=Status.OPEN,
        priority="urgent",
        resolution=None,
        first_response_due=first_response_due,
        resolution_due=resolution_due,
        first_response_breached=False,
        resolution_breached=False,
        context=ticket.context | {"rebook_failed": {"listing_id": listing_id}},
        events=(),
    )


def hold_kept_again(money: OrderMoney) -> OrderMoney:
    """Support counted the first order's hold as gone to the new order when the agent decided
    the rebook (`commands.resolve`); nothing was placed, so payments still keeps it for the
    agent's next decision: another rebook, or a refund that voids it."""
    return replace(money, voided=False)
