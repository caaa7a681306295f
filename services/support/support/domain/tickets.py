"""Tickets and their SLA clocks: how a ticket opens, repeats, escalates, whose move it is,
and how it is resolved. Each change records the events it causes in `Ticket.events`, for the
handler to emit. Pure: time and the business calendar come in as arguments."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol, get_args

from contracts import Event, Money
from contracts.support import (
    Priority,
    ResolutionAction,
    TicketEscalated,
    TicketFault,
    TicketOpened,
    TicketReason,
    TicketReplied,
    TicketResolved,
)
from support.domain.errors import InvalidResolution, NotAllowed, Refused
from support.domain.order_money import moves_money

SYSTEM = "system"
PRIORITIES: tuple[Priority, ...] = get_args(Priority)


class Calendar(Protocol):
    """The business calendar the SLA clocks run on (servicekit's `BusinessCalendar`)."""

    def add_business_hours(self, start: datetime, hours: float) -> datetime: ...


class Status(StrEnum):
    OPEN = "open"
    PENDING_BUYER = "pending_buyer"
    PENDING_SELLER = "pending_seller"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (Status.OPEN, Status.PENDING_BUYER, Status.PENDING_SELLER, Status.ESCALATED)


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
    "refund_failed": ("urgent", "A refund was refused by the card processor: the buyer is owed"),
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
    # What the change that made this ticket caused, for the handler to emit; never stored.
    events: tuple[Event, ...] = field(default=(), compare=False, repr=False)

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
    calendar: Calendar,
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
    calendar: Calendar,
    title: str | None = None,
    context: dict[str, Any] | None = None,
    respond_before: datetime | None = None,
    targets: dict[Priority, SlaTargets] = DEFAULT_SLA,
    priority: Priority | None = None,
) -> Ticket:
    """A new ticket. `respond_before` brings the resolution forward (an event date nearing);
    `priority` overrides the reason's own (a resale event's problem at the door, #20)."""
    default_priority, default_title = AUTOMATIC[reason]
    priority = priority or default_priority
    first_response_due, resolution_due = sla_clock(priority, now, calendar, targets)
    if respond_before is not None:
        resolution_due = min(resolution_due, max(respond_before, now + timedelta(hours=1)))
        first_response_due = min(first_response_due, resolution_due)
    ticket = Ticket(
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
    return replace(ticket, events=(_opened(ticket),))


def _opened(ticket: Ticket) -> TicketOpened:
    return TicketOpened(
        ticket_id=ticket.id,
        order_id=ticket.order_id,
        buyer_id=ticket.buyer_id,
        seller_id=ticket.seller_id,
        reason=ticket.reason,
        priority=ticket.priority,
        title=ticket.title,
        opened_by=ticket.opened_by,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        opened_at=ticket.opened_at,
        fault=_fault(ticket.context),
    )


def _fault(context: dict[str, Any]) -> TicketFault | None:
    """Who caused it, as the event that opened the ticket said (`fault`, e.g. `fraud` on a
    stolen card's chargeback): seller standards leaves out what is not the seller's."""
    fault = context.get("fault")
    return fault if fault in get_args(TicketFault) else None


def _escalated(ticket: Ticket, why: Why, now: datetime) -> TicketEscalated:
    return TicketEscalated(
        ticket_id=ticket.id,
        order_id=ticket.order_id,
        buyer_id=ticket.buyer_id,
        seller_id=ticket.seller_id,
        reason=ticket.reason,
        priority=ticket.priority,
        why=why,
        escalated_at=now,
    )


def _raised(priority: Priority) -> Priority:
    return PRIORITIES[min(PRIORITIES.index(priority) + 1, len(PRIORITIES) - 1)]


def repeat(ticket: Ticket, context: dict[str, Any], now: datetime) -> Ticket:
    """The same promise slipped again: the open ticket counts it and becomes more urgent."""
    repeated = replace(
        ticket,
        occurrences=ticket.occurrences + 1,
        priority=_raised(ticket.priority),
        context=ticket.context | {f"occurrence_{ticket.occurrences + 1}": context},
    )
    return replace(repeated, events=(_escalated(repeated, "repeated", now),))


Breach = Literal["first_response_overdue", "resolution_overdue"]
Party = Literal["buyer", "seller"]
Why = Breach | Literal["repeated"]


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


def escalate(ticket: Ticket, missed: list[Breach], now: datetime) -> Ticket:
    """The ticket missed `missed`: more urgent, escalated, and one event per target missed."""
    escalated = replace(
        ticket,
        status=Status.ESCALATED,
        priority=_raised(ticket.priority),
        first_response_breached=ticket.first_response_breached
        or "first_response_overdue" in missed,
        resolution_breached=ticket.resolution_breached or "resolution_overdue" in missed,
    )
    return replace(escalated, events=tuple(_escalated(escalated, why, now) for why in missed))


EXCERPT_LENGTH = 500  # of an agent's reply, in the event that tells the parties


def excerpt(body: str, limit: int = EXCERPT_LENGTH) -> str:
    """`body` as it goes into an event: whole when short, else cut at a word with an ellipsis."""
    text = body.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(maxsplit=1)[0] if " " in cut else cut) + "…"


def post_message(
    ticket: Ticket,
    author_id: str,
    role: str,
    internal: bool,
    now: datetime,
    *,
    body: str = "",
    to: Party | None = None,
) -> Ticket:
    """Who may write, and whose move it is afterwards. An agent's public reply tells the
    parties (`TicketReplied`, with an excerpt of `body`); one addressed `to` a party is seen by
    and told to that party only, and waits for them. An internal note or a party's own message
    causes no event."""
    if not ticket.visible_to(author_id, role) or role not in ("buyer", "seller", "agent"):
        raise NotAllowed("Only the order's buyer and seller and agents write on a ticket")
    if internal and role != "agent":
        raise NotAllowed("Internal notes are for agents")
    if to is not None and (role != "agent" or internal):
        raise NotAllowed("Only an agent's reply is addressed to one party")
    if to == "buyer" and ticket.buyer_id is None:
        raise Refused("This ticket has no buyer to reply to")
    if ticket.status is Status.RESOLVED and role != "agent":
        # A party writing before the ticket closed by itself: it is open again.
        return replace(ticket, status=Status.OPEN, events=())
    if not ticket.is_open:
        raise Refused(
            "This ticket is closed; open a new one if something else went wrong"
            if ticket.status is Status.CLOSED
            else "This ticket is resolved; a message from its buyer or seller reopens it"
        )
    if role != "agent":
        status = Status.ESCALATED if ticket.status is Status.ESCALATED else Status.OPEN
        return replace(ticket, status=status, events=())
    if internal:
        return replace(ticket, events=())
    waiting = (
        Status.PENDING_SELLER
        if to == "seller" or (to is None and ticket.reason in _WAITS_FOR_SELLER)
        else Status.PENDING_BUYER
    )
    replied = TicketReplied(
        ticket_id=ticket.id,
        order_id=ticket.order_id,
        buyer_id=ticket.buyer_id,
        seller_id=ticket.seller_id,
        title=ticket.title,
        author_id=author_id,
        author_role="agent",
        waiting_for="seller" if waiting is Status.PENDING_SELLER else "buyer",
        excerpt=excerpt(body),
        replied_at=now,
        to=to,
    )
    return replace(
        ticket,
        status=waiting,
        first_responded_at=ticket.first_responded_at or now,
        events=(replied,),
    )


def resolve(
    ticket: Ticket,
    *,
    action: ResolutionAction,
    amount: Money | None,
    note: str,
    agent_id: str,
    role: str,
    now: datetime,
    buyer_of_order: str | None = None,
    listing_id: str | None = None,
) -> Ticket:
    """An agent decides the ticket. A ticket about an order tells the platform what was decided
    (`TicketResolved`, for payments to act on); `buyer_of_order` names the buyer when the ticket
    opened from a payment event before its order was seen, since a credit must go to someone.
    Whether the order's money allows it is `order_money.decide_money`'s to say."""
    if role != "agent":
        raise NotAllowed("Only agents resolve tickets")
    if not ticket.is_open:
        raise Refused("This ticket is already resolved")
    if moves_money(action) and ticket.order_id is None:
        raise InvalidResolution("Money moves only on a ticket about an order")
    if action in ("partial_refund", "credit") and amount is None:
        raise InvalidResolution(f"A {action.replace('_', ' ')} needs an amount")
    if amount is not None and not moves_money(action):
        raise InvalidResolution(f"A {action} moves no money; leave the amount out")
    if action == "rebook" and not note.strip():
        raise InvalidResolution("A rebooking names the alternative offered in the note")
    if listing_id is not None and action != "rebook":
        raise InvalidResolution("Only a rebooking names a listing_id")
    earlier = ticket.resolution
    if earlier is not None and moves_money(earlier.action) and moves_money(action):
        # payments moves money once per ticket: a second amount would never be paid
        raise Refused(
            f"This reopened ticket already decided a {earlier.action.replace('_', ' ')}; "
            "open a new ticket for more money"
        )
    resolved = replace(
        ticket,
        status=Status.RESOLVED,
        first_responded_at=ticket.first_responded_at or now,
        resolution=Resolution(action, note, agent_id, now, amount),
    )
    if ticket.order_id is None:
        return replace(resolved, events=())
    told = TicketResolved(
        ticket_id=ticket.id,
        order_id=ticket.order_id,
        buyer_id=ticket.buyer_id or buyer_of_order or "",
        seller_id=ticket.seller_id,
        action=action,
        amount=amount,
        note=note,
        resolved_by=agent_id,
        resolved_at=now,
        listing_id=listing_id,
    )
    return replace(resolved, events=(told,))
