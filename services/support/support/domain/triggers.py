"""Which of the platform's events open a ticket by themselves, on which order (or seller) and
for which reason: one place to read what support reacts to. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from contracts import Event
from contracts.orders import (
    OrderDeliveryFailed,
    OrderExchangeOverdue,
    OrderProblemReported,
    OrderReturned,
    OrderReturnedToSender,
    OrderSellerBackedOut,
    OrderShipmentOverdue,
)
from contracts.payments import (
    PaymentAuthorizationExpiring,
    PaymentCaptureFailed,
    PaymentDisputeOpened,
    PaymentRefundFailed,
    PayoutAccountOverdue,
)
from contracts.seller_standards import SellerOrderSurge, SellerStandingChanged
from contracts.support import Priority, TicketReason
from support.domain.resale import RESALE_TITLES

# Events whose every occurrence asks for an agent, by the ticket's reason.
_ALWAYS: dict[type[Event], TicketReason] = {
    OrderShipmentOverdue: "shipment_overdue",
    OrderExchangeOverdue: "shipment_overdue",  # the replacement's shipment
    OrderReturnedToSender: "returned_to_sender",
    PaymentCaptureFailed: "capture_failed",  # nothing will be captured, nothing refunded
    PaymentAuthorizationExpiring: "authorization_expiring",
    PaymentDisputeOpened: "chargeback",
    # The buyer is owed a refund Stripe refused: urgent, whichever ticket decided it (payments
    # refunds once per ticket, so a second try needs a ticket of its own).
    PaymentRefundFailed: "refund_failed",
}
TRIGGERS: tuple[type[Event], ...] = (
    *_ALWAYS,
    OrderDeliveryFailed,
    OrderProblemReported,
    OrderReturned,
    OrderSellerBackedOut,
    SellerStandingChanged,
    SellerOrderSurge,
    PayoutAccountOverdue,
)
# A refund orders decided because the seller let a deadline pass: recorded on a ticket (an
# exchange's, on the one its overdue replacement opened).
_DECIDED_BY_DEADLINE: dict[str, tuple[TicketReason, str | None]] = {
    "return_not_confirmed": (
        "problem_other",
        "The seller did not confirm the return in time; the buyer was refunded",
    ),
    "replacement_not_shipped": ("shipment_overdue", None),
}


@dataclass(frozen=True)
class TicketAsked:
    """A ticket the platform asks for: on `order_id` (or the seller's, when None) for
    `reason`; `respond_before` brings the resolution forward."""

    order_id: str | None
    seller_id: str
    reason: TicketReason
    context: dict[str, Any]
    respond_before: datetime | None = None
    title: str | None = None  # None: the reason's own
    priority: Priority | None = None  # None: the reason's own

    def order_from_context(self) -> dict[str, Any] | None:
        """What the event itself says of the order, for one support has not seen placed: a
        payment event can overtake its order's `order.placed` (another topic)."""
        if self.order_id is None:
            return None
        amount = self.context.get("amount") or {}
        return {
            "order_id": self.order_id,
            "buyer_id": self.context.get("buyer_id"),
            "currency": amount.get("currency"),
        }


def ticket_asked_by(event: Event, now: datetime) -> TicketAsked | None:
    """The ticket `event` opens, if any."""
    reason = _ALWAYS.get(type(event))
    if reason is not None:
        return _on_order(event, reason)
    match event:
        case OrderDeliveryFailed():
            return _on_order(event, "delivery_failed") if event.attempts >= 2 else None
        case OrderProblemReported() if event.reason in RESALE_TITLES:
            # At the door of a resale event (#20): urgent, on a 24/7 clock near the event.
            asked = _on_order(event, "problem_other")
            title = RESALE_TITLES[event.reason]
            return TicketAsked(
                asked.order_id, asked.seller_id, asked.reason, asked.context, None, title, "urgent"
            )
        case OrderProblemReported():
            return _on_order(event, "problem_other" if event.reason == "other" else event.reason)
        case OrderSellerBackedOut():
            return _backed_out(event, now)
        case OrderReturned():
            if event.decided_by != "system" or event.reason is None:
                return None  # the seller confirmed the return: nothing to follow up
            reason, title = _DECIDED_BY_DEADLINE[event.reason]
            asked = _on_order(event, reason)
            return TicketAsked(asked.order_id, asked.seller_id, reason, asked.context, title=title)
        case SellerStandingChanged():
            # a seller put under review: an agent looks at what drove it
            if event.standing != "under_review":
                return None
            return TicketAsked(None, event.seller_id, "seller_review", _context(event))
        case SellerOrderSurge():
            # the seller may be overwhelmed: an agent checks in before buyers wait (#19)
            title = f"Order surge: {event.recent_orders} orders in {event.recent_days} days"
            return TicketAsked(None, event.seller_id, "seller_review", _context(event), title=title)
        case PayoutAccountOverdue():
            # money has waited long for the seller's payout account: an agent helps them (#18)
            since = event.waiting_since.date().isoformat()
            title = f"Payouts waiting since {since}: no active payout account"
            return TicketAsked(None, event.seller_id, "seller_review", _context(event), title=title)
    return None


def message_unanswered(
    order_id: str, seller_id: str, message_id: str, since: datetime
) -> TicketAsked:
    """A buyer's message the seller has left unanswered too long."""
    context = {"message_id": message_id, "since": since.isoformat()}
    return TicketAsked(order_id, seller_id, "message_unanswered", context)


def _backed_out(event: OrderSellerBackedOut, now: datetime) -> TicketAsked:
    """Urgent; for a ticket to an event, the buyer needs an alternative before the event."""
    respond_before = None
    if event.event_date:
        event_day = date.fromisoformat(event.event_date)
        midnight = datetime.combine(event_day, time(0), tzinfo=now.tzinfo)
        respond_before = midnight - timedelta(hours=24)
    asked = _on_order(event, "seller_backed_out")
    return TicketAsked(asked.order_id, asked.seller_id, asked.reason, asked.context, respond_before)


def _on_order(event: Any, reason: TicketReason) -> TicketAsked:
    return TicketAsked(event.order_id, event.seller_id, reason, _context(event))


def _context(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")
