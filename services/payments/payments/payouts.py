"""Stripe Connect behind a small interface: sellers' Express accounts and their onboarding
links, the payout run's transfers and the reversals that claw money back.

Every write carries an idempotency key from our ids (the seller's for the account, the
payout's for its transfer, the reversal's for a reversal); transfers are also found again by
`transfer_group` (the payout id) and reversals by their metadata, so a payout whose answer was
lost in a crash is looked up, never made twice, long after Stripe forgot the key.
In development the Connect server in front of localstripe (`devstack.stripe_connect`)
answers these endpoints; payments does not know which server it talks to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from payments.cards import _calling_stripe, metadata_of
from payments.domain.payouts import AccountStatus, Payout, Reversal, account_status


class PayoutRefused(Exception):
    """Stripe refuses this transfer or reversal for good (an invalid request, an account that
    cannot receive it): it is recorded failed and the money stays owed."""


@dataclass(frozen=True)
class ConnectedAccount:
    account_id: str
    status: AccountStatus


class Connect(Protocol):
    async def create_account(
        self, seller_id: str, country: str, currency: str
    ) -> ConnectedAccount: ...

    async def onboarding_link(
        self, account_id: str, *, key: str, refresh_url: str, return_url: str
    ) -> str: ...

    async def account(self, account_id: str) -> ConnectedAccount: ...

    async def find_transfer(self, payout: Payout) -> str | None:
        """The transfer made for `payout` (by its transfer_group), if any."""
        ...

    async def transfer(self, payout: Payout) -> str: ...

    async def find_reversal(self, reversal: Reversal, transfer_id: str) -> str | None: ...

    async def reverse(self, reversal: Reversal, transfer_id: str) -> str: ...


def _status_of(account: Any) -> ConnectedAccount:
    return ConnectedAccount(
        account.id,
        account_status(
            payouts_enabled=bool(account.payouts_enabled),
            details_submitted=bool(account.details_submitted),
        ),
    )


class StripeConnect:
    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    async def create_account(self, seller_id: str, country: str, currency: str) -> ConnectedAccount:
        async def create() -> Any:
            return await self.client.v1.accounts.create_async(
                {
                    "type": "express",
                    "country": country,
                    "default_currency": currency.lower(),
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": {"seller_id": seller_id},
                },
                {"idempotency_key": f"seller:{seller_id}:payout-account"},
            )

        return _status_of(await _calling_stripe(create))

    async def onboarding_link(
        self, account_id: str, *, key: str, refresh_url: str, return_url: str
    ) -> str:
        async def create() -> Any:
            return await self.client.v1.account_links.create_async(
                {
                    "account": account_id,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                },
                {"idempotency_key": key},
            )

        link = await _calling_stripe(create)
        return str(link.url)

    async def account(self, account_id: str) -> ConnectedAccount:
        return _status_of(
            await _calling_stripe(lambda: self.client.v1.accounts.retrieve_async(account_id))
        )

    async def find_transfer(self, payout: Payout) -> str | None:
        async def find() -> str | None:
            page = await self.client.v1.transfers.list_async(
                {"transfer_group": payout.id, "limit": 10}
            )
            for transfer in page.data:
                if metadata_of(transfer).get("payout_id") == payout.id:
                    return str(transfer.id)
            return None

        return await _calling_stripe(find)

    async def transfer(self, payout: Payout) -> str:
        async def create() -> Any:
            return await self.client.v1.transfers.create_async(
                {
                    "amount": payout.amount_minor,
                    "currency": payout.currency.lower(),
                    "destination": payout.account_id,
                    "transfer_group": payout.id,
                    "description": f"Payout {payout.id}",
                    "metadata": {
                        "payout_id": payout.id,
                        "seller_id": payout.seller_id,
                        "orders": ",".join(payout.order_ids)[:500],
                    },
                },
                {"idempotency_key": payout.id},
            )

        try:
            return str((await _calling_stripe(create)).id)
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as error:
            raise PayoutRefused(error.user_message or str(error)) from error

    async def find_reversal(self, reversal: Reversal, transfer_id: str) -> str | None:
        async def find() -> str | None:
            page = await self.client.v1.transfers.reversals.list_async(transfer_id, {"limit": 100})
            async for found in page.auto_paging_iter():
                if metadata_of(found).get("reversal_id") == reversal.id:
                    return str(found.id)
            return None

        return await _calling_stripe(find)

    async def reverse(self, reversal: Reversal, transfer_id: str) -> str:
        async def create() -> Any:
            return await self.client.v1.transfers.reversals.create_async(
                transfer_id,
                {
                    "amount": reversal.amount_minor,
                    "metadata": {"reversal_id": reversal.id, "order_id": reversal.order_id},
                },
                {"idempotency_key": reversal.id},
            )

        try:
            return str((await _calling_stripe(create)).id)
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as error:
            raise PayoutRefused(error.user_message or str(error)) from error
