"""Each service's Kubernetes workload: its Deployment, Service, HorizontalPodAutoscaler (for
consumers), PodDisruptionBudget and the ConfigMaps only it takes; and the ConfigMap all share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from devstack.deployment import CONTAINER_PORT, DEPLOYABLES, Deployable
from devstack.manifests.common import KAFKA_CLIENT_PORT, KAFKA_CLUSTER, config_map, labels
from devstack.manifests.kafka import kafka_user_name
from servicekit.operations import topology

SHARED_CONFIG = "marketplace-config"
CONTAINER_TOPICS_FILE = "/app/deploy/topics.yaml"
CONTAINER_USER = 10001  # the Dockerfile's `marketplace` user
REPLICAS = 2
HPA_NOTE = (
    "# Scales on CPU only. Scaling on consumer lag needs an external metrics adapter (KEDA or\n"
    "# prometheus-adapter) reading marketplace_consumer_lag; more replicas than the partitions\n"
    "# the group reads would sit idle, hence maxReplicas.\n"
)
KAFKA_CA_SECRET = f"{KAFKA_CLUSTER}-cluster-ca-cert"  # written by Strimzi's cluster operator
KAFKA_CA_DIR = "/etc/kafka-ca"
# Whose X-Forwarded-For and X-Forwarded-Proto the gateway believes: the private ranges, since
# the NetworkPolicy lets only the ingress controller (and Prometheus) connect to it. Narrow it
# to the cluster's pod CIDR with a kustomize patch (deploy/k8s/README.md).
INGRESS_TRUSTED_PROXIES = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
GATEWAY_NOTE = (
    "# Two replicas count rate limits each on its own (GATEWAY_RATE_LIMIT_STORAGE_URI is\n"
    "# memory://) until it names a Redis both share: deploy/k8s/README.md, `The gateway`.\n"
)

# Secrets the operator creates; deploy/k8s/README.md lists them with their keys.
INTERNAL_SECRET = "marketplace-internal"
STRIPE_SECRET = "payments-stripe"
OPERATOR_SECRET = "gateway-operator"

NOTIFICATIONS_CONFIG = {
    "SMTP_HOST": "smtp.example.com",
    "SMTP_PORT": "25",
    "MAIL_FROM": "Marketplace <no-reply@marketplace.example.com>",
    "PORTAL_URL": "https://marketplace.example.com",
}


def shared_config() -> dict[str, str]:
    """What every service gets (compose's `x-environment`, less the secret)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": f"{KAFKA_CLUSTER}-kafka-bootstrap:{KAFKA_CLIENT_PORT}",
        "KAFKA_IDEMPOTENCE": "true",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SSL_CAFILE": f"{KAFKA_CA_DIR}/ca.crt",
        "LOG_FORMAT": "json",
        "MARKETPLACE_TOPICS_FILE": CONTAINER_TOPICS_FILE,
    }


def secret_env(env: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": env, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def service_config_maps(d: Deployable) -> dict[str, dict[str, str]]:
    """ConfigMaps only this service takes, defined in its own file."""
    if d.package == "notifications":
        return {"notifications-config": NOTIFICATIONS_CONFIG}
    return {}


def env(d: Deployable) -> list[dict[str, Any]]:
    entries = [
        secret_env("MARKETPLACE_INTERNAL_TOKEN", INTERNAL_SECRET, "token"),
        secret_env("DATABASE_URL", f"{d.name}-database", "url"),
        # The KafkaUser named after the service; Strimzi's User Operator writes its password.
        {"name": "KAFKA_SASL_USERNAME", "value": kafka_user_name(d.package)},
        secret_env("KAFKA_SASL_PASSWORD", kafka_user_name(d.package), "password"),
    ]
    if d.package == "payments":
        entries += [
            secret_env("STRIPE_API_KEY", STRIPE_SECRET, "api-key"),
            secret_env("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET, "webhook-secret"),
        ]
    if d.public:
        entries.append(secret_env("MARKETPLACE_OPERATOR_TOKEN", OPERATOR_SECRET, "token"))
        entries += [
            {"name": f"{upstream.package.upper()}_URL", "value": service_url(upstream)}
            for upstream in DEPLOYABLES
            if not upstream.public
        ]
        entries += [
            {"name": "GATEWAY_TRUSTED_PROXIES", "value": INGRESS_TRUSTED_PROXIES},
            # Browsers reach the portal only over the ingress's TLS.
            {"name": "PORTAL_SECURE_COOKIE", "value": "true"},
        ]
    return entries


def serve_command(d: Deployable) -> list[str]:
    """The image's command, but uvicorn believes no forwarded header itself (it would from
    127.0.0.1, such as a sidecar): the gateway believes those of GATEWAY_TRUSTED_PROXIES."""
    return [
        "uvicorn",
        f"{d.package}.app:create_app",
        "--factory",
        "--host",
        "0.0.0.0",
        "--port",
        str(CONTAINER_PORT),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "20",
        "--no-proxy-headers",
    ]


def service_url(d: Deployable) -> str:
    return f"http://{d.name}:{CONTAINER_PORT}"


def probe(path: str, *, period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def deployment(d: Deployable) -> dict[str, Any]:
    env_from = [{"configMapRef": {"name": SHARED_CONFIG}}]
    env_from += [{"configMapRef": {"name": name}} for name in service_config_maps(d)]
    container = {
        "name": d.name,
        "image": d.image(),
        **({"command": serve_command(d)} if d.public else {}),
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "envFrom": env_from,
        "env": env(d),
        # Migrations run before uvicorn serves, so /health only answers once they are done:
        # up to five minutes before liveness takes over.
        "startupProbe": probe("/health", period=5, timeout=3, failures=60),
        "livenessProbe": probe("/health", period=10, timeout=3, failures=3),
        # /ready pings the database and (for consumers) the broker, each within 3 seconds.
        "readinessProbe": probe("/ready", period=10, timeout=5, failures=3),
        # Endpoints are removed asynchronously; wait before SIGTERM so no request is lost.
        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": d.name, "labels": labels(d.name)},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app.kubernetes.io/name": d.name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": labels(d.name) | {"app.kubernetes.io/version": d.version()},
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(CONTAINER_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    # Consumers finish their batch and the relay flushes the outbox on SIGTERM
                    # (uvicorn allows 20 s), after the 5 s preStop wait.
                    "terminationGracePeriodSeconds": 30,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": CONTAINER_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": d.name}},
                        }
                    ],
                    "containers": [container],
                    # The CA that signed the brokers' certificates (Strimzi's cluster CA).
                    "volumes": [
                        {
                            "name": "kafka-ca",
                            "secret": {
                                "secretName": KAFKA_CA_SECRET,
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            },
                        }
                    ],
                },
            },
        },
    }


def service(d: Deployable) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": d.name, "labels": labels(d.name)},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": d.name},
            "ports": [
                {"name": "http", "port": CONTAINER_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def max_consumers(package: str, specs: Sequence[topology.TopicSpec]) -> int:
    """A group's consumers beyond the partitions of the topics it reads get no partition."""
    return max(spec.partitions for spec in specs if package in spec.consumers)


def autoscaler(d: Deployable, specs: Sequence[topology.TopicSpec]) -> dict[str, Any]:
    most = max_consumers(d.package, specs)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": d.name, "labels": labels(d.name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": d.name},
            "minReplicas": min(REPLICAS, most),
            "maxReplicas": most,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
            # Every scale step rebalances the consumer group; do not flap.
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def disruption_budget(d: Deployable) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": d.name, "labels": labels(d.name)},
        "spec": {
            "minAvailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": d.name}},
        },
    }


def service_documents(
    d: Deployable, specs: Sequence[topology.TopicSpec]
) -> list[tuple[str, dict[str, Any]]]:
    documents = [
        ("", config_map(name, data, app=d.name)) for name, data in service_config_maps(d).items()
    ]
    documents += [(GATEWAY_NOTE if d.public else "", deployment(d)), ("", service(d))]
    if d.consumes:
        documents.append((HPA_NOTE, autoscaler(d, specs)))
    documents.append(("", disruption_budget(d)))
    return documents
