"""A payment, its card operations and what a decision says: the nouns the rules share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from contracts import Event, Money
from contracts.money import format_money
from payments import ledger
from payments.ledger import Entry


class PaymentState(StrEnum):
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    REQUIRES_ACTION = "requires_action"  # the card asks the buyer (3-D Secure): not a decline
    HOLD_LAPSED = "hold_lapsed"  # a renewal failed: the order waits for the buyer's new card
    FAILED = "failed"
    VOIDED = "voided"
    CAPTURED = "captured"
    RELEASED = "released"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    REBOOKED = "rebooked"  # the seller backed out; the hold pays the replacement order (#20)


class OperationKind(StrEnum):
    AUTHORIZE = "authorize"
    REAUTHORIZE = "reauthorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    TRANSFER = "transfer"
    RELEASE_HOLD = "release_hold"  # an authorization replaced by a renewal
    REPLACE_CARD = "replace_card"  # authorize again with the card the buyer gave after a lapse


class OperationState(StrEnum):
    PENDING = "pending"
    STARTED = "started"  # asked Stripe; a restart looks the result up before asking again
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # no longer needed (the order ended before it started)


class PaymentRefused(Exception):
    """A request that cannot apply to this payment (refund more than was captured, refund
    before capture): the event that asked for it is dead-lettered with this reason."""


@dataclass(frozen=True)
class CardOutcome:
    """What the processor answered. `succeeded` False is final (declined, cancelled intent);
    a transient failure is an exception instead, and the operation is tried again."""

    succeeded: bool
    payment_intent_id: str | None = None
    stripe_id: str | None = None  # a refund's or transfer's id
    reason: str | None = None
    decline_code: str | None = None
    customer_id: str | None = None  # the Stripe Customer the card is kept on
    next_action: str | None = None  # JSON: the card asks the buyer (`requires_action`)
    # The card the intent holds, as Stripe names it (`pm_...`): a test shorthand such as
    # `pm_card_visa` given at checkout becomes a PaymentMethod of its own at Stripe.
    payment_method_id: str | None = None

    @property
    def requires_action(self) -> bool:
        return self.next_action is not None


@dataclass(frozen=True)
class Operation:
    id: str  # also the Stripe idempotency key, derived from our ids
    order_id: str
    kind: OperationKind
    amount_minor: int  # what goes through the card (or to the seller's account)
    currency: str
    state: OperationState
    created_at: datetime
    reason: str = ""
    payment_intent_id: str | None = None
    stripe_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failure: str | None = None

    @property
    def open(self) -> bool:
        return self.state in (OperationState.PENDING, OperationState.STARTED)

    def started(self, now: datetime) -> Operation:
        return replace(self, state=OperationState.STARTED, started_at=self.started_at or now)

    def finished(self, outcome: CardOutcome, now: datetime) -> Operation:
        return replace(
            self,
            state=OperationState.SUCCEEDED if outcome.succeeded else OperationState.FAILED,
            payment_intent_id=outcome.payment_intent_id or self.payment_intent_id,
            stripe_id=outcome.stripe_id,
            failure=None if outcome.succeeded else outcome.reason or "failed",
            finished_at=now,
        )


@dataclass(frozen=True)
class Payment:
    order_id: str
    buyer_id: str
    seller_id: str
    currency: str
    total_minor: int
    payment_method: str
    state: PaymentState
    created_at: datetime
    correlation_id: str
    credit_applied_minor: int = 0
    payment_intent_id: str | None = None
    authorized_at: datetime | None = None
    expires_at: datetime | None = None
    failure_reason: str | None = None
    decline_code: str | None = None
    captured_minor: int = 0
    refunded_minor: int = 0  # decided; the card part is confirmed by its refund operation
    refunded_to_card_minor: int = 0
    charged_back_minor: int = 0  # taken by open or lost chargebacks
    released_minor: int = 0  # paid to the seller, after the fee
    fee_minor: int = 0
    escrow_at_release_minor: int = 0
    refunded_at_release_minor: int = 0
    ended: bool = False  # the order ended before capture: the authorization must be voided
    release_due: bool = False  # the order completed before the capture was confirmed
    reauthorizations: int = 0
    expiry_escalated: bool = False
    version: int = 1
    customer_id: str | None = None  # the Stripe Customer the order's card is kept on
    next_action: str | None = None  # JSON for the client while `requires_action`
    # A rebooking (#20, `rebooking.py`): on the first order, the seller backed out and the
    # hold waits for support's decision; on the new one, the order whose hold pays it, what
    # the platform covers of a higher price, and the backing-out seller charged for it.
    kept_for_rebook: bool = False
    replaces: str | None = None
    cover_minor: int = 0
    cover_charged_to: str | None = None
    cover_charge_minor: int = 0

    @property
    def card_minor(self) -> int:
        return self.total_minor - self.credit_applied_minor - self.cover_minor

    @property
    def paid_out(self) -> bool:
        """Escrow went to the seller (a later refund or chargeback is clawed back)."""
        return self.escrow_at_release_minor > 0

    @property
    def refundable_minor(self) -> int:
        """What is still ours to give back or to pay out."""
        return self.captured_minor - self.refunded_minor - self.charged_back_minor

    def money(self, amount_minor: int) -> Money:
        return Money(amount_minor=amount_minor, currency=self.currency)

    def shown(self, amount_minor: int) -> str:
        """`amount_minor` of the payment's currency as people read it ("84.00 EUR")."""
        return format_money(amount_minor, self.currency)

    def operation_id(self, kind: OperationKind, suffix: str | None = None) -> str:
        return f"order:{self.order_id}:{kind.value}" + (f":{suffix}" if suffix else "")

    def operation(
        self,
        kind: OperationKind,
        amount_minor: int,
        now: datetime,
        *,
        suffix: str | None = None,
        reason: str = "",
    ) -> Operation:
        return Operation(
            id=self.operation_id(kind, suffix),
            order_id=self.order_id,
            kind=kind,
            amount_minor=amount_minor,
            currency=self.currency,
            state=OperationState.PENDING,
            created_at=now,
            reason=reason,
            payment_intent_id=self.payment_intent_id,
        )

    def visible_to(self, principal_id: str, role: str) -> bool:
        return role in ("agent", "operator") or principal_id in (self.buyer_id, self.seller_id)

    def ledger_entry(
        self, entry_id: str, at: datetime, reason: str, *lines: ledger.Line
    ) -> Entry | None:
        return ledger.entry(entry_id, self.order_id, self.currency, at, reason, *lines)


@dataclass(frozen=True)
class Decision:
    """What a fact does: the payment afterwards, operations to run, ledger entries to write,
    and the events that tell the others. Handlers store it and publish its events; they never
    decide again why it happened."""

    payment: Payment
    operations: tuple[Operation, ...] = ()
    entries: tuple[Entry, ...] = ()
    events: tuple[Event, ...] = ()
    waiting_refunds_made: bool = False  # the refunds that waited for the capture are decided

    def then(self, other: Decision) -> Decision:
        return Decision(
            other.payment,
            self.operations + other.operations,
            self.entries + other.entries,
            self.events + other.events,
            self.waiting_refunds_made or other.waiting_refunds_made,
        )

    def publishing(self, *events: Event) -> Decision:
        return replace(self, events=self.events + events)

    def changes(self, before: Payment) -> bool:
        """Whether there is anything to store or publish beyond `before`."""
        return bool(
            self.payment != before
            or self.operations
            or self.entries
            or self.events
            or self.waiting_refunds_made
        )


def check_currency(payment: Payment, amount: Money) -> None:
    """Refuse an amount asked of the payment in another currency."""
    if amount.currency != payment.currency:
        raise PaymentRefused(
            f"order {payment.order_id} is paid in {payment.currency}, "
            f"the resolution is in {amount.currency}"
        )


def decided(
    payment: Payment, operations: Sequence[Operation], entries: Sequence[Entry | None]
) -> Decision:
    return Decision(payment, tuple(operations), tuple(e for e in entries if e is not None))


def as_captured(payment: Payment) -> Payment:
    return replace(payment, state=PaymentState.CAPTURED, captured_minor=payment.total_minor)
