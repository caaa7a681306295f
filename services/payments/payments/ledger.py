"""The double-entry ledger: every movement of an order's money as balanced lines. Pure.

Each line moves money into (positive) or out of (negative) an account, and every entry's lines
sum to zero, so every order's lines do too. An account's balance is the sum of its lines:

| account | balance means |
|---|---|
| `buyer_card` | (negative) what the buyer's card holds or paid |
| `authorization_hold` | held on the card, not yet captured |
| `credit_reserved` | the buyer's credit set aside for an order not yet captured |
| `escrow` | captured and held until the buyer confirms |
| `seller_payable:{seller}` | owed to the seller (negative: the seller owes a claw-back) |
| `payouts` | paid to sellers through Stripe Connect |
| `platform_fees` | the marketplace's fees |
| `refunds` | returned to buyers' cards |
| `refunds_pending` | refunds decided, not yet confirmed by Stripe |
| `buyer_credit:{buyer}` | goodwill credit the buyer can spend |
| `goodwill` | (negative) what the marketplace gave away as credit |
| `chargebacks` | taken back by buyers' banks through disputes |
| `platform_rebooking_cover` | (negative) what the platform paid towards rebooked buyers' dearer
  tickets, less what backing-out sellers were charged for it (#20) |
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

BUYER_CARD = "buyer_card"
AUTHORIZATION_HOLD = "authorization_hold"
CREDIT_RESERVED = "credit_reserved"
ESCROW = "escrow"
PAYOUTS = "payouts"
PLATFORM_FEES = "platform_fees"
REFUNDS = "refunds"
REFUNDS_PENDING = "refunds_pending"
GOODWILL = "goodwill"
CHARGEBACKS = "chargebacks"
PLATFORM_REBOOKING_COVER = "platform_rebooking_cover"


def seller_payable(seller_id: str) -> str:
    return f"seller_payable:{seller_id}"


def buyer_credit(buyer_id: str) -> str:
    return f"buyer_credit:{buyer_id}"


class UnbalancedEntry(ValueError):
    """An entry whose lines do not sum to zero: a bug, never written."""


@dataclass(frozen=True)
class Line:
    account: str
    amount_minor: int


@dataclass(frozen=True)
class PostedLine:
    """A line as the ledger holds it, with the entry it belongs to."""

    entry_id: str
    account: str
    amount_minor: int


def credited_minor(lines: Iterable[PostedLine]) -> int:
    """Goodwill credit issued on an order so far, from its lines."""
    return -sum(line.amount_minor for line in lines if line.account == GOODWILL)


@dataclass(frozen=True)
class Entry:
    entry_id: str
    order_id: str
    currency: str
    at: datetime
    reason: str
    lines: tuple[Line, ...]

    def __post_init__(self) -> None:
        if sum(line.amount_minor for line in self.lines) != 0:
            raise UnbalancedEntry(f"entry {self.entry_id} does not balance: {self.lines}")


def entry(
    entry_id: str, order_id: str, currency: str, at: datetime, reason: str, *moves: Line
) -> Entry | None:
    """An entry of the non-zero `moves`, or None when nothing moves."""
    lines = tuple(line for line in moves if line.amount_minor != 0)
    if not lines:
        return None
    return Entry(entry_id, order_id, currency, at, reason, lines)


def move(amount_minor: int, source: str, destination: str) -> tuple[Line, Line]:
    """`amount_minor` leaves `source` and arrives in `destination`."""
    return Line(source, -amount_minor), Line(destination, amount_minor)


def balances(lines: list[Line]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.account] = totals.get(line.account, 0) + line.amount_minor
    return {account: total for account, total in sorted(totals.items()) if total != 0}
