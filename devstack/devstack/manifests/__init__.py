"""Kubernetes manifests for every deployable service, the Strimzi Kafka cluster, its topics and
one KafkaUser per service (SCRAM-SHA-512 over TLS, ACLs from `deploy/topics.yaml`), and the
NetworkPolicies, generated from `deployment.DEPLOYABLES` and `deploy/topics.yaml` so they cannot
drift from the code. The same ACLs, as a script, set up compose's broker
(`deploy/kafka/setup-users-and-acls.sh`). `python -m devstack.manifests` writes them; `--check`
fails on drift."""

from devstack.manifests.common import KAFKA_CLUSTER
from devstack.manifests.compose_acls import compose_password_variable
from devstack.manifests.generate import (
    COMPOSE_ACL_SCRIPT,
    OUTPUT_DIR,
    TOPICS_FILE,
    drift,
    main,
    render,
    write,
)
from devstack.manifests.kafka import OPERATOR_KAFKA_USER, kafka_user_name
from devstack.manifests.network_policies import INGRESS_NAMESPACE, MONITORING_NAMESPACE
from devstack.manifests.workloads import SHARED_CONFIG

__all__ = [
    "COMPOSE_ACL_SCRIPT",
    "INGRESS_NAMESPACE",
    "KAFKA_CLUSTER",
    "MONITORING_NAMESPACE",
    "OPERATOR_KAFKA_USER",
    "OUTPUT_DIR",
    "SHARED_CONFIG",
    "TOPICS_FILE",
    "compose_password_variable",
    "drift",
    "kafka_user_name",
    "main",
    "render",
    "write",
]
