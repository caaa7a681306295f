"""Goodwill credit: how much an order allows, and the entry that gives it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from contracts import Money
from payments import ledger
from payments.domain import published
from payments.domain.model import Decision, Payment, PaymentRefused
from payments.ledger import Entry, move


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


def issue_credit(
    payment: Payment,
    posted: Sequence[ledger.PostedLine],
    balance_minor: int,
    limit_bps: int,
    buyer_id: str,
    amount: Money,
    note: str,
    key: str,
    now: datetime,
) -> Decision:
    """Support's goodwill credit (`goodwill_credit`), once per ticket (`key`): the entry, and
    the event with the buyer's balance (`balance_minor` before it) and what is still allowed."""
    issued_id = f"order:{payment.order_id}:credit:{key}"
    if any(line.entry_id == issued_id for line in posted):
        return Decision(payment)  # issued before: a replay
    credited = ledger.credited_minor(posted)
    reason = f"Support ticket {key}: {note}"
    issued = goodwill_credit(payment, credited, limit_bps, buyer_id, amount, reason, key, now)
    total = credited + amount.amount_minor
    return Decision(payment, entries=(issued,)).publishing(
        published.credit_issued(
            payment,
            amount,
            balance_minor + amount.amount_minor,
            note,
            total,
            creditable_minor(payment, total, limit_bps),
            now,
        )
    )
