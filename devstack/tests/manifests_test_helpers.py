"""What the tests of deploy/k8s share: the committed files' objects by kind, a Deployment's
one container and the variables it is given, and Strimzi's documented KafkaTopic and KafkaUser
schemas (the fields this repository uses).

deploy/k8s is what `python -m devstack.manifests` generates, every object in it is one
Kubernetes 1.31 (or Strimzi) accepts, and everything it refers to exists: images, ConfigMaps,
Secrets the README tells the operator to create, settings the services actually read. The
tests say so by concern: test_manifests_generated (no drift, valid objects),
test_manifests_topics (Strimzi topics), test_manifests_references (images, ConfigMaps,
Secrets, variables, Services), test_manifests_pods (probes, resources, shutdown, scaling),
test_manifests_kafka_access (Kafka users, ACLs, TLS) and test_manifests_network (network
policies).
"""

import re
from typing import Any

import yaml

from devstack import manifests
from devstack.deployment import DEPLOYABLES, REPO_ROOT, Deployable

K8S_DIR = REPO_ROOT / manifests.OUTPUT_DIR
README = K8S_DIR / "README.md"
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
DNS_1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)

# Strimzi's documented KafkaTopic (kafka.strimzi.io/v1beta2): the fields this repository uses.
KAFKA_TOPIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "kafka.strimzi.io/v1beta2"},
        "kind": {"const": "KafkaTopic"},
        "metadata": {
            "type": "object",
            "required": ["name", "labels"],
            "properties": {
                "name": {"type": "string", "maxLength": 253, "pattern": DNS_1123_SUBDOMAIN.pattern},
                "labels": {
                    "type": "object",
                    "required": ["strimzi.io/cluster"],
                    "properties": {"strimzi.io/cluster": {"type": "string", "minLength": 1}},
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "spec": {
            "type": "object",
            "required": ["topicName", "partitions", "replicas", "config"],
            "additionalProperties": False,
            "properties": {
                "topicName": {"type": "string", "minLength": 1},
                "partitions": {"type": "integer", "minimum": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                "config": {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
            },
        },
    },
}

# Strimzi's documented KafkaUser (kafka.strimzi.io/v1beta2): the fields this repository uses.
KAFKA_USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "kafka.strimzi.io/v1beta2"},
        "kind": {"const": "KafkaUser"},
        "metadata": KAFKA_TOPIC_SCHEMA["properties"]["metadata"],
        "spec": {
            "type": "object",
            "required": ["authentication", "authorization"],
            "additionalProperties": False,
            "properties": {
                "authentication": {
                    "type": "object",
                    "properties": {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}},
                    "required": ["type"],
                    "additionalProperties": False,
                },
                "authorization": {
                    "type": "object",
                    "required": ["type", "acls"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"const": "simple"},
                        "acls": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["resource", "operations"],
                                "additionalProperties": False,
                                "properties": {
                                    "resource": {
                                        "type": "object",
                                        "required": ["type", "name", "patternType"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "type": {
                                                "enum": [
                                                    "topic",
                                                    "group",
                                                    "cluster",
                                                    "transactionalId",
                                                ]
                                            },
                                            "name": {"type": "string", "minLength": 1},
                                            "patternType": {"enum": ["literal", "prefix"]},
                                        },
                                    },
                                    "operations": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "enum": [
                                                "Read",
                                                "Write",
                                                "Create",
                                                "Delete",
                                                "Alter",
                                                "Describe",
                                                "ClusterAction",
                                                "AlterConfigs",
                                                "DescribeConfigs",
                                                "IdempotentWrite",
                                                "All",
                                            ]
                                        },
                                    },
                                    "host": {"type": "string"},
                                    "type": {"enum": ["allow", "deny"]},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def documents() -> list[tuple[str, dict[str, Any]]]:
    """Every object of the committed files, with its file name."""
    return [
        (path.name, document)
        for path in sorted(K8S_DIR.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == kind}


def is_strimzi(doc: dict[str, Any]) -> bool:
    return doc["apiVersion"].startswith("kafka.strimzi.io/")


def kubernetes_objects() -> list[dict[str, Any]]:
    return [doc for _, doc in documents() if not is_strimzi(doc)]


def kafka_topics() -> list[dict[str, Any]]:
    return [doc for _, doc in documents() if doc["kind"] == "KafkaTopic"]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def deployable(name: str) -> Deployable:
    return next(d for d in DEPLOYABLES if d.name == name)


def object_id(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def env_set_by(deployment: dict[str, Any]) -> dict[str, Any]:
    """Each variable the container gets -> its value (a literal or a `valueFrom`), ConfigMap
    keys taken with envFrom included."""
    config_maps = objects("ConfigMap")
    spec = container(deployment)
    variables: dict[str, Any] = {}
    for source in spec.get("envFrom", []):
        assert "configMapRef" in source, f"envFrom {source}: its keys cannot be checked"
        variables |= config_maps[source["configMapRef"]["name"]]["data"]
    for entry in spec.get("env", []):
        variables[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return variables
