"""Paying sellers. Where a seller has a Stripe Connect account, their share of a released
escrow is transferred to it; otherwise it stays in the ledger as `seller_payable:{seller}`
for a payout run. localstripe has no Connect, so development and tests run `PayablesOnly`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import stripe

from payments.domain import CardOutcome, Operation


class Payouts(Protocol):
    async def can_pay(self, seller_id: str) -> bool:
        """True if the seller can be paid by transfer (a connected account)."""
        ...

    async def transfer(self, operation: Operation, seller_id: str) -> CardOutcome: ...


class PayablesOnly:
    """No transfers: every seller's share stays payable in the ledger."""

    async def can_pay(self, seller_id: str) -> bool:
        return False

    async def transfer(self, operation: Operation, seller_id: str) -> CardOutcome:
        raise RuntimeError("transfers are not enabled")


class StripeConnectTransfers:
    """Transfers to the connected accounts named in `accounts` (seller id -> `acct_...`)."""

    def __init__(self, client: stripe.StripeClient, accounts: Mapping[str, str]) -> None:
        self.client = client
        self.accounts = accounts

    async def can_pay(self, seller_id: str) -> bool:
        return seller_id in self.accounts

    async def transfer(self, operation: Operation, seller_id: str) -> CardOutcome:
        try:
            transfer = await self.client.v1.transfers.create_async(
                {
                    "amount": operation.amount_minor,
                    "currency": operation.currency.lower(),
                    "destination": self.accounts[seller_id],
                    "transfer_group": operation.order_id,
                    "metadata": {"order_id": operation.order_id, "operation_id": operation.id},
                },
                {"idempotency_key": operation.id},
            )
        except stripe.InvalidRequestError as error:
            return CardOutcome(succeeded=False, reason=error.user_message or str(error))
        return CardOutcome(succeeded=True, stripe_id=transfer.id)
