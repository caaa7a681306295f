"""Closing: a resolved ticket nobody wrote on for the quiet period after its resolution
closes by itself, and says so, so that the order's view shows it closed. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from contracts.support import TicketClosed
from support.domain.tickets import Status, Ticket


def close_if_quiet(ticket: Ticket, now: datetime, quiet: timedelta) -> Ticket | None:
    """A resolved ticket nobody wrote on for `quiet` since its resolution closes (a party's
    message would have reopened it) and says so (`TicketClosed`: orders shows it closed);
    None if it does not close now."""
    resolution = ticket.resolution
    if ticket.status is not Status.RESOLVED or resolution is None:
        return None
    if resolution.resolved_at + quiet > now:
        return None
    closed = TicketClosed(
        ticket_id=ticket.id,
        order_id=ticket.order_id,
        buyer_id=ticket.buyer_id,
        seller_id=ticket.seller_id,
        reason=ticket.reason,
        resolved_at=resolution.resolved_at,
        closed_at=now,
    )
    return replace(ticket, status=Status.CLOSED, events=(closed,))
