"""Stripe's webhooks: verified on the raw body, deduplicated by event id, and applied so that
their order does not matter (a dispute closed before we heard it open still opens once and
closes once). Our own operations are the record of what we asked Stripe to do; webhooks add
what only Stripe knows, such as chargebacks."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import stripe

from contracts.payments import PaymentDisputeClosed, PaymentDisputeOpened
from payments import domain
from payments.db import Disputes, Payments, Webhooks
from payments.domain import Payment
from payments.handlers import apply
from servicekit.uow import Database, UnitOfWork


class WebhookRefused(Exception):
    """The request is not a genuine, fresh Stripe event."""


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created: int
    data: dict[str, Any]


def verify(
    payload: bytes, signature: str | None, secret: str, now: datetime, tolerance: timedelta
) -> WebhookEvent:
    """Check the `Stripe-Signature` header against the raw body and our clock."""
    if not signature:
        raise WebhookRefused("the Stripe-Signature header is missing")
    try:
        # Stripe's own check of the HMAC; the age is checked below against our clock.
        stripe.WebhookSignature.verify_header(payload.decode(), signature, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise WebhookRefused("the signature does not match the body") from error
    signed_at = _timestamp(signature)
    if abs(now.timestamp() - signed_at) > tolerance.total_seconds():
        raise WebhookRefused("the signature is too old (or from the future): a replay?")
    try:
        body = json.loads(payload)
        return WebhookEvent(
            body["id"], body["type"], int(body.get("created", signed_at)), body["data"]
        )
    except (ValueError, KeyError, TypeError) as error:
        raise WebhookRefused("the body is not a Stripe event") from error


def stripe_signature(payload: bytes, secret: str, at: datetime) -> str:
    """The `Stripe-Signature` Stripe sends with `payload` at `at` (`t=<time>,v1=<HMAC-SHA256
    of time.payload>`): what `verify` checks, for posting events to a development stack,
    which has no Stripe to send them."""
    timestamp = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _timestamp(signature: str) -> int:
    for part in signature.split(","):
        name, _, value = part.partition("=")
        if name.strip() == "t" and value.strip().isdigit():
            return int(value)
    raise WebhookRefused("the signature carries no timestamp")


async def receive(db: Database, event: WebhookEvent, now: datetime) -> bool:
    """Apply a verified event once; False if it was received before."""
    async with db.unit_of_work() as uow:
        if not await Webhooks(uow.session).first_time(event.id, event.type, event.created, now):
            return False
        if event.type.startswith("charge.dispute."):
            await _dispute(uow, event.data.get("object", {}), now)
        await uow.commit()
    return True


async def _dispute(uow: UnitOfWork, dispute: dict[str, Any], now: datetime) -> None:
    intent_id = dispute.get("payment_intent")
    payment = await Payments(uow.session).by_payment_intent(intent_id) if intent_id else None
    if payment is None:
        return  # not one of our payments
    uow.correlation_id = payment.correlation_id
    disputes = Disputes(uow.session)
    known = await disputes.get(dispute["id"])
    amount = int(dispute.get("amount") or payment.captured_minor)
    if known is None:
        await _opened(uow, payment, dispute, amount, now)
        await disputes.put(
            id=dispute["id"],
            order_id=payment.order_id,
            amount_minor=amount,
            currency=payment.currency,
            status="open",
            reason=str(dispute.get("reason") or "unknown"),
            opened_at=now,
        )
    elif known.status != "open":
        return  # decided already: a late or repeated event changes nothing
    status = dispute.get("status")
    if status in ("won", "lost"):
        await disputes.put(id=dispute["id"], status=status, closed_at=now)
        current = await Payments(uow.session).get(payment.order_id)
        assert current is not None
        await _closed(uow, current, dispute["id"], amount, status, now)


async def _opened(
    uow: UnitOfWork, payment: Payment, dispute: dict[str, Any], amount: int, now: datetime
) -> None:
    await apply(uow, domain.open_dispute(payment, dispute["id"], amount, now))
    uow.emit(
        PaymentDisputeOpened(
            order_id=payment.order_id,
            buyer_id=payment.buyer_id,
            seller_id=payment.seller_id,
            dispute_id=dispute["id"],
            amount=payment.money(amount),
            reason=str(dispute.get("reason") or "unknown"),
            opened_at=now,
        )
    )


async def _closed(
    uow: UnitOfWork, payment: Payment, dispute_id: str, amount: int, outcome: str, now: datetime
) -> None:
    if outcome == "won":
        await apply(uow, domain.win_dispute(payment, dispute_id, amount, now))
    uow.emit(
        PaymentDisputeClosed(
            order_id=payment.order_id,
            buyer_id=payment.buyer_id,
            seller_id=payment.seller_id,
            dispute_id=dispute_id,
            amount=payment.money(amount),
            outcome="won" if outcome == "won" else "lost",
            closed_at=now,
        )
    )
