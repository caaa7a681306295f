"""Rebooking (#20): a seller backed out of a ticket or booking; support rebooks the buyer on
another seller's listing of the same event, and the first order's money pays for it.

Mechanics, the simplest that hold with a real Stripe account and the dev server:
- the seller backing out does not void the hold (`keep_for_rebook`): it waits for support's
  resolution. `rebook` moves it; `refund` voids it (as before); any other resolution voids it
  too, and so does the renewal timer when the hold would lapse (the deadline).
- the new order (`order.placed` with `replaces`) asks Stripe nothing: it takes over the first
  order's PaymentIntent and Customer (`fund_rebooking`). Its card part is at most the first
  hold, and the first order's credit moves with it; the rest of a dearer price is the
  platform's cover (`cover_minor`). The capture, when the new seller transfers, captures only
  the card part (`amount_to_capture`): Stripe releases the rest of the hold by itself.
- at the capture, escrow gets the whole new price: card, credit and the platform's cover
  (`platform_rebooking_cover`), and the backing-out seller is charged the cover (up to the
  cap) against their balance on the first order's ledger (`seller_payable` goes negative:
  the next payout run takes it back). Charged at the capture, not at the rebooking, so a
  replacement that never happens costs the seller nothing.
Every entry balances, so both orders' ledgers do."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from payments import ledger
from payments.domain import published
from payments.domain.credits import creditable_minor
from payments.domain.model import Decision, Payment, PaymentState, decided
from payments.ledger import Entry, move

KEPT = "kept for a rebooking"


@dataclass(frozen=True)
class RebookCharge:
    """Whether backing-out sellers pay the platform's cover, and at most which share of the
    order they backed out of (basis points)."""

    charge_seller: bool = True
    cap_bps: int = 10_000


def keep_for_rebook(payment: Payment) -> Decision:
    """The seller backed out of a resale event's order: the hold stays for support's
    decision (a rebooking pays from it) instead of being voided now."""
    if payment.state is not PaymentState.AUTHORIZED or payment.ended:
        return Decision(payment)
    return Decision(replace(payment, kept_for_rebook=True))


def waits_for_rebook(payment: Payment) -> bool:
    return (
        payment.kept_for_rebook and payment.state is PaymentState.AUTHORIZED and not payment.ended
    )


def fund_rebooking(
    first: Payment, new: Payment, now: datetime, charge: RebookCharge, credit_limit_bps: int
) -> tuple[Decision, Decision]:
    """The new order takes over the first order's hold (same PaymentIntent and Customer):
    no new authorization, the buyer pays nothing more. Answers (first, new)."""
    credit = min(first.credit_applied_minor, new.total_minor)
    card = min(first.card_minor, new.total_minor - credit)
    cover = new.total_minor - credit - card
    charged = 0
    if charge.charge_seller:
        charged = min(cover, first.total_minor * charge.cap_bps // 10_000)
    funded = replace(
        new,
        state=PaymentState.AUTHORIZED,
        payment_method=first.payment_method,
        payment_intent_id=first.payment_intent_id,
        customer_id=first.customer_id,
        authorized_at=first.authorized_at,
        expires_at=first.expires_at,
        reauthorizations=first.reauthorizations,
        credit_applied_minor=credit,
        replaces=first.order_id,
        cover_minor=cover,
        cover_charged_to=first.seller_id if charged else None,
        cover_charge_minor=charged,
    )
    moved = replace(
        first,
        state=PaymentState.REBOOKED,
        kept_for_rebook=False,
        ended=True,
        payment_intent_id=None,  # the intent is the new order's now (webhooks, reconciliation)
    )
    key = f"order:{first.order_id}:rebooked:{new.order_id}"
    first_lines = (
        *move(first.card_minor, ledger.AUTHORIZATION_HOLD, ledger.BUYER_CARD),
        *move(
            first.credit_applied_minor, ledger.CREDIT_RESERVED, ledger.buyer_credit(first.buyer_id)
        ),
    )
    new_lines = (
        *move(card, ledger.BUYER_CARD, ledger.AUTHORIZATION_HOLD),
        *move(credit, ledger.buyer_credit(new.buyer_id), ledger.CREDIT_RESERVED),
    )
    reason = f"Rebooked: the hold pays order {new.order_id} (the seller backed out)"
    first_decision = decided(moved, [], [moved.ledger_entry(key, now, reason, *first_lines)])
    new_decision = decided(
        funded,
        [],
        [
            funded.ledger_entry(
                key, now, f"Rebooking: paid from order {first.order_id}'s hold", *new_lines
            )
        ],
    ).publishing(published.authorized(funded, creditable_minor(funded, 0, credit_limit_bps), now))
    return first_decision, new_decision


def cover_at_capture(payment: Payment, capture_id: str, now: datetime) -> tuple[Entry, ...]:
    """At a rebooked order's capture: the platform's cover goes into escrow, and the
    backing-out seller is charged for it on the order they backed out of."""
    if payment.cover_minor <= 0:
        return ()
    entries = [
        payment.ledger_entry(
            f"{capture_id}:cover",
            now,
            "The platform covers the dearer ticket of a rebooking: the buyer pays nothing more",
            *move(payment.cover_minor, ledger.PLATFORM_REBOOKING_COVER, ledger.ESCROW),
        )
    ]
    if payment.cover_charged_to and payment.cover_charge_minor and payment.replaces:
        entries.append(
            ledger.entry(
                f"{capture_id}:cover-charged",
                payment.replaces,
                payment.currency,
                now,
                f"Charged to the seller who backed out: the dearer ticket of order "
                f"{payment.order_id}",
                *move(
                    payment.cover_charge_minor,
                    ledger.seller_payable(payment.cover_charged_to),
                    ledger.PLATFORM_REBOOKING_COVER,
                ),
            )
        )
    return tuple(entry for entry in entries if entry is not None)
