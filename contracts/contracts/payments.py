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


class PaymentCaptured(Event, type="marketplace.payment.captured.v1", topic=PAYMENTS_EVENTS):
    """The authorization was captured into escrow (the order shipped)."""

    order_id: str
    payment_intent_id: str
    amount: Money
    captured_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentVoided(Event, type="marketplace.payment.voided.v1", topic=PAYMENTS_EVENTS):
    """An uncaptured authorization was released (the order ended before shipment)."""

    order_id: str
    payment_intent_id: str
    amount: Money
    voided_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentReleased(Event, type="marketplace.payment.released.v1", topic=PAYMENTS_EVENTS):
    """Escrow was paid out to the seller: `amount` to the seller, `platform_fee` kept."""

    order_id: str
    seller_id: str
    amount: Money
    platform_fee: Money
    released_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id


class PaymentRefunded(Event, type="marketplace.payment.refunded.v1", topic=PAYMENTS_EVENTS):
    """`amount` went back to the buyer; `total_refunded` is all refunded on the order so far,
    and `full` says whether that is everything that was captured."""

    order_id: str
    amount: Money
    total_refunded: Money
    full: bool
    reason: str
    refunded_at: AwareDatetime

    def subject(self) -> str:
        return self.order_id
