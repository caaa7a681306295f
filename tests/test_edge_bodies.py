"""Oversized and malformed bodies at the gateway, end to end: each is refused with a problem
that says what is wrong (413 too large, 415 not JSON, 422 malformed), and changes nothing."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from e2e_helpers import Api, authorized_order, ok

LIMIT = 1_048_576  # the gateway's default GATEWAY_MAX_BODY_BYTES
HUGE = json.dumps({"body": "x" * 5_000_000}).encode()


def chunked(body: bytes) -> Iterator[bytes]:
    """Sent with `Transfer-Encoding: chunked`: no Content-Length tells the size up front."""
    for start in range(0, len(body), 65_536):
        yield body[start : start + 65_536]


# name: (content, content type, status, what the problem says)
BAD_BODIES: dict[str, tuple[Any, str | None, int, str]] = {
    "5 MB": (HUGE, "application/json", 413, f"at most {LIMIT} bytes"),
    "5 MB chunked": (chunked(HUGE), "application/json", 413, f"at most {LIMIT} bytes"),
    "text/plain": (b'{"body": "hello"}', "text/plain", 415, "application/json"),
    "form": (b"body=hello", "application/x-www-form-urlencoded", 415, "application/json"),
    "no content type": (b'{"body": "hello"}', None, 415, "application/json"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "application/json", 422, "deep"),
    "objects nested 5,000 deep": (
        b'{"body":' * 5_000 + b'"x"' + b"}" * 5_000,
        "application/json",
        422,
        "deep",
    ),
    "invalid UTF-8": (b'{"body": "caf\xe9"}', "application/json", 422, "UTF-8"),
    "truncated": (b'{"body": "hel', "application/json", 422, "JSON decode error"),
    "NUL character": (b'{"body": "a\\u0000b"}', "application/json", 422, "NUL"),
    "unpaired surrogate": (b'{"body": "a\\ud800b"}', "application/json", 422, "surrogate"),
}


@pytest.fixture(scope="module")
def people(operator: Api, gateway_url: str) -> dict[str, Api]:
    made = {}
    for role in ("seller", "buyer"):
        answer = ok(
            operator.post(
                "/v1/principals",
                {
                    "role": role,
                    "name": role.title(),
                    "email": f"{uuid.uuid4().hex[:8]}@example.com",
                },
            )
        )
        made[role] = Api(gateway_url, answer["token"], answer)
    return made


@pytest.fixture(scope="module")
def order(people: dict[str, Api]) -> dict[str, Any]:
    return authorized_order(people["seller"], people["buyer"])


def send(api: Api, path: str, content: Any, content_type: str | None, **headers: str) -> Any:
    if content_type:
        headers["content-type"] = content_type
    return api.http.post(path, content=content, headers=headers)


def assert_problem(answer: Any, status: int, says: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= set(problem)
    assert says in json.dumps(problem, ensure_ascii=False), problem


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_a_bad_body_is_refused_with_a_clear_problem_and_changes_nothing(case, people, order):
    content, content_type, status, says = BAD_BODIES[case]
    buyer, seller = people["buyer"], people["seller"]
    path = f"/v1/orders/{order['id']}"
    messages = ok(buyer.get(f"{path}/messages"))["items"]
    listings = ok(seller.get("/v1/listings", params={"seller_id": seller.id}))["items"]
    key = uuid.uuid4().hex

    refused = send(buyer, f"{path}/messages", content, content_type, **{"idempotency-key": key})
    assert_problem(refused, status, says)
    if not isinstance(content, bytes):
        content = HUGE  # a generator is spent once sent
    assert_problem(send(buyer, f"{path}/cancel", content, content_type), status, says)
    assert_problem(send(seller, f"{path}/decline", content, content_type), status, says)
    assert_problem(send(seller, "/v1/listings", content, content_type), status, says)

    assert ok(buyer.get(path))["status"] == "awaiting_seller"
    assert ok(buyer.get(f"{path}/messages"))["items"] == messages
    assert ok(seller.get("/v1/listings", params={"seller_id": seller.id}))["items"] == listings
    # the refusal did not take the Idempotency-Key: with a good body the same key goes through
    sent = buyer.post(f"{path}/messages", {"body": "Hello"}, headers={"idempotency-key": key})
    assert sent.status_code == 201, sent.text


def test_a_body_within_the_limit_gets_through_to_the_service(people, order):
    near_limit = json.dumps({"body": "x" * (LIMIT - 100)}).encode()
    assert len(near_limit) <= LIMIT
    answer = send(
        people["buyer"], f"/v1/orders/{order['id']}/messages", near_limit, "application/json"
    )
    # the orders service itself says the message is too long
    assert_problem(answer, 422, "at most 4000 characters")


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/v1/orders/ord_%00", 404, "NUL"),
        ("/v1/tickets/%00/messages", 404, "NUL"),
        ("/v1/listings?seller_id=usr_%00", 422, "NUL"),
        ("/v1/orders?status=%00", 422, "NUL"),
    ],
)
def test_a_nul_character_in_a_path_or_query_is_a_problem_not_a_500(people, path, status, says):
    assert_problem(people["buyer"].get(path), status, says)
