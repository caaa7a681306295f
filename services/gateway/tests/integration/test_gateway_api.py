"""The gateway on SQLite and PostgreSQL: its real routes (principals, /v1/me and the proxy)
over httpx's ASGI transport, with a stand-in orders service behind it. Covers the first
operator, authentication, and the Idempotency-Key promises."""

import asyncio
import json

import httpx
import pytest
from sqlalchemy import func, select

from gateway.api import Gateway
from gateway.api import identity as gateway_identity
from gateway.db import idempotent_requests, principals
from gateway.settings import GatewaySettings

from gateway_test_helpers import OPERATOR_TOKEN, bearer

NEW_AGENT = {"role": "agent", "name": "Ada Agent", "email": "ada@example.com"}
ORDER = {"listing_id": "lst_1", "quantity": 1, "payment_method": "pm_card_visa"}


async def count(engine, table):
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(table))


def key(value):
    return {"Idempotency-Key": value}


# --- the first operator and authentication -------------------------------------------------


async def test_the_configured_operator_token_signs_in_as_the_operator(client, operator):
    answer = await client.get("/v1/me", headers=operator)
    assert answer.status_code == 200
    assert answer.json()["role"] == "operator"
    assert answer.json()["id"].startswith("usr_")


async def test_a_restart_with_the_same_operator_token_makes_no_second_operator(
    gateway, client, operator, engine
):
    first = (await client.get("/v1/me", headers=operator)).json()["id"]
    await gateway.bootstrap_operator()
    await gateway.bootstrap_operator()
    assert await count(engine, principals) == 1
    assert (await client.get("/v1/me", headers=operator)).json()["id"] == first


async def test_tokens_are_not_stored_in_the_clear(engine, client, buyer):
    async with engine.connect() as connection:
        rows = (await connection.execute(select(principals))).all()
    stored = json.dumps([[str(value) for value in row] for row in rows])
    assert OPERATOR_TOKEN not in stored
    assert buyer["Authorization"].removeprefix("Bearer ") not in stored


class RecordingLog:
    def __init__(self):
        self.warnings = []

    def warning(self, message, **fields):
        self.warnings.append((message, fields))


async def test_without_a_configured_token_one_is_made_logged_and_works(
    db, clock, client, monkeypatch
):
    log = RecordingLog()
    monkeypatch.setattr(gateway_identity, "log", log)
    unconfigured = Gateway(GatewaySettings(operator_token=""), db, clock)
    try:
        await unconfigured.bootstrap_operator()
    finally:
        await unconfigured.close()
    tokens = [fields["operator_token"] for _, fields in log.warnings if "operator_token" in fields]
    assert len(tokens) == 1
    answer = await client.get("/v1/me", headers=bearer(tokens[0]))
    assert answer.status_code == 200
    assert answer.json()["role"] == "operator"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Basic {OPERATOR_TOKEN}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer mkt_not-a-token"},
    ],
)
async def test_a_missing_or_invalid_token_is_401_problem_details(client, upstream, headers):
    for answer in (
        await client.get("/v1/me", headers=headers),
        await client.get("/v1/orders/ord_1", headers=headers),
    ):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/unauthenticated"
    assert upstream.calls == []  # nothing reached the service


async def test_the_bearer_scheme_is_case_insensitive(client):
    answer = await client.get("/v1/me", headers={"Authorization": f"bearer {OPERATOR_TOKEN}"})
    assert answer.status_code == 200


async def test_only_operators_create_principals(client, buyer, engine):
    answer = await client.post("/v1/principals", json=NEW_AGENT, headers=buyer)
    assert answer.status_code == 403
    assert answer.json()["type"] == "/problems/forbidden"
    assert await count(engine, principals) == 2  # the operator and the buyer


async def test_an_invalid_new_principal_is_a_422_problem(client, operator, engine):
    answer = await client.post(
        "/v1/principals", json={"role": "king", "name": "X", "email": "x"}, headers=operator
    )
    assert answer.status_code == 422
    assert await count(engine, principals) == 1


# --- Idempotency-Key ------------------------------------------------------------------------


async def test_a_repeated_key_with_the_same_body_answers_the_first_response_again(
    client, operator, engine
):
    first = await client.post(
        "/v1/principals",
        content=b'{"role":"agent","name":"Ada Agent","email":"ada@example.com"}',
        headers=operator | key("k-1") | {"Content-Type": "application/json"},
    )
    # the same request, its JSON written differently
    again = await client.post(
        "/v1/principals",
        content=b'{ "email": "ada@example.com",  "name": "Ada Agent", "role": "agent" }',
        headers=operator | key("k-1") | {"Content-Type": "application/json"},
    )
    assert first.status_code == again.status_code == 201
    # the same principal; its token is shown only in the first answer
    assert again.json() == first.json() | {"token": None}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await count(engine, principals) == 2
    agent = await client.get("/v1/me", headers=bearer(first.json()["token"]))
    assert agent.json()["role"] == "agent"


async def test_a_repeated_key_with_another_body_is_refused_and_does_nothing(
    client, operator, engine
):
    first = await client.post("/v1/principals", json=NEW_AGENT, headers=operator | key("k-2"))
    assert first.status_code == 201
    other = NEW_AGENT | {"email": "someone.else@example.com"}
    answer = await client.post("/v1/principals", json=other, headers=operator | key("k-2"))
    assert answer.status_code == 422
    assert answer.json()["type"] == "/problems/idempotency-key-reused"
    assert await count(engine, principals) == 2


async def test_without_a_key_every_post_is_a_new_request(client, operator, engine):
    for _ in range(2):
        answer = await client.post("/v1/principals", json=NEW_AGENT, headers=operator)
        assert answer.status_code == 201
    assert await count(engine, principals) == 3
    assert await count(engine, idempotent_requests) == 0


async def test_keys_belong_to_the_principal_that_sent_them(client, operator, engine):
    second_operator = await client.post(
        "/v1/principals",
        json={"role": "operator", "name": "Otto", "email": "otto@example.com"},
        headers=operator,
    )
    otto = bearer(second_operator.json()["token"])
    mine = await client.post("/v1/principals", json=NEW_AGENT, headers=operator | key("same"))
    theirs = await client.post("/v1/principals", json=NEW_AGENT, headers=otto | key("same"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers
    assert await count(engine, principals) == 4


async def test_a_key_longer_than_255_characters_is_refused(client, operator, engine):
    answer = await client.post("/v1/principals", json=NEW_AGENT, headers=operator | key("k" * 256))
    assert answer.status_code == 422
    assert answer.json()["type"] == "/problems/validation-error"
    assert await count(engine, principals) == 1


async def test_a_forwarded_order_is_placed_once_per_key(client, buyer, upstream):
    first = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-1"))
    again = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-1"))

    assert len(upstream.calls) == 1
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"id": "ord_1", "status": "placed"}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["content-type"].startswith("application/json")

    # the service learns who is asking from the gateway, with the internal token
    me = (await client.get("/v1/me", headers=buyer)).json()
    forwarded = upstream.calls[0]["headers"]
    assert (forwarded["x-principal-id"], forwarded["x-principal-role"]) == (me["id"], "buyer")
    assert forwarded["x-internal-token"] == "internal-secret"
    assert forwarded["idempotency-key"] == "order-1"
    assert json.loads(upstream.calls[0]["body"]) == ORDER


async def test_a_replayed_creation_still_says_where_the_order_is(client, buyer, upstream):
    first = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-loc"))
    again = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-loc"))
    assert first.headers["location"] == "/v1/orders/ord_1"
    assert again.headers.get("location") == first.headers["location"]


async def test_reads_are_never_remembered(client, buyer, upstream, engine):
    for _ in range(2):
        answer = await client.get("/v1/orders/ord_1", headers=buyer | key("read-1"))
        assert answer.status_code == 201  # what the stand-in answers
    assert len(upstream.calls) == 2
    assert await count(engine, idempotent_requests) == 0


async def test_a_server_error_frees_the_key_so_the_retry_is_carried_out(client, buyer, upstream):
    upstream.outages = 1
    failed = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-2"))
    assert failed.status_code == 503

    retried = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-2"))
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert len(upstream.calls) == 2


async def test_an_unreachable_service_is_503_and_frees_the_key(client, buyer, engine):
    path = "/v1/orders/ord_1/payment"  # payments: nothing listens
    answer = await client.post(path, json={}, headers=buyer | key("pay-1"))
    assert answer.status_code == 503
    assert answer.json()["type"] == "/problems/service-unavailable"
    assert "payments" in answer.json()["detail"]
    assert await count(engine, idempotent_requests) == 0


async def test_a_repeat_while_the_first_is_still_running_is_409(client, buyer, upstream):
    upstream.hold = asyncio.Event()
    first = asyncio.create_task(
        client.post("/v1/orders", json=ORDER, headers=buyer | key("order-3"))
    )
    await asyncio.wait_for(upstream.entered.wait(), timeout=10)

    meanwhile = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-3"))
    assert meanwhile.status_code == 409
    assert meanwhile.json()["type"] == "/problems/idempotency-key-in-progress"

    upstream.hold.set()
    assert (await first).status_code == 201
    later = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-3"))
    assert later.status_code == 201
    assert later.headers["Idempotent-Replayed"] == "true"
    assert len(upstream.calls) == 1


async def test_a_refusal_by_the_service_is_replayed_not_retried(client, buyer, upstream):
    upstream.status = 409
    first = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-4"))
    upstream.status = 201
    again = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-4"))
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(upstream.calls) == 1


async def test_an_unknown_path_is_404_problem_details(client, buyer):
    answer = await client.get("/v1/nowhere", headers=buyer)
    assert answer.status_code == 404
    assert answer.json()["type"] == "/problems/not-found"


async def test_a_request_left_without_answer_keeps_its_answer_so_a_retry_cannot_apply_it_twice(
    client, gateway, buyer, upstream
):
    forward = gateway.upstreams.clients["orders"].request

    async def lost_answer(*args, **kwargs):
        raise httpx.ReadTimeout("no answer")

    gateway.upstreams.clients["orders"].request = lost_answer
    answer = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-lost"))
    assert answer.status_code == 504
    assert answer.json()["type"] == "/problems/outcome-unknown"

    gateway.upstreams.clients["orders"].request = forward  # the service is back
    retried = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-lost"))
    assert retried.status_code == 504  # "look it up", not "in progress, retry shortly"
    assert retried.json() == answer.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert upstream.calls == []
    anew = await client.post("/v1/orders", json=ORDER, headers=buyer | key("order-anew"))
    assert anew.status_code == 201


async def test_paths_with_dot_segments_are_refused_not_resolved(client, buyer, upstream):
    for path in ("/v1/orders/%2E%2E/%2E%2E/internal/clock", "/v1/orders/%2E/ord_1"):
        answer = await client.get(path, headers=buyer)
        assert answer.status_code == 404, path
    assert upstream.calls == []


async def test_a_repeated_principal_creation_does_not_show_the_token_again(client, operator):
    body = {"role": "seller", "name": "Sam", "email": "sam@example.com"}
    first = await client.post("/v1/principals", json=body, headers=operator | key("p-1"))
    again = await client.post("/v1/principals", json=body, headers=operator | key("p-1"))
    assert first.json()["token"]
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["token"] is None
