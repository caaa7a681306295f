"""The public HTTP API as one OpenAPI 3.1 document, generated from the code:

    python -m devstack.openapi            writes services/gateway/gateway/openapi.json
    python -m devstack.openapi --check    exits 1 if the committed document is out of date

The gateway serves most of the API by forwarding it, so FastAPI alone describes only the
gateway's own routes. This puts together what a client can call through the gateway: the
gateway's own `/v1/` operations, and every operation of a service's FastAPI app that the
gateway's route table forwards to that service (same method, same path; first match wins, as
in the gateway). Operational and internal endpoints (`/internal/*`, `/health`, `/ready`,
`/metrics`) are left out.

The operations are rewritten as a client sees them at the gateway (`openapi_operations`) and
their schemas merged into one namespace (`openapi_schemas`); `openapi_routes` says which
operations the gateway forwards.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import tomllib
from dataclasses import dataclass
from typing import Any

from fastapi.openapi.utils import get_openapi

from devstack.deployment import DEPLOYABLES, REPO_ROOT, Deployable
from devstack.openapi_operations import BEARER, public_operation
from devstack.openapi_routes import (
    forwarded_to,
    is_internal,
    operations,
    sample_path,
    template_pattern,
)
from devstack.openapi_schemas import (
    PROBLEM_SCHEMA,
    merge_schemas,
    reachable_schemas,
    refs,
    rename_refs,
    resolve,
)
from gateway.api import router
from gateway.app import PUBLIC_OPENAPI, TITLE
from gateway.domain import route_for

# Also what the tests use of the modules this one puts together.
__all__ = [
    "BEARER",
    "OUTPUT",
    "PROBLEM_SCHEMA",
    "PublicApi",
    "as_text",
    "build",
    "fastapi_documents",
    "is_internal",
    "main",
    "merge_schemas",
    "operations",
    "public_api",
    "refs",
    "render",
    "resolve",
    "sample_path",
    "template_pattern",
]

GATEWAY = next(d for d in DEPLOYABLES if d.package == "gateway")
SERVICES = tuple(d for d in DEPLOYABLES if d is not GATEWAY)  # what the gateway forwards to
OUTPUT = f"{GATEWAY.folder}/gateway/{PUBLIC_OPENAPI}"
# Building an app opens nothing: no database file is made, no broker is reached.
NO_DATABASE = "sqlite+aiosqlite:///:memory:"


@dataclass(frozen=True)
class PublicApi:
    document: dict[str, Any]
    unreachable: list[str]  # service operations no client can reach through the gateway


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
        used[source] = reachable_schemas(source_paths, schemas)
        for path, item in source_paths.items():
            paths.setdefault(path, {}).update(item)
    schemas, renames = merge_schemas(used)
    for source, renamed in renames.items():
        if not renamed:
            continue
        for path, method, operation in list(operations(paths)):
            if operation["tags"] == [source]:
                paths[path][method] = rename_refs(operation, renamed)
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
