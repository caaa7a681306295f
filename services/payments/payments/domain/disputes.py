"""Chargebacks: what a dispute may take from the order, and the entries of opening and
winning one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from contracts.payments import DisputeFault, PaymentDisputeClosed, PaymentDisputeOpened
from payments import ledger
from payments.domain.model import Decision, Payment, decided
from payments.ledger import move

# Stripe's reason for a chargeback the cardholder did not make (a stolen card): a fraud, not a
# defect of the seller's (seller standards does not count it).
FRAUDULENT = "fraudulent"


def dispute_fault(reason: str | None) -> DisputeFault | None:
    return "fraud" if reason == FRAUDULENT else None


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
        return 0, f"the dispute's amount {payment.shown(amount)} is not positive"
    if amount > disputable:
        return 0, (
            f"the dispute is for {payment.shown(amount)}, more than the "
            f"{payment.shown(disputable)} the charge holds"
        )
    held = max(0, payment.refundable_minor)
    if amount > held == 0:
        return 0, (
            f"the buyer already had the dispute's {payment.shown(amount)} back (refunded): "
            "the order holds nothing more to take"
        )
    if amount > held:
        return held, (
            f"{payment.shown(amount - held)} of the dispute's {payment.shown(amount)} was "
            f"already refunded to the buyer; only the {payment.shown(held)} the order still held "
            "was taken"
        )
    return amount, None


def open_dispute(payment: Payment, dispute_id: str, amount_minor: int, now: datetime) -> Decision:
    """A chargeback takes `amount_minor` out of escrow, or back from the seller after a
    payout; until it is decided it cannot be refunded or released."""
    source = ledger.seller_payable(payment.seller_id) if payment.paid_out else ledger.ESCROW
    disputed = replace(payment, charged_back_minor=payment.charged_back_minor + amount_minor)
    opened = payment.ledger_entry(
        f"dispute:{dispute_id}:opened",
        now,
        "Chargeback opened: the buyer's bank took the money back",
        *move(amount_minor, source, ledger.CHARGEBACKS),
    )
    return decided(disputed, [], [opened])


def win_dispute(payment: Payment, dispute_id: str, amount_minor: int, now: datetime) -> Decision:
    """The money comes back: to escrow, or to the seller if escrow was paid out meanwhile
    (the payout left the disputed amount out)."""
    destination = ledger.seller_payable(payment.seller_id) if payment.paid_out else ledger.ESCROW
    won = replace(payment, charged_back_minor=payment.charged_back_minor - amount_minor)
    entry = payment.ledger_entry(
        f"dispute:{dispute_id}:won",
        now,
        "Chargeback won: the money came back",
        *move(amount_minor, ledger.CHARGEBACKS, destination),
    )
    return decided(won, [], [entry])


def dispute_opened(
    payment: Payment, dispute_id: str, amount_minor: int, reason: str, now: datetime
) -> Decision:
    """A chargeback Stripe reported (`open_dispute`) and the event that tells support."""
    decision = open_dispute(payment, dispute_id, amount_minor, now)
    disputed = decision.payment
    return decision.publishing(
        PaymentDisputeOpened(
            order_id=payment.order_id,
            buyer_id=payment.buyer_id,
            seller_id=payment.seller_id,
            dispute_id=dispute_id,
            amount=payment.money(amount_minor),
            reason=reason,
            opened_at=now,
            refundable=disputed.money(disputed.refundable_minor),
            fault=dispute_fault(reason),
        )
    )


def dispute_closed(
    payment: Payment,
    dispute_id: str,
    amount_minor: int,
    won: bool,
    now: datetime,
    reason: str | None = None,
) -> Decision:
    """A chargeback decided: won, the money comes back (`win_dispute`) and goes on to the
    seller as the order ends; lost, it stays gone to the buyer's bank (`chargebacks`). Orders
    ends the order on the event (`refundable` says what is left for the seller)."""
    decision = win_dispute(payment, dispute_id, amount_minor, now) if won else Decision(payment)
    closed = decision.payment
    return decision.publishing(
        PaymentDisputeClosed(
            order_id=closed.order_id,
            buyer_id=closed.buyer_id,
            seller_id=closed.seller_id,
            dispute_id=dispute_id,
            amount=closed.money(amount_minor),
            outcome="won" if won else "lost",
            closed_at=now,
            refundable=closed.money(closed.refundable_minor),
            reason=reason,
            fault=dispute_fault(reason),
        )
    )
