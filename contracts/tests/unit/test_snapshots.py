import json

import pytest

from contracts.events import event_type_registry
from contracts.snapshots import (
    SNAPSHOT_DIR,
    breaking_changes,
    current_schema,
    snapshot_path,
)

EVENT_TYPES = sorted(event_type_registry().items())


@pytest.mark.parametrize(("type_name", "event_type"), EVENT_TYPES, ids=[t for t, _ in EVENT_TYPES])
def test_every_event_type_has_a_committed_snapshot_it_is_compatible_with(type_name, event_type):
    path = snapshot_path(type_name)
    assert path.exists(), f"no snapshot for {type_name}: run `python -m contracts.snapshots`"
    snapshot = json.loads(path.read_text())
    assert breaking_changes(snapshot, current_schema(event_type)) == []


def test_every_snapshot_belongs_to_a_known_event_type():
    known = {snapshot_path(t).name for t, _ in EVENT_TYPES}
    assert {p.name for p in SNAPSHOT_DIR.glob("*.json")} <= known


def _schema(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required)}


def test_an_optional_new_field_is_additive():
    old = _schema({"order_id": {"type": "string"}}, ["order_id"])
    new = _schema({"order_id": {"type": "string"}, "note": {"type": "string"}}, ["order_id"])
    assert breaking_changes(old, new) == []


def test_a_removed_field_is_breaking():
    old = _schema({"order_id": {"type": "string"}, "note": {"type": "string"}})
    new = _schema({"order_id": {"type": "string"}})
    assert breaking_changes(old, new) == ["$.note was removed"]


def test_a_changed_type_is_breaking():
    old = _schema({"quantity": {"type": "integer"}})
    new = _schema({"quantity": {"type": "string"}})
    assert breaking_changes(old, new) == [
        "$.quantity changed type from {'type': 'integer'} to {'type': 'string'}"
    ]


def test_a_newly_required_field_is_breaking():
    old = _schema({"order_id": {"type": "string"}, "note": {"type": "string"}}, ["order_id"])
    new = _schema(
        {"order_id": {"type": "string"}, "note": {"type": "string"}}, ["order_id", "note"]
    )
    assert breaking_changes(old, new) == ["$.note became required"]


def test_a_change_inside_a_nested_model_is_found():
    old = {
        "type": "object",
        "properties": {"total": {"$ref": "#/$defs/Money"}},
        "$defs": {"Money": _schema({"amount_minor": {"type": "integer"}})},
    }
    new = {
        "type": "object",
        "properties": {"total": {"$ref": "#/$defs/Money"}},
        "$defs": {"Money": _schema({"amount": {"type": "number"}})},
    }
    assert breaking_changes(old, new) == ["$.total.amount_minor was removed"]
