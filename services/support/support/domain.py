"""Support's rules: tickets, their SLA clocks, who may see and do what, and how a resolution
is checked. Pure: no I/O; time and the business calendar come in as arguments."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, get_args

from contracts import Money
from contracts.support import Priority, ResolutionAction, TicketReason
from servicekit.calendar import BusinessCalendar

SYSTEM = "system"
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
REASONS: tuple[TicketReason, ...] = get_args(TicketReason)
ACTIONS: tuple[ResolutionAction, ...] = get_args(ResolutionAction)


class Status(StrEnum):
    OPEN = "open"
    PENDING_BUYER = "pending_buyer"
    PENDING_SELLER = "pending_seller"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (Status.OPEN, Status.PENDING_BUYER, Status.PENDING_SELLER, Status.ESCALATED)


class SupportError(Exception):
    status = 400
    slug = "bad-request"


class NotAllowed(SupportError):
    status = 403
    slug = "forbidden"


class Refused(SupportError):
    status = 409
    slug = "ticket-refused"


class InvalidResolution(SupportError):
    status = 422
    slug = "invalid-resolution"


@dataclass(frozen=True)
class SlaTargets:
    """Business hours to the first response and to the resolution."""

    first_response_hours: float
    resolution_hours: float


DEFAULT_SLA: dict[Priority, SlaTargets] = {
    "urgent": SlaTargets(1, 8),
    "high": SlaTargets(4, 16),
    "normal": SlaTargets(8, 40),
    "low": SlaTargets(16, 80),
}

# Why a ticket opens by itself, how urgent it is, and what the agent reads first.
AUTOMATIC: dict[TicketReason, tuple[Priority, str]] = {
    "shipment_overdue": ("high", "No tracking number by the ship-by date"),
    "delivery_failed": ("normal", "Delivery failed twice"),
    "returned_to_sender": ("high", "The parcel went back to the seller"),
    "not_received": ("high", "The buyer has not received the order"),
    "not_as_described": ("high", "The item is not as described"),
    "damaged": ("high", "The item arrived damaged"),
    "problem_other": ("normal", "The buyer reported a problem"),
    "seller_backed_out": ("urgent", "The seller backed out after accepting"),
    "capture_failed": ("high", "The payment could not be captured at shipment"),
    "authorization_expiring": ("high", "The card authorization lapses before shipment"),
    "chargeback": ("urgent", "The buyer's bank opened a chargeback"),
    "message_unanswered": ("normal", "A buyer's message has waited 24 hours for the seller"),
    "seller_review": ("high", "The seller's standing is under review"),
    "customer_request": ("normal", "A question from a customer"),
}

# Whose move it is once an agent has answered.
_WAITS_FOR_SELLER: frozenset[TicketReason] = frozenset(
    {"shipment_overdue", "message_unanswered", "seller_review"}
)


@dataclass(frozen=True)
class Resolution:
    action: ResolutionAction
    note: str
    resolved_by: str
    resolved_at: datetime
    amount: Money | None = None


@dataclass(frozen=True)
class Ticket:
    id: str
    order_id: str | None
    buyer_id: str | None
    seller_id: str
    reason: TicketReason
    priority: Priority
    status: Status
    title: str
    opened_by: str
    opened_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    context: dict[str, Any] = field(default_factory=dict)
    occurrences: int = 1
    first_responded_at: datetime | None = None
    first_response_breached: bool = False
    resolution_breached: bool = False
    resolution: Resolution | None = None
    currency: str | None = None  # the order's, for resolutions that move money
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def breached(self) -> bool:
        return self.first_response_breached or self.resolution_breached

    @property
    def sla_due(self) -> datetime:
        """What the queue sorts by: the next target this ticket must meet."""
        return self.resolution_due if self.first_responded_at else self.first_response_due

    def party(self, principal_id: str) -> bool:
        return principal_id in (self.buyer_id, self.seller_id)

    def visible_to(self, principal_id: str, role: str) -> bool:
        return role in ("agent", "operator") or self.party(principal_id)


def sla_clock(
    priority: Priority,
    opened_at: datetime,
    calendar: BusinessCalendar,
    targets: dict[Priority, SlaTargets] = DEFAULT_SLA,
) -> tuple[datetime, datetime]:
    target = targets[priority]
    return (
        calendar.add_business_hours(opened_at, target.first_response_hours),
        calendar.add_business_hours(opened_at, target.resolution_hours),
    )


def open_ticket(
    ticket_id: str,
    *,
    order: dict[str, Any] | None,
    seller_id: str,
    reason: TicketReason,
    opened_by: str,
    now: datetime,
    calendar: BusinessCalendar,
    title: str | None = None,
    context: dict[str, Any] | None = None,
    respond_before: datetime | None = None,
    targets: dict[Priority, SlaTargets] = DEFAULT_SLA,
) -> Ticket:
    """A new ticket. `respond_before` brings the resolution forward (an event date nearing)."""
    priority, default_title = AUTOMATIC[reason]
    first_response_due, resolution_due = sla_clock(priority, now, calendar, targets)
    if respond_before is not None:
        resolution_due = min(resolution_due, max(respond_before, now + timedelta(hours=1)))
        first_response_due = min(first_response_due, resolution_due)
    return Ticket(
        id=ticket_id,
        order_id=order["order_id"] if order else None,
        buyer_id=order["buyer_id"] if order else None,
        seller_id=seller_id,
        reason=reason,
        priority=priority,
        status=Status.OPEN,
        title=title or default_title,
        opened_by=opened_by,
        opened_at=now,
        first_response_due=first_response_due,
        resolution_due=resolution_due,
        context=(context or {})
        | ({"order_total_minor": order["total_minor"]} if order and "total_minor" in order else {}),
        currency=order.get("currency") if order else None,
    )


def _raised(priority: Priority) -> Priority:
    return PRIORITIES[min(PRIORITIES.index(priority) + 1, len(PRIORITIES) - 1)]


def repeat(ticket: Ticket, context: dict[str, Any]) -> Ticket:
    """The same promise slipped again: the open ticket counts it and becomes more urgent."""
    return replace(
        ticket,
        occurrences=ticket.occurrences + 1,
        priority=_raised(ticket.priority),
        context=ticket.context | {f"occurrence_{ticket.occurrences + 1}": context},
    )


Breach = Literal["first_response_overdue", "resolution_overdue"]


def breaches(ticket: Ticket, now: datetime) -> list[Breach]:
    """The SLA targets this open ticket has newly missed."""
    if not ticket.is_open:
        return []
    missed: list[Breach] = []
    if (
        not ticket.first_response_breached
        and ticket.first_responded_at is None
        and ticket.first_response_due <= now
    ):
        missed.append("first_response_overdue")
    if not ticket.resolution_breached and ticket.resolution_due <= now:
        missed.append("resolution_overdue")
    return missed


def escalate(ticket: Ticket, missed: list[Breach]) -> Ticket:
    return replace(
        ticket,
        status=Status.ESCALATED,
        priority=_raised(ticket.priority),
        first_response_breached=ticket.first_response_breached
        or "first_response_overdue" in missed,
        resolution_breached=ticket.resolution_breached or "resolution_overdue" in missed,
    )


def post_message(
    ticket: Ticket, author_id: str, role: str, internal: bool, now: datetime
) -> Ticket:
    """Who may write, and whose move it is afterwards."""
    if not ticket.visible_to(author_id, role) or role not in ("buyer", "seller", "agent"):
        raise NotAllowed("Only the order's buyer and seller and agents write on a ticket")
    if internal and role != "agent":
        raise NotAllowed("Internal notes are for agents")
    if not ticket.is_open:
        raise Refused("This ticket is resolved; open a new one if something else went wrong")
    if role != "agent":
        status = Status.ESCALATED if ticket.status is Status.ESCALATED else Status.OPEN
        return replace(ticket, status=status)
    if internal:
        return ticket
    waiting = Status.PENDING_SELLER if ticket.reason in _WAITS_FOR_SELLER else Status.PENDING_BUYER
    return replace(ticket, status=waiting, first_responded_at=ticket.first_responded_at or now)


def resolve(
    ticket: Ticket,
    *,
    action: ResolutionAction,
    amount: Money | None,
    note: str,
    agent_id: str,
    role: str,
    now: datetime,
) -> Ticket:
    if role != "agent":
        raise NotAllowed("Only agents resolve tickets")
    if not ticket.is_open:
        raise Refused("This ticket is already resolved")
    if action in ("refund", "partial_refund", "credit") and ticket.order_id is None:
        raise InvalidResolution("Money moves only on a ticket about an order")
    if action in ("partial_refund", "credit") and amount is None:
        raise InvalidResolution(f"A {action.replace('_', ' ')} needs an amount")
    if amount is not None:
        if action not in ("refund", "partial_refund", "credit"):
            raise InvalidResolution(f"A {action} moves no money; leave the amount out")
        if amount.amount_minor <= 0:
            raise InvalidResolution("The amount must be positive")
        if ticket.currency and amount.currency != ticket.currency:
            raise InvalidResolution(f"The order is paid in {ticket.currency}")
        total = ticket.context.get("order_total_minor")
        if action != "credit" and total is not None and amount.amount_minor > total:
            raise InvalidResolution("A refund cannot be more than the order's total")
    if action == "rebook" and not note.strip():
        raise InvalidResolution("A rebooking names the alternative offered in the note")
    return replace(
        ticket,
        status=Status.RESOLVED,
        first_responded_at=ticket.first_responded_at or now,
        resolution=Resolution(action, note, agent_id, now, amount),
    )
