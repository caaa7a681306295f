"""Each operation is rewritten as a client sees it at the gateway: the identity headers the
gateway sets itself (`X-Principal-*`, `X-Internal-Token`) are gone, the bearer-token scheme is
declared (none on the public Stripe webhook), `Idempotency-Key` is declared on the POSTs the
gateway keeps that promise for, and errors are problem details (`application/problem+json`),
which is how every service and the gateway answer them."""

from __future__ import annotations

import copy
from typing import Any

from devstack.openapi_schemas import SCHEMAS
from gateway.api import FORWARDED_REQUEST_HEADERS, IDEMPOTENCY_KEY_PARAMETER
from servicekit.hosting.http import PROBLEM_JSON

BEARER = "bearerAuth"
# FastAPI's own description of a 422, replaced by the problem details actually sent.
FASTAPI_VALIDATION_ERROR = f"{SCHEMAS}HTTPValidationError"


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"{SCHEMAS}Problem"}}},
    }


UNAUTHENTICATED = _problem("Missing or invalid bearer token")
ANY_ERROR = _problem("Any other error (403, 404, 409, 503, ...), as problem details")


def public_operation(
    operation: dict[str, Any], *, tag: str, authenticated: bool, idempotent: bool
) -> dict[str, Any]:
    """The operation as a client calls it at the gateway."""
    operation = copy.deepcopy(operation)
    parameters = [
        parameter
        for parameter in operation.get("parameters", [])
        # The gateway passes on only these headers; it sets the identity headers itself.
        if parameter["in"] != "header" or parameter["name"].lower() in FORWARDED_REQUEST_HEADERS
    ]
    names = {(p["in"], p["name"].lower()) for p in parameters}
    if idempotent and ("header", "idempotency-key") not in names:
        parameters.append(copy.deepcopy(IDEMPOTENCY_KEY_PARAMETER))
    if parameters:
        operation["parameters"] = parameters
    else:
        operation.pop("parameters", None)
    responses: dict[str, Any] = {}
    for status, response in operation.get("responses", {}).items():
        if status[0] in "45" or status == "default":
            response = _as_problem(response)
        responses[status] = response
    if authenticated:
        responses.setdefault("401", UNAUTHENTICATED)
    responses.setdefault("default", ANY_ERROR)
    operation["responses"] = responses
    operation["security"] = [{BEARER: []}] if authenticated else []
    operation["tags"] = [tag]
    return operation


def _as_problem(response: dict[str, Any]) -> dict[str, Any]:
    """An error response as problem details: FastAPI's validation error becomes the problem
    actually sent, another declared body keeps its schema under the problem media type."""
    content = response.get("content")
    if not content:
        return response
    if PROBLEM_JSON in content:
        return response
    schema = next(iter(content.values())).get("schema", {})
    if schema.get("$ref") == FASTAPI_VALIDATION_ERROR:
        schema = {"$ref": f"{SCHEMAS}Problem"}
    return response | {"content": {PROBLEM_JSON: {"schema": schema}}}
