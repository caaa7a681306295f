"""Who may reach whom: the NetworkPolicies."""

from __future__ import annotations

from typing import Any

from devstack.deployment import CONTAINER_PORT, DEPLOYABLES, Deployable
from devstack.manifests.common import KAFKA_CLIENT_PORT, KAFKA_CLUSTER, PART_OF
from devstack.manifests.kafka import service_pods

# Where the ingress controller runs; the gateway takes requests from it alone. Change it with
# a kustomize patch for another controller.
INGRESS_NAMESPACE = "ingress-nginx"
# Prometheus scrapes /metrics on the container port from this namespace.
MONITORING_NAMESPACE = "monitoring"
POSTGRES_PORT = 5432


def network_policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": PART_OF}},
        "spec": spec,
    }


def _namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def _pods(name: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}


def _http() -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": CONTAINER_PORT}]


def database_pod_name(d: Deployable) -> str:
    """The label an in-cluster PostgreSQL for `d` carries (deploy/k8s/README.md)."""
    return f"{d.name}-postgres"


def network_policies() -> list[dict[str, Any]]:
    """Nothing reaches a pod unless a policy here (or Strimzi's own, for the brokers) lets it:
    clients reach the gateway through the ingress controller, the services only from the
    gateway, the brokers only from the services, each database only from its service.
    Prometheus may scrape the container port (the API behind it still needs the internal
    token)."""
    policies = [
        network_policy("default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
    ]
    monitoring = {"from": [_namespace(MONITORING_NAMESPACE)], "ports": _http()}
    for d in DEPLOYABLES:
        callers = (
            [_namespace(INGRESS_NAMESPACE)]
            if d.public
            else [_pods(gateway.name) for gateway in DEPLOYABLES if gateway.public]
        )
        policies.append(
            network_policy(
                f"{d.name}-ingress",
                {
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": d.name}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": callers, "ports": _http()}, monitoring],
                },
            )
        )
    policies.append(
        network_policy(
            "kafka-clients",
            {
                "podSelector": {
                    "matchLabels": {
                        "strimzi.io/cluster": KAFKA_CLUSTER,
                        "strimzi.io/kind": "Kafka",
                    }
                },
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"podSelector": service_pods()}],
                        "ports": [{"protocol": "TCP", "port": KAFKA_CLIENT_PORT}],
                    }
                ],
            },
        )
    )
    for d in DEPLOYABLES:
        policies.append(
            network_policy(
                f"{database_pod_name(d)}-ingress",
                {
                    "podSelector": {
                        "matchLabels": {"app.kubernetes.io/name": database_pod_name(d)}
                    },
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [_pods(d.name)],
                            "ports": [{"protocol": "TCP", "port": POSTGRES_PORT}],
                        }
                    ],
                },
            )
        )
    return policies
