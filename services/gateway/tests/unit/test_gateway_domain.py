"""The gateway's pure rules: which service owns a path, when two requests are the same, and
what a repeated Idempotency-Key means."""

import pytest

from gateway.domain import (
    TOKEN_PREFIX,
    Repeat,
    StoredRequest,
    classify_repeat,
    hash_token,
    new_token,
    request_fingerprint,
    route_for,
)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/orders/ord_1/payment", "payments"),  # more specific than /v1/orders/...
        ("/v1/orders/ord_1", "orders"),
        ("/v1/orders", "orders"),
        ("/v1/orders/ord_1/accept", "orders"),
        ("/v1/listings", "orders"),
        ("/v1/listings/lst_1", "orders"),
        ("/v1/sellers/me/vacation", "orders"),
        ("/v1/carrier-events", "orders"),
        ("/v1/carrier/shipments", "orders"),
        ("/v1/events", "orders"),
        ("/v1/events/evt_1/postpone", "orders"),
        ("/v1/me/credits", "payments"),
        ("/v1/ledger/orders/ord_1", "payments"),
        ("/v1/webhooks/stripe", "payments"),
        ("/v1/ops/failed-emails", "notifications"),
    ],
)
def test_each_path_goes_to_the_service_that_owns_it(path, service):
    route = route_for(path)
    assert route is not None
    assert route.service == service


@pytest.mark.parametrize(
    "path",
    [
        "/v1/unknown",
        "/v2/orders",
        "/v1/listingsX",
        "/v1/me",  # served by the gateway itself
    ],
)
def test_a_path_no_service_owns_has_no_route(path):
    assert route_for(path) is None


def test_only_stripe_webhooks_are_reachable_without_a_token():
    assert route_for("/v1/webhooks/stripe").public
    for path in ("/v1/orders", "/v1/orders/o/payment", "/v1/listings", "/v1/ledger/orders/o"):
        assert not route_for(path).public


def test_json_bodies_are_the_same_request_whatever_their_key_order_and_spacing():
    compact = b'{"listing_id":"lst_1","quantity":2,"address":{"city":"Berlin","country":"DE"}}'
    spaced = (
        b'{ "quantity": 2,\n  "address": {"country": "DE", "city": "Berlin"},\n'
        b' "listing_id": "lst_1" }'
    )
    assert request_fingerprint("POST", "/v1/orders", compact) == request_fingerprint(
        "POST", "/v1/orders", spaced
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/orders", b'{"listing_id":"lst_1","quantity":3}'),  # another value
        ("POST", "/v1/listings", b'{"listing_id":"lst_1","quantity":2}'),  # another path
        ("PUT", "/v1/orders", b'{"listing_id":"lst_1","quantity":2}'),  # another method
    ],
)
def test_a_different_method_path_or_content_is_another_request(method, path, body):
    original = request_fingerprint("POST", "/v1/orders", b'{"listing_id":"lst_1","quantity":2}')
    assert request_fingerprint(method, path, body) != original


def test_bodies_that_are_not_json_are_compared_byte_for_byte():
    assert request_fingerprint("POST", "/v1/x", b"a=1") == request_fingerprint(
        "POST", "/v1/x", b"a=1"
    )
    assert request_fingerprint("POST", "/v1/x", b"a=1") != request_fingerprint(
        "POST", "/v1/x", b"a=1 "
    )
    assert request_fingerprint("POST", "/v1/x", b"") != request_fingerprint("POST", "/v1/x", b"{}")


def test_a_repeated_key_is_new_replayed_refused_or_still_in_progress():
    fingerprint = request_fingerprint("POST", "/v1/orders", b"{}")
    assert classify_repeat(None, fingerprint) is Repeat.NEW
    assert classify_repeat(StoredRequest(fingerprint, completed=True), fingerprint) is Repeat.REPLAY
    assert (
        classify_repeat(StoredRequest(fingerprint, completed=False), fingerprint)
        is Repeat.IN_PROGRESS
    )
    assert classify_repeat(StoredRequest("other", completed=True), fingerprint) is Repeat.MISMATCH
    assert classify_repeat(StoredRequest("other", completed=False), fingerprint) is Repeat.MISMATCH


def test_tokens_are_new_each_time_and_stored_only_as_hashes():
    first, second = new_token(), new_token()
    assert first.startswith(TOKEN_PREFIX)
    assert first != second
    assert len(first) > 40
    assert hash_token(first) == hash_token(first)
    assert hash_token(first) != hash_token(second)
    assert first not in hash_token(first)
