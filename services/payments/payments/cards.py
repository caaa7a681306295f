"""The card processor behind a small interface: Stripe's official SDK in production and
against localstripe in development and tests."""

from __future__ import annotations

from typing import Protocol

import stripe

from contracts import Money
from payments.domain import AuthorizationOutcome


class TransientCardError(Exception):
    """The processor could not be reached or asked us to slow down: try again later."""


class CardProcessor(Protocol):
    async def authorize(
        self, *, order_id: str, amount: Money, payment_method: str, idempotency_key: str
    ) -> AuthorizationOutcome: ...

    async def find_authorization(self, order_id: str) -> AuthorizationOutcome | None:
        """The authorization made earlier for this order, if one exists."""
        ...


class StripeCards:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        base_addresses = {"api": api_base} if api_base else {}
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=base_addresses,  # type: ignore[arg-type]
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,
        )

    async def authorize(
        self, *, order_id: str, amount: Money, payment_method: str, idempotency_key: str
    ) -> AuthorizationOutcome:
        try:
            intent = await self.client.v1.payment_intents.create_async(
                {
                    "amount": amount.amount_minor,
                    "currency": amount.currency.lower(),
                    "capture_method": "manual",
                    "confirm": True,
                    "payment_method": payment_method,
                    "payment_method_types": ["card"],
                    "metadata": {"order_id": order_id},
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.CardError as error:
            intent_id = (error.json_body or {}).get("error", {}).get("payment_intent", {}).get("id")
            return AuthorizationOutcome(
                approved=False,
                payment_intent_id=intent_id,
                reason=error.user_message or "The card was declined",
                decline_code=error.code,
            )
        except stripe.InvalidRequestError as error:
            return AuthorizationOutcome(
                approved=False, payment_intent_id=None, reason=error.user_message or str(error)
            )
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise TransientCardError(str(error)) from error
        except stripe.APIError as error:
            raise TransientCardError(str(error)) from error
        return _outcome(intent)

    async def find_authorization(self, order_id: str) -> AuthorizationOutcome | None:
        try:
            found = await self.client.v1.payment_intents.search_async(
                {"query": f"metadata['order_id']:'{order_id}'"}
            )
            intents = list(found.data)
        except stripe.InvalidRequestError:
            # Servers without the search API (localstripe): scan every intent.
            page = await self.client.v1.payment_intents.list_async({"limit": 100})
            intents = [
                i
                async for i in page.auto_paging_iter()
                if metadata_of(i).get("order_id") == order_id
            ]
        except (stripe.APIConnectionError, stripe.APIError) as error:
            raise TransientCardError(str(error)) from error
        held = [i for i in intents if i.status in ("requires_capture", "succeeded")]
        return _outcome(held[0]) if held else None


def metadata_of(intent: stripe.PaymentIntent) -> dict[str, str]:
    return intent.metadata.to_dict() if intent.metadata else {}


def _outcome(intent: stripe.PaymentIntent) -> AuthorizationOutcome:
    if intent.status in ("requires_capture", "succeeded"):
        return AuthorizationOutcome(approved=True, payment_intent_id=intent.id)
    return AuthorizationOutcome(
        approved=False,
        payment_intent_id=intent.id,
        reason=f"The card was not authorized ({intent.status})",
    )
