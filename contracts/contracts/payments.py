"""Events published by the payments service on `payments.events`, keyed by order id."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event
from contracts.money import Money
from contracts.topics import PAYMENTS_EVENTS


class PaymentAuthorized(Event, type="marketplace.payment.authorized.v1", topic=PAYMENTS_EVENTS):
    """The buyer's card holds `amount` for the order until capture or expiry."""

    order_id: str
    payment_intent_id: str
    amount: Money
    authorized_at: AwareDatetime
    expires_at: AwareDatetime
    credit_applied: Money | None = Field(
        None,
        description="Goodwill credit used for part of the total; the card holds the rest. "
        "When credit covers everything, `payment_intent_id` is empty and `amount` is zero.",
    )
    creditable: Money | None = Field(
        None,
        description="How much goodwill credit payments will issue on this order, all "
        "tickets together (its total times the operators' PAYMENTS_CREDIT_LIMIT_BPS)",
    )

    def subject(self) -> str:
        return self.order_id


class PaymentAuthorizationFailed(
    Event, type="marketplace.payment.authorization_failed.v1", topic=PAYMENTS_EVENTS
):
    """The card could not be authorized; the order cannot go ahead."""

    order_id: str
    amount: Money
    reason: str
    decline_code: str | None = None
    failed_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentCaptured(Event, type="marketplace.payment.captured.v1", topic=PAYMENTS_EVENTS):
    """The authorization was captured into escrow (the order shipped)."""

    order_id: str
    payment_intent_id: str
    amount: Money
    captured_at: AwareDatetime
    refundable: Money | None = Field(
        None,
        description="What can still be refunded on the order after this fact (captured, less "
        "refunds decided, among them those that waited for the capture, and open or lost "
        "chargebacks); None from older producers",
    )

    def subject(self) -> str:
        return self.order_id


class PaymentVoided(Event, type="marketplace.payment.voided.v1", topic=PAYMENTS_EVENTS):
    """An uncaptured authorization was released (the order ended before shipment)."""

    order_id: str
    payment_intent_id: str
    amount: Money
    voided_at: AwareDatetime
    credit_returned: Money | None = Field(
        None, description="Goodwill credit set aside for the order and given back to the buyer"
    )
    reason: str | None = Field(
        None,
        description="Why: the order ended before shipment, or a support ticket refunded it "
        "before anything was captured (then the order cannot go ahead either)",
    )

    def subject(self) -> str:
        return self.order_id


class PaymentReleased(Event, type="marketplace.payment.released.v1", topic=PAYMENTS_EVENTS):
    """Escrow was paid out to the seller: `amount` to the seller, `platform_fee` kept."""

    order_id: str
    seller_id: str
    amount: Money
    platform_fee: Money
    released_at: AwareDatetime
    refundable: Money | None = Field(
        None,
        description="What can still be refunded on the order after this fact (captured, less "
        "refunds decided and open or lost chargebacks); None from older producers",
    )

    def subject(self) -> str:
        return self.order_id


class PaymentRefunded(Event, type="marketplace.payment.refunded.v1", topic=PAYMENTS_EVENTS):
    """`amount` went back to the buyer; `total_refunded` is all refunded on the order so far,
    and `full` says whether that is everything that was captured."""

    order_id: str
    amount: Money
    total_refunded: Money
    full: bool
    reason: str
    refunded_at: AwareDatetime
    to_credit: Money | None = Field(
        None, description="The part returned to the buyer's credit balance instead of the card"
    )
    clawed_back: Money | None = Field(
        None, description="After a payout: what the seller owes back for this refund"
    )
    captured: Money | None = Field(None, description="What was captured on the order")
    refundable: Money | None = Field(
        None,
        description="What can still be refunded on the order after this fact (captured, less "
        "refunds decided and open or lost chargebacks); None from older producers",
    )

    def subject(self) -> str:
        return self.order_id


class PaymentRefundFailed(
    Event, type="marketplace.payment.refund_failed.v1", topic=PAYMENTS_EVENTS
):
    """Stripe refused a refund for good: `amount` did not go back to the buyer's card. It stays
    owed to them (`refunds_pending` in payments' ledger) and support takes it up at once (an
    urgent ticket); the buyer is told it has not arrived."""

    order_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    reason: str = Field(description="Why the refund was decided (a ticket, a return, ...)")
    failure: str = Field(description="Why Stripe refused it")
    ticket_id: str | None = Field(None, description="The ticket that decided it, if one did")
    failed_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentCaptureFailed(
    Event, type="marketplace.payment.capture_failed.v1", topic=PAYMENTS_EVENTS
):
    """The order shipped but its payment could not be captured; support takes it up."""

    order_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    reason: str
    failed_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentAuthorizationRenewed(
    Event, type="marketplace.payment.authorization_renewed.v1", topic=PAYMENTS_EVENTS
):
    """The hold was about to lapse before shipment: a new authorization replaced it."""

    order_id: str
    payment_intent_id: str
    replaced_payment_intent_id: str
    amount: Money
    expires_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentAuthorizationExpiring(
    Event, type="marketplace.payment.authorization_expiring.v1", topic=PAYMENTS_EVENTS
):
    """The hold lapses at `expires_at` and could not be renewed: support and the buyer act."""

    order_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    expires_at: AwareDatetime
    reason: str

    def subject(self) -> str:
        return self.order_id


class PaymentHoldLapsed(Event, type="marketplace.payment.hold_lapsed.v1", topic=PAYMENTS_EVENTS):
    """A hold could not be renewed off-session: the order stays open, cannot ship, and waits
    for the buyer's new card (`PUT /v1/orders/{id}/payment-method`)."""

    order_id: str
    buyer_id: str
    seller_id: str
    amount: Money
    expires_at: AwareDatetime
    reason: str

    def subject(self) -> str:
        return self.order_id


class CreditIssued(Event, type="marketplace.payment.credit_issued.v1", topic=PAYMENTS_EVENTS):
    """Goodwill credit for the buyer (compensation for a failed promise), usable on a later
    order; `balance` is the buyer's balance afterwards."""

    order_id: str
    buyer_id: str
    amount: Money
    balance: Money
    reason: str
    issued_at: AwareDatetime
    total_credited: Money | None = Field(
        None, description="All goodwill credit issued on this order so far, this included"
    )
    creditable: Money | None = Field(
        None,
        description="How much more credit payments will issue on this order (its total "
        "times the operators' PAYMENTS_CREDIT_LIMIT_BPS, less what was credited)",
    )

    def subject(self) -> str:
        return self.order_id


DisputeFault = Literal["fraud"]
DISPUTE_FAULT_DESCRIPTION = (
    "`fraud`: the card was used without its holder (Stripe's reason `fraudulent`), not a defect "
    "of the seller's; None: not known, counted as the seller's"
)


class PaymentDisputeOpened(
    Event, type="marketplace.payment.dispute_opened.v1", topic=PAYMENTS_EVENTS
):
    """The buyer's bank opened a chargeback; Stripe has withdrawn `amount` meanwhile."""

    order_id: str
    buyer_id: str
    seller_id: str
    dispute_id: str
    amount: Money
    reason: str
    opened_at: AwareDatetime
    refundable: Money | None = Field(
        None,
        description="What can still be refunded on the order after this fact (captured, less "
        "refunds decided and open or lost chargebacks); None from older producers",
    )
    fault: DisputeFault | None = Field(None, description=DISPUTE_FAULT_DESCRIPTION)

    def subject(self) -> str:
        return self.order_id


class PaymentDisputeClosed(
    Event, type="marketplace.payment.dispute_closed.v1", topic=PAYMENTS_EVENTS
):
    """A chargeback was decided: `won` returns the money (the order goes on, the seller is
    paid), `lost` keeps it with the buyer (orders ends the order `refunded` when nothing is
    left to refund; `refundable` says)."""

    order_id: str
    buyer_id: str
    seller_id: str
    dispute_id: str
    amount: Money
    outcome: Literal["won", "lost"]
    closed_at: AwareDatetime
    refundable: Money | None = Field(
        None,
        description="What can still be refunded on the order after this fact (captured, less "
        "refunds decided and open or lost chargebacks); None from older producers",
    )
    reason: str | None = Field(None, description="Stripe's reason for the dispute")
    fault: DisputeFault | None = Field(None, description=DISPUTE_FAULT_DESCRIPTION)

    def subject(self) -> str:
        return self.order_id


class PayoutPaid(Event, type="marketplace.payment.payout_paid.v1", topic=PAYMENTS_EVENTS):
    """A payout run transferred `amount` to the seller's Stripe connected account: what they
    were owed on `order_ids` (released escrow less the fee, less any claw-back carried)."""

    payout_id: str
    seller_id: str
    amount: Money
    order_ids: list[str]
    transfer_id: str
    paid_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id


class PayoutFailed(Event, type="marketplace.payment.payout_failed.v1", topic=PAYMENTS_EVENTS):
    """Stripe refused a payout's transfer for good; `amount` stays owed to the seller and
    the next run tries again (the seller may need to fix their payout account)."""

    payout_id: str
    seller_id: str
    amount: Money
    order_ids: list[str]
    reason: str
    failed_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id


class PayoutAccountNeeded(
    Event, type="marketplace.payment.payout_account_needed.v1", topic=PAYMENTS_EVENTS
):
    """A payout run found money owed to a seller without an active payout account (none,
    `pending` or `restricted`): it stays with us until they finish setting one up (`PUT
    /v1/sellers/me/payout-account`). Told when first found, then reminded after
    PAYMENTS_PAYOUT_ACCOUNT_REMIND_AFTER_DAYS and every PAYMENTS_PAYOUT_ACCOUNT_REMIND_EVERY_DAYS
    while it waits."""

    seller_id: str
    available: Money
    noticed_at: AwareDatetime
    reminder: int = Field(0, description="0: the first notice; n: the n-th reminder")
    waiting_since: AwareDatetime | None = Field(
        None, description="When the seller was first told (None on the first notice)"
    )

    def subject(self) -> str:
        return self.seller_id


class PayoutAccountOverdue(
    Event, type="marketplace.payment.payout_account_overdue.v1", topic=PAYMENTS_EVENTS
):
    """Money has waited PAYMENTS_PAYOUT_ACCOUNT_TICKET_AFTER_DAYS for a seller's payout account
    since they were first told: support opens a ticket about the seller for an agent."""

    seller_id: str
    available: Money
    waiting_since: AwareDatetime
    noticed_at: AwareDatetime

    def subject(self) -> str:
        return self.seller_id
