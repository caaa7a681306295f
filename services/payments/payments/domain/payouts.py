"""Paying sellers: their payout accounts (Stripe Connect), the payout run and claw-backs.
Pure: the run is planned here from the ledger's balances; `payout_run.py` stores the plan and
asks Stripe.

A run pays each seller, per currency, the whole of what `seller_payable:{seller}` holds, in one
transfer, moving it per order to `payouts` (`transfer_group` = the payout's id). A seller who
owes a claw-back on an order (a refund after the payout made that order's balance negative) has
it taken back first by a reversal of the transfer that paid that order, and what cannot be
reversed stays negative and is debited from the next payout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from contracts import Event, Money
from contracts.payments import PayoutAccountNeeded, PayoutFailed, PayoutPaid
from payments import ledger
from payments.domain.waiting_accounts import Chase, chased
from payments.ledger import Entry, move


class AccountStatus(StrEnum):
    PENDING = "pending"  # onboarding not finished
    ACTIVE = "active"  # Stripe pays out to it
    RESTRICTED = "restricted"  # details given, but Stripe does not pay out (more is due)


class PayoutStatus(StrEnum):
    PENDING = "pending"  # booked; the transfer is being made
    PAID = "paid"
    FAILED = "failed"  # Stripe refused; the amount went back to `seller_payable`
    REVERSED = "reversed"  # paid, then clawed back in full


class ReversalStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # the claw-back stays on `seller_payable` for the next payout


@dataclass(frozen=True)
class PayoutAccount:
    seller_id: str
    account_id: str
    country: str
    currency: str
    status: AccountStatus
    created_at: datetime
    activated_at: datetime | None = None  # when it first became active (the hold counts)
    onboarding_url: str | None = None


def account_status(*, payouts_enabled: bool, details_submitted: bool) -> AccountStatus:
    """What Stripe's account object says about paying this seller."""
    if payouts_enabled:
        return AccountStatus.ACTIVE
    return AccountStatus.RESTRICTED if details_submitted else AccountStatus.PENDING


def account_updated(account: PayoutAccount, status: AccountStatus, now: datetime) -> PayoutAccount:
    activated = account.activated_at
    if status is AccountStatus.ACTIVE and activated is None:
        activated = now
    return replace(account, status=status, activated_at=activated)


@dataclass(frozen=True)
class PayoutLine:
    order_id: str
    amount_minor: int  # negative: a claw-back debited from this payout


@dataclass(frozen=True)
class Payout:
    id: str  # also the transfer's idempotency key, transfer_group and metadata
    seller_id: str
    account_id: str
    currency: str
    amount_minor: int
    status: PayoutStatus
    lines: tuple[PayoutLine, ...]
    created_at: datetime
    paid_at: datetime | None = None
    transfer_id: str | None = None
    failure: str | None = None

    @property
    def order_ids(self) -> list[str]:
        return [line.order_id for line in self.lines]

    def money(self) -> Money:
        return Money(amount_minor=self.amount_minor, currency=self.currency)


@dataclass(frozen=True)
class Reversal:
    """Taking back `amount_minor` of what `payout_id`'s transfer paid for `order_id`."""

    id: str  # the reversal's idempotency key and metadata
    payout_id: str
    order_id: str
    seller_id: str
    currency: str
    amount_minor: int
    status: ReversalStatus
    created_at: datetime
    reversal_id: str | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Payable:
    """What `seller_payable:{seller}` holds for one order (negative: a claw-back owed)."""

    seller_id: str
    currency: str
    order_id: str
    amount_minor: int


@dataclass(frozen=True)
class Reversible:
    """What a paid payout's transfer paid for an order and has not been taken back."""

    payout_id: str
    order_id: str
    left_minor: int
    paid_at: datetime


@dataclass(frozen=True)
class PayoutPolicy:
    minimum_minor: Mapping[str, int] = field(default_factory=dict)  # per currency
    new_seller_hold: timedelta = timedelta(0)
    chase: Chase = field(default_factory=Chase)  # money waiting for a payout account


@dataclass(frozen=True)
class RunPlan:
    payouts: tuple[Payout, ...] = ()
    reversals: tuple[Reversal, ...] = ()
    entries: tuple[Entry, ...] = ()
    needs_account: tuple[PayoutAccountNeeded, ...] = ()  # sellers to tell, once
    chased: tuple[Event, ...] = ()  # reminders and agents' tickets for money still waiting
    kept: tuple[tuple[str, str, str], ...] = ()  # (seller, currency, why) not paid this run


def plan_run(
    payables: Iterable[Payable],
    accounts: Mapping[str, PayoutAccount],
    reversible: Mapping[str, Sequence[Reversible]],
    told: frozenset[str],
    policy: PayoutPolicy,
    now: datetime,
    new_id: Callable[[], str],
    told_at: Mapping[str, datetime] | None = None,
    last_run: datetime | None = None,
) -> RunPlan:
    """One payout run over the sellers' balances per order (`payables`): claw-backs reversed
    where a paid transfer for the order can give them back, then one payout per seller and
    currency of the rest, if positive, the seller's account is active and out of its hold, and
    it reaches the currency's minimum. A seller without an active account is told once
    (`told`: those told before), then reminded and handed to an agent while it waits
    (`waiting_accounts`: `told_at` when each was told, `last_run` the previous run)."""
    reversals: list[Reversal] = []
    entries: list[Entry] = []
    by_seller: dict[tuple[str, str], list[PayoutLine]] = {}
    for payable in payables:
        amount = payable.amount_minor
        if amount < 0:
            for source in sorted(
                reversible.get(payable.order_id, ()), key=lambda r: r.paid_at, reverse=True
            ):
                taken = min(-amount, source.left_minor)
                if taken <= 0:
                    continue
                reversal = Reversal(
                    id=f"{source.payout_id}:reversal:{payable.order_id}:{new_id()}",
                    payout_id=source.payout_id,
                    order_id=payable.order_id,
                    seller_id=payable.seller_id,
                    currency=payable.currency,
                    amount_minor=taken,
                    status=ReversalStatus.PENDING,
                    created_at=now,
                )
                reversals.append(reversal)
                entries.append(_reversal_entry(reversal, now, "Clawed back: transfer reversed"))
                amount += taken
                if amount == 0:
                    break
        if amount != 0:
            key = (payable.seller_id, payable.currency)
            by_seller.setdefault(key, []).append(PayoutLine(payable.order_id, amount))

    payouts: list[Payout] = []
    needs: list[PayoutAccountNeeded] = []
    chasing: list[Event] = []
    kept: list[tuple[str, str, str]] = []
    for (seller_id, currency), lines in sorted(by_seller.items()):
        total = sum(line.amount_minor for line in lines)
        account = accounts.get(seller_id)
        why = _why_not_paid(total, currency, account, policy, now)
        if why is not None:
            kept.append((seller_id, currency, why))
            available = Money(amount_minor=total, currency=currency)
            if why == NO_ACCOUNT and total > 0 and seller_id not in told:
                told = told | {seller_id}
                needs.append(
                    PayoutAccountNeeded(seller_id=seller_id, available=available, noticed_at=now)
                )
            elif why == NO_ACCOUNT and total > 0 and seller_id in (told_at or {}):
                since = (told_at or {})[seller_id]
                chasing.extend(chased(seller_id, available, since, last_run, now, policy.chase))
            continue
        assert account is not None
        payout = Payout(
            id=f"po_{new_id()}",
            seller_id=seller_id,
            account_id=account.account_id,
            currency=currency,
            amount_minor=total,
            status=PayoutStatus.PENDING,
            lines=tuple(sorted(lines, key=lambda line: line.order_id)),
            created_at=now,
        )
        payouts.append(payout)
        entries.extend(_payout_entries(payout, now))
    return RunPlan(
        tuple(payouts),
        tuple(reversals),
        tuple(entries),
        tuple(needs),
        tuple(chasing),
        tuple(kept),
    )


NO_ACCOUNT = "no active payout account"


def _why_not_paid(
    total: int,
    currency: str,
    account: PayoutAccount | None,
    policy: PayoutPolicy,
    now: datetime,
) -> str | None:
    if total <= 0:
        return "nothing to pay (a claw-back is carried)" if total < 0 else "nothing to pay"
    if account is None or account.status is not AccountStatus.ACTIVE:
        return NO_ACCOUNT
    if account.activated_at is not None and account.activated_at + policy.new_seller_hold > now:
        return (
            "new seller: held until " + (account.activated_at + policy.new_seller_hold).isoformat()
        )
    minimum = policy.minimum_minor.get(currency, 0)
    if total < minimum:
        return f"below the minimum of {minimum} minor units"
    return None


def _payout_entries(payout: Payout, now: datetime) -> list[Entry]:
    payable = ledger.seller_payable(payout.seller_id)
    return [
        Entry(
            f"{payout.id}:{line.order_id}",
            line.order_id,
            payout.currency,
            now,
            f"Payout {payout.id} to the seller's connected account",
            move(line.amount_minor, payable, ledger.PAYOUTS),
        )
        for line in payout.lines
    ]


def _reversal_entry(reversal: Reversal, now: datetime, reason: str) -> Entry:
    return Entry(
        reversal.id,
        reversal.order_id,
        reversal.currency,
        now,
        f"{reason} ({reversal.payout_id})",
        move(reversal.amount_minor, ledger.PAYOUTS, ledger.seller_payable(reversal.seller_id)),
    )


@dataclass(frozen=True)
class PayoutOutcome:
    payout: Payout
    entries: tuple[Entry, ...]
    event: PayoutPaid | PayoutFailed


def payout_paid(payout: Payout, transfer_id: str, now: datetime) -> PayoutOutcome:
    paid = replace(payout, status=PayoutStatus.PAID, transfer_id=transfer_id, paid_at=now)
    event = PayoutPaid(
        payout_id=paid.id,
        seller_id=paid.seller_id,
        amount=paid.money(),
        order_ids=paid.order_ids,
        transfer_id=transfer_id,
        paid_at=now,
    )
    return PayoutOutcome(paid, (), event)


def payout_failed(payout: Payout, reason: str, now: datetime) -> PayoutOutcome:
    """Stripe refused for good: the money goes back to `seller_payable`, for the next run."""
    failed = replace(payout, status=PayoutStatus.FAILED, failure=reason[:500])
    payable = ledger.seller_payable(payout.seller_id)
    entries = tuple(
        Entry(
            f"{payout.id}:{line.order_id}:failed",
            line.order_id,
            payout.currency,
            now,
            f"Payout {payout.id} failed: owed to the seller again",
            move(line.amount_minor, ledger.PAYOUTS, payable),
        )
        for line in payout.lines
    )
    event = PayoutFailed(
        payout_id=failed.id,
        seller_id=failed.seller_id,
        amount=failed.money(),
        order_ids=failed.order_ids,
        reason=failed.failure or "failed",
        failed_at=now,
    )
    return PayoutOutcome(failed, entries, event)


def payout_reversed(payout: Payout) -> Payout:
    """Everything the payout transferred was taken back."""
    return replace(payout, status=PayoutStatus.REVERSED)


def reversal_done(reversal: Reversal, reversal_id: str) -> Reversal:
    return replace(reversal, status=ReversalStatus.DONE, reversal_id=reversal_id)


def reversal_failed(reversal: Reversal, reason: str, now: datetime) -> tuple[Reversal, Entry]:
    """The transfer could not be reversed: the claw-back is owed on `seller_payable` again and
    the next payout is debited with it."""
    failed = replace(reversal, status=ReversalStatus.FAILED, failure=reason[:500])
    undo = Entry(
        f"{reversal.id}:failed",
        reversal.order_id,
        reversal.currency,
        now,
        f"Reversal refused: the claw-back is debited from the next payout ({reversal.payout_id})",
        move(reversal.amount_minor, ledger.seller_payable(reversal.seller_id), ledger.PAYOUTS),
    )
    return failed, undo


@dataclass(frozen=True)
class Balance:
    currency: str
    in_escrow_minor: int = 0
    available_minor: int = 0
    paid_out_minor: int = 0


def balances(
    escrow: Mapping[str, int], payable: Mapping[str, int], paid_out: Mapping[str, int]
) -> list[Balance]:
    """A seller's balances per currency, from the ledger's sums of their accounts."""
    currencies = sorted(set(escrow) | set(payable) | set(paid_out))
    return [Balance(c, escrow.get(c, 0), payable.get(c, 0), paid_out.get(c, 0)) for c in currencies]
