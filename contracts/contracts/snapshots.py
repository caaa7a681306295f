"""JSON Schema snapshots of every event type, and the rule that keeps changes additive.

`python -m contracts.snapshots` writes a snapshot for each event type that has none yet.
An existing snapshot is never rewritten: a change that is not additive needs a new `.vN` type.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts.envelope import Event
from contracts.events import event_type_registry

SNAPSHOT_DIR = Path(__file__).parent / "schemas"


def current_schema(event_type: type[Event]) -> dict[str, Any]:
    return event_type.model_json_schema(mode="serialization")


def snapshot_path(type_name: str) -> Path:
    return SNAPSHOT_DIR / f"{type_name}.json"


def breaking_changes(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """What in `new` would break a consumer or producer written against `old`.

    Additive means: every old property is still there with the same type, and no property
    became required that was not (old producers would not send it).
    """
    problems: list[str] = []
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    problems += _compare_object(old, new, where or "$", old_defs, new_defs)
    return problems


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return defs[ref.rsplit("/", 1)[-1]]
    return schema


def _type_signature(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    schema = _resolve(schema, defs)
    if "anyOf" in schema:
        return sorted(json.dumps(_type_signature(s, defs), sort_keys=True) for s in schema["anyOf"])
    if schema.get("type") == "object" and "properties" in schema:
        return "object"
    return {k: schema[k] for k in ("type", "enum", "const", "format", "pattern") if k in schema}


def _compare_object(
    old: dict[str, Any],
    new: dict[str, Any],
    where: str,
    old_defs: dict[str, Any],
    new_defs: dict[str, Any],
) -> list[str]:
    old, new = _resolve(old, old_defs), _resolve(new, new_defs)
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        path = f"{where}.{name}"
        if name not in new_props:
            problems.append(f"{path} was removed")
            continue
        new_prop = new_props[name]
        old_sig, new_sig = _type_signature(old_prop, old_defs), _type_signature(new_prop, new_defs)
        if old_sig != new_sig:
            problems.append(f"{path} changed type from {old_sig} to {new_sig}")
        elif old_sig == "object":
            problems += _compare_object(old_prop, new_prop, path, old_defs, new_defs)
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems += [f"{where}.{name} became required" for name in sorted(newly_required)]
    return problems


def write_missing() -> list[Path]:
    written = []
    for type_name, event_type in sorted(event_type_registry().items()):
        path = snapshot_path(type_name)
        if not path.exists():
            path.write_text(json.dumps(current_schema(event_type), indent=2, sort_keys=True) + "\n")
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write_missing():
        print(f"wrote {path}", file=sys.stderr)
