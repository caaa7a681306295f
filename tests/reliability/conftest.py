"""The reliability suite's own platform: the whole stack on its own broker process (so a test
can pause it) and its own PostgreSQL databases, with short Kafka timeouts so that a fault
"past the request timeout" takes seconds, not minutes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import components
from devstack.ports import PortPlan
from devstack.processes import Child
from devstack.pytest_plugin import drop_postgres_database, fresh_postgres_database
from devstack.stack import SERVICES, Stack, StackConfig

from e2e_helpers import Api
from reliability_journeys import WEBHOOK_SECRET, Crowd

SERVICE_NAMES = [name for name, _, _ in SERVICES]
FAST_KAFKA = {"RELAY_REQUEST_TIMEOUT_MS": "5000", "KAFKA_SESSION_TIMEOUT_MS": "6000"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.timeout(480))  # restarts and rebalances take a while


@pytest.fixture(scope="session")
def fault_ports() -> PortPlan:
    """Free ports of their own: the fault stack may run in a session beside the platform."""
    return PortPlan.free()


@pytest.fixture(scope="session")
def fault_broker(
    tmp_path_factory: pytest.TempPathFactory, fault_ports: PortPlan
) -> Iterator[tuple[Child, str]]:
    child, bootstrap = components.broker(
        fault_ports.broker, log_dir=tmp_path_factory.mktemp("fault-broker")
    )
    child.start()
    try:
        components.wait_for_broker(bootstrap)
        yield child, bootstrap
    finally:
        child.stop()


@pytest.fixture(scope="session")
def fault_stack(
    fault_broker: tuple[Child, str],
    stripe_api_base: str,
    smtp_server: tuple[int, Path],
    postgres_server: str | None,
    fault_ports: PortPlan,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    if postgres_server is None:
        pytest.skip("the reliability suite needs PostgreSQL (several processes per database)")
    databases = {
        name: fresh_postgres_database(postgres_server) for name in [*SERVICE_NAMES, "gateway"]
    }
    stack = Stack(
        StackConfig.on_parts(
            tmp_path_factory.mktemp("fault-stack"),
            bootstrap=fault_broker[1],
            stripe_api_base=stripe_api_base,
            smtp=smtp_server,
            database_urls={name: url for name, (url, _) in databases.items()},
            extra_env={name: dict(FAST_KAFKA) for name in SERVICE_NAMES}
            | {"payments": FAST_KAFKA | {"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}},
            ports=fault_ports,
        )
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        for _, database in databases.values():
            drop_postgres_database(postgres_server, database)


@pytest.fixture
def crowd(fault_stack: Stack) -> Crowd:
    operator = Api(
        f"http://127.0.0.1:{fault_stack.config.gateway_port}", fault_stack.config.operator_token
    )
    bare = Crowd(operator, operator, operator)
    return Crowd(operator, bare.principal("carrier"), bare.principal("agent"))


class Supervisor:
    """Plays the orchestrator: restarts any service that died, as it was configured before
    the fault was armed, and remembers who died."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.deaths: list[str] = []
        self.faults_fired: list[tuple[str, str]] = []  # (service, failpoint spec)
        self._queued: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def arm(self, name: str, **env: str) -> None:
        """Replace service `name` with one started with `env` (failpoints, say)."""
        with self._lock:
            running = self.stack.child(name)
            running.stop()
            armed = self.stack.service(name, **env)
            self.stack.replace_child(running, armed)
            armed.start()

    def arm_in_turn(self, name: str, specs: list[str]) -> None:
        """Arm service `name` with the first failpoint spec; each time it dies, restart it
        armed with the next, and then as configured."""
        self._queued[name] = list(specs[1:])
        self.arm(name, MARKETPLACE_FAILPOINTS=specs[0])

    def __enter__(self) -> Supervisor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _watch(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                for name in SERVICE_NAMES:
                    child = self.stack.child(name)
                    if child.process is not None and not child.running:
                        self.deaths.append(name)
                        if spec := child.env.get("MARKETPLACE_FAILPOINTS"):
                            self.faults_fired.append((name, spec))
                        queued = self._queued.get(name) or []
                        armed = {"MARKETPLACE_FAILPOINTS": queued.pop(0)} if queued else {}
                        fresh = self.stack.service(name, **armed)
                        self.stack.replace_child(child, fresh)
                        fresh.launch()  # not waiting: it may die starting up, on purpose
            time.sleep(0.2)


@pytest.fixture
def supervisor(fault_stack: Stack) -> Iterator[Supervisor]:
    with Supervisor(fault_stack) as watching:
        yield watching
    for name in SERVICE_NAMES:  # leave every service as configured, whatever a test armed
        child = fault_stack.child(name)
        if child.env.get("MARKETPLACE_FAILPOINTS") or not child.running:
            child.stop()
            fresh = fault_stack.service(name)
            fault_stack.replace_child(child, fresh)
            fresh.start()
