"""Each Deployment's pods: probes on the container port, resource requests and limits, a
graceful shutdown as the image's user, autoscaling within the partitions, disruption budgets
that never block a drain."""

import re

from devstack import manifests
from devstack.deployment import CONTAINER_PORT, DEPLOYABLES
from servicekit.operations import topology

from manifests_test_helpers import (
    DOCKERFILE,
    container,
    objects,
)


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
