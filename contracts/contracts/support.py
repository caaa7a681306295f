"""Events published by the support service on `support.events`, keyed by order id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event
from contracts.money import Money
from contracts.topics import SUPPORT_EVENTS

TicketReason = Literal[
    "shipment_overdue",
    "delivery_failed",
    "returned_to_sender",
    "not_received",
    "not_as_described",
    "damaged",
    "problem_other",
    "seller_backed_out",
    "capture_failed",
    "authorization_expiring",
    "chargeback",
    "refund_failed",
    "message_unanswered",
    "seller_review",
    "customer_request",
]
Priority = Literal["low", "normal", "high", "urgent"]
TicketFault = Literal["carrier", "buyer", "seller", "fraud"]

ResolutionAction = Literal[
    "refund", "partial_refund", "credit", "rebook", "reship", "return", "cancel", "no_action"
]


class TicketResolved(Event, type="marketplace.support.ticket_resolved.v1", topic=SUPPORT_EVENTS):
    """An agent decided a ticket. Payments acts on `refund` (everything still refundable, or
    `amount`), `partial_refund` and `credit` (both need `amount`), exactly once per ticket.
    Orders acts on `reship` (back to the seller with a new ship-by), `return` (a return with a
    pickup date), `cancel` (the order is cancelled; payments returns the money on
    `order.cancelled`), `no_action` and, on a disputed order, `partial_refund` (the dispute
    ends and the order completes: the seller is paid the rest)."""

    ticket_id: str
    order_id: str
    buyer_id: str
    seller_id: str
    action: ResolutionAction
    amount: Money | None = Field(
        None,
        description="For partial_refund and credit; optional "
        "for refund (default: all that is still refundable)",
    )
    note: str
    resolved_by: str
    resolved_at: AwareDatetime
    listing_id: str | None = Field(
        None,
        description="For rebook (#20): the listing of the same event the buyer is rebooked "
        "on (support checked it is one of the ticket's alternatives); orders places the order",
    )

    def subject(self) -> str:
        return self.order_id


class TicketOpened(Event, type="marketplace.support.ticket_opened.v1", topic=SUPPORT_EVENTS):
    """A ticket opened: by `system` when a promise slipped, or by the buyer or seller."""

    ticket_id: str
    order_id: str | None = Field(None, description="None for a ticket about a seller")
    buyer_id: str | None = None
    seller_id: str
    reason: TicketReason
    priority: Priority
    title: str = Field(description="What the ticket is about, in a line")
    opened_by: str = Field(description="`system`, or the principal who opened it")
    first_response_due: AwareDatetime
    resolution_due: AwareDatetime
    opened_at: AwareDatetime
    fault: TicketFault | None = Field(
        None,
        description="Who caused what the ticket is about, when the event that opened it says: "
        "`fraud` (a stolen card's chargeback), `carrier`, `buyer` or `seller`",
    )

    def subject(self) -> str:
        return self.order_id or self.seller_id


class TicketEscalated(Event, type="marketplace.support.ticket_escalated.v1", topic=SUPPORT_EVENTS):
    """A ticket's SLA was breached, or its promise slipped again: it needs more attention."""

    ticket_id: str
    order_id: str | None = None
    buyer_id: str | None = None
    seller_id: str
    reason: TicketReason
    priority: Priority
    why: Literal["first_response_overdue", "resolution_overdue", "repeated"]
    escalated_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id or self.seller_id


class TicketClosed(Event, type="marketplace.support.ticket_closed.v1", topic=SUPPORT_EVENTS):
    """A resolved ticket closed by itself: nobody wrote on it for the quiet period after its
    resolution (a party's message before that would have reopened it). Nothing more happens
    on it; a new problem needs a new ticket."""

    ticket_id: str
    order_id: str | None = Field(None, description="None for a ticket about a seller")
    buyer_id: str | None = None
    seller_id: str
    reason: TicketReason
    resolved_at: AwareDatetime = Field(description="When it was last resolved")
    closed_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id or self.seller_id


class TicketReplied(Event, type="marketplace.support.ticket_replied.v1", topic=SUPPORT_EVENTS):
    """An agent replied on a ticket where its buyer and seller see it: they are told.

    Never for an internal note, nor for a party's own message."""

    ticket_id: str
    order_id: str | None = Field(None, description="None for a ticket about a seller")
    buyer_id: str | None = None
    seller_id: str
    title: str = Field(description="What the ticket is about, in a line")
    author_id: str
    author_role: Literal["agent"]
    waiting_for: Literal["buyer", "seller"] = Field(
        description="Whose move it is now that the agent has answered"
    )
    excerpt: str = Field(description="The reply as plain text, shortened when long")
    replied_at: AwareDatetime
    to: Literal["buyer", "seller"] | None = Field(
        None,
        description="The one party the reply was addressed to (only they see it and are told); "
        "None: both parties",
    )

    def subject(self) -> str:
        return self.order_id or self.seller_id
