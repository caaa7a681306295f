"""What the manifests refer to exists: each deployable's image, the ConfigMaps, the Secrets the
README tells the operator to create, settings the services actually read (and every one they
require), and the Services the gateway reaches them through."""

import re
from urllib.parse import urlsplit

import pytest

from devstack import manifests
from devstack.deployment import CONTAINER_PORT, DEPLOYABLES, Deployable
from gateway.settings import GatewaySettings

from manifests_test_helpers import (
    DOCKERFILE,
    K8S_DIR,
    README,
    container,
    deployable,
    env_set_by,
    objects,
)


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
