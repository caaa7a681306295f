"""The gateway's committed OpenAPI document is the public API a client can call: every route the
gateway forwards, with the methods its service serves, nothing it would refuse, and valid
OpenAPI 3.1 that a client generator or schemathesis can load."""

import json

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from devstack import openapi
from devstack.deployment import REPO_ROOT
from gateway.api import PROXIED_METHODS
from gateway.domain import ROUTES, has_dot_segments, route_for
from servicekit.hosting.http import PROBLEM_JSON

FASTAPI = openapi.fastapi_documents()  # each app's own document, as FastAPI describes it
API = openapi.build(FASTAPI)
RENDERED = openapi.as_text(API.document)
COMMITTED = json.loads((REPO_ROOT / openapi.OUTPUT).read_text())
OWN = {p: item for p, item in FASTAPI["gateway"]["paths"].items() if p.startswith("/v1/")}


def described():
    return [(path, method, op) for path, method, op in openapi.operations(COMMITTED["paths"])]


def test_the_committed_document_matches_the_code():
    stale = (REPO_ROOT / openapi.OUTPUT).read_text() != RENDERED
    assert not stale, f"{openapi.OUTPUT} is stale: run `uv run python -m devstack.openapi`"
    assert openapi.render() == RENDERED  # the same code gives the same text


def test_it_is_valid_openapi_3_1():
    assert COMMITTED["openapi"] == "3.1.0"
    validate(COMMITTED, cls=OpenAPIV31SpecValidator)


def test_every_reference_resolves():
    for ref in openapi.refs(COMMITTED):
        assert ref.startswith("#/"), ref
        assert openapi.resolve(COMMITTED, ref) is not None, ref


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.pattern.pattern)
def test_every_route_in_the_table_is_described_with_the_methods_its_service_serves(route):
    served = {
        (path, method)
        for path, method, _ in openapi.operations(FASTAPI[route.service]["paths"])
        if route_for(openapi.sample_path(path)) is route
    }
    listed = {
        (path, method)
        for path, method, operation in described()
        if route_for(openapi.sample_path(path)) is route
    }
    assert served, f"{route.service} serves nothing the route {route.pattern.pattern} forwards"
    assert listed == served
    assert all(
        COMMITTED["paths"][path][method]["tags"] == [route.service] for path, method in listed
    )


def gateway_serves(path, method):
    return any(
        method in item and openapi.template_pattern(own).match(openapi.sample_path(path))
        for own, item in OWN.items()
    )


def test_nothing_the_gateway_would_refuse_to_forward_is_described():
    for path, method, operation in described():
        assert not openapi.is_internal(path), path
        if operation["tags"] == ["gateway"]:
            assert gateway_serves(path, method), f"{method} {path}"
            continue
        concrete = openapi.sample_path(path)
        route = route_for(concrete)
        assert method.upper() in PROXIED_METHODS, f"{method} {path}"
        assert not has_dot_segments(concrete), path
        assert route is not None, f"the gateway answers 404 to {method} {path}"
        assert operation["tags"] == [route.service], f"{method} {path} goes to {route.service}"
        assert not gateway_serves(path, method), f"the gateway itself answers {method} {path}"
    assert "/v1/{path}" not in COMMITTED["paths"]  # the proxy is not an operation


def test_the_gateways_own_routes_are_described():
    for path, item in OWN.items():
        for method in item:
            assert COMMITTED["paths"][path][method]["tags"] == ["gateway"]


def test_every_operation_a_service_serves_publicly_is_reachable_through_the_gateway():
    assert API.unreachable == []


def test_operations_need_the_bearer_token_except_the_signed_webhook():
    scheme = COMMITTED["components"]["securitySchemes"][openapi.BEARER]
    assert scheme == scheme | {"type": "http", "scheme": "bearer"}
    for path, method, operation in described():
        route = route_for(openapi.sample_path(path))
        if route is not None and route.public and operation["tags"] != ["gateway"]:
            assert operation["security"] == [], path
            assert "401" not in operation["responses"]
        else:
            assert operation["security"] == [{openapi.BEARER: []}], f"{method} {path}"
            assert "401" in operation["responses"]
    assert COMMITTED["paths"]["/v1/webhooks/stripe"]["post"]["security"] == []


def test_errors_are_problem_details():
    for path, method, operation in described():
        for status, response in operation["responses"].items():
            if status[0] in "45" or status == "default":
                assert list(response["content"]) == [PROBLEM_JSON], f"{method} {path} {status}"
    problem = COMMITTED["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert "HTTPValidationError" not in COMMITTED["components"]["schemas"]


def test_only_headers_the_gateway_passes_on_are_parameters():
    for path, method, operation in described():
        headers = {
            p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"
        }
        assert headers <= {"idempotency-key", "stripe-signature"}, f"{method} {path}"


def test_posts_with_a_token_take_an_idempotency_key():
    for path, method, operation in described():
        names = {p["name"] for p in operation.get("parameters", [])}
        keeps_promise = (
            method == "post"
            and operation["security"]
            and (operation["tags"] != ["gateway"] or path == "/v1/principals")
        )
        assert ("Idempotency-Key" in names) == bool(keeps_promise), f"{method} {path}"


def test_a_client_finds_the_order_list_with_its_filters():
    listing = COMMITTED["paths"]["/v1/orders"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"role", "status", "limit", "cursor"}


def test_operation_ids_are_unique():
    ids = [operation["operationId"] for _, _, operation in described()]
    assert len(ids) == len(set(ids))


def test_schemas_of_one_name_and_different_content_are_each_prefixed():
    schemas = COMMITTED["components"]["schemas"]
    assert "Status" not in schemas
    assert schemas["OrdersStatus"] != schemas["SupportStatus"]
    assert "Money" in schemas  # the same in orders and support: kept once


def test_merging_prefixes_every_clash_and_what_refers_to_it():
    status = {"ref": {"$ref": "#/components/schemas/Status"}}
    merged, renames = openapi.merge_schemas(
        {
            "orders": {"Status": {"enum": ["placed"]}, "Money": {"type": "object"}, "X": status},
            "support": {"Status": {"enum": ["open"]}, "Money": {"type": "object"}, "X": status},
            "payments": {"Money": {"type": "object"}},
        }
    )
    assert set(merged) == {
        "Problem",
        "Money",
        "OrdersStatus",
        "SupportStatus",
        "OrdersX",
        "SupportX",
    }
    assert merged["OrdersX"] == {"ref": {"$ref": "#/components/schemas/OrdersStatus"}}
    assert renames["payments"] == {}


def test_a_service_schema_named_like_the_problem_schema_is_the_one_renamed():
    merged, _ = openapi.merge_schemas({"orders": {"Problem": {"type": "string"}}})
    assert merged["Problem"] == openapi.PROBLEM_SCHEMA
    assert merged["OrdersProblem"] == {"type": "string"}


def test_check_fails_on_a_stale_document(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(openapi, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(openapi, "public_api", lambda: API)
    target = tmp_path / openapi.OUTPUT
    target.parent.mkdir(parents=True)
    target.write_text("{}\n")
    assert openapi.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert openapi.main([]) == 0
    assert openapi.main(["--check"]) == 0
