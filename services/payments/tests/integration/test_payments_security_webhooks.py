"""Payments' defences (#16) on Stripe's webhooks, on SQLite and PostgreSQL: no start with the
development webhook secret outside the development stack, strict `Stripe-Signature` parsing,
and disputes checked against the charge."""

import json
import uuid
from datetime import timedelta

import pytest

from payments import webhooks
from payments.app import UnsafeSettings, create_app
from payments.settings import PaymentsSettings
from payments.webhooks import WebhookRefused

from payments_test_helpers import (
    NOW,
    balances,
    deliver,
    eur,
    events_of,
    resolved,
    settle,
    shipped_order,
    stored_payment,
)

SECRET = "whsec_test"
TOLERANCE = timedelta(minutes=5)

# --- the webhook secret -------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["whsec_development", "", "  "])
def test_outside_the_development_stack_payments_refuses_a_missing_or_development_secret(
    secret, monkeypatch
):
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", secret)
    settings = PaymentsSettings()
    assert settings.environment == "production"
    assert "STRIPE_WEBHOOK_SECRET" in (settings.webhook_secret_fault() or "")


def test_without_a_secret_at_all_payments_refuses_outside_the_development_stack(monkeypatch):
    for name in ("MARKETPLACE_ENV", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert PaymentsSettings().webhook_secret_fault() is not None


def test_the_development_stack_and_a_real_secret_are_accepted(monkeypatch):
    monkeypatch.setenv("MARKETPLACE_ENV", "development")
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    assert PaymentsSettings().webhook_secret_fault() is None
    monkeypatch.delenv("MARKETPLACE_ENV")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_a_real_one_from_the_dashboard")
    assert PaymentsSettings().webhook_secret_fault() is None


async def test_the_service_does_not_start_with_the_development_secret_in_production(tmp_path):
    settings = PaymentsSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/payments.db",
        stripe_webhook_secret="whsec_development",
        open_internal_api=True,
    )
    app = create_app(settings)
    with pytest.raises(UnsafeSettings, match="development secret"):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover - it must not get here
    await app.state.runtime.engine.dispose()


# --- the signature header ------------------------------------------------------------------


def _signed(body: dict, at=NOW) -> tuple[bytes, str]:
    payload = json.dumps(body).encode()
    return payload, webhooks.stripe_signature(payload, SECRET, at)


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (lambda s, old: f"t={int(NOW.timestamp())},{s}", "more than one timestamp"),
        (lambda s, old: f"{s},t={old}", "more than one timestamp"),
        (lambda s, old: s.replace("t=", "t=+"), "malformed"),
        (lambda s, old: s + ",", "malformed"),
        (lambda s, old: s + ",v1", "malformed"),
        (lambda s, old: s.replace("v1=", "v1=ab cd"), "malformed"),
        (lambda s, old: s.split(",")[0], "no v1 signature"),
        (lambda s, old: s.replace("t=", "t=99999999999999999999"), "not a time"),
    ],
    ids=[
        "now then old",
        "old appended",
        "signed t",
        "empty part",
        "no value",
        "space",
        "no v1",
        "absurd time",
    ],
)
def test_a_signature_header_with_two_times_or_malformed_parts_is_refused(header, why):
    old = int((NOW - timedelta(days=30)).timestamp())
    payload, signature = _signed({"id": "evt_1", "type": "charge.succeeded", "data": {}})
    with pytest.raises(WebhookRefused, match=why):
        webhooks.verify(payload, header(signature, old), SECRET, NOW, TOLERANCE)


def test_an_old_signature_behind_a_fresh_timestamp_is_refused():
    """The attack: a captured old event replayed with `t=<now>` put in front."""
    old_at = NOW - timedelta(days=30)
    payload, old_signature = _signed({"id": "evt_1", "type": "x", "data": {}}, at=old_at)
    old_v1 = old_signature.split(",", 1)[1]
    for replay in (
        f"t={int(NOW.timestamp())},{old_signature}",
        f"t=+{int(old_at.timestamp())},t={int(NOW.timestamp())},{old_v1}",
    ):
        with pytest.raises(WebhookRefused):
            webhooks.verify(payload, replay, SECRET, NOW, TOLERANCE)


def test_several_v1_signatures_are_allowed_as_stripe_sends_them_while_rolling_secrets():
    payload, signature = _signed({"id": "evt_1", "type": "x", "data": {}})
    rolled = f"{signature},v1={'0' * 64}"
    assert webhooks.verify(payload, rolled, SECRET, NOW, TOLERANCE).id == "evt_1"


# --- disputes checked against the charge ------------------------------------------------


def _dispute(intent: str, amount, currency="eur", status="needs_response") -> dict:
    kind = "charge.dispute.created" if status == "needs_response" else "charge.dispute.closed"
    return {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "type": kind,
        "created": int(NOW.timestamp()),
        "data": {
            "object": {
                "id": f"dp_{uuid.uuid4().hex[:12]}",
                "amount": amount,
                "currency": currency,
                "payment_intent": intent,
                "reason": "fraudulent",
                "status": status,
            }
        },
    }


async def _receive(ctx, body) -> bool:
    payload, signature = _signed(body)
    event = webhooks.verify(payload, signature, SECRET, NOW, TOLERANCE)
    return await webhooks.receive(ctx.db, event, NOW)


@pytest.mark.parametrize(
    ("amount", "currency", "why"),
    [
        (-500_000, "eur", "not positive"),
        (8_401, "eur", "more than the 84.00 EUR"),
        (8_400, "usd", "the charge in EUR"),
        ("8400", "eur", "not a whole number"),
    ],
    ids=["negative", "more than captured", "other currency", "not a number"],
)
async def test_a_dispute_that_does_not_fit_the_charge_moves_no_money(
    ctx, engine, amount, currency, why
):
    order_id = await shipped_order(ctx)
    intent = (await stored_payment(ctx, order_id)).payment_intent_id
    before = await balances(ctx, order_id)
    body = _dispute(intent, amount, currency)

    assert await _receive(ctx, body) is True  # received: Stripe must not send it again

    assert await balances(ctx, order_id) == before == {"buyer_card": -8400, "escrow": 8400}
    assert [k for k, _ in await events_of(engine, order_id) if k.startswith("dispute")] == []
    async with ctx.db.unit_of_work() as uow:
        (recorded,) = await uow.disputes.of_order(order_id)
    assert recorded.status == "refused"
    assert why in recorded.refusal
    # its closing changes nothing either
    won = _dispute(intent, amount, currency, status="won")
    won["data"]["object"]["id"] = body["data"]["object"]["id"]
    await _receive(ctx, won)
    assert await balances(ctx, order_id) == before


async def test_a_dispute_after_a_full_refund_takes_nothing_from_the_empty_escrow(ctx, engine):
    order_id = await shipped_order(ctx)
    await deliver(ctx, resolved(order_id, "refund"))
    await settle(ctx)
    intent = (await stored_payment(ctx, order_id)).payment_intent_id
    before = await balances(ctx, order_id)
    assert before == {"buyer_card": -8400, "refunds": 8400}

    assert await _receive(ctx, _dispute(intent, 8_400)) is True

    assert await balances(ctx, order_id) == before
    assert [k for k, _ in await events_of(engine, order_id) if k.startswith("dispute")] == []
    async with ctx.db.unit_of_work() as uow:
        (recorded,) = await uow.disputes.of_order(order_id)
    assert (recorded.status, recorded.amount_minor) == ("refused", 0)
    assert "refunded" in recorded.refusal


async def test_a_dispute_after_a_partial_refund_takes_only_what_escrow_holds(ctx, engine):
    order_id = await shipped_order(ctx)
    await deliver(ctx, resolved(order_id, "partial_refund", eur(3_000)))
    await settle(ctx)
    intent = (await stored_payment(ctx, order_id)).payment_intent_id

    await _receive(ctx, _dispute(intent, 8_400))

    after = await balances(ctx, order_id)
    assert after.get("escrow", 0) == 0
    assert (after["chargebacks"], after["refunds"]) == (5_400, 3_000)
    (opened,) = [d for k, d in await events_of(engine, order_id) if k == "dispute_opened.v1"]
    assert (opened["amount"]["amount_minor"], opened["refundable"]["amount_minor"]) == (5_400, 0)
    async with ctx.db.unit_of_work() as uow:
        (recorded,) = await uow.disputes.of_order(order_id)
    assert (recorded.status, recorded.amount_minor) == ("open", 5_400)
    assert "30.00 EUR of the dispute's 84.00 EUR was already refunded" in recorded.refusal
