"""Support's rules: tickets, their SLA clocks, who may see and do what, and how a resolution
is checked. Pure: no I/O; time and the business calendar come in as arguments."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any, Literal, get_args

from contracts import Money
from contracts.money import minor_unit_digits
from contracts.orders import OrderPlaced, OrderReturned, OrderShipped
from contracts.payments import (
    PaymentAuthorizationFailed,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCaptureFailed,
    PaymentDisputeClosed,
    PaymentDisputeOpened,
    PaymentRefunded,
    PaymentReleased,
    PaymentVoided,
)
from contracts.support import Priority, ResolutionAction, TicketReason
from servicekit.calendar import BusinessCalendar

SYSTEM = "system"
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
REASONS: tuple[TicketReason, ...] = get_args(TicketReason)
ACTIONS: tuple[ResolutionAction, ...] = get_args(ResolutionAction)
MONEY_ACTIONS: frozenset[ResolutionAction] = frozenset({"refund", "partial_refund", "credit"})


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
    title = "Not possible"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.extra = extra  # problem details members: what is possible instead


class NotAllowed(SupportError):
    status = 403
    slug = "forbidden"


class Refused(SupportError):
    status = 409
    slug = "ticket-refused"


class InvalidResolution(SupportError):
    status = 422
    slug = "invalid-resolution"


class ResolutionImpossible(SupportError):
    """The resolution asks for money the order does not have to give: more than can still be
    refunded, credit above the limit, another currency. The answer says what is possible."""

    status = 409
    slug = "resolution-not-possible"


class NotYetKnown(SupportError):
    """Support has not yet heard from orders or payments about this order's money."""

    status = 409
    slug = "order-not-yet-known"
    title = "Not yet known"


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
    if action in MONEY_ACTIONS and ticket.order_id is None:
        raise InvalidResolution("Money moves only on a ticket about an order")
    if action in ("partial_refund", "credit") and amount is None:
        raise InvalidResolution(f"A {action.replace('_', ' ')} needs an amount")
    if amount is not None and action not in MONEY_ACTIONS:
        raise InvalidResolution(f"A {action} moves no money; leave the amount out")
    if action == "rebook" and not note.strip():
        raise InvalidResolution("A rebooking names the alternative offered in the note")
    return replace(
        ticket,
        status=Status.RESOLVED,
        first_responded_at=ticket.first_responded_at or now,
        resolution=Resolution(action, note, agent_id, now, amount),
    )


# --- what an order's money allows ----------------------------------------------------------


@dataclass(frozen=True)
class OrderMoney:
    """What support knows of one order's money: the total from `order.placed`, what payments
    holds from its events, and the refunds and credits support itself has decided (which
    payments may not have carried out yet)."""

    order_id: str
    currency: str | None = None
    total_minor: int | None = None  # None until `order.placed` arrives
    authorized_minor: int = 0  # the card's hold plus the credit applied
    authorization_failed: bool = False
    shipped: bool = False  # the capture follows: until payments reports it, refunds wait
    captured_minor: int = 0
    capture_failed: bool = False
    voided: bool = False
    released_minor: int = 0
    refunded_minor: int = 0  # payments' `total_refunded`
    charged_back_minor: int = 0  # taken by open or lost chargebacks
    # The least the order's refunds will come to: payments' total when support decided, plus
    # what support decided since. Two refunds decided before payments reports either one
    # cannot both take the same money.
    refunds_decided_minor: int = 0
    credits_decided_minor: int = 0
    payments_credit_limit_minor: int | None = None  # payments' cap for the order, if it says
    version: int = 0

    @property
    def captured(self) -> bool:
        return self.captured_minor > 0

    @property
    def held_minor(self) -> int:
        """What the buyer paid that the platform holds, captured or not."""
        if self.captured:
            return self.captured_minor
        if self.voided or self.authorization_failed or self.capture_failed:
            return 0
        return self.authorized_minor

    @property
    def refunded_at_least_minor(self) -> int:
        return max(self.refunded_minor, self.refunds_decided_minor)

    @property
    def refundable_minor(self) -> int:
        """As payments counts it: held, less refunds and chargebacks."""
        left = self.held_minor - self.refunded_at_least_minor - self.charged_back_minor
        return max(0, left)

    def money(self, amount_minor: int) -> Money:
        assert self.currency is not None
        return Money(amount_minor=amount_minor, currency=self.currency)


PaymentFact = (
    OrderPlaced
    | OrderReturned
    | OrderShipped
    | PaymentCaptureFailed
    | PaymentAuthorized
    | PaymentAuthorizationFailed
    | PaymentCaptured
    | PaymentVoided
    | PaymentReleased
    | PaymentRefunded
    | PaymentDisputeOpened
    | PaymentDisputeClosed
)


def money_seen(money: OrderMoney, event: PaymentFact) -> OrderMoney:
    """Fold one of orders' or payments' facts into what support knows of the order's money.
    An order's events arrive in order (one partition per order), but orders' and payments'
    topics may overtake each other."""
    folded = _fact_folded(money, event)
    refundable: Money | None = getattr(event, "refundable", None)
    if refundable is None or not folded.captured:
        return folded
    # Payments says what is left after refunds it decided but has not reported yet (such as
    # one waiting for the capture): those count as decided here too.
    decided_by_payments = folded.held_minor - folded.charged_back_minor - refundable.amount_minor
    return replace(
        folded, refunds_decided_minor=max(folded.refunds_decided_minor, decided_by_payments)
    )


def _fact_folded(money: OrderMoney, event: PaymentFact) -> OrderMoney:
    currency = money.currency or _currency_of(event)
    match event:
        case OrderPlaced():
            return replace(
                money, total_minor=event.total.amount_minor, currency=event.total.currency
            )
        case OrderReturned():
            # payments refunds everything left when the item is back, before it reports it
            everything = money.held_minor - money.charged_back_minor
            decided = max(money.refunds_decided_minor, everything)
            return replace(money, currency=currency, refunds_decided_minor=decided)
        case OrderShipped():
            return replace(money, shipped=True)
        case PaymentCaptureFailed():
            return replace(money, currency=currency, capture_failed=True)
        case PaymentAuthorized():
            credit = event.credit_applied.amount_minor if event.credit_applied else 0
            creditable = event.creditable  # payments' own limit, from producers that state it
            return replace(
                money,
                currency=currency,
                authorized_minor=event.amount.amount_minor + credit,
                authorization_failed=False,
                payments_credit_limit_minor=creditable.amount_minor
                if creditable
                else money.payments_credit_limit_minor,
            )
        case PaymentAuthorizationFailed():
            return replace(money, currency=currency, authorization_failed=True)
        case PaymentCaptured():
            return replace(money, currency=currency, captured_minor=event.amount.amount_minor)
        case PaymentVoided():
            return replace(money, currency=currency, voided=True)
        case PaymentReleased():
            paid = event.amount.amount_minor + event.platform_fee.amount_minor
            return replace(money, currency=currency, released_minor=paid)
        case PaymentRefunded():
            refunded = max(money.refunded_minor, event.total_refunded.amount_minor)
            return replace(money, currency=currency, refunded_minor=refunded)
        case PaymentDisputeOpened():
            taken = money.charged_back_minor + event.amount.amount_minor
            return replace(money, currency=currency, charged_back_minor=taken)
        case PaymentDisputeClosed():
            returned = event.amount.amount_minor if event.outcome == "won" else 0
            taken = max(0, money.charged_back_minor - returned)
            return replace(money, currency=currency, charged_back_minor=taken)
    return money


def _currency_of(event: PaymentFact) -> str | None:
    if isinstance(event, OrderShipped):
        return None
    if isinstance(event, OrderPlaced | OrderReturned):
        return event.total.currency
    return event.amount.currency


def credit_limit_minor(total_minor: int, ratio: Decimal) -> int:
    """The goodwill credit an order may carry in all: `ratio` of its total, rounded down."""
    return int((Decimal(total_minor) * ratio).to_integral_value(rounding=ROUND_FLOOR))


def decide_money(
    money: OrderMoney | None,
    *,
    action: ResolutionAction,
    amount: Money | None,
    credit_ratio: Decimal = Decimal(1),
) -> OrderMoney | None:
    """Check a resolution against what the order's money allows, and count it: the order's
    money afterwards (unchanged for an action that moves none). Refuses, changing nothing,
    with what is possible instead; payments must never be asked for what it cannot do."""
    if action not in MONEY_ACTIONS:
        return money
    if money is None or money.total_minor is None or money.currency is None:
        raise NotYetKnown(
            "Support has not yet heard about this order's total; retry shortly",
            retry_after_seconds=5,
        )
    currency = money.currency
    if action == "credit":
        return _credit(money, amount, credit_ratio)
    refundable = money.money(money.refundable_minor)
    if amount is not None:
        if amount.currency != currency:
            raise ResolutionImpossible(
                f"The order is paid in {currency}", refundable=refundable.model_dump()
            )
        if amount.amount_minor <= 0:
            raise ResolutionImpossible(
                "The amount must be positive", refundable=refundable.model_dump()
            )
    if not money.captured:
        return _refund_before_capture(money, action, amount)
    if money.refundable_minor <= 0:
        raise ResolutionImpossible(
            "Nothing is left to refund on this order: it has been refunded or charged back",
            refundable=refundable.model_dump(),
        )
    requested = money.refundable_minor if amount is None else amount.amount_minor
    if requested > money.refundable_minor:
        raise ResolutionImpossible(
            f"Only {_shown(refundable)} can still be refunded on this order",
            refundable=refundable.model_dump(),
        )
    return replace(money, refunds_decided_minor=money.refunded_at_least_minor + requested)


def _refund_before_capture(
    money: OrderMoney, action: ResolutionAction, amount: Money | None
) -> OrderMoney:
    """Before the capture, money goes back only as a whole: the hold is voided."""
    if money.voided or money.authorization_failed or money.capture_failed:
        raise ResolutionImpossible(
            "Nothing was paid on this order: the card's hold was released, never made, or "
            "could not be captured",
            refundable=money.money(0).model_dump(),
        )
    if money.shipped:
        raise NotYetKnown(
            "The order shipped and its payment is being captured; retry shortly",
            retry_after_seconds=5,
        )
    if money.authorized_minor <= 0:
        raise NotYetKnown(
            "Payments has not yet reported this order's payment; retry shortly",
            retry_after_seconds=5,
        )
    whole = money.money(money.refundable_minor)
    if money.refundable_minor <= 0:
        raise ResolutionImpossible(
            "A refund of this order is already decided", refundable=whole.model_dump()
        )
    if action == "partial_refund" or (
        amount is not None and amount.amount_minor != money.refundable_minor
    ):
        raise ResolutionImpossible(
            "Nothing is captured yet: only a refund of everything is possible now (the card's "
            f"hold of {_shown(whole)} is released)",
            refundable=whole.model_dump(),
            captured=False,
        )
    return replace(money, refunds_decided_minor=money.refunded_at_least_minor + whole.amount_minor)


def _credit(money: OrderMoney, amount: Money | None, ratio: Decimal) -> OrderMoney:
    assert amount is not None and money.total_minor is not None  # resolve() asked for it
    limit = credit_limit_minor(money.total_minor, ratio)
    if money.payments_credit_limit_minor is not None:
        limit = min(limit, money.payments_credit_limit_minor)  # payments would refuse more
    creditable = money.money(max(0, limit - money.credits_decided_minor))
    if amount.currency != money.currency:
        raise ResolutionImpossible(
            f"The order is paid in {money.currency}", creditable=creditable.model_dump()
        )
    if amount.amount_minor <= 0:
        raise ResolutionImpossible(
            "The amount must be positive", creditable=creditable.model_dump()
        )
    if amount.amount_minor > creditable.amount_minor:
        raise ResolutionImpossible(
            f"At most {_shown(creditable)} more credit can be given on this order "
            f"({_shown(money.money(limit))} in all)",
            creditable=creditable.model_dump(),
        )
    return replace(money, credits_decided_minor=money.credits_decided_minor + amount.amount_minor)


def _shown(money: Money) -> str:
    digits = minor_unit_digits(money.currency)
    units = Decimal(money.amount_minor).scaleb(-digits)
    return f"{units:.{digits}f} {money.currency}"
