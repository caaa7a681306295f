"""The broker is not a back door: TLS with SCRAM only, ACLs enforced, each service a KafkaUser
that writes only its own topics and reads only what it consumes, connecting as that user over
TLS with the cluster's CA."""

from typing import Any

import jsonschema
import pytest

from devstack import manifests
from devstack.deployment import DEPLOYABLES, Deployable
from servicekit.operations import topology

from manifests_test_helpers import (
    KAFKA_USER_SCHEMA,
    container,
    env_set_by,
    object_id,
    objects,
)

SPECS = topology.load(manifests.TOPICS_FILE)


def kafka_users() -> dict[str, dict[str, Any]]:
    return objects("KafkaUser")


def granted(user: dict[str, Any], kind: str) -> dict[str, set[str]]:
    """resource name -> operations the user may do on it."""
    found: dict[str, set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        if resource["type"] == kind:
            assert resource["patternType"] == "literal", acl
            assert resource["name"] != "*", acl
            found.setdefault(resource["name"], set()).update(acl["operations"])
    return found


@pytest.mark.parametrize("doc", list(objects("KafkaUser").values()), ids=object_id)
def test_every_kafka_user_matches_strimzis_schema(doc: dict[str, Any]):
    jsonschema.Draft202012Validator.check_schema(KAFKA_USER_SCHEMA)
    jsonschema.Draft202012Validator(KAFKA_USER_SCHEMA).validate(doc)


def test_the_brokers_only_client_listener_is_tls_with_scram_and_acls_are_enforced():
    (kafka,) = objects("Kafka").values()
    assert kafka["metadata"]["name"] == manifests.KAFKA_CLUSTER
    spec = kafka["spec"]["kafka"]
    (listener,) = spec["listeners"]
    assert listener["tls"] is True
    assert listener["authentication"] == {"type": "scram-sha-512"}
    assert listener["type"] == "internal"  # nothing outside the cluster
    assert spec["authorization"] == {"type": "simple", "superUsers": []}
    assert spec["config"]["allow.everyone.if.no.acl.found"] is False
    assert spec["config"]["auto.create.topics.enable"] is False
    assert kafka["spec"]["entityOperator"]["userOperator"] == {}
    peers = listener["networkPolicyPeers"][0]["podSelector"]["matchExpressions"][0]
    assert set(peers["values"]) == {d.name for d in DEPLOYABLES}
    (pool,) = objects("KafkaNodePool").values()
    assert pool["spec"]["replicas"] >= 3


@pytest.mark.parametrize("d", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_writes_only_its_own_topics_and_reads_only_what_it_consumes(d: Deployable):
    user = kafka_users()[manifests.kafka_user_name(d.package)]
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    topics = granted(user, "topic")
    writes = {name for name, operations in topics.items() if operations & {"Write", "All"}}
    own = {spec.name for spec in SPECS if spec.producer == d.package}
    assert writes == own, d.name
    # its own events, and its dead letters as a consumer
    assert all(
        spec.dead_letter_of is None or spec.name.endswith(f".{d.package}.dlq")
        for spec in SPECS
        if spec.name in writes
    )
    reads = {name for name, operations in topics.items() if "Read" in operations}
    consumed = {spec.name for spec in SPECS if d.package in spec.consumers}
    if d.public:  # the operators' endpoints read every topic (dead letters, offsets)
        assert reads == {spec.name for spec in SPECS}
        assert set(granted(user, "group")) == {g for s in SPECS for g in s.consumers}
        assert all(ops == {"Describe"} for ops in granted(user, "group").values())
    else:
        assert reads == consumed, d.name
        assert granted(user, "group") == ({d.package: {"Read"}} if consumed else {})
    assert not granted(user, "cluster")
    for operations in topics.values():
        assert not operations & {"All", "Alter", "Delete", "Create", "AlterConfigs"}


def test_nobody_but_the_owner_may_write_an_event_topic_except_the_operators_replay():
    for spec in (spec for spec in SPECS if not spec.dead_letter_of):
        writers = {
            name
            for name, user in kafka_users().items()
            if granted(user, "topic").get(spec.name, set()) & {"Write", "All"}
        }
        owner = manifests.kafka_user_name(spec.producer)
        assert writers == {owner, manifests.OPERATOR_KAFKA_USER}, spec.name


@pytest.mark.parametrize("d", DEPLOYABLES, ids=lambda d: d.name)
def test_each_service_connects_as_its_own_user_over_tls_checking_the_cluster_ca(d: Deployable):
    deployment = objects("Deployment")[d.name]
    variables = env_set_by(deployment)
    user = manifests.kafka_user_name(d.package)
    assert variables["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert variables["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert variables["KAFKA_SASL_USERNAME"] == user
    assert user in kafka_users()
    # Strimzi's User Operator writes the password into a Secret named after the KafkaUser.
    assert variables["KAFKA_SASL_PASSWORD"] == {"secretKeyRef": {"name": user, "key": "password"}}
    mount = container(deployment)["volumeMounts"][0]
    assert variables["KAFKA_SSL_CAFILE"].startswith(mount["mountPath"] + "/")
    assert mount["readOnly"] is True
    (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
    assert volume["name"] == mount["name"]
    assert volume["secret"]["secretName"] == f"{manifests.KAFKA_CLUSTER}-cluster-ca-cert"
