"""Which resolutions an order allows now: support refuses beforehand what orders could not
carry out (the resolution is published once support accepts it, and orders can only ignore
one that no longer fits), and shows agents what is possible on a ticket. The order's status
comes from orders' events (`orders.status`); its money from `order_money`. Pure."""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

from contracts import Money
from contracts.support import ResolutionAction
from support.domain.errors import NotYetKnown, ResolutionImpossible, SupportError
from support.domain.order_money import OrderMoney, decide_money, moves_money

ACTIONS: tuple[ResolutionAction, ...] = get_args(ResolutionAction)

_BEFORE_SHIPMENT = frozenset({"placed", "awaiting_seller", "accepted"})
# The statuses each resolution that moves the order applies in: the same lists as orders'
# state machine (`orders.domain.state_machine`: RESHIPPABLE, RETURNABLE, CANCELLABLE).
ORDER_STATUSES: dict[ResolutionAction, frozenset[str]] = {
    "reship": frozenset({"disputed", "returned_to_sender", "delivery_failed"}),
    "return": frozenset({"disputed", "delivered", "completed"}),
    "cancel": _BEFORE_SHIPMENT | {"disputed", "returned_to_sender", "delivery_failed"},
}
_WHAT = {
    "reship": "sent back to the seller to ship again",
    "return": "returned",
    "cancel": "cancelled",
}


def moves_order(action: ResolutionAction) -> bool:
    return action in ORDER_STATUSES


def check_order(
    action: ResolutionAction,
    *,
    status: str | None,
    fulfilment: str | None,
    money: OrderMoney | None,
    possible: list[ResolutionAction] | None = None,
) -> None:
    """Refuse (changing nothing) a resolution the order's status does not allow now."""
    if not moves_order(action):
        return
    if status is None:
        raise NotYetKnown(
            "Support has not yet heard where this order is; retry shortly",
            retry_after_seconds=5,
        )
    extra = {"order_status": status, "possible_resolutions": possible or []}
    if status not in ORDER_STATUSES[action]:
        raise ResolutionImpossible(
            f"An order that is {status.replace('_', ' ')} cannot be {_WHAT[action]}", **extra
        )
    if action == "return" and fulfilment == "transfer":
        raise ResolutionImpossible("A transferred booking or ticket cannot be returned", **extra)
    if (
        action == "cancel"
        and status not in _BEFORE_SHIPMENT
        and money is not None
        and money.shipped
        and not money.captured
        and not (money.voided or money.capture_failed or money.authorization_failed)
    ):
        raise NotYetKnown(
            "The order shipped and its payment is being captured; retry shortly",
            retry_after_seconds=5,
        )


def possible_resolutions(
    *,
    status: str | None,
    fulfilment: str | None,
    money: OrderMoney | None,
    credit_ratio: Decimal = Decimal(1),
) -> list[ResolutionAction]:
    """What an agent may decide on a ticket about this order now: each action that neither
    the order's status nor its money would refuse (an amount of one minor unit standing for
    the partial refund's and credit's)."""
    possible: list[ResolutionAction] = []
    for action in ACTIONS:
        amount = None
        if action in ("partial_refund", "credit") and money is not None and money.currency:
            amount = Money(amount_minor=1, currency=money.currency)
        try:
            check_order(action, status=status, fulfilment=fulfilment, money=money)
            if moves_money(action):
                decide_money(money, action=action, amount=amount, credit_ratio=credit_ratio)
        except SupportError:
            continue
        possible.append(action)
    return possible
