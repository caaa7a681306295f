"""Each service's committed AsyncAPI document is what its code says today: the events its
consumer group handles, the events it publishes, each with the envelope's JSON Schema."""

import pytest
import yaml

from devstack import asyncapi
from devstack.deployment import DEPLOYABLES, REPO_ROOT
from devstack.openapi import refs, resolve
from servicekit.operations import topology

RENDERED = asyncapi.render()


def committed(service):
    return yaml.safe_load((REPO_ROOT / asyncapi.path_of(service)).read_text())


def messages_on(doc, suffix):
    return {
        name
        for channel_name, channel in doc["channels"].items()
        if channel_name.endswith(suffix)
        for name in channel["messages"]
    }


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_the_committed_document_matches_the_code(service):
    path = asyncapi.path_of(service)
    assert (REPO_ROOT / path).read_text() == RENDERED[path], (
        f"{path} is stale: run `uv run python -m devstack.asyncapi`"
    )


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_it_lists_exactly_what_the_service_consumes_and_publishes(service):
    doc = committed(service)
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["version"] == service.version()
    assert messages_on(doc, ":Consume") == {e.type for e in asyncapi.consumed(service)}
    assert messages_on(doc, ":Publish") == {e.type for e in asyncapi.published(service)}
    declared = {spec.name for spec in topology.load()}
    assert {channel["address"] for channel in doc["channels"].values()} <= declared


def test_consumers_and_producers_agree_on_every_event():
    published = set().union(*(messages_on(committed(s), ":Publish") for s in DEPLOYABLES))
    consumed = set().union(*(messages_on(committed(s), ":Consume") for s in DEPLOYABLES))
    assert consumed <= published  # nobody waits for an event no service publishes


@pytest.mark.parametrize("service", DEPLOYABLES, ids=lambda d: d.name)
def test_every_reference_resolves(service):
    doc = committed(service)
    for ref in refs(doc):
        assert resolve(doc, ref) is not None, ref


def test_a_message_payload_is_the_envelope_with_its_typed_data():
    doc = committed(next(d for d in DEPLOYABLES if d.name == "payments"))
    placed = doc["components"]["messages"]["marketplace.order.placed.v1"]
    schema = resolve(doc, placed["payload"]["$ref"])
    assert {"type", "source", "time", "subject", "correlation_id", "data"} <= set(
        schema["required"]
    )
    data = resolve(doc, schema["properties"]["data"]["$ref"])
    assert {"order_id", "buyer_id", "seller_id"} <= set(data["properties"])
