"""deploy/k8s is what `python -m devstack.manifests` generates, every object in it is one
Kubernetes 1.31 (or Strimzi) accepts, and everything it refers to exists: images, ConfigMaps,
Secrets the README tells the operator to create, settings the services actually read."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from devstack import manifests
from devstack.deployment import CONTAINER_PORT, DEPLOYABLES, REPO_ROOT, Deployable
from gateway.settings import GatewaySettings
from servicekit.operations import topology

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


# 1. No drift


def test_committed_manifests_are_exactly_what_the_generator_renders():
    rendered = manifests.render()
    on_disk = {f"{manifests.OUTPUT_DIR}/{path.name}" for path in K8S_DIR.iterdir()}
    in_k8s = {path for path in rendered if path.startswith(f"{manifests.OUTPUT_DIR}/")}
    assert on_disk == in_k8s | {f"{manifests.OUTPUT_DIR}/README.md"}, (
        "stale or missing files: run `python -m devstack.manifests`"
    )
    for path, text in rendered.items():
        assert (REPO_ROOT / path).read_text() == text, f"{path} drifted from the generator"
    assert manifests.drift() == []


def test_every_generated_file_says_it_is_generated():
    for path, text in manifests.render().items():
        assert text.removeprefix("#!/bin/bash\n").startswith(
            "# Generated by `python -m devstack.manifests`"
        ), path


def test_check_reports_a_hand_edited_file_and_a_stale_one(tmp_path: Path):
    manifests.write(tmp_path)
    assert manifests.drift(tmp_path) == []
    edited = tmp_path / manifests.OUTPUT_DIR / "orders.yaml"
    edited.write_text(edited.read_text().replace("replicas: 2", "replicas: 9"))
    (tmp_path / manifests.OUTPUT_DIR / "retired.yaml").write_text("kind: List\n")

    assert manifests.drift(tmp_path) == [
        f"{manifests.OUTPUT_DIR}/orders.yaml",
        f"{manifests.OUTPUT_DIR}/retired.yaml",
    ]
    manifests.write(tmp_path)
    assert manifests.drift(tmp_path) == []
    assert not (tmp_path / manifests.OUTPUT_DIR / "retired.yaml").exists()


def test_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]):
    assert manifests.main(["--check"]) == 0
    assert capsys.readouterr().err == ""


# 2. Kubernetes accepts every object


@pytest.mark.parametrize("doc", kubernetes_objects(), ids=object_id)
def test_every_kubernetes_object_is_valid_for_1_31(doc: dict[str, Any]):
    kubernetes_validate.validate(doc, "1.31", strict=True)


def test_object_names_are_unique_per_kind():
    seen = [(doc["kind"], doc["metadata"]["name"]) for _, doc in documents()]
    assert len(seen) == len(set(seen))


# 3. Strimzi topics


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


# 4. What the manifests refer to exists


def test_every_deployable_is_deployed_from_its_image():
    deployments = objects("Deployment")
    assert set(deployments) == {d.name for d in DEPLOYABLES}
    for name, deployment in deployments.items():
        d = deployable(name)
        assert container(deployment)["image"] == f"marketplace/{d.name}:{d.version()}"
    assert DOCKERFILE.is_file()
    assert re.search(r"^ARG SERVICE\b", DOCKERFILE.read_text(), re.MULTILINE)


def test_every_config_map_referenced_is_defined():
    defined = set(objects("ConfigMap"))
    for name, deployment in objects("Deployment").items():
        spec = container(deployment)
        referenced = {
            source["configMapRef"]["name"]
            for source in spec.get("envFrom", [])
            if "configMapRef" in source
        }
        referenced |= {
            entry["valueFrom"]["configMapKeyRef"]["name"]
            for entry in spec.get("env", [])
            if "configMapKeyRef" in entry.get("valueFrom", {})
        }
        assert referenced <= defined, f"{name}: {referenced - defined}"


def test_every_secret_referenced_is_documented_in_the_readme():
    readme_rows = [line for line in README.read_text().splitlines() if line.startswith("|")]
    referenced: set[tuple[str, str]] = set()
    for deployment in objects("Deployment").values():
        spec = container(deployment)
        assert not any("secretRef" in source for source in spec.get("envFrom", []))
        referenced |= {
            (ref["name"], ref["key"])
            for entry in spec.get("env", [])
            if (ref := entry.get("valueFrom", {}).get("secretKeyRef"))
        }
    assert referenced
    for secret, key in referenced:
        assert any(f"`{secret}`" in row and f"`{key}`" in row for row in readme_rows), (
            f"Secret {secret} (key {key}) is not in deploy/k8s/README.md"
        )


def portal_env_names() -> set[str]:
    """The gateway's portal reads settings of its own (gateway.portal.settings)."""
    return Deployable(
        "gateway", "gateway.portal.settings:PortalSettings", "services/gateway"
    ).env_names()


def test_every_variable_set_is_one_the_service_reads():
    for name, deployment in objects("Deployment").items():
        reads = deployable(name).env_names() | {"MARKETPLACE_TOPICS_FILE"}
        if deployable(name).public:
            reads |= portal_env_names()
        unread = set(env_set_by(deployment)) - reads
        assert not unread, f"{name} is given variables it never reads: {unread}"


REQUIRED = {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "MARKETPLACE_INTERNAL_TOKEN"}
REQUIRED_BY_SERVICE = {
    "payments": {"STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET"},
    "notifications": {"SMTP_HOST", "PORTAL_URL", "MAIL_FROM"},
    "gateway": {"MARKETPLACE_OPERATOR_TOKEN"},
}


@pytest.mark.parametrize("d", DEPLOYABLES, ids=lambda d: d.name)
def test_every_service_is_given_its_required_settings(d: Deployable):
    required = REQUIRED | REQUIRED_BY_SERVICE.get(d.package, set())
    if d.public:
        required |= {name for name in d.env_names() if name.endswith("_URL")}
    missing = required - set(env_set_by(objects("Deployment")[d.name]))
    assert not missing, f"{d.name} lacks {missing}"


def test_the_gateway_believes_forwarded_headers_from_the_ingress_alone_and_cookies_are_secure():
    gateway = objects("Deployment")["gateway"]
    variables = env_set_by(gateway)
    assert variables["PORTAL_SECURE_COOKIE"] == "true"
    proxies = variables["GATEWAY_TRUSTED_PROXIES"]
    assert proxies and "*" not in proxies
    assert GatewaySettings(GATEWAY_TRUSTED_PROXIES=proxies).trusted_proxy_list()
    # uvicorn itself believes no one (it would X-Forwarded-For from 127.0.0.1).
    assert "--no-proxy-headers" in container(gateway)["command"]
    assert "GATEWAY_TRUSTED_PROXIES" in README.read_text()
    assert "GATEWAY_RATE_LIMIT_STORAGE_URI" in README.read_text()  # shared across replicas
    assert "GATEWAY_RATE_LIMIT_STORAGE_URI" in (K8S_DIR / "gateway.yaml").read_text()


def test_production_producers_are_idempotent_and_find_the_topics_file():
    data = objects("ConfigMap")[manifests.SHARED_CONFIG]["data"]
    assert data["KAFKA_IDEMPOTENCE"] == "true"
    assert data["MARKETPLACE_TOPICS_FILE"] == "/app/deploy/topics.yaml"
    assert "COPY deploy/topics.yaml deploy/topics.yaml" in DOCKERFILE.read_text()


def test_the_gateway_reaches_each_service_through_its_service_on_the_container_port():
    services = objects("Service")
    for d in (d for d in DEPLOYABLES if d.public):
        variables = env_set_by(objects("Deployment")[d.name])
        urls = {
            name: value
            for name, value in variables.items()
            if name.endswith("_URL") and name != "DATABASE_URL"
        }
        assert all(isinstance(value, str) for value in urls.values()), urls
        for upstream in (u for u in DEPLOYABLES if not u.public):
            url = urlsplit(urls[f"{upstream.package.upper()}_URL"])
            assert (url.scheme, url.hostname, url.port) == ("http", upstream.name, CONTAINER_PORT)
        for name, value in urls.items():
            url = urlsplit(value)
            assert url.hostname in services, f"{name}: no Service {url.hostname}"
            ports = {port["port"] for port in services[url.hostname]["spec"]["ports"]}
            assert url.port in ports, f"{name}: Service {url.hostname} has no port {url.port}"


def test_every_service_selects_its_pods_and_targets_a_named_container_port():
    deployments = objects("Deployment")
    for name, service in objects("Service").items():
        template = deployments[name]["spec"]["template"]
        assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
        port_names = {port["name"] for port in container(deployments[name])["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, name
    assert set(objects("Service")) == set(deployments)


# 5. Probes, resources, shutdown, scaling


def test_probes_ask_health_and_ready_on_the_container_port():
    for name, deployment in objects("Deployment").items():
        spec = container(deployment)
        ports = {port["name"]: port["containerPort"] for port in spec["ports"]}
        assert ports["http"] == CONTAINER_PORT
        paths = {"livenessProbe": "/health", "readinessProbe": "/ready", "startupProbe": "/health"}
        for probe, path in paths.items():
            get = spec[probe]["httpGet"]
            assert get["path"] == path, f"{name} {probe}"
            assert ports.get(get["port"], get["port"]) == CONTAINER_PORT, f"{name} {probe}"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(CONTAINER_PORT)
        assert annotations["prometheus.io/path"] == "/metrics"


def test_every_deployment_has_resource_requests_and_limits():
    for name, deployment in objects("Deployment").items():
        resources = container(deployment)["resources"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[bound]), f"{name} {bound}"


def test_pods_run_as_the_images_user_and_have_time_to_shut_down_gracefully():
    dockerfile = DOCKERFILE.read_text()
    uid = int(re.search(r"--uid (\d+)", dockerfile).group(1))
    uvicorn_grace = int(re.search(r"--timeout-graceful-shutdown (\d+)", dockerfile).group(1))
    for name, deployment in objects("Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid
        pre_stop = container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pre_stop + uvicorn_grace < pod["terminationGracePeriodSeconds"] == 30, name


def test_every_consumer_scales_no_further_than_its_partitions():
    specs = topology.load(manifests.TOPICS_FILE)
    autoscalers = {
        doc["spec"]["scaleTargetRef"]["name"]: doc
        for doc in objects("HorizontalPodAutoscaler").values()
    }
    for d in DEPLOYABLES:
        if not d.consumes:
            continue
        partitions = max(spec.partitions for spec in specs if d.package in spec.consumers)
        hpa = autoscalers[d.name]["spec"]
        assert hpa["scaleTargetRef"]["kind"] == "Deployment"
        assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"] <= partitions, d.name


def test_disruption_budgets_never_block_a_node_drain():
    deployments = objects("Deployment")
    budgets = objects("PodDisruptionBudget")
    assert set(budgets) == set(deployments)
    for name, budget in budgets.items():
        assert budget["spec"]["minAvailable"] == 1
        assert budget["spec"]["minAvailable"] < deployments[name]["spec"]["replicas"], name


# 6. The broker is not a back door

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
