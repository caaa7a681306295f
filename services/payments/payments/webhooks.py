"""Stripe's webhooks: verified on the raw body, deduplicated by event id, and applied so that
their order does not matter (a dispute closed before we heard it open still opens once and
closes once). Our own operations are the record of what we asked Stripe to do; webhooks add
what only Stripe knows, such as chargebacks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import stripe
import structlog

from payments import domain
from payments.db import PaymentsUnit
from payments.domain.payouts import account_status, account_updated
from payments.store import store
from servicekit.messaging.uow import Database

log = structlog.get_logger(__name__)


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
    signed_at = _timestamp(signature)
    try:
        # Stripe's own check of the HMAC; the age is checked below against our clock.
        stripe.WebhookSignature.verify_header(payload.decode(), signature, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise WebhookRefused("the signature does not match the body") from error
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


_SCHEME = re.compile(r"[a-z][a-z0-9]*")
_VALUE = re.compile(r"[A-Za-z0-9_]+")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def _timestamp(signature: str) -> int:
    """The one time the header was signed at. Parsed strictly, before Stripe's library looks
    at it: a header with two times (`t=<now>,t=<old>,v1=...`) once passed the age check with
    one and the HMAC with the other. Exactly one `t`, each part `scheme=value`."""
    timestamps: list[str] = []
    signatures = 0
    for part in signature.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals or not _SCHEME.fullmatch(name) or not _VALUE.fullmatch(value):
            raise WebhookRefused("the Stripe-Signature header is malformed")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            signatures += 1
    if len(timestamps) != 1:
        raise WebhookRefused(
            "the signature carries no timestamp"
            if not timestamps
            else "the signature carries more than one timestamp"
        )
    if not _TIMESTAMP.fullmatch(timestamps[0]):
        raise WebhookRefused("the signature's timestamp is not a time")
    if not signatures:
        raise WebhookRefused("the signature does not match the body: no v1 signature")
    return int(timestamps[0])


# The buyer completed 3-D Secure in the client: the intent now holds the money.
AUTHENTICATED = ("payment_intent.amount_capturable_updated", "payment_intent.succeeded")


async def receive(
    db: Database[PaymentsUnit],
    event: WebhookEvent,
    now: datetime,
    terms: domain.Terms | None = None,
) -> bool:
    """Apply a verified event once; False if it was received before. `terms` (the hold's
    length, the credit limit) are needed to authorize a payment that waited for 3-D Secure."""
    async with db.unit_of_work() as uow:
        if not await uow.webhooks.first_time(event.id, event.type, event.created, now):
            return False
        if event.type in AUTHENTICATED and terms is not None:
            await _authenticated(uow, event.data.get("object", {}), now, terms)
        elif event.type.startswith("charge.dispute."):
            await _dispute(uow, event.data.get("object", {}), now)
        elif event.type == "account.updated":
            await _account_updated(uow, event.data.get("object", {}), now)
        await uow.commit()
    return True


async def _authenticated(
    uow: PaymentsUnit, intent: dict[str, Any], now: datetime, terms: domain.Terms
) -> None:
    """A payment waiting in `requires_action` whose intent now holds the money: authorized,
    as if Stripe had answered so at once. Any other intent, or a payment that moved on, is
    left alone (the worker's own answers are the record of what we asked)."""
    intent_id = intent.get("id")
    payment = (
        await uow.payments.by_payment_intent(intent_id) if isinstance(intent_id, str) else None
    )
    if payment is None or payment.state is not domain.PaymentState.REQUIRES_ACTION:
        return
    if intent.get("status") not in ("requires_capture", "succeeded"):
        return
    uow.correlation_id = payment.correlation_id
    operation = await uow.operations.get(payment.operation_id(domain.OperationKind.AUTHORIZE))
    if operation is None:
        return
    method = intent.get("payment_method")
    outcome = domain.CardOutcome(
        succeeded=True,
        payment_intent_id=intent_id,
        customer_id=payment.customer_id,
        payment_method_id=method if isinstance(method, str) else None,
    )
    finished = operation.finished(outcome, now)
    await uow.operations.save(finished, was=operation.state)
    books = domain.OrderBooks(
        posted=await uow.ledger.posted(payment.order_id),
        waiting_refunds=await uow.waiting_refunds.of_order(payment.order_id),
    )
    answer = domain.Answer(payment, finished, outcome, now, terms, books)
    await store(uow, payment, domain.record_outcome(answer))


async def _account_updated(uow: PaymentsUnit, account: dict[str, Any], now: datetime) -> None:
    """A seller's connected account changed: active once Stripe pays out to it, restricted
    when it no longer does. An account we do not know (yet) is read at Stripe when its seller
    asks for it."""
    account_id = account.get("id")
    known = (
        await uow.payout_accounts.by_account_id(account_id) if isinstance(account_id, str) else None
    )
    if known is None:
        return
    status = account_status(
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
    )
    if status is not known.status:
        log.info("payout account changed", seller_id=known.seller_id, status=status.value)
        await uow.payout_accounts.put(account_updated(known, status, now))


async def _dispute(uow: PaymentsUnit, dispute: dict[str, Any], now: datetime) -> None:
    intent_id = dispute.get("payment_intent")
    payment = (
        await uow.payments.by_payment_intent(intent_id) if isinstance(intent_id, str) else None
    )
    dispute_id = dispute.get("id")
    if payment is None or not isinstance(dispute_id, str):
        return  # not one of our payments
    uow.correlation_id = payment.correlation_id
    disputes = uow.disputes
    known = await disputes.get(dispute_id)
    reason = str(dispute.get("reason") or "unknown")[:100]
    if known is None:
        amount, refusal = domain.dispute_amount(
            payment, dispute.get("amount"), dispute.get("currency")
        )
        if refusal is not None and amount == 0:
            # Recorded with its reason and answered as received, so Stripe does not send
            # it again; no money moves. Reconciliation shows a real one that we refused.
            log.error(
                "dispute refused: it does not fit the charge",
                order_id=payment.order_id,
                dispute_id=dispute_id,
                refusal=refusal,
            )
            await disputes.put(
                id=dispute_id,
                order_id=payment.order_id,
                amount_minor=0,
                currency=payment.currency,
                status="refused",
                reason=reason,
                refusal=refusal,
                opened_at=now,
            )
            return
        if refusal is not None:
            # Part of it the buyer already had back: only what the order held is taken.
            log.error(
                "dispute taken in part: the rest was refunded before",
                order_id=payment.order_id,
                dispute_id=dispute_id,
                refusal=refusal,
            )
        opened = domain.dispute_opened(payment, dispute_id, amount, reason, now)
        payment = await store(uow, payment, opened)
        await disputes.put(
            id=dispute_id,
            order_id=payment.order_id,
            amount_minor=amount,
            currency=payment.currency,
            status="open",
            reason=reason,
            opened_at=now,
            refusal=refusal,
        )
    elif known.status != "open":
        return  # decided (or refused) already: a late or repeated event changes nothing
    else:
        amount = known.amount_minor  # what was taken when it opened comes back if it is won
    status = dispute.get("status")
    if status in ("won", "lost"):
        await disputes.put(id=dispute_id, status=status, closed_at=now)
        reason = known.reason if known is not None and known.reason else reason
        closed = domain.dispute_closed(payment, dispute_id, amount, status == "won", now, reason)
        await store(uow, payment, closed)
