"""What an order's money allows a resolution to do: support folds orders' and payments' facts
into `OrderMoney`, and `decide_money` checks a refund or credit against it and counts it, so
payments is never asked for what it cannot do. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal

from contracts import Money
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
from contracts.support import ResolutionAction
from support.domain.errors import NotYetKnown, ResolutionImpossible

MONEY_ACTIONS: frozenset[ResolutionAction] = frozenset({"refund", "partial_refund", "credit"})


def moves_money(action: ResolutionAction) -> bool:
    return action in MONEY_ACTIONS


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
    if not moves_money(action):
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
            f"Only {refundable.display()} can still be refunded on this order",
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
            f"hold of {whole.display()} is released)",
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
            f"At most {creditable.display()} more credit can be given on this order "
            f"({money.money(limit).display()} in all)",
            creditable=creditable.model_dump(),
        )
    return replace(money, credits_decided_minor=money.credits_decided_minor + amount.amount_minor)


def cancellation_counted(money: OrderMoney) -> OrderMoney:
    """Support cancelled the order: payments returns everything still refundable (a void
    before the capture), so no other ticket may refund that money again."""
    left = money.refundable_minor
    return replace(money, refunds_decided_minor=money.refunded_at_least_minor + left)
