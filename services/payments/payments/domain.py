"""Payments' rules: a payment's states, the card operations it needs, and the ledger entries
each fact writes. Pure: no I/O; Stripe is reached through `cards.py`, time comes in as
arguments.

A payment holds the order's `total`: goodwill credit pays for part of it (`credit_applied`),
the card for the rest (`card_minor`). Every call to Stripe is an `Operation` recorded before it
is made; its id is also Stripe's idempotency key, so a replayed event finds the operation it
already asked for and a restarted worker looks up what Stripe did before asking again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from contracts import Money
from payments import ledger
from payments.ledger import Entry, move


class PaymentState(StrEnum):
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    FAILED = "failed"
    VOIDED = "voided"
    CAPTURED = "captured"
    RELEASED = "released"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class OperationKind(StrEnum):
    AUTHORIZE = "authorize"
    REAUTHORIZE = "reauthorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    TRANSFER = "transfer"
    RELEASE_HOLD = "release_hold"  # an authorization replaced by a renewal


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

    @property
    def card_minor(self) -> int:
        return self.total_minor - self.credit_applied_minor

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

    def _entry(self, entry_id: str, at: datetime, reason: str, *lines: ledger.Line) -> Entry | None:
        return ledger.entry(entry_id, self.order_id, self.currency, at, reason, *lines)


@dataclass(frozen=True)
class Decision:
    """What a fact does: the payment afterwards, operations to run, ledger entries to write."""

    payment: Payment
    operations: tuple[Operation, ...] = ()
    entries: tuple[Entry, ...] = ()

    def then(self, other: Decision) -> Decision:
        return Decision(
            other.payment, self.operations + other.operations, self.entries + other.entries
        )


def _decided(
    payment: Payment, operations: list[Operation], entries: list[Entry | None]
) -> Decision:
    return Decision(payment, tuple(operations), tuple(e for e in entries if e is not None))


# --- placement and authorization ------------------------------------------------------


def place(payment: Payment, credit_balance_minor: int, now: datetime) -> Decision:
    """A new order's payment: spend the buyer's credit first, authorize the card for the rest."""
    credit = max(0, min(credit_balance_minor, payment.total_minor))
    placed = replace(payment, credit_applied_minor=credit, state=PaymentState.AUTHORIZING)
    reserve = placed._entry(
        placed.operation_id(OperationKind.AUTHORIZE, "credit"),
        now,
        "Goodwill credit set aside for the order",
        *move(credit, ledger.buyer_credit(payment.buyer_id), ledger.CREDIT_RESERVED),
    )
    authorize = placed.operation(OperationKind.AUTHORIZE, placed.card_minor, now)
    return _decided(placed, [authorize], [reserve])


def _credit_returned(payment: Payment, entry_id: str, now: datetime) -> Entry | None:
    return payment._entry(
        entry_id,
        now,
        "Goodwill credit returned: the order did not go ahead",
        *move(
            payment.credit_applied_minor,
            ledger.CREDIT_RESERVED,
            ledger.buyer_credit(payment.buyer_id),
        ),
    )


def record_authorization(
    payment: Payment, operation: Operation, outcome: CardOutcome, now: datetime, hold: timedelta
) -> Decision:
    if payment.state is not PaymentState.AUTHORIZING:
        return Decision(payment)
    if not outcome.succeeded:
        failed = replace(
            payment,
            state=PaymentState.FAILED,
            payment_intent_id=outcome.payment_intent_id,
            failure_reason=outcome.reason or "declined",
            decline_code=outcome.decline_code,
        )
        return _decided(failed, [], [_credit_returned(failed, f"{operation.id}:failed", now)])
    authorized = replace(
        payment,
        state=PaymentState.AUTHORIZED,
        payment_intent_id=outcome.payment_intent_id,
        authorized_at=now,
        expires_at=now + hold,
    )
    hold_entry = authorized._entry(
        operation.id,
        now,
        "Card authorized",
        *move(authorized.card_minor, ledger.BUYER_CARD, ledger.AUTHORIZATION_HOLD),
    )
    decision = _decided(authorized, [], [hold_entry])
    if authorized.ended:
        # The order ended while Stripe was being asked: void the hold it just granted.
        decision = decision.then(end_before_capture(replace(authorized, ended=False), None, now))
    return decision


ORDER_ENDED = "The order ended before shipment"


def end_before_capture(
    payment: Payment, authorization: Operation | None, now: datetime, reason: str = ORDER_ENDED
) -> Decision:
    """The order was cancelled, declined or abandoned by the seller before shipping (or
    support refunded it then): the hold is voided with `reason`."""
    if payment.state is PaymentState.AUTHORIZING:
        if authorization is not None and authorization.state is OperationState.PENDING:
            # Stripe was never asked: nothing to void.
            skipped = replace(authorization, state=OperationState.SKIPPED, finished_at=now)
            voided = replace(payment, state=PaymentState.VOIDED, ended=True)
            return _decided(
                voided, [skipped], [_credit_returned(voided, f"{skipped.id}:skipped", now)]
            )
        # Stripe is being asked right now: void once the answer is recorded.
        return Decision(replace(payment, ended=True))
    if payment.state is PaymentState.AUTHORIZED and not payment.ended:
        ended = replace(payment, ended=True)
        void = ended.operation(OperationKind.VOID, ended.card_minor, now, reason=reason)
        return _decided(ended, [void], [])
    return Decision(payment)


def record_void(payment: Payment, operation: Operation, now: datetime) -> Decision:
    voided = replace(payment, state=PaymentState.VOIDED)
    return _decided(
        voided,
        [],
        [
            voided._entry(
                operation.id,
                now,
                "Card authorization voided; nothing was charged",
                *move(payment.card_minor, ledger.AUTHORIZATION_HOLD, ledger.BUYER_CARD),
            ),
            _credit_returned(voided, f"{operation.id}:credit", now),
        ],
    )


def runnable(waiting: list[Operation]) -> list[Operation]:
    """The oldest waiting operation of each order: one order's card operations run one at a
    time, in the order they were decided, so that a capture decided while a renewal was on its
    way neither races it nor acts on the hold it replaces."""
    first: dict[str, Operation] = {}
    for operation in waiting:
        first.setdefault(operation.order_id, operation)
    return list(first.values())


def aimed_at_current_hold(operation: Operation, payment: Payment) -> Operation:
    """A capture, void or refund acts on the hold the payment has when it runs (a renewal may
    have replaced the one it had when it was decided). One already started keeps its target:
    it may have happened there."""
    if operation.state is OperationState.PENDING and operation.kind in (
        OperationKind.CAPTURE,
        OperationKind.VOID,
        OperationKind.REFUND,
    ):
        return replace(operation, payment_intent_id=payment.payment_intent_id)
    return operation


def renewal_obsolete(payment: Payment) -> bool:
    """A renewal that comes up after the payment moved on (captured, voided) is not made."""
    return payment.state is not PaymentState.AUTHORIZED or payment.ended


def renewal_due(payment: Payment, now: datetime, margin: timedelta) -> bool:
    """An authorization that lapses within `margin` and still has to be captured."""
    return (
        payment.state is PaymentState.AUTHORIZED
        and not payment.ended
        and not payment.expiry_escalated
        and payment.card_minor > 0
        and payment.expires_at is not None
        and payment.expires_at - margin <= now
    )


def renew(payment: Payment, now: datetime) -> Operation:
    return payment.operation(
        OperationKind.REAUTHORIZE,
        payment.card_minor,
        now,
        suffix=str(payment.reauthorizations + 1),
        reason="The authorization was about to lapse before shipment",
    )


def release_hold(payment: Payment, payment_intent_id: str, now: datetime, reason: str) -> Operation:
    """Cancel a hold the payment no longer uses (replaced by a renewal, or made after the
    payment moved on), rather than leave it on the buyer's card until it lapses."""
    return replace(
        payment.operation(
            OperationKind.RELEASE_HOLD,
            payment.card_minor,
            now,
            suffix=payment_intent_id,
            reason=reason,
        ),
        payment_intent_id=payment_intent_id,
    )


def record_renewal(
    payment: Payment, outcome: CardOutcome, now: datetime, hold: timedelta
) -> Payment:
    if not outcome.succeeded:
        return replace(payment, expiry_escalated=True)
    return replace(
        payment,
        payment_intent_id=outcome.payment_intent_id,
        authorized_at=now,
        expires_at=now + hold,
        reauthorizations=payment.reauthorizations + 1,
    )


# --- capture and release ----------------------------------------------------------------


def capture(payment: Payment, now: datetime) -> Decision:
    if payment.state is not PaymentState.AUTHORIZED or payment.ended:
        raise PaymentRefused(
            f"the order shipped but its payment is {payment.state.value}: nothing to capture"
        )
    return Decision(payment, (payment.operation(OperationKind.CAPTURE, payment.card_minor, now),))


def record_capture(
    payment: Payment,
    operation: Operation,
    now: datetime,
    fee_bps: int,
    waiting: Sequence[WaitingRefund] = (),
) -> Decision:
    """Escrow holds the order's total; refunds that waited for the capture are made, then a
    release that waited for it."""
    captured = _as_captured(payment)
    decision = _decided(
        captured,
        [],
        [
            captured._entry(
                operation.id,
                now,
                "Captured into escrow: the order shipped",
                *move(payment.card_minor, ledger.AUTHORIZATION_HOLD, ledger.ESCROW),
                *move(payment.credit_applied_minor, ledger.CREDIT_RESERVED, ledger.ESCROW),
            )
        ],
    )
    decision = decision.then(_waiting_refunds_made(captured, waiting, now))
    if decision.payment.release_due:
        decision = decision.then(release(decision.payment, now, fee_bps))
    return decision


def _as_captured(payment: Payment) -> Payment:
    return replace(payment, state=PaymentState.CAPTURED, captured_minor=payment.total_minor)


def release(payment: Payment, now: datetime, fee_bps: int) -> Decision:
    """Pay the seller what is in escrow, less the platform fee. Before the capture is
    confirmed, the release waits for it."""
    if payment.state in (PaymentState.AUTHORIZED, PaymentState.AUTHORIZING):
        return Decision(replace(payment, release_due=True))
    if payment.paid_out or payment.state not in (
        PaymentState.CAPTURED,
        PaymentState.PARTIALLY_REFUNDED,
    ):
        return Decision(payment)  # already released, refunded in full, or never charged
    escrow = payment.refundable_minor
    fee = escrow * fee_bps // 10_000
    released = replace(
        payment,
        state=PaymentState.RELEASED,
        released_minor=escrow - fee,
        fee_minor=fee,
        escrow_at_release_minor=escrow,
        refunded_at_release_minor=payment.refunded_minor,
        release_due=False,
    )
    return _decided(
        released,
        [],
        [
            released._entry(
                payment.operation_id(OperationKind.TRANSFER, "release"),
                now,
                "Released from escrow: the buyer confirmed or the order completed",
                ledger.Line(ledger.ESCROW, -escrow),
                ledger.Line(ledger.seller_payable(payment.seller_id), escrow - fee),
                ledger.Line(ledger.PLATFORM_FEES, fee),
            )
        ],
    )


def payout(payment: Payment, now: datetime) -> Operation:
    """A transfer of the seller's share to their Stripe connected account."""
    return payment.operation(
        OperationKind.TRANSFER, payment.released_minor, now, reason="Payout to the seller"
    )


def record_payout(payment: Payment, operation: Operation, now: datetime) -> Decision:
    return _decided(
        payment,
        [],
        [
            payment._entry(
                f"{operation.id}:paid",
                now,
                "Paid out to the seller's connected account",
                *move(
                    operation.amount_minor, ledger.seller_payable(payment.seller_id), ledger.PAYOUTS
                ),
            )
        ],
    )


# --- refunds and credits -----------------------------------------------------------------


def refund(
    payment: Payment, amount_minor: int | None, reason: str, key: str, now: datetime
) -> Decision:
    """Return `amount_minor` (everything still refundable when None) to the buyer: to the card
    up to what the card paid, the rest back to their credit balance. After a payout the
    seller's share is clawed back from what they are owed, and the fee is returned in
    proportion."""
    if payment.state not in (
        PaymentState.CAPTURED,
        PaymentState.RELEASED,
        PaymentState.PARTIALLY_REFUNDED,
    ):
        raise PaymentRefused(
            f"nothing was captured on order {payment.order_id} (payment {payment.state.value})"
        )
    amount = payment.refundable_minor if amount_minor is None else amount_minor
    if amount <= 0 or amount > payment.refundable_minor:
        raise PaymentRefused(
            f"cannot refund {amount} {payment.currency}: "
            f"{payment.refundable_minor} is still refundable"
        )
    card_refundable = payment.card_minor - payment.refunded_to_card_minor
    to_card = min(amount, card_refundable)
    to_credit = amount - to_card
    if payment.paid_out:
        clawback = clawed_back(payment, amount)
        sources = [
            ledger.Line(ledger.seller_payable(payment.seller_id), -clawback),
            ledger.Line(ledger.PLATFORM_FEES, -(amount - clawback)),
        ]
    else:
        sources = [ledger.Line(ledger.ESCROW, -amount)]
    refunded_total = payment.refunded_minor + amount
    refunded = replace(
        payment,
        refunded_minor=refunded_total,
        refunded_to_card_minor=payment.refunded_to_card_minor + to_card,
        state=PaymentState.REFUNDED
        if refunded_total == payment.captured_minor
        else PaymentState.PARTIALLY_REFUNDED,
    )
    operation = refunded.operation(OperationKind.REFUND, to_card, now, suffix=key, reason=reason)
    decided = refunded._entry(
        f"{operation.id}:decided",
        now,
        f"Refund decided: {reason}",
        *sources,
        ledger.Line(ledger.REFUNDS_PENDING, to_card),
        ledger.Line(ledger.buyer_credit(payment.buyer_id), to_credit),
    )
    return _decided(refunded, [operation], [decided])


@dataclass(frozen=True)
class WaitingRefund:
    """A refund decided while the order's capture was at the card processor (the item came
    back, or an agent refunded, before the capture was confirmed): it is made when the
    capture is recorded, as a release that came early is."""

    order_id: str
    key: str
    amount_minor: int | None  # None: everything still refundable then
    reason: str
    requested_at: datetime


def capture_under_way(payment: Payment, operations: Iterable[Operation]) -> bool:
    """The order shipped and its capture is decided but not yet confirmed by Stripe."""
    return payment.state is PaymentState.AUTHORIZED and any(
        operation.kind is OperationKind.CAPTURE and operation.open for operation in operations
    )


def check_waiting_refund(
    payment: Payment, waiting: Sequence[WaitingRefund], request: WaitingRefund, now: datetime
) -> None:
    """Refuse `request` now if it could not be made once the capture lands (with the
    refunds already waiting), while the event that asked for it is at hand."""
    _waiting_refunds_made(_as_captured(payment), [*waiting, request], now)


def _waiting_refunds_made(
    captured: Payment, waiting: Sequence[WaitingRefund], now: datetime
) -> Decision:
    decision = Decision(captured)
    for request in waiting:
        decision = decision.then(
            refund(decision.payment, request.amount_minor, request.reason, request.key, now)
        )
    return decision


def clawed_back(payment: Payment, amount_minor: int) -> int:
    """The seller's share of a refund of `amount_minor` decided after the payout; the rest is
    the fee's share, returned by the platform. Shares are rounded on the running total, so
    refunds in pieces return exactly the whole fee."""
    if not payment.paid_out:
        return 0
    after_release = payment.refunded_minor - payment.refunded_at_release_minor

    def fee_share(refunded: int) -> int:
        return payment.fee_minor * refunded // payment.escrow_at_release_minor

    return amount_minor - (fee_share(after_release + amount_minor) - fee_share(after_release))


def record_refund(payment: Payment, operation: Operation, now: datetime) -> Decision:
    return _decided(
        payment,
        [],
        [
            payment._entry(
                operation.id,
                now,
                "Refund confirmed by the card processor",
                *move(operation.amount_minor, ledger.REFUNDS_PENDING, ledger.REFUNDS),
            )
        ],
    )


def refund_before_capture(
    payment: Payment,
    authorization: Operation | None,
    amount_minor: int | None,
    now: datetime,
    reason: str,
) -> Decision:
    """A `refund` decided before anything was captured gives the buyer everything back the
    only way there is: the hold is voided and reserved credit returned, as for a cancelled
    order. Only the whole of it: part of a hold cannot be given back."""
    if payment.state not in (PaymentState.AUTHORIZING, PaymentState.AUTHORIZED):
        raise PaymentRefused(
            f"nothing was captured on order {payment.order_id} (payment {payment.state.value})"
        )
    if amount_minor is not None and amount_minor != payment.total_minor:
        raise PaymentRefused(
            f"nothing was captured on order {payment.order_id} yet: only the whole "
            f"{payment.total_minor} {payment.currency} can be given back (a void), "
            f"not {amount_minor}"
        )
    return end_before_capture(payment, authorization, now, reason)


def creditable_minor(payment: Payment, credited_minor: int, limit_bps: int) -> int:
    """How much more goodwill credit the order allows: its total times the operators'
    limit, less what was credited on it already."""
    return max(0, payment.total_minor * limit_bps // 10_000 - credited_minor)


def goodwill_credit(
    payment: Payment,
    credited_minor: int,
    limit_bps: int,
    buyer_id: str,
    amount: Money,
    reason: str,
    key: str,
    now: datetime,
) -> Entry:
    """Credit for the order's buyer, within what the order allows (`creditable_minor`)."""
    if amount.amount_minor <= 0:
        raise PaymentRefused("a goodwill credit must be a positive amount")
    if buyer_id != payment.buyer_id:
        raise PaymentRefused(f"order {payment.order_id} was not bought by {buyer_id}")
    if amount.currency != payment.currency:
        raise PaymentRefused(
            f"order {payment.order_id} is in {payment.currency}, the credit in {amount.currency}"
        )
    allowed = creditable_minor(payment, credited_minor, limit_bps)
    if amount.amount_minor > allowed:
        raise PaymentRefused(
            f"cannot credit {amount.amount_minor} {amount.currency} on order "
            f"{payment.order_id}: at most {allowed} more can be credited"
        )
    issued = ledger.entry(
        f"order:{payment.order_id}:credit:{key}",
        payment.order_id,
        amount.currency,
        now,
        f"Goodwill credit: {reason}",
        *move(amount.amount_minor, ledger.GOODWILL, ledger.buyer_credit(payment.buyer_id)),
    )
    assert issued is not None
    return issued


# --- chargebacks --------------------------------------------------------------------------


def dispute_amount(payment: Payment, amount: object, currency: object) -> tuple[int, str | None]:
    """What a dispute Stripe reports takes from the order, and why any of it is not taken.

    Refused whole (0 taken): an amount that is not a positive whole number, in another currency
    (a negative one once put money into escrow from nothing), or more than the charge itself
    still holds at the bank. Within the charge, a dispute takes at most what the order still
    holds for it: captured less refunded less earlier chargebacks (`refundable_minor`), from
    escrow, or from the seller's payable once it was paid out. What the buyer already had back
    is not taken a second time: that part is refused with its reason, to be contested at Stripe
    (the buyer was refunded), and the order's ledger never shows money that is not there."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        return 0, f"the dispute's amount {amount!r} is not a whole number of minor units"
    if not isinstance(currency, str) or currency.upper() != payment.currency:
        return 0, f"the dispute is in {currency!r}, the charge in {payment.currency}"
    disputable = payment.captured_minor - payment.charged_back_minor
    if amount <= 0:
        return 0, f"the dispute's amount {amount} is not positive"
    if amount > disputable:
        return 0, (
            f"the dispute is for {amount} {payment.currency}, more than the {disputable} "
            "the charge holds"
        )
    held = max(0, payment.refundable_minor)
    if amount > held == 0:
        return 0, (
            f"the buyer already had the dispute's {amount} {payment.currency} back (refunded): "
            "the order holds nothing more to take"
        )
    if amount > held:
        return held, (
            f"{amount - held} {payment.currency} of the dispute's {amount} was already refunded "
            f"to the buyer; only the {held} the order still held was taken"
        )
    return amount, None


def open_dispute(payment: Payment, dispute_id: str, amount_minor: int, now: datetime) -> Decision:
    """A chargeback takes `amount_minor` out of escrow, or back from the seller after a
    payout; until it is decided it cannot be refunded or released."""
    source = ledger.seller_payable(payment.seller_id) if payment.paid_out else ledger.ESCROW
    disputed = replace(payment, charged_back_minor=payment.charged_back_minor + amount_minor)
    opened = payment._entry(
        f"dispute:{dispute_id}:opened",
        now,
        "Chargeback opened: the buyer's bank took the money back",
        *move(amount_minor, source, ledger.CHARGEBACKS),
    )
    return _decided(disputed, [], [opened])


def win_dispute(payment: Payment, dispute_id: str, amount_minor: int, now: datetime) -> Decision:
    """The money comes back: to escrow, or to the seller if escrow was paid out meanwhile
    (the payout left the disputed amount out)."""
    destination = ledger.seller_payable(payment.seller_id) if payment.paid_out else ledger.ESCROW
    won = replace(payment, charged_back_minor=payment.charged_back_minor - amount_minor)
    entry = payment._entry(
        f"dispute:{dispute_id}:won",
        now,
        "Chargeback won: the money came back",
        *move(amount_minor, ledger.CHARGEBACKS, destination),
    )
    return _decided(won, [], [entry])
