"""Events published by the payments service on `payments.events`, keyed by order id."""

from __future__ import annotations

from pydantic import AwareDatetime

from contracts.envelope import Event
from contracts.money import Money
from contracts.topics import PAYMENTS_EVENTS


class PaymentAuthorized(Event, type="marketplace.payment.authorized.v1", topic=PAYMENTS_EVENTS):
    """The buyer's card holds `amount` for the order until capture or expiry."""

    order_id: str
    payment_intent_id: str
    amount: Money
    authorized_at: AwareDatetime
    expires_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentAuthorizationFailed(
    Event, type="marketplace.payment.authorization_failed.v1", topic=PAYMENTS_EVENTS
):
    """The card could not be authorized; the order cannot go ahead."""

    order_id: str
    amount: Money
    reason: str
    decline_code: str | None = None
    failed_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id
