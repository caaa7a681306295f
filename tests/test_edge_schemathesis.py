"""Schemathesis against the live gateway: requests generated from the gateway's served
`/openapi.json`, valid and invalid. None may be a server error, and every error must be
RFC 9457 problem details that match the document.

Two passes, both deterministic so that a run sends the same requests each time and takes
the same time:
- fuzzing, derandomized, three examples per operation as each role; path parameters are
  half the time the ids of real things (an order, its listing, ticket, seller, notification)
  so that requests reach the services' handlers and not only their 404s;
- schemathesis' coverage phase (each parameter and field at and past its limits), then the
  first valid request with each of its strings made hostile, each operation as a role that
  may use it on the real resources.
"""

import itertools
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from e2e_helpers import Api, authorized_order, eventually, ok, opened_ticket

ROLES = ("buyer", "seller", "agent", "operator", "carrier")
# Three (there were six, at twice the time): still every operation as every role, drawn from
# valid and invalid requests alike; the boundary pass below sends each field's limits.
EXAMPLES_PER_OPERATION = 3
# Not generated for the operator, and why.
NOT_GENERATED = {
    # It would move the shared platform clock by up to 400 days under every other test's orders.
    ("operator", "POST /v1/ops/clock/advance"),
    # No input but a letter id that is only compared; each call reads every dead-letter topic
    # from the broker (seconds). tests/test_operations_end_to_end.py drives both.
    ("operator", "GET /v1/ops/dead-letters"),
    ("operator", "POST /v1/ops/dead-letters/{letter_id}/replay"),
    # Revoking the caller's own token would leave every later operation unauthenticated, and
    # the operator's is the whole session's; tests/security/test_security_gateway.py revokes
    # a token of its own.
    *((role, "DELETE /v1/me/token") for role in ROLES),
}


@schemathesis.check
def problem_details(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """An error is RFC 9457 problem details with the answer's own status."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type == "application/problem+json", f"error as {content_type!r}"
    problem = response.json()
    assert isinstance(problem, dict), problem
    missing = {"type", "title", "status", "detail"} - set(problem)
    assert not missing, f"problem without {sorted(missing)}: {problem}"
    assert problem["status"] == response.status_code, problem


CHECKS = [
    not_a_server_error,
    problem_details,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def tokens(operator: Api, gateway_url: str) -> dict[str, Api]:
    people = {"operator": operator}
    for role in ROLES:
        if role == "operator":
            continue
        answer = ok(
            operator.post(
                "/v1/principals",
                {
                    "role": role,
                    "name": f"Fuzzed {role}",
                    "email": f"{uuid.uuid4().hex}@example.com",
                }
                | ({"carrier": "DHL"} if role == "carrier" else {}),
            )
        )
        people[role] = Api(gateway_url, answer["token"], answer)
    return people


@pytest.fixture(scope="module")
def real_ids(tokens: dict[str, Api]) -> dict[str, str]:
    """Ids of real things the generated requests may name: path parameter -> id."""
    seller, buyer = tokens["seller"], tokens["buyer"]
    order = authorized_order(seller, buyer, quantity_available=50)
    ticket = opened_ticket(buyer, order["id"], "Where is it?", "Hello")
    notifications = eventually(lambda: ok(buyer.get("/v1/me/notifications"))["items"])
    return {
        "order_id": order["id"],
        "listing_id": order["listing_id"],
        "seller_id": seller.id,
        "ticket_id": ticket["id"],
        "notification_id": notifications[0]["id"],
    }


# Strings put in place of each string of a valid request, one at a time: a NUL character
# (PostgreSQL's text cannot hold one; it was a 500 in every service), dot segments that would
# reach a service's internal endpoints, and right-to-left and emoji text made to look like SQL.
HOSTILE_STRINGS = ("nul\x00byte", "../../internal/clock", "\u202e\U0001f642 ' OR '1'='1")

# The role each operation's boundary values are sent as: one that may use it on the real
# resources, so the values reach its handler (any operation not named: the buyer).
ACTING_ROLE = {
    **dict.fromkeys(
        (
            "POST /v1/orders/{order_id}/accept",
            "POST /v1/orders/{order_id}/decline",
            "POST /v1/orders/{order_id}/ship",
            "POST /v1/orders/{order_id}/confirm-return",
            "POST /v1/listings",
            "PATCH /v1/listings/{listing_id}",
            "PUT /v1/sellers/me/vacation",
            "GET /v1/sellers/{seller_id}/standards",
        ),
        "seller",
    ),
    "POST /v1/carrier-events": "carrier",
    "POST /v1/tickets/{ticket_id}/resolve": "agent",
    "POST /v1/reviews/{review_id}/flag-misuse": "agent",
    **dict.fromkeys(
        (
            "POST /v1/principals",
            "GET /v1/ledger/orders/{order_id}",
            "POST /v1/sellers/{seller_id}/exemptions",
            "PUT /v1/sellers/{seller_id}/standing",
            "GET /v1/ops/clock",
            "POST /v1/ops/clock/advance",
            "GET /v1/ops/consumers",
            "GET /v1/ops/dead-letters",
            "POST /v1/ops/dead-letters/{letter_id}/replay",
        ),
        "operator",
    ),
}


@pytest.fixture(scope="module")
def schema(gateway_url: str) -> Any:
    return schemathesis.openapi.from_url(
        f"{gateway_url}/openapi.json", config=schemathesis.Config()
    )


def real_path_parameters(operation: Any, real_ids: dict[str, str]) -> dict[str, str]:
    names = {parameter.name for parameter in operation.path_parameters}
    return {name: real_ids[name] for name in names if name in real_ids}


def strategy(operation: Any, real_ids: dict[str, str]) -> st.SearchStrategy[Any]:
    fixed = real_path_parameters(operation, real_ids)
    strategies = [
        operation.as_strategy(mode, path_parameters=path_parameters)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for path_parameters in ([None, fixed] if fixed else [None])
    ]
    return st.one_of(strategies)


def run_operation(cases: st.SearchStrategy[Any], send: Callable[[Any], None]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=cases)
    def generated(case: Any) -> None:
        send(case)

    generated()


def sender(api: Api, gateway_url: str) -> Callable[[Any], None]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {api.token}"}

    def send(case: Any) -> None:
        sent = dict(headers)
        key = (case.headers or {}).get("Idempotency-Key")
        if isinstance(key, str) and len(key) >= 8:
            # Generated keys repeat from case to case, and a key repeated with another body is
            # rightly refused (422) before the service sees it: each case gets a key of its own,
            # as long as the one generated.
            sent["Idempotency-Key"] = (uuid.uuid4().hex * 8)[: len(key)]
        case.call_and_validate(
            base_url=gateway_url, session=session, headers=sent, checks=CHECKS, timeout=30
        )

    return send


def operations_of(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    return operations


@pytest.mark.parametrize("role", ROLES)
def test_no_generated_request_is_a_server_error_and_every_error_is_a_problem(
    role, schema, tokens, real_ids, gateway_url
):
    send = sender(tokens[role], gateway_url)
    failures = []
    for operation in operations_of(schema):
        if (role, operation.label) in NOT_GENERATED:
            continue
        try:
            run_operation(strategy(operation, real_ids), send)
        except (Exception, schemathesis.errors.FailureGroup) as error:
            failures.append(f"--- {role} {operation.label}\n{error}")
    assert not failures, "\n\n".join(failures)


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from string_paths(item, (*path, key))


def replaced(value: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def hostile_variants(case: Any) -> Iterator[Any]:
    """The case again with each string of its path, query and body in turn replaced by each
    hostile string (the case is changed in place, and restored after each)."""
    for part in ("path_parameters", "query", "body"):
        original = getattr(case, part)
        if not isinstance(original, dict | list):
            continue
        for path in list(string_paths(original)):
            for hostile in HOSTILE_STRINGS:
                setattr(case, part, replaced(original, path, hostile))
                yield case
        setattr(case, part, original)


def test_boundary_and_hostile_values_reach_the_handlers_without_a_server_error(
    schema, tokens, real_ids, gateway_url
):
    """Schemathesis' coverage phase (for each parameter and body field the values at and past
    its limits: empty, too long, wrong type, missing, ...), then the first valid request with
    each of its strings made hostile; all deterministic, each sent as a role that may use the
    operation on the real resources."""
    senders = {role: sender(api, gateway_url) for role, api in tokens.items()}
    failures = []
    for operation in operations_of(schema):
        role = ACTING_ROLE.get(operation.label, "buyer")
        if (role, operation.label) in NOT_GENERATED:
            continue
        coverage = list(
            CoverageGenerator(
                operation=operation,
                generation_modes=list(GenerationMode),
                generation_config=schema.config.generation_for(
                    operation=operation, phase="coverage"
                ),
                auth_storage=None,
                override=Override(path_parameters=real_path_parameters(operation, real_ids)),
                feedback=FeedbackSources(),
            )
        )
        valid = [case for case in coverage if case.meta.generation.mode.is_positive][:1]
        for case in itertools.chain(coverage, *map(hostile_variants, valid)):
            try:
                senders[role](case)
            except (Exception, schemathesis.errors.FailureGroup) as error:
                failures.append(f"--- {role} {operation.label}\n{error}")
                break  # the first is enough to go on; the rest may be the same fault
    assert not failures, "\n\n".join(failures)
