"""The Strimzi Kafka cluster, its topics, and one KafkaUser per service (and the operators')
with the ACLs `deploy/topics.yaml` implies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from devstack.deployment import DEPLOYABLES
from devstack.manifests.common import KAFKA_CLIENT_PORT, KAFKA_CLUSTER, PART_OF
from servicekit.operations import topology

# The operators' own broker user (`marketplace dlq replay`, `tail`, `lag`): it reads every
# topic and may replay a dead letter onto the topic it came from.
OPERATOR_KAFKA_USER = "marketplace-operator"


def topic_resource_name(topic: str) -> str:
    """Topic names may hold `_` and capitals; Kubernetes names (DNS-1123) may not."""
    return topic.lower().replace("_", "-")


def kafka_topic(spec: topology.TopicSpec) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {
            "name": topic_resource_name(spec.name),
            "labels": {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": PART_OF},
        },
        "spec": {
            "topicName": spec.name,
            "partitions": spec.partitions,
            "replicas": spec.replication_factor,
            "config": dict(spec.config),
        },
    }


# The broker: who may do what


def kafka_user_name(package: str) -> str:
    """A service's broker user (its KafkaUser and its Secret): its DNS name."""
    return package.replace("_", "-")


Acl = tuple[str, str, tuple[str, ...]]  # (resource type, literal name, operations)


def broker_acls(package: str, specs: Sequence[topology.TopicSpec]) -> list[Acl]:
    """What `package` may do on the broker: write the topics it produces (its events, and as
    a consumer its dead-letter topics), read the topics it consumes in its own group. The
    gateway also reads every topic and every group's offsets for the operators' endpoints
    (dead letters, lag); it writes nothing but its own topic."""
    acls: list[Acl] = []
    for spec in specs:
        if spec.producer == package:
            acls.append(("topic", spec.name, ("Write", "Describe")))
        if package in spec.consumers:
            acls.append(("topic", spec.name, ("Read", "Describe")))
    if any(package in spec.consumers for spec in specs):
        acls.append(("group", package, ("Read",)))
    if package == "gateway":
        acls += _operator_reads(
            specs, already={name for _, name, operations in acls if "Read" in operations}
        )
    return acls


def operator_acls(specs: Sequence[topology.TopicSpec]) -> list[Acl]:
    """The operators' tools: read everything, replay a dead letter onto its origin topic."""
    acls: list[Acl] = [
        (
            "topic",
            spec.name,
            ("Read", "Describe", "Write") if not spec.dead_letter_of else ("Read", "Describe"),
        )
        for spec in specs
    ]
    return acls + [("group", group, ("Describe",)) for group in _groups(specs)]


def _groups(specs: Sequence[topology.TopicSpec]) -> list[str]:
    return sorted({group for spec in specs for group in spec.consumers})


def _operator_reads(specs: Sequence[topology.TopicSpec], already: set[str]) -> list[Acl]:
    reads: list[Acl] = [
        ("topic", spec.name, ("Read", "Describe")) for spec in specs if spec.name not in already
    ]
    return reads + [("group", group, ("Describe",)) for group in _groups(specs)]


def kafka_user(name: str, acls: Sequence[Acl]) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaUser",
        "metadata": {
            "name": name,
            "labels": {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": PART_OF},
        },
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {
                "type": "simple",
                "acls": [
                    {
                        "resource": {"type": kind, "name": resource, "patternType": "literal"},
                        "operations": list(operations),
                        "host": "*",
                    }
                    for kind, resource, operations in acls
                ],
            },
        },
    }


def kafka_users(specs: Sequence[topology.TopicSpec]) -> list[dict[str, Any]]:
    users = [
        kafka_user(kafka_user_name(d.package), broker_acls(d.package, specs)) for d in DEPLOYABLES
    ]
    return [*users, kafka_user(OPERATOR_KAFKA_USER, operator_acls(specs))]


def service_pods() -> dict[str, Any]:
    """Every service's pods (and no one else's)."""
    return {
        "matchExpressions": [
            {
                "key": "app.kubernetes.io/name",
                "operator": "In",
                "values": [d.name for d in DEPLOYABLES],
            }
        ]
    }


def kafka_cluster(specs: Sequence[topology.TopicSpec]) -> list[dict[str, Any]]:
    """A KRaft cluster of three nodes; clients only on the TLS listener with SCRAM-SHA-512,
    the simple authorizer, and the User and Topic Operators that apply kafka-users.yaml and
    kafka-topics.yaml."""
    replicas = max(spec.replication_factor for spec in specs)
    cluster_labels = {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": PART_OF}
    node_pool = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaNodePool",
        "metadata": {"name": "nodes", "labels": cluster_labels},
        "spec": {
            "replicas": replicas,
            "roles": ["controller", "broker"],
            "storage": {"type": "persistent-claim", "size": "100Gi", "deleteClaim": False},
        },
    }
    kafka = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "Kafka",
        "metadata": {
            "name": KAFKA_CLUSTER,
            "labels": {"app.kubernetes.io/part-of": PART_OF},
            "annotations": {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"},
        },
        "spec": {
            "kafka": {
                "listeners": [
                    {
                        "name": "tls",
                        "port": KAFKA_CLIENT_PORT,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                        # Strimzi turns this into the listener's NetworkPolicy.
                        "networkPolicyPeers": [{"podSelector": service_pods()}],
                    }
                ],
                "authorization": {"type": "simple", "superUsers": []},
                "config": {
                    "auto.create.topics.enable": False,
                    "allow.everyone.if.no.acl.found": False,
                    "default.replication.factor": replicas,
                    "min.insync.replicas": 2,
                    "offsets.topic.replication.factor": replicas,
                    "transaction.state.log.replication.factor": replicas,
                    "transaction.state.log.min.isr": 2,
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }
    return [node_pool, kafka]
