"""The Stripe Connect endpoints the dev stack serves in front of localstripe, driven by the
official SDK with one `api_base` for both."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import stripe

from devstack import components
from devstack.stripe_connect import decode_form

KEY = "sk_test_development"


def client_for(base: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": base})


def enabled_account(client: stripe.StripeClient) -> stripe.Account:
    account = client.v1.accounts.create(
        {
            "type": "express",
            "country": "DE",
            "email": "sam@example.com",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"seller_id": "seller-1"},
        }
    )
    client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "http://127.0.0.1/refresh",
            "return_url": "http://127.0.0.1/return",
            "type": "account_onboarding",
        }
    )
    return account


def test_an_express_account_is_enabled_once_its_onboarding_link_is_created(
    stripe_connect_base: str,
) -> None:
    client = client_for(stripe_connect_base)
    account = client.v1.accounts.create(
        {
            "type": "express",
            "country": "DE",
            "email": "sam@example.com",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"seller_id": "seller-1"},
        }
    )
    assert account.id.startswith("acct_")
    assert account.object == "account"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        False,
        False,
        False,
    )
    assert account.default_currency == "eur"
    assert account.country == "DE"
    assert account.metadata.to_dict() == {"seller_id": "seller-1"}
    assert account.requirements.currently_due

    link = client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "http://127.0.0.1/refresh",
            "return_url": "http://127.0.0.1/return",
            "type": "account_onboarding",
        }
    )
    assert link.object == "account_link"
    assert link.expires_at > link.created
    visited = httpx.get(link.url)
    assert visited.status_code == 302
    assert visited.headers["location"] == "http://127.0.0.1/return"

    enabled = client.v1.accounts.retrieve(account.id)
    assert (enabled.charges_enabled, enabled.payouts_enabled, enabled.details_submitted) == (
        True,
        True,
        True,
    )
    assert enabled.capabilities.to_dict() == {"transfers": "active"}
    assert enabled.requirements.currently_due == []


def test_transfers_by_group_idempotency_and_reversals(stripe_connect_base: str) -> None:
    client = client_for(stripe_connect_base)
    account = enabled_account(client)
    group = f"order-{uuid.uuid4().hex[:8]}"
    params = {
        "amount": 9000,
        "currency": "eur",
        "destination": account.id,
        "transfer_group": group,
        "metadata": {"order_id": group},
    }
    key = {"idempotency_key": f"payout-{group}"}
    first = client.v1.transfers.create(params, key)
    again = client.v1.transfers.create(params, key)
    assert again.id == first.id
    assert first.id.startswith("tr_")
    assert (first.amount, first.currency, first.destination) == (9000, "eur", account.id)
    assert (first.transfer_group, first.reversed, first.amount_reversed) == (group, False, 0)
    assert first.metadata.to_dict() == {"order_id": group}
    with pytest.raises(stripe.IdempotencyError):
        client.v1.transfers.create({**params, "amount": 1}, key)

    other = client.v1.transfers.create({**params, "amount": 1000, "transfer_group": "other"})
    listed = client.v1.transfers.list({"transfer_group": group, "limit": 10})
    assert [t.id for t in listed.data] == [first.id]
    assert listed.has_more is False
    by_destination = client.v1.transfers.list({"destination": account.id, "limit": 1})
    assert len(by_destination.data) == 1
    assert by_destination.has_more is True
    assert {t.id for t in by_destination.auto_paging_iter()} == {first.id, other.id}

    part = client.v1.transfers.reversals.create(first.id, {"amount": 3000})
    assert part.id.startswith("trr_")
    assert (part.amount, part.transfer) == (3000, first.id)
    after_part = client.v1.transfers.retrieve(first.id)
    assert (after_part.amount_reversed, after_part.reversed) == (3000, False)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.reversals.create(first.id, {"amount": 6001})
    assert refused.value.param == "amount"

    rest = client.v1.transfers.reversals.create(first.id, {"metadata": {"why": "refund"}})
    assert rest.amount == 6000
    done = client.v1.transfers.retrieve(first.id)
    assert (done.amount_reversed, done.reversed) == (9000, True)
    assert [r.id for r in done.reversals.data] == [rest.id, part.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(first.id, {"amount": 1})


def test_refused_transfers(stripe_connect_base: str) -> None:
    client = client_for(stripe_connect_base)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.transfers.create(
            {"amount": 100, "currency": "eur", "destination": "acct_doesnotexist"}
        )
    assert unknown.value.param == "destination"
    assert unknown.value.http_status == 400

    not_onboarded = client.v1.accounts.create({"type": "express", "country": "DE"})
    with pytest.raises(stripe.InvalidRequestError) as not_enabled:
        client.v1.transfers.create(
            {"amount": 100, "currency": "eur", "destination": not_onboarded.id}
        )
    assert not_enabled.value.param == "destination"

    account = enabled_account(client)
    with pytest.raises(stripe.InvalidRequestError) as zero:
        client.v1.transfers.create({"amount": 0, "currency": "eur", "destination": account.id})
    assert zero.value.param == "amount"
    # Like Stripe, a currency other than the account's default is accepted.
    dollars = client.v1.transfers.create(
        {"amount": 100, "currency": "usd", "destination": account.id}
    )
    assert dollars.currency == "usd"

    with pytest.raises(stripe.InvalidRequestError) as no_such:
        client.v1.transfers.retrieve("tr_doesnotexist")
    assert no_such.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.retrieve("acct_doesnotexist")


def test_a_request_without_an_api_key_is_refused(stripe_connect_base: str) -> None:
    answer = httpx.post(f"{stripe_connect_base}/v1/accounts", data={"type": "express"})
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("", base_addresses={"api": stripe_connect_base}).v1.transfers.list()


def test_everything_else_is_forwarded_to_localstripe(stripe_connect_base: str) -> None:
    client = client_for(stripe_connect_base)
    intent = client.v1.payment_intents.create(
        {
            "amount": 2500,
            "currency": "eur",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "metadata": {"order_id": "forwarded"},
        }
    )
    confirmed = client.v1.payment_intents.confirm(intent.id)
    assert confirmed.status == "requires_capture"
    captured = client.v1.payment_intents.capture(intent.id)
    assert captured.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve("pi_doesnotexist")


def test_a_forwarded_create_sent_again_with_its_idempotency_key_creates_nothing_more(
    stripe_connect_base: str,
) -> None:
    """As on Stripe: a worker that retries a create after losing the answer gets the first
    PaymentIntent back, not a second hold on the buyer's card (localstripe ignores the key)."""
    client = client_for(stripe_connect_base)
    request = {
        "amount": 1800,
        "currency": "eur",
        "capture_method": "manual",
        "payment_method": "pm_card_visa",
        "payment_method_types": ["card"],
        "metadata": {"order_id": f"ord_{uuid.uuid4().hex[:8]}"},
    }
    key = f"op_{uuid.uuid4().hex}"
    first = client.v1.payment_intents.create(request, {"idempotency_key": key})
    again = client.v1.payment_intents.create(request, {"idempotency_key": key})
    other = client.v1.payment_intents.create(request, {"idempotency_key": f"{key}-2"})

    assert again.id == first.id
    assert other.id != first.id


class Receiver:
    """A tiny webhook endpoint that keeps each delivery's headers and body."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                deliveries.put((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_event(self, secret: str) -> stripe.Event:
        headers, body = self.deliveries.get(timeout=10)
        return stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], secret)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_generated_events_arrive_signed_as_stripe_signs_them(
    receiver: Receiver, stripe_api_base: str, stack_logs: Path
) -> None:
    secret = "whsec_development"
    child, base = components.stripe_connect(
        upstream=stripe_api_base,
        log_dir=stack_logs,
        webhook_url=receiver.url,
        webhook_secret=secret,
    )
    child.start()
    try:
        client = client_for(base)
        account = enabled_account(client)
        updated = receiver.next_event(secret)
        assert updated.type == "account.updated"
        assert updated.data.object.id == account.id
        assert updated.data.object.payouts_enabled is True
        assert updated.data.previous_attributes.payouts_enabled is False

        transfer = client.v1.transfers.create(
            {"amount": 500, "currency": "eur", "destination": account.id}
        )
        created = receiver.next_event(secret)
        assert (created.type, created.data.object.id) == ("transfer.created", transfer.id)
        client.v1.transfers.reversals.create(transfer.id)
        reversed_ = receiver.next_event(secret)
        assert reversed_.type == "transfer.reversed"
        assert reversed_.data.object.reversed is True

        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(json.dumps({}), "t=1,v1=00", secret)
    finally:
        child.stop()


def test_nested_form_parameters_decode_as_stripe_encodes_them() -> None:
    pairs = [
        ("capabilities[transfers][requested]", "true"),
        ("metadata[order_id]", "o-1"),
        ("expand[0]", "destination"),
        ("expand[1]", "reversals"),
        ("payment_method_types[]", "card"),
        ("amount", "100"),
    ]
    assert decode_form(pairs) == {
        "capabilities": {"transfers": {"requested": "true"}},
        "metadata": {"order_id": "o-1"},
        "expand": ["destination", "reversals"],
        "payment_method_types": ["card"],
        "amount": "100",
    }
