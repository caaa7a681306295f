"""Tickets as the API shows them, and where a page of the queue starts."""

from datetime import UTC, datetime
from typing import Any

from contracts.text import control_character_fault
from servicekit.hosting.http import Problem
from servicekit.hosting.pagination import decode_cursor
from support.db import TicketMessage
from support.domain.tickets import SYSTEM, Ticket


def queue_position(cursor: str) -> tuple[datetime, str]:
    """Where a page of the queue starts: a cursor this list gave out, or 422."""
    due, ticket_id = decode_cursor(cursor, 2)
    try:
        at = datetime.fromisoformat(due)
        if (
            at.tzinfo is None
            or len(ticket_id) > 40
            or control_character_fault(ticket_id, multiline=False)
        ):
            raise ValueError(due)
        return at.astimezone(UTC), ticket_id
    except (ValueError, OverflowError) as error:
        raise Problem(
            422,
            "Invalid request",
            "The cursor is not one this list gave out",
            slug="validation-error",
            errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
        ) from error


STAFF = ("agent", "operator")


def ticket_view(ticket: Ticket, messages: list[TicketMessage] | None = None) -> dict[str, Any]:
    resolution = ticket.resolution
    view: dict[str, Any] = {
        "id": ticket.id,
        "order_id": ticket.order_id,
        "buyer_id": ticket.buyer_id,
        "seller_id": ticket.seller_id,
        "kind": "automatic" if ticket.opened_by == SYSTEM else "request",
        "reason": ticket.reason,
        "priority": ticket.priority,
        "status": ticket.status.value,
        "subject": ticket.title,
        "opened_by": ticket.opened_by,
        "opened_at": ticket.opened_at.isoformat(),
        "occurrences": ticket.occurrences,
        "sla": {
            "first_response_due": ticket.first_response_due.isoformat(),
            "resolution_due": ticket.resolution_due.isoformat(),
            "first_responded_at": ticket.first_responded_at.isoformat()
            if ticket.first_responded_at
            else None,
            "breached": ticket.breached,
        },
        "resolution": None
        if resolution is None
        else {
            "action": resolution.action,
            "amount": resolution.amount.model_dump() if resolution.amount else None,
            "note": resolution.note,
            "resolved_by": resolution.resolved_by,
            "resolved_at": resolution.resolved_at.isoformat(),
        },
    }
    if messages is not None:
        view["context"] = ticket.context
        view["messages"] = [
            {
                "author_id": m.author_id,
                "author_role": m.author_role,
                "body": m.body,
                "internal": m.internal,
                "to": m.to_role,
                "at": m.at.isoformat(),
            }
            for m in messages
        ]
    return view
