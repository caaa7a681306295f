"""The card processor behind a small interface: Stripe's official SDK in production and
against localstripe in development and tests.

Every write carries the operation's id as its idempotency key and in its metadata, so
`look_up` can find what Stripe did for an operation after a crash, long after Stripe has
forgotten the key (24 hours; localstripe does not keep keys at all).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import stripe

from payments.domain import CardOutcome, Operation, OperationKind


class TransientCardError(Exception):
    """The processor could not be reached or asked us to slow down: try again later."""


class UnusableOperation(ValueError):
    """An operation that cannot be put to the processor at all (nothing to act on)."""


def refused_for_good(error: Exception) -> bool:
    """An operation the processor will refuse however often it is asked: an invalid request
    (a missing or cancelled PaymentIntent, an amount it will not take), an idempotency key
    reused with other parameters, a card error outside an authorization; or one that cannot
    be asked at all. Not a decline (an answer) and not an outage (`TransientCardError`)."""
    return isinstance(
        error,
        (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.CardError, UnusableOperation),
    )


@dataclass(frozen=True)
class ChargeState:
    """What Stripe says happened to a PaymentIntent, for reconciliation."""

    payment_intent_id: str
    status: str
    amount_captured_minor: int
    amount_refunded_minor: int


class CardProcessor(Protocol):
    async def perform(
        self, operation: Operation, payment_method: str, customer_id: str | None = None
    ) -> CardOutcome:
        """Ask the processor to do `operation` (authorize, capture, void or refund);
        `customer_id` is the Stripe Customer the order's card is kept on, once there is one."""
        ...

    async def look_up(self, operation: Operation) -> CardOutcome | None:
        """What the processor already did for `operation`; None if it did nothing."""
        ...

    async def charge_state(self, payment_intent_id: str) -> ChargeState: ...


HELD = ("requires_capture", "succeeded")
_AUTHORIZATIONS = (OperationKind.AUTHORIZE, OperationKind.REAUTHORIZE, OperationKind.REPLACE_CARD)
T = TypeVar("T")


class StripeCards:
    def __init__(self, api_key: str, api_base: str | None = None, *, timeout: float = 30.0) -> None:
        base_addresses = {"api": api_base} if api_base else {}
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=base_addresses,  # type: ignore[arg-type]
            http_client=stripe.HTTPXClient(timeout=timeout),
            max_network_retries=2,
        )

    async def perform(
        self, operation: Operation, payment_method: str, customer_id: str | None = None
    ) -> CardOutcome:
        actions: dict[OperationKind, Callable[[], Awaitable[CardOutcome]]] = {
            OperationKind.AUTHORIZE: lambda: self._authorize(operation, payment_method),
            OperationKind.REPLACE_CARD: lambda: self._authorize(
                operation, payment_method, customer_id
            ),
            OperationKind.REAUTHORIZE: lambda: self._renew(operation, payment_method, customer_id),
            OperationKind.CAPTURE: lambda: self._capture(operation),
            OperationKind.VOID: lambda: self._void(operation),
            OperationKind.RELEASE_HOLD: lambda: self._void(operation),
            OperationKind.REFUND: lambda: self._refund(operation),
        }
        try:
            return await _calling_stripe(actions[operation.kind])
        except stripe.InvalidRequestError as error:
            # Refused: either for good (the intent was cancelled or lapsed, an amount too
            # large), or because an earlier attempt that timed out did happen and this retry
            # asks for it again ("already captured"). Only Stripe's state tells which.
            happened = await self.look_up(operation)
            if happened is not None and happened.succeeded:
                return happened
            return CardOutcome(succeeded=False, reason=error.user_message or str(error))

    async def look_up(self, operation: Operation) -> CardOutcome | None:
        if operation.kind in _AUTHORIZATIONS:
            return await _calling_stripe(lambda: self._find_authorization(operation))
        if operation.kind is OperationKind.REFUND:
            return await _calling_stripe(lambda: self._find_refund(operation))
        intent = await _calling_stripe(lambda: self._intent(operation))
        done, undone = {
            OperationKind.CAPTURE: ("succeeded", "canceled"),
            OperationKind.VOID: ("canceled", "succeeded"),
            OperationKind.RELEASE_HOLD: ("canceled", "succeeded"),
        }[operation.kind]
        if intent.status == done:
            return CardOutcome(succeeded=True, payment_intent_id=intent.id)
        if intent.status == undone:
            return CardOutcome(
                succeeded=False, payment_intent_id=intent.id, reason=f"the payment is {undone}"
            )
        return None

    async def charge_state(self, payment_intent_id: str) -> ChargeState:
        async def read() -> ChargeState:
            intent = await self.client.v1.payment_intents.retrieve_async(payment_intent_id)
            captured = refunded = 0
            charge_id = _id_of(intent.latest_charge)
            if charge_id:
                charge = await self.client.v1.charges.retrieve_async(charge_id)
                if charge.captured:
                    captured = getattr(charge, "amount_captured", None) or charge.amount
                refunded = charge.amount_refunded or 0
            return ChargeState(intent.id, intent.status, captured, refunded)

        return await _calling_stripe(read)

    # --- the calls --------------------------------------------------------------------

    async def _customer(self, operation: Operation, payment_method: str) -> str:
        """The Stripe Customer the order's card is kept on (created once per order: the
        idempotency key is the order's), with `payment_method` attached to it."""
        customer = await self.client.v1.customers.create_async(
            {"metadata": {"order_id": operation.order_id}},
            {"idempotency_key": f"order:{operation.order_id}:customer"},
        )
        await self._attached(operation, payment_method, customer.id)
        return customer.id

    async def _authorize(
        self, operation: Operation, payment_method: str, customer_id: str | None = None
    ) -> CardOutcome:
        """The buyer is there (placing the order, or giving a new card): authorize and keep
        the card on the order's Customer for later off-session renewals."""
        try:
            customer = customer_id or await self._customer(operation, payment_method)
            if customer_id:
                await self._attached(operation, payment_method, customer_id)
            return await self._create_intent(
                operation, authorization_request(operation, payment_method, customer)
            )
        except stripe.CardError as error:
            return _declined(error)

    async def _renew(
        self, operation: Operation, payment_method: str, customer_id: str | None
    ) -> CardOutcome:
        """A renewal: the buyer is not there. Stripe requires the card's Customer and
        `off_session` with `confirm` to reuse a saved card; a card that would need the buyer
        (authentication) is refused, not left waiting."""
        if not customer_id:
            # A hold made before cards were kept on a Customer: the card cannot be reused
            # off-session, so the renewal fails and the buyer is asked for a card.
            return CardOutcome(
                succeeded=False,
                reason="The card was not kept for off-session use; the buyer must give it again",
            )
        try:
            return await self._create_intent(
                operation, authorization_request(operation, payment_method, customer_id)
            )
        except stripe.CardError as error:
            return _declined(error)

    async def _attached(self, operation: Operation, payment_method: str, customer: str) -> None:
        attached = await self.client.v1.payment_methods.retrieve_async(payment_method)
        if _id_of(attached.customer) != customer:
            await self.client.v1.payment_methods.attach_async(
                payment_method,
                {"customer": customer},
                {"idempotency_key": f"{operation.id}:attach"},
            )

    async def _create_intent(self, operation: Operation, request: dict[str, Any]) -> CardOutcome:
        intent = await self.client.v1.payment_intents.create_async(
            request, {"idempotency_key": operation.id}
        )
        return _authorization_outcome(intent)

    async def _capture(self, operation: Operation) -> CardOutcome:
        intent = await self.client.v1.payment_intents.capture_async(
            _target(operation),
            {"amount_to_capture": operation.amount_minor},
            {"idempotency_key": operation.id},
        )
        return CardOutcome(succeeded=intent.status == "succeeded", payment_intent_id=intent.id)

    async def _void(self, operation: Operation) -> CardOutcome:
        intent = await self.client.v1.payment_intents.cancel_async(
            _target(operation), options={"idempotency_key": operation.id}
        )
        return CardOutcome(succeeded=intent.status == "canceled", payment_intent_id=intent.id)

    async def _refund(self, operation: Operation) -> CardOutcome:
        refund = await self.client.v1.refunds.create_async(
            {
                "payment_intent": _target(operation),
                "amount": operation.amount_minor,
                "metadata": {"order_id": operation.order_id, "operation_id": operation.id},
            },
            {"idempotency_key": operation.id},
        )
        return _refund_outcome(refund, operation)

    async def _intent(self, operation: Operation) -> stripe.PaymentIntent:
        return await self.client.v1.payment_intents.retrieve_async(_target(operation))

    async def _find_authorization(self, operation: Operation) -> CardOutcome | None:
        try:
            found = await self.client.v1.payment_intents.search_async(
                {"query": f"metadata['operation_id']:'{operation.id}'"}
            )
            intents = list(found.data)
        except stripe.InvalidRequestError:
            # Servers without the search API (localstripe): scan every intent.
            page = await self.client.v1.payment_intents.list_async({"limit": 100})
            intents = [
                i
                async for i in page.auto_paging_iter()
                if metadata_of(i).get("operation_id") == operation.id
            ]
        held = [i for i in intents if i.status in HELD]
        if held:
            return _authorization_outcome(held[0])
        return _authorization_outcome(intents[0]) if intents else None

    async def _find_refund(self, operation: Operation) -> CardOutcome | None:
        page = await self.client.v1.refunds.list_async(
            {"payment_intent": _target(operation), "limit": 100}
        )
        async for refund in page.auto_paging_iter():
            if metadata_of(refund).get("operation_id") == operation.id:
                return _refund_outcome(refund, operation)
        return None


def authorization_request(
    operation: Operation, payment_method: str, customer_id: str
) -> dict[str, Any]:
    """The PaymentIntent an authorization creates (manual capture, confirmed at once) with the
    card on the order's Customer. The buyer present (placing the order, a new card): kept for
    later (`setup_future_usage`). A renewal: the buyer is absent, so `off_session` with
    `confirm`, as Stripe requires to reuse a saved card."""
    usage: dict[str, Any] = (
        {"off_session": True}
        if operation.kind is OperationKind.REAUTHORIZE
        else {"setup_future_usage": "off_session"}
    )
    return {
        "amount": operation.amount_minor,
        "currency": operation.currency.lower(),
        "capture_method": "manual",
        "confirm": True,
        "customer": customer_id,
        "payment_method": payment_method,
        **usage,
        "payment_method_types": ["card"],
        "metadata": {"order_id": operation.order_id, "operation_id": operation.id},
    }


async def _calling_stripe(call: Callable[[], Awaitable[T]]) -> T:
    """Run a Stripe call; an outage becomes `TransientCardError`, so the operation is tried
    again later."""
    try:
        return await call()
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise TransientCardError(str(error)) from error
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        # Our key, not this operation: every operation waits until an operator mends it,
        # rather than each being set aside as if Stripe had refused it.
        raise TransientCardError(f"Stripe refused our API key: {error}") from error
    except stripe.InvalidRequestError:
        raise
    except stripe.APIError as error:
        raise TransientCardError(str(error)) from error


def _target(operation: Operation) -> str:
    if not operation.payment_intent_id:
        raise UnusableOperation(f"operation {operation.id} has no PaymentIntent to act on")
    return operation.payment_intent_id


def _id_of(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else value.id


def metadata_of(obj: Any) -> dict[str, str]:
    return obj.metadata.to_dict() if obj.metadata else {}


def _declined(error: stripe.CardError) -> CardOutcome:
    intent_id = (error.json_body or {}).get("error", {}).get("payment_intent", {}).get("id")
    return CardOutcome(
        succeeded=False,
        payment_intent_id=intent_id,
        reason=error.user_message or "The card was declined",
        decline_code=error.code,
    )


def _authorization_outcome(intent: stripe.PaymentIntent) -> CardOutcome:
    customer = _id_of(getattr(intent, "customer", None))
    if intent.status in HELD:
        # The intent's own PaymentMethod id is what a renewal reuses off-session.
        method = _id_of(getattr(intent, "payment_method", None))
        return CardOutcome(
            succeeded=True,
            payment_intent_id=intent.id,
            customer_id=customer,
            payment_method_id=method,
        )
    next_action = getattr(intent, "next_action", None)
    if intent.status == "requires_action" and next_action:
        # 3-D Secure: the buyer must act in the client. Not a decline (an off-session renewal
        # treats it as one: nobody is there to act).
        return CardOutcome(
            succeeded=False,
            payment_intent_id=intent.id,
            customer_id=customer,
            reason="The card asks the buyer to authenticate (requires_action)",
            next_action=json.dumps(_plain(next_action)),
        )
    return CardOutcome(
        succeeded=False,
        payment_intent_id=intent.id,
        customer_id=customer,
        reason=f"The card was not authorized ({intent.status})",
    )


def _plain(value: Any) -> Any:
    return value.to_dict() if hasattr(value, "to_dict") else value


def _refund_outcome(refund: stripe.Refund, operation: Operation) -> CardOutcome:
    if refund.status in ("succeeded", "pending"):
        return CardOutcome(
            succeeded=True, payment_intent_id=operation.payment_intent_id, stripe_id=refund.id
        )
    return CardOutcome(succeeded=False, stripe_id=refund.id, reason=f"The refund {refund.status}")
