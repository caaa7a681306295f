"""The public HTTP API as one OpenAPI 3.1 document, generated from the code:

    python -m devstack.openapi            writes services/gateway/gateway/openapi.json
    python -m devstack.openapi --check    exits 1 if the committed document is out of date

The gateway serves most of the API by forwarding it, so FastAPI alone describes only the
gateway's own routes. This puts together what a client can call through the gateway: the
gateway's own `/v1/` operations, and every operation of a service's FastAPI app that the
gateway's route table forwards to that service (same method, same path; first match wins, as
in the gateway). Operational and internal endpoints (`/internal/*`, `/health`, `/ready`,
`/metrics`) are left out.

Each operation is rewritten as a client sees it at the gateway: the identity headers the
gateway sets itself (`X-Principal-*`, `X-Internal-Token`) are gone, the bearer-token scheme is
declared (none on the public Stripe webhook), `Idempotency-Key` is declared on the POSTs the
gateway keeps that promise for, and errors are problem details (`application/problem+json`),
which is how every service and the gateway answer them.

Schemas keep their FastAPI names. Where two services define a schema of the same name with
different content, every one of them is renamed with its service as prefix (`OrdersStatus`,
`SupportStatus`): no service wins by the order they are read in, and a renamed schema is
visible in review. Identical schemas are kept once.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import importlib
import json
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.openapi.utils import get_openapi

from devstack.deployment import DEPLOYABLES, REPO_ROOT, Deployable
from gateway.api import (
    FORWARDED_REQUEST_HEADERS,
    IDEMPOTENCY_KEY_PARAMETER,
    PROXIED_METHODS,
    router,
)
from gateway.app import PUBLIC_OPENAPI, TITLE
from gateway.domain import has_dot_segments, route_for
from servicekit.http import PROBLEM_JSON

GATEWAY = next(d for d in DEPLOYABLES if d.package == "gateway")
SERVICES = tuple(d for d in DEPLOYABLES if d is not GATEWAY)  # what the gateway forwards to
OUTPUT = f"{GATEWAY.folder}/gateway/{PUBLIC_OPENAPI}"
# Building an app opens nothing: no database file is made, no broker is reached.
NO_DATABASE = "sqlite+aiosqlite:///:memory:"
INTERNAL_PREFIXES = ("/internal/", "/health", "/ready", "/metrics")
METHODS = tuple(m.lower() for m in ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"))
SCHEMAS = "#/components/schemas/"
BEARER = "bearerAuth"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `type` is `/problems/<slug>`; validation "
    "errors list each invalid field in `errors`; some problems add members (an order action "
    "refused in its current state adds `order_status` and `allowed_actions`).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
# Added by this generator, never renamed: a service's schema of the same name is.
COMMON_SCHEMAS = {"Problem": PROBLEM_SCHEMA}
# FastAPI's own description of a 422, replaced by the problem details actually sent.
FASTAPI_VALIDATION_ERROR = f"{SCHEMAS}HTTPValidationError"


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"{SCHEMAS}Problem"}}},
    }


UNAUTHENTICATED = _problem("Missing or invalid bearer token")
ANY_ERROR = _problem("Any other error (403, 404, 409, 503, ...), as problem details")


@dataclass(frozen=True)
class PublicApi:
    document: dict[str, Any]
    unreachable: list[str]  # service operations no client can reach through the gateway


def is_internal(path: str) -> bool:
    return path.startswith(INTERNAL_PREFIXES)


def sample_path(template: str) -> str:
    """A concrete path for an OpenAPI path template: the route table matches paths."""
    return re.sub(r"\{([^}/]+)\}", r"\1", template)


def template_pattern(template: str) -> re.Pattern[str]:
    """Which concrete paths an OpenAPI path template stands for (a parameter is one segment)."""
    return re.compile("^" + re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template)) + "$")


def forwarded_to(template: str, method: str, own: dict[str, Any]) -> str | None:
    """The service the gateway forwards `method template` to, None if it does not: the
    gateway's own routes (`own`, its paths object) come first, then its proxy, which takes
    only some methods and refuses paths the route table does not know."""
    path = sample_path(template)
    if any(
        method.lower() in operations and template_pattern(own_path).match(path)
        for own_path, operations in own.items()
    ):
        return None
    if method.upper() not in PROXIED_METHODS or has_dot_segments(path):
        return None
    route = route_for(path)
    return route.service if route else None


def operations(paths: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in paths.items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(document: dict[str, Any], ref: str) -> Any:
    """What a local `$ref` (`#/components/schemas/Money`) points at in `document`."""
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` in a document (OpenAPI or AsyncAPI), depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                SCHEMAS + renames.get(value.removeprefix(SCHEMAS), value.removeprefix(SCHEMAS))
                if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMAS)
                else _rename_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(value, renames) for value in node]
    return node


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


def _reachable_schemas(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schemas `paths` use, directly or through other schemas."""
    kept: dict[str, Any] = {}
    pending = [ref.removeprefix(SCHEMAS) for ref in refs(paths) if ref.startswith(SCHEMAS)]
    while pending:
        name = pending.pop()
        if name in kept or name not in schemas:
            continue
        kept[name] = schemas[name]
        pending += [r.removeprefix(SCHEMAS) for r in refs(schemas[name]) if r.startswith(SCHEMAS)]
    return kept


def merge_schemas(
    used: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Each source's schemas (source -> name -> schema) in one namespace, with the renames
    applied per source. A name with more than one content is prefixed in every source that
    has it; renaming can make schemas that refer to them differ in turn, so repeat until
    nothing changes."""
    renames: dict[str, dict[str, str]] = {source: {} for source in used}
    while True:
        contents: dict[str, set[str]] = {
            name: {json.dumps(schema, sort_keys=True)} for name, schema in COMMON_SCHEMAS.items()
        }
        for source, schemas in used.items():
            for name, schema in schemas.items():
                final = renames[source].get(name, name)
                text = json.dumps(_rename_refs(schema, renames[source]), sort_keys=True)
                contents.setdefault(final, set()).add(text)
        clashes = {name for name, texts in contents.items() if len(texts) > 1}
        if not clashes:
            break
        for source, schemas in used.items():
            for name in schemas:
                if renames[source].get(name, name) in clashes:
                    if name in renames[source]:
                        raise ValueError(f"{source}'s schema {name} clashes after renaming")
                    renames[source][name] = _prefix(source) + name
    merged: dict[str, Any] = dict(COMMON_SCHEMAS)
    for source, schemas in used.items():
        for name, schema in schemas.items():
            merged[renames[source].get(name, name)] = _rename_refs(schema, renames[source])
    return merged, renames


def _prefix(source: str) -> str:
    return "".join(part.capitalize() for part in source.split("_"))


def _description(service: Deployable) -> str:
    pyproject = tomllib.loads((REPO_ROOT / service.folder / "pyproject.toml").read_text())
    return str(pyproject["project"]["description"])


def build(sources: dict[str, dict[str, Any]]) -> PublicApi:
    """The public document from each app's FastAPI document (package -> document; the
    gateway's holds only its own routes)."""
    own = {
        path: item for path, item in sources["gateway"]["paths"].items() if not is_internal(path)
    }
    paths: dict[str, dict[str, Any]] = {}
    used: dict[str, dict[str, Any]] = {}
    unreachable: list[str] = []
    for source, document in sources.items():
        source_paths: dict[str, dict[str, Any]] = {}
        for path, method, operation in operations(document["paths"]):
            if is_internal(path):
                continue
            if source == "gateway":
                public = public_operation(
                    operation, tag=source, authenticated=True, idempotent=False
                )
            elif forwarded_to(path, method, own) == source:
                route = route_for(sample_path(path))
                authenticated = route is not None and not route.public
                public = public_operation(
                    operation,
                    tag=source,
                    authenticated=authenticated,
                    idempotent=authenticated and method == "post",
                )
            else:
                unreachable.append(f"{source}: {method.upper()} {path}")
                continue
            if method in paths.get(path, {}):
                raise ValueError(f"{method.upper()} {path} is described twice")
            source_paths.setdefault(path, {})[method] = public
        schemas = document.get("components", {}).get("schemas", {})
        used[source] = _reachable_schemas(source_paths, schemas)
        for path, item in source_paths.items():
            paths.setdefault(path, {}).update(item)
    schemas, renames = merge_schemas(used)
    for source, renamed in renames.items():
        if not renamed:
            continue
        for path, method, operation in list(operations(paths)):
            if operation["tags"] == [source]:
                paths[path][method] = _rename_refs(operation, renamed)
    seen: dict[str, str] = {}
    for path, method, operation in operations(paths):
        where = f"{method.upper()} {path}"
        other = seen.setdefault(operation.get("operationId", where), where)
        if other != where:
            raise ValueError(f"{where} and {other} share an operationId")
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": GATEWAY.version(),
            "description": "Everything a client can call through the gateway: its own routes "
            "and the ones it forwards to the service that owns them. Send "
            "`Authorization: Bearer <token>`; errors are problem details "
            "(`application/problem+json`). Generated by `python -m devstack.openapi`.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A principal's token, as `POST /v1/principals` answered it",
                }
            },
        },
        "tags": [{"name": GATEWAY.package, "description": _description(GATEWAY)}]
        + [{"name": s.package, "description": _description(s)} for s in SERVICES],
    }
    return PublicApi(document, unreachable)


def _gateway_document() -> dict[str, Any]:
    """Only the gateway's own routes, from its router: its `create_app` serves the committed
    document, which must not be needed to make a new one (after a merge conflict, say)."""
    return get_openapi(title=TITLE, version=GATEWAY.version(), routes=router.routes)


def fastapi_documents() -> dict[str, dict[str, Any]]:
    """Each app's FastAPI document (package -> document), the gateway's first."""

    async def collect() -> dict[str, dict[str, Any]]:  # apps make Kafka clients: need a loop
        documents = {"gateway": _gateway_document()}
        for service in SERVICES:
            settings = service.settings()(open_internal_api=True, database_url=NO_DATABASE)
            app = importlib.import_module(f"{service.package}.app").create_app(settings)
            documents[service.package] = app.openapi()
            await app.state.runtime.engine.dispose()
        return documents

    return asyncio.run(collect())


def public_api() -> PublicApi:
    return build(fastapi_documents())


def as_text(document: dict[str, Any]) -> str:
    """As committed: sorted keys, so the same code always gives the same text."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> str:
    return as_text(public_api().document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the document is stale")
    args = parser.parse_args(argv)
    api = public_api()
    for operation in api.unreachable:
        print(f"not reachable through the gateway: {operation}", file=sys.stderr)
    text = as_text(api.document)
    target = REPO_ROOT / OUTPUT
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date: run python -m devstack.openapi", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
