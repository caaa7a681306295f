"""Network policies: every pod is denied ingress unless a policy allows it; the gateway is
reached from the ingress, the services only from the gateway, the brokers only from the
services and each database only from its service."""

from typing import Any

import pytest

from devstack import manifests
from devstack.deployment import CONTAINER_PORT, DEPLOYABLES, Deployable

from manifests_test_helpers import (
    objects,
)


def network_policies() -> dict[str, dict[str, Any]]:
    return objects("NetworkPolicy")


def allowed_from(selector_labels: dict[str, str]) -> list[dict[str, Any]]:
    """The ingress rules of every policy whose pod selector picks pods with these labels."""
    rules = []
    for policy in network_policies().values():
        chosen = policy["spec"]["podSelector"].get("matchLabels", {})
        if chosen.items() <= selector_labels.items() and chosen:
            rules += policy["spec"].get("ingress", [])
    return rules


def test_every_pod_is_denied_ingress_unless_a_policy_allows_it():
    deny = network_policies()["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_the_gateway_is_reached_from_the_ingress_and_the_services_only_from_the_gateway():
    gateway = next(d for d in DEPLOYABLES if d.public)
    ingress_namespace = {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": manifests.INGRESS_NAMESPACE}
        }
    }
    monitoring = {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": manifests.MONITORING_NAMESPACE}
        }
    }
    for d in DEPLOYABLES:
        rules = allowed_from({"app.kubernetes.io/name": d.name})
        sources = [peer for rule in rules for peer in rule["from"]]
        assert all(rule["ports"] == [{"protocol": "TCP", "port": CONTAINER_PORT}] for rule in rules)
        expected = (
            ingress_namespace
            if d.public
            else {"podSelector": {"matchLabels": {"app.kubernetes.io/name": gateway.name}}}
        )
        assert sorted(map(str, sources)) == sorted(map(str, [expected, monitoring])), d.name


def test_the_brokers_are_reached_only_from_the_services_on_the_tls_listener():
    (rule,) = allowed_from({"strimzi.io/cluster": "marketplace", "strimzi.io/kind": "Kafka"})
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}  # no namespace, no IP block
    assert peer["podSelector"]["matchExpressions"][0]["values"] == [d.name for d in DEPLOYABLES]
    assert rule["ports"] == [{"protocol": "TCP", "port": 9093}]


@pytest.mark.parametrize("d", DEPLOYABLES, ids=lambda d: d.name)
def test_each_database_is_reached_only_from_its_service(d: Deployable):
    (rule,) = allowed_from({"app.kubernetes.io/name": f"{d.name}-postgres"})
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": d.name}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
