"""What the deployment files (docker-compose.yml, deploy/k8s) are made of: the deployable
services, the environment variables each one reads, and the version its image carries. The
manifest generator and the tests that check compose and the manifests share this list."""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTAINER_PORT = 8080
IMAGE_REPOSITORY = "marketplace"


@dataclass(frozen=True)
class Deployable:
    package: str  # the Python package, and the Dockerfile's SERVICE build argument
    settings_class: str  # "module:Class"
    folder: str  # where its pyproject.toml is
    consumes: bool = True  # has a consumer group (scaled by lag, not by requests alone)
    public: bool = False  # reachable from outside the cluster

    @property
    def name(self) -> str:
        """Its name in compose, in Kubernetes and in the image: DNS labels take no `_`."""
        return self.package.replace("_", "-")

    def image(self, tag: str | None = None) -> str:
        return f"{IMAGE_REPOSITORY}/{self.name}:{tag or self.version()}"

    def version(self) -> str:
        pyproject = tomllib.loads((REPO_ROOT / self.folder / "pyproject.toml").read_text())
        return str(pyproject["project"]["version"])

    def settings(self) -> type[BaseSettings]:
        module, cls = self.settings_class.split(":")
        settings: type[BaseSettings] = getattr(importlib.import_module(module), cls)
        return settings

    def env_names(self) -> set[str]:
        """Every environment variable the service's settings read."""
        names: set[str] = set()
        for field in self.settings().model_fields.values():
            alias = field.validation_alias
            choices = getattr(alias, "choices", [alias] if isinstance(alias, str) else [])
            names |= {choice for choice in choices if isinstance(choice, str)}
        return names


DEPLOYABLES = (
    Deployable("orders", "orders.settings:OrdersSettings", "services/orders"),
    Deployable("payments", "payments.settings:PaymentsSettings", "services/payments"),
    Deployable("support", "support.settings:SupportSettings", "services/support"),
    Deployable(
        "seller_standards",
        "seller_standards.settings:StandardsSettings",
        "services/seller_standards",
    ),
    Deployable(
        "notifications", "notifications.settings:NotificationsSettings", "services/notifications"
    ),
    Deployable(
        "gateway",
        "gateway.settings:GatewaySettings",
        "services/gateway",
        consumes=False,
        public=True,
    ),
)
