"""Events published by the support service on `support.events`, keyed by order id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event
from contracts.money import Money
from contracts.topics import SUPPORT_EVENTS

ResolutionAction = Literal[
    "refund", "partial_refund", "credit", "rebook", "reship", "return", "no_action"
]


class TicketResolved(Event, type="marketplace.support.ticket_resolved.v1", topic=SUPPORT_EVENTS):
    """An agent decided a ticket. Payments acts on `refund` (everything still refundable, or
    `amount`), `partial_refund` and `credit` (both need `amount`), exactly once per ticket."""

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

    def subject(self) -> str:
        return self.order_id
