"""Every topic of deploy/topics.yaml, and its dead-letter topic, is one Strimzi KafkaTopic as
Strimzi documents it, on the cluster the services are told to bootstrap from."""

from typing import Any

import jsonschema
import pytest

from devstack import manifests
from servicekit.operations import topology

from manifests_test_helpers import (
    DNS_1123_SUBDOMAIN,
    KAFKA_TOPIC_SCHEMA,
    kafka_topics,
    object_id,
    objects,
)


def test_kafka_topic_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(KAFKA_TOPIC_SCHEMA)


@pytest.mark.parametrize("doc", kafka_topics(), ids=object_id)
def test_every_kafka_topic_matches_strimzis_schema(doc: dict[str, Any]):
    jsonschema.Draft202012Validator(KAFKA_TOPIC_SCHEMA).validate(doc)


def test_every_declared_topic_and_dead_letter_topic_has_one_kafka_topic():
    specs = topology.load(manifests.TOPICS_FILE)
    assert any(spec.dead_letter_of for spec in specs)
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for doc in kafka_topics():
        by_topic.setdefault(doc["spec"]["topicName"], []).append(doc)

    assert set(by_topic) == {spec.name for spec in specs}, "undeclared or missing topics"
    for spec in specs:
        [doc] = by_topic[spec.name]
        assert doc["spec"]["partitions"] == spec.partitions, spec.name
        assert doc["spec"]["replicas"] == 3, spec.name
        assert doc["spec"]["config"]["min.insync.replicas"] == "2", spec.name
        assert doc["spec"]["config"]["retention.ms"] == spec.config["retention.ms"], spec.name


def test_kafka_topic_names_are_unique_dns_names_on_the_services_cluster():
    names = [doc["metadata"]["name"] for doc in kafka_topics()]
    assert len(names) == len(set(names))
    assert all(DNS_1123_SUBDOMAIN.match(name) and len(name) <= 253 for name in names), names
    bootstrap = objects("ConfigMap")[manifests.SHARED_CONFIG]["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    for doc in kafka_topics():
        cluster = doc["metadata"]["labels"]["strimzi.io/cluster"]
        assert bootstrap == f"{cluster}-kafka-bootstrap:9093", doc["metadata"]["name"]
