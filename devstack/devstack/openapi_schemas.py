"""The schemas of the public document, merged from every service's.

Schemas keep their FastAPI names. Where two services define a schema of the same name with
different content, every one of them is renamed with its service as prefix (`OrdersStatus`,
`SupportStatus`): no service wins by the order they are read in, and a renamed schema is
visible in review. Identical schemas are kept once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

SCHEMAS = "#/components/schemas/"

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


def rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                SCHEMAS + renames.get(value.removeprefix(SCHEMAS), value.removeprefix(SCHEMAS))
                if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMAS)
                else rename_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [rename_refs(value, renames) for value in node]
    return node


def reachable_schemas(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
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
                text = json.dumps(rename_refs(schema, renames[source]), sort_keys=True)
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
            merged[renames[source].get(name, name)] = rename_refs(schema, renames[source])
    return merged, renames


def _prefix(source: str) -> str:
    return "".join(part.capitalize() for part in source.split("_"))
