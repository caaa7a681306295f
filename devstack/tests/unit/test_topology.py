"""`deploy/topics.yaml` is the one list of topics: every topic a service publishes or consumes
is in it, with the right producer and consumer groups, and nothing in it is stale."""

import importlib

import pytest

from contracts import event_type_registry
from devstack.stack import SERVICES
from servicekit.operations import topology

# Which service publishes each contract module's events.
PRODUCERS = {
    "contracts.orders": "orders",
    "contracts.payments": "payments",
    "contracts.support": "support",
    "contracts.seller_standards": "seller_standards",
    "contracts.principals": "gateway",
}


def declared() -> dict[str, topology.TopicSpec]:
    return {spec.name: spec for spec in topology.load() if spec.dead_letter_of is None}


def consumed_by(service: str) -> set[str]:
    """The topics the service's event router subscribes to (the router only closes over its
    context, so building it needs none)."""
    handlers = importlib.import_module(f"{service}.handlers")
    return set(handlers.event_router(None).topics)


def test_every_event_type_is_on_a_declared_topic_published_by_its_service():
    topics = declared()
    for type_name, event_type in event_type_registry().items():
        assert event_type.topic in topics, f"{type_name}: {event_type.topic} is not declared"
        assert topics[event_type.topic].producer == PRODUCERS[event_type.__module__], type_name


@pytest.mark.parametrize("service", [name for name, _, _ in SERVICES])
def test_each_service_consumes_exactly_the_topics_declared_for_its_group(service):
    declared_for_group = {name for name, spec in declared().items() if service in spec.consumers}
    assert consumed_by(service) == declared_for_group


def test_every_consumer_group_has_a_dead_letter_topic_per_topic():
    specs = topology.load()
    dead_letters = {spec.name for spec in specs if spec.dead_letter_of}
    for spec in declared().values():
        for group in spec.consumers:
            assert f"{spec.name}.{group}.dlq" in dead_letters


def test_nothing_declared_is_stale():
    services = {name for name, _, _ in SERVICES} | {"gateway"}
    for spec in declared().values():
        assert spec.producer in services, spec.name
        assert spec.consumers, f"{spec.name} has no consumer"
        assert set(spec.consumers) <= services, spec.name
